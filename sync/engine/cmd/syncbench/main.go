// Command syncbench measures the sync engine against the real reference
// platform on loopback, each figure next to a baseline measured in the same
// run:
//
//	syncbench drain [-count 1000] [-attach 65536] [-pages 1] [-rate B/s]
//	    drain N queued submissions through the engine, versus plain HTTP
//	    PUTs of the same bytes (one PUT per submission: its JSON and its
//	    blobs) to a handler that discards them, and to one that writes
//	    and fsyncs each to a file.
//	syncbench village [-count 200] [-rate 125000] [-rtt 150ms] [-runs 7]
//	    the same drain through the fault proxy as a slow link with a
//	    round-trip time, versus one PUT of all the same bytes over the
//	    same link: what the link can carry.
//	syncbench recover [-runs 7] [-down 20s]
//	    queue submissions while the link is down, bring it up, and time
//	    link-up → the first submission request at the platform, and
//	    link-up → the engine no longer offline (the kiosk's banner).
//	syncbench cut [-size 10485760] [-every 524288]
//	    upload one blob with the link cut every N bytes, versus the same
//	    upload on an uncut link; reports the bytes re-sent over the link,
//	    with soft cuts (the platform reads what arrived) and hard cuts
//	    (the platform's side is reset and its unread bytes are lost).
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"onedoor/sync/api"
	"onedoor/sync/client"
	"onedoor/sync/engine"
	"onedoor/sync/faultproxy"
	"onedoor/sync/outbox"
	"onedoor/sync/outbox/devdata"
	"onedoor/sync/platform"
	"onedoor/sync/platform/blobdir"
	"onedoor/sync/platform/local"
	"onedoor/sync/platform/sqlitestore"
)

const kioskID = "KB01"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: syncbench drain|village|cut|recover [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "drain":
		err = drainBench(os.Args[2:])
	case "cut":
		err = cutBench(os.Args[2:])
	case "recover":
		err = recoverBench(os.Args[2:])
	case "village":
		err = villageBench(os.Args[2:])
	default:
		err = fmt.Errorf("unknown benchmark %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "syncbench:", err)
		os.Exit(1)
	}
}

type env struct {
	dir   string
	store *sqlitestore.Store
	blobs *blobdir.Dir
	srv   *http.Server
	ln    net.Listener
	ob    *outbox.Store
	token string
	// firstSub is when the platform first saw a request that carries a
	// submission or its pages (0: not yet), in UnixNano.
	firstSub atomic.Int64
}

func newEnv() (*env, error) {
	dir, err := os.MkdirTemp("", "syncbench-")
	if err != nil {
		return nil, err
	}
	e := &env{dir: dir}
	pdir := filepath.Join(dir, "platform")
	if err := os.MkdirAll(pdir, 0o700); err != nil {
		return nil, err
	}
	if e.store, err = sqlitestore.Open(context.Background(), pdir); err != nil {
		return nil, err
	}
	dataKey, err := platform.LoadOrCreateDataKey(filepath.Join(pdir, local.DataKeyFile))
	if err != nil {
		return nil, err
	}
	if e.blobs, err = local.OpenBlobs(filepath.Join(pdir, "blobs"), dataKey); err != nil {
		return nil, err
	}
	h, err := platform.New(platform.Config{Store: e.store, Blobs: e.blobs, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	if e.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	e.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == api.PathBatch || r.URL.Path == api.PathSubmissions || strings.HasPrefix(r.URL.Path, api.PathBlobs) {
			e.firstSub.CompareAndSwap(0, time.Now().UnixNano())
		}
		h.ServeHTTP(w, r)
	})}
	go e.srv.Serve(e.ln)
	e.token = fmt.Sprintf("%064x", sha256.Sum256([]byte(dir)))
	if err := e.store.AddKiosk(context.Background(), kioskID, e.token, time.Now()); err != nil {
		return nil, err
	}
	e.ob, err = outbox.Open(context.Background(), outbox.Options{Dir: filepath.Join(dir, "kiosk"), KeyFile: filepath.Join(dir, "kiosk.key"), KioskID: kioskID, Logger: slog.New(slog.DiscardHandler)})
	return e, err
}

func (e *env) close() {
	e.shut()
	os.RemoveAll(e.dir)
}

// shut stops the platform and closes both stores, leaving the files.
func (e *env) shut() {
	e.ob.Close()
	e.srv.Close()
	e.store.Close()
	e.blobs.Close()
}

func (e *env) engine(url string, mod func(*client.Config), parallel, batch int) (*engine.Engine, error) {
	var log *slog.Logger
	if os.Getenv("SYNCBENCH_DEBUG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	cfg := client.Config{BaseURL: url, KioskID: kioskID, Token: e.token, RetryWaitMin: 10 * time.Millisecond, RetryWaitMax: 100 * time.Millisecond, IdleTimeout: 5 * time.Second, Logger: log}
	if mod != nil {
		mod(&cfg)
	}
	cl, err := client.New(cfg)
	if err != nil {
		return nil, err
	}
	return engine.New(engine.Config{Store: e.ob, Platform: cl, KioskID: kioskID, Version: "bench",
		RetryBase: 10 * time.Millisecond, RetryMax: 100 * time.Millisecond, PollInterval: time.Hour, HeartbeatInterval: time.Hour, Parallel: parallel, Batch: batch, Logger: log})
}

func drainAll(ctx context.Context, eng *engine.Engine) error {
	deadline := time.Now().Add(30 * time.Minute)
	for {
		r := eng.Drain(ctx)
		if r.Left == 0 && r.Err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still %d queued: %v", r.Left, r.Err)
		}
	}
}

// queue stores count fictional submissions in the outbox and returns the
// same bytes as the engine will send, for the baselines: each
// submission's JSON and its blobs.
func (e *env) queue(ctx context.Context, count, attach, pages int) ([][]byte, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	bodies := make([][]byte, 0, count)
	for i := 0; i < count; i++ {
		sub := devdata.Submission(rng, i, attach, pages)
		if _, err := e.ob.Submit(ctx, sub); err != nil {
			return nil, err
		}
		var b bytes.Buffer
		j, _ := json.Marshal(sub.Applicant) // stands in for the submission JSON
		b.Write(j)
		b.Write([]byte(`{"form":{"purpose":"测试用途","copies":"1"},"materials":[{"material_id":"m1","kind":"scan","pages":[{"sha256":"0000000000000000000000000000000000000000000000000000000000000000","size":65536,"content_type":"application/octet-stream"}]}],"uuid":"00000000-0000-4000-8000-000000000000","receipt":"KB01-20261125-0001","kiosk_id":"KB01","item_id":"dev-residence-certificate","item_version":"1","created_at":"2026-11-25T09:00:00Z"}`))
		for _, m := range sub.Materials {
			for _, p := range m.Pages {
				b.Write(p.Data)
			}
		}
		bodies = append(bodies, b.Bytes())
	}
	return bodies, nil
}

func drainBench(args []string) error {
	fl := flag.NewFlagSet("drain", flag.ExitOnError)
	count := fl.Int("count", 1000, "submissions")
	attach := fl.Int("attach", 64<<10, "blob bytes per submission")
	pages := fl.Int("pages", 1, "pages (blobs) per submission")
	parallel := fl.String("parallel", "1,4", "engine senders to measure, comma-separated")
	rate := fl.Int64("rate", 0, "link rate in bytes/s through a proxy for baseline and engine alike (0: direct loopback)")
	cpuProfile := fl.String("cpuprofile", "", "write a CPU profile of the first engine run to this file")
	batch := fl.Int("batch", 0, "engine Batch: submissions per request (0: the engine's default; 1: each alone, a PATCH per page and a POST)")
	fl.Parse(args)
	ctx := context.Background()
	e, err := newEnv()
	if err != nil {
		return err
	}
	defer func() { e.close() }()

	bodies, err := e.queue(ctx, *count, *attach, *pages)
	if err != nil {
		return err
	}
	var total int64
	for _, b := range bodies {
		total += int64(len(b))
	}

	discard := func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
	}
	fileDir, err := os.MkdirTemp("", "syncbench-put-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(fileDir)
	n := 0
	durable := func(w http.ResponseWriter, r *http.Request) {
		n++
		f, err := os.Create(filepath.Join(fileDir, fmt.Sprint(n)))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		io.Copy(f, r.Body)
		f.Sync()
		f.Close()
		w.WriteHeader(http.StatusCreated)
	}
	perSec := func(d time.Duration) float64 { return float64(*count) / d.Seconds() }
	mb := func(d time.Duration) float64 { return float64(total) / d.Seconds() / 1e6 }
	cpuPer := func(c time.Duration) float64 { return float64(c.Microseconds()) / 1000 / float64(*count) }
	fmt.Printf("drain %d submissions × %d pages, %d bytes of blobs each (%.1f MB in all)", *count, *pages, *attach, float64(total)/1e6)
	if *rate > 0 {
		fmt.Printf(", link %.2f MB/s (proxy, shared)", float64(*rate)/1e6)
	}
	fmt.Println()
	var link func(*faultproxy.Proxy)
	if *rate > 0 {
		link = func(px *faultproxy.Proxy) { px.SetRate(*rate) }
	}
	putDiscard, cpuDiscard, err := putRun(bodies, discard, link)
	if err != nil {
		return err
	}
	fmt.Printf("  baseline PUT, handler discards:        %7.2fs  %7.1f subm/s  %6.1f MB/s  cpu %.2f ms/subm\n",
		putDiscard.Seconds(), perSec(putDiscard), mb(putDiscard), cpuPer(cpuDiscard))
	durableRun := func() (time.Duration, error) {
		took, cpu, err := putRun(bodies, durable, link)
		if err == nil {
			fmt.Printf("  baseline PUT, handler file+fsync:      %7.2fs  %7.1f subm/s  %6.1f MB/s  cpu %.2f ms/subm\n",
				took.Seconds(), perSec(took), mb(took), cpuPer(cpu))
		}
		return took, err
	}
	// The disk is shared with other work and its flush latency drifts by
	// several times within minutes, so every engine run is bracketed by a
	// durable baseline right before and right after it, and compared with
	// the mean of the two.
	before, err := durableRun()
	if err != nil {
		return err
	}
	for i, ps := range strings.Split(*parallel, ",") {
		par, err := strconv.Atoi(strings.TrimSpace(ps))
		if err != nil || par < 1 {
			return fmt.Errorf("bad -parallel %q", ps)
		}
		if i > 0 {
			// A fresh queue and platform for each setting. The old one's
			// files are removed only at the end: freeing thousands of
			// inodes just before a run makes ext4's inode allocator scan
			// past them ("recently deleted") on every file the run
			// creates, which measured as a third of the run's CPU.
			e.shut()
			defer os.RemoveAll(e.dir)
			if e, err = newEnv(); err != nil {
				return err
			}
			rng := rand.New(rand.NewPCG(1, 2))
			for j := 0; j < *count; j++ {
				if _, err := e.ob.Submit(ctx, devdata.Submission(rng, j, *attach, *pages)); err != nil {
					return err
				}
			}
		}
		url := "http://" + e.ln.Addr().String()
		if *rate > 0 {
			px, err := faultproxy.New(e.ln.Addr().String(), nil)
			if err != nil {
				return err
			}
			defer px.Close()
			px.SetRate(*rate)
			url = px.URL()
		}
		eng, err := e.engine(url, nil, par, *batch)
		if err != nil {
			return err
		}
		var prof *os.File
		if *cpuProfile != "" && i == 0 {
			if prof, err = os.Create(*cpuProfile); err != nil {
				return err
			}
			pprof.StartCPUProfile(prof)
		}
		start, cpu0 := time.Now(), cpuTime()
		if err := drainAll(ctx, eng); err != nil {
			return err
		}
		took, cpu := time.Since(start), cpuTime()-cpu0
		if prof != nil {
			pprof.StopCPUProfile()
			prof.Close()
		}
		exported := 0
		e.store.Export(ctx, func(platform.ExportRow) error { exported++; return nil })
		if exported != *count {
			return fmt.Errorf("platform holds %d submissions, want %d", exported, *count)
		}
		fmt.Printf("  engine, %2d sender(s) → platform:       %7.2fs  %7.1f subm/s  %6.1f MB/s  cpu %.2f ms/subm\n",
			par, took.Seconds(), perSec(took), mb(took), cpuPer(cpu))
		after, err := durableRun()
		if err != nil {
			return err
		}
		base := (before + after) / 2
		fmt.Printf("  => engine, %d sender(s) = %.2f× the durable PUTs around it (%.2f× before, %.2f× after), %.2f× discard PUTs\n",
			par, base.Seconds()/took.Seconds(), before.Seconds()/took.Seconds(), after.Seconds()/took.Seconds(), putDiscard.Seconds()/took.Seconds())
		before = after
	}
	return nil
}

// cpuTime is the CPU time (user + system) this process has used so far:
// the drain is measured on a machine shared with other work, so the CPU it
// takes per submission is reported beside the wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// putRun sends each body as one PUT, one after another, over keep-alive;
// through a fault proxy set up by link when rate > 0.
func putRun(bodies [][]byte, h http.HandlerFunc, link func(*faultproxy.Proxy)) (took, cpu time.Duration, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	defer srv.Close()
	c := &http.Client{}
	url := "http://" + ln.Addr().String() + "/put"
	if link != nil {
		px, err := faultproxy.New(ln.Addr().String(), nil)
		if err != nil {
			return 0, 0, err
		}
		defer px.Close()
		link(px)
		url = px.URL() + "/put"
	}
	start, cpu0 := time.Now(), cpuTime()
	for i, b := range bodies {
		req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/%d", url, i), bytes.NewReader(b))
		resp, err := c.Do(req)
		if err != nil {
			return 0, 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return 0, 0, fmt.Errorf("PUT: HTTP %d", resp.StatusCode)
		}
	}
	return time.Since(start), cpuTime() - cpu0, nil
}

func cutBench(args []string) error {
	fl := flag.NewFlagSet("cut", flag.ExitOnError)
	size := fl.Int("size", 10<<20, "blob bytes")
	every := fl.Int64("every", 512<<10, "cut the link every N bytes")
	rates := fl.String("rates", "0,2097152", "link rates to measure in bytes/s, comma-separated (0: unlimited)")
	fl.Parse(args)
	fmt.Printf("one %d-byte blob (one submission), link cut every %d bytes client→platform\n", *size, *every)
	for _, rs := range strings.Split(*rates, ",") {
		rate, err := strconv.ParseInt(strings.TrimSpace(rs), 10, 64)
		if err != nil {
			return fmt.Errorf("bad -rates %q", rs)
		}
		label := "unlimited loopback"
		if rate > 0 {
			label = fmt.Sprintf("link at %.1f MB/s", float64(rate)/1e6)
		}
		fmt.Printf(" %s:\n", label)
		var base int64
		for i, r := range []struct {
			name      string
			cut, hard bool
		}{{"no cuts (baseline)", false, false}, {"soft cuts", true, false}, {"hard cuts", true, true}} {
			up, cuts, took, err := cutOnce(*size, *every, rate, r.cut, r.hard)
			if err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			if i == 0 {
				base = up
			}
			extra := up - base
			fmt.Printf("  %-20s link bytes up %10d  cuts %3d  re-sent %9d = %6.2f%% of the blob  (%.2fs)\n",
				r.name, up, cuts, extra, 100*float64(extra)/float64(*size), took.Seconds())
		}
	}
	return nil
}

func cutOnce(size int, every, rate int64, cut, hard bool) (up, cuts int64, took time.Duration, err error) {
	ctx := context.Background()
	e, err := newEnv()
	if err != nil {
		return 0, 0, 0, err
	}
	defer e.close()
	rng := rand.New(rand.NewPCG(3, 4))
	sub := devdata.Submission(rng, 1, size, 1)
	if _, err := e.ob.Submit(ctx, sub); err != nil {
		return 0, 0, 0, err
	}
	px, err := faultproxy.New(e.ln.Addr().String(), nil)
	if err != nil {
		return 0, 0, 0, err
	}
	defer px.Close()
	px.SetRate(rate)
	if cut {
		px.CutEvery(every)
		px.SetHardCuts(hard)
	}
	eng, err := e.engine(px.URL(), func(c *client.Config) { c.RetryMax = 100 }, 1, 0)
	if err != nil {
		return 0, 0, 0, err
	}
	start := time.Now()
	if err := drainAll(ctx, eng); err != nil {
		return 0, 0, 0, err
	}
	took = time.Since(start)
	var rows []platform.ExportRow
	e.store.Export(ctx, func(r platform.ExportRow) error { rows = append(rows, r); return nil })
	if len(rows) != 1 {
		return 0, 0, 0, errors.New("submission not on the platform")
	}
	st := px.Stats()
	return st.BytesUp, st.Faults, took, nil
}

// villageBench drains queued submissions over a slow link with a
// round-trip time and compares the time with one plain PUT of the same
// bytes over the same link (measured once: the link is a token bucket and
// a delay line on the wall clock, the same every time). Each run gets a
// fresh outbox and platform.
func villageBench(args []string) error {
	fl := flag.NewFlagSet("village", flag.ExitOnError)
	count := fl.Int("count", 200, "submissions")
	attach := fl.Int("attach", 64<<10, "blob bytes per submission")
	rate := fl.Int64("rate", 125000, "link rate in bytes/s (125000 = 1 Mbit/s)")
	rtt := fl.Duration("rtt", 150*time.Millisecond, "the link's round-trip time")
	runs := fl.Int("runs", 7, "engine runs")
	parallel := fl.Int("parallel", 0, "engine senders (0: the engine's default)")
	fl.Parse(args)
	ctx := context.Background()
	link := func(px *faultproxy.Proxy) {
		px.SetRate(*rate)
		px.SetLatency(*rtt)
	}
	var capacity time.Duration
	var ratios []float64
	for run := 0; run <= *runs; run++ {
		e, err := newEnv()
		if err != nil {
			return err
		}
		bodies, err := e.queue(ctx, *count, *attach, 1)
		if err != nil {
			return err
		}
		if run == 0 {
			var total int
			for _, b := range bodies {
				total += len(b)
			}
			fmt.Printf("village link: %d submissions × %d bytes of page (%.2f MB with the JSON), %.3f Mbit/s, rtt %v\n",
				*count, *attach, float64(total)/1e6, float64(*rate)*8/1e6, *rtt)
			discard := func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.WriteHeader(http.StatusCreated)
			}
			if capacity, _, err = putRun([][]byte{bytes.Join(bodies, nil)}, discard, link); err != nil {
				return err
			}
			fmt.Printf("  baseline, one PUT of all the bytes:  %7.2fs\n", capacity.Seconds())
			e.close()
			continue
		}
		px, err := faultproxy.New(e.ln.Addr().String(), nil)
		if err != nil {
			return err
		}
		link(px)
		// The kiosk's client settings (the bench's short retry waits and
		// idle timeout are for loopback).
		eng, err := e.engine(px.URL(), func(c *client.Config) { *c = client.Config{BaseURL: c.BaseURL, KioskID: c.KioskID, Token: c.Token} }, *parallel, 0)
		if err != nil {
			return err
		}
		start := time.Now()
		err = drainAll(ctx, eng)
		took := time.Since(start)
		st := px.Stats()
		px.Close()
		e.close()
		if err != nil {
			return err
		}
		r := capacity.Seconds() / took.Seconds()
		ratios = append(ratios, r)
		fmt.Printf("  run %d: engine %7.2fs = %.3f× the link's capacity (link bytes up %d, down %d, connections %d)\n",
			run, took.Seconds(), r, st.BytesUp, st.BytesDown, st.Conns)
	}
	med, worst := medianWorst(ratios)
	fmt.Printf("  => median %.3f×, worst %.3f× over %d runs\n", med, worst, len(ratios))
	return nil
}

// medianWorst returns the median and the smallest of xs (ratios: higher
// is better).
func medianWorst(xs []float64) (med, worst float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	med = s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return med, s[0]
}

// recoverBench queues submissions while the link is down, with the engine
// running (Run, as on a kiosk) and offline long enough for its probe
// interval to reach its cap, then brings the link up and times link-up →
// the platform's first request carrying a submission (or its pages), and
// link-up → the engine's state no longer offline (what the kiosk's banner
// follows).
func recoverBench(args []string) error {
	fl := flag.NewFlagSet("recover", flag.ExitOnError)
	runs := fl.Int("runs", 7, "runs")
	down := fl.Duration("down", 20*time.Second, "how long the link stays down with submissions queued")
	probeMin := fl.Duration("probe-min", 0, "engine ProbeMin (0: the engine's default)")
	probeMax := fl.Duration("probe-max", 0, "engine ProbeMax (0: the engine's default)")
	fl.Parse(args)
	fmt.Printf("recovery after %v with the link down, %d runs\n", *down, *runs)
	var firsts, onlines []float64
	for run := 1; run <= *runs; run++ {
		first, online, err := recoverOnce(*down, *probeMin, *probeMax)
		if err != nil {
			return err
		}
		firsts = append(firsts, -first.Seconds()) // negated: medianWorst takes "higher is better"
		onlines = append(onlines, -online.Seconds())
		fmt.Printf("  run %d: link up → first submission request at the platform %6.2fs, → engine online %6.2fs\n", run, first.Seconds(), online.Seconds())
	}
	m1, w1 := medianWorst(firsts)
	m2, w2 := medianWorst(onlines)
	fmt.Printf("  => first submission request: median %.2fs, worst %.2fs; engine online: median %.2fs, worst %.2fs\n", -m1, -w1, -m2, -w2)
	return nil
}

func recoverOnce(down, probeMin, probeMax time.Duration) (first, online time.Duration, err error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e, err := newEnv()
	if err != nil {
		return 0, 0, err
	}
	defer e.close()
	px, err := faultproxy.New(e.ln.Addr().String(), nil)
	if err != nil {
		return 0, 0, err
	}
	defer px.Close()
	px.SetDown(true)
	cl, err := client.New(client.Config{BaseURL: px.URL(), KioskID: kioskID, Token: e.token})
	if err != nil {
		return 0, 0, err
	}
	// The kiosk's settings (kiosk/app): the engine's defaults but for the
	// probe interval under test.
	eng, err := engine.New(engine.Config{Store: e.ob, Platform: cl, KioskID: kioskID, Version: "bench", ProbeMin: probeMin, ProbeMax: probeMax})
	if err != nil {
		return 0, 0, err
	}
	done := eng.Start(ctx)
	defer func() { cancel(); <-done }()
	if _, err := e.queue(ctx, 5, 64<<10, 1); err != nil {
		return 0, 0, err
	}
	time.Sleep(down)
	if p := eng.Progress(); p.State != engine.StateOffline {
		return 0, 0, fmt.Errorf("engine %s with the link down", p.State)
	}
	up := time.Now()
	px.SetDown(false)
	deadline := up.Add(10 * time.Minute)
	for online == 0 || e.firstSub.Load() == 0 {
		if time.Now().After(deadline) {
			return 0, 0, errors.New("nothing within 10 minutes of link-up")
		}
		if online == 0 && eng.Progress().State != engine.StateOffline {
			online = time.Since(up)
		}
		time.Sleep(time.Millisecond)
	}
	return time.Unix(0, e.firstSub.Load()).Sub(up), online, nil
}
