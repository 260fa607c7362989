package app

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

// ErrNotLoopback is returned by ServeProfiles for an address that another
// machine could reach: profiles show memory contents such as field values,
// so they are only ever served to the kiosk itself.
var ErrNotLoopback = errors.New("profiling address is not a loopback address")

// ServeProfiles serves net/http/pprof and a memory report (/debug/memory)
// on addr, which must be a loopback address ("127.0.0.1:6060", or port 0
// for any free port). It is for measuring where the kiosk's memory goes
// (ONEDOOR_PPROF=addr): ?gc=1 collects first, ?free=1 also returns
// free pages to the OS. Nothing starts it by default. It returns the
// address it listens on and stops serving when ctx ends.
func ServeProfiles(ctx context.Context, addr string, log *slog.Logger) (string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("profiling address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("%q: %w", addr, ErrNotLoopback)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("profiling: %w", err)
	}
	// Listening on "localhost" may still resolve elsewhere on an odd hosts
	// file; check what we actually bound.
	if ta, ok := ln.Addr().(*net.TCPAddr); !ok || !ta.IP.IsLoopback() {
		ln.Close()
		return "", fmt.Errorf("%q bound %s: %w", addr, ln.Addr(), ErrNotLoopback)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/memory", func(w http.ResponseWriter, r *http.Request) {
		switch q := r.URL.Query(); {
		case q.Has("free"):
			debug.FreeOSMemory() // how much of RSS is garbage or idle heap
		case q.Has("gc"):
			runtime.GC()
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(MemoryReport())
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("profiling server stopped", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	log.Info("profiling on loopback", "addr", ln.Addr().String())
	return ln.Addr().String(), nil
}

// ProfileFromEnv starts ServeProfiles on $ONEDOOR_PPROF when it is set;
// a bad address is logged and the kiosk runs without profiling.
func ProfileFromEnv(ctx context.Context, log *slog.Logger) {
	addr := os.Getenv("ONEDOOR_PPROF")
	if addr == "" {
		return
	}
	if _, err := ServeProfiles(ctx, addr, log); err != nil {
		log.Warn("profiling not started", "err", err)
	}
}

// MemoryReport sets the process's resident memory beside the Go runtime's
// view of it, in MiB, so the part outside Go (cgo: Mesa, GL textures,
// SQLite's page cache, the mapped binary) shows as the difference.
func MemoryReport() []byte {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var b bytes.Buffer
	mib := func(n uint64) float64 { return float64(n) / (1 << 20) }
	fmt.Fprintf(&b, "go heap in use      %8.1f MiB (live+unswept objects %.1f, %d objects)\n", mib(ms.HeapInuse), mib(ms.HeapAlloc), ms.HeapObjects)
	fmt.Fprintf(&b, "go heap idle        %8.1f MiB (released to the OS %.1f)\n", mib(ms.HeapIdle), mib(ms.HeapReleased))
	fmt.Fprintf(&b, "go stacks           %8.1f MiB\n", mib(ms.StackSys))
	fmt.Fprintf(&b, "go other runtime    %8.1f MiB (mspan %.1f, mcache %.1f, gc %.1f, buckhash %.1f, other %.1f)\n",
		mib(ms.MSpanSys+ms.MCacheSys+ms.GCSys+ms.BuckHashSys+ms.OtherSys),
		mib(ms.MSpanSys), mib(ms.MCacheSys), mib(ms.GCSys), mib(ms.BuckHashSys), mib(ms.OtherSys))
	fmt.Fprintf(&b, "go total from OS    %8.1f MiB\n", mib(ms.Sys))
	fmt.Fprintf(&b, "gc cycles           %8d\n", ms.NumGC)
	if f, err := os.Open("/proc/self/status"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if ok && (k == "VmRSS" || k == "RssAnon" || k == "RssFile" || k == "RssShmem" || k == "VmHWM") {
				fmt.Fprintf(&b, "%-19s %s\n", k, strings.TrimSpace(v))
			}
		}
	}
	return b.Bytes()
}
