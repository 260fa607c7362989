// Command benchstart measures cold start to first frame and resident memory
// of `onedoor --demo` against a minimal Fyne window with the same font
// (cmd/minwindow), alternating runs in the same session so both see the same
// machine state. It needs a display (run it under Xvfb):
//
//	go build -tags no_emoji,demo -o /tmp/onedoor ./kiosk # --demo is in the demo build only
//	go build -tags no_emoji -o /tmp/minwindow ./kiosk/app/cmd/minwindow
//	xvfb-run -a -s "-screen 0 1700x900x24" go run ./kiosk/app/cmd/benchstart \
//	    -kiosk /tmp/onedoor -baseline /tmp/minwindow -runs 5
//
// Start time is from exec to the child's "first frame" line; memory is VmRSS
// read from /proc after the window has been up for -settle, split into
// RssAnon (Go heap, malloc, GL buffers) and RssFile (binary and libraries).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	kiosk := flag.String("kiosk", "", "onedoor binary")
	base := flag.String("baseline", "", "minwindow binary")
	runs := flag.Int("runs", 5, "runs of each")
	settle := flag.Duration("settle", 3*time.Second, "wait after the first frame before reading RSS")
	kargs := flag.String("kiosk-args", "--demo", "arguments for the kiosk binary, space-separated")
	flag.Parse()
	if *kiosk == "" || *base == "" {
		fmt.Fprintln(os.Stderr, "benchstart: -kiosk and -baseline are required")
		os.Exit(2)
	}
	var ks, bs []sample
	for i := range *runs {
		for _, c := range []struct {
			bin  string
			args []string
			out  *[]sample
		}{{*base, nil, &bs}, {*kiosk, strings.Fields(*kargs), &ks}} {
			s, err := measure(c.bin, c.args, *settle)
			if err != nil {
				fmt.Fprintf(os.Stderr, "benchstart: run %d of %s: %v\n", i+1, c.bin, err)
				os.Exit(1)
			}
			*c.out = append(*c.out, s)
		}
	}
	kb, bb := median(ks), median(bs)
	fmt.Printf("runs: %d each, median\n", *runs)
	fmt.Printf("%-28s %12s %12s %12s %12s\n", "", "first frame", "VmRSS", "RssAnon", "RssFile")
	row := func(name string, s sample) {
		fmt.Printf("%-28s %10.0f ms %8.1f MiB %8.1f MiB %8.1f MiB\n", name, ms(s.start), mib(s.rss), mib(s.anon), mib(s.file))
	}
	row("minimal window (baseline)", bb)
	row("onedoor "+*kargs, kb)
	ratio := func(a, b int64) float64 { return float64(a) / float64(b) }
	fmt.Printf("%-28s %12.2fx %11.2fx %11.2fx %11.2fx\n", "ratio", ratio(int64(kb.start), int64(bb.start)),
		ratio(kb.rss, bb.rss), ratio(kb.anon, bb.anon), ratio(kb.file, bb.file))
	fmt.Println("(medians of each column separately)")
}

type sample struct {
	start time.Duration
	rss   int64 // bytes: VmRSS = anon + file + shmem
	anon  int64 // RssAnon: Go heap, malloc, GL buffers
	file  int64 // RssFile: pages of the binary and shared libraries
}

func measure(bin string, args []string, settle time.Duration) (sample, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "ONEDOOR_BENCH_FIRST_FRAME=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return sample{}, err
	}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return sample{}, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "first frame") {
			s := sample{start: time.Since(t0)}
			time.Sleep(settle)
			s.rss, s.anon, s.file, err = vmRSS(cmd.Process.Pid)
			go func() {
				for sc.Scan() {
				}
			}()
			return s, err
		}
	}
	return sample{}, errors.New("exited without a first frame")
}

// vmRSS reads VmRSS, RssAnon and RssFile of pid, in bytes.
func vmRSS(pid int) (rss, anon, file int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, 0, err
	}
	found := 0
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		var dst *int64
		switch f[0] {
		case "VmRSS:":
			dst = &rss
		case "RssAnon:":
			dst = &anon
		case "RssFile:":
			dst = &file
		default:
			continue
		}
		kb, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("%s: %w", f[0], err)
		}
		*dst = kb * 1024
		found++
	}
	if found != 3 {
		return 0, 0, 0, errors.New("no VmRSS/RssAnon/RssFile in /proc status")
	}
	return rss, anon, file, nil
}

func median(s []sample) sample {
	st := make([]time.Duration, len(s))
	rs, an, fi := make([]int64, len(s)), make([]int64, len(s)), make([]int64, len(s))
	for i, x := range s {
		st[i], rs[i], an[i], fi[i] = x.start, x.rss, x.anon, x.file
	}
	slices.Sort(st)
	for _, v := range [][]int64{rs, an, fi} {
		slices.Sort(v)
	}
	m := len(s) / 2
	return sample{start: st[m], rss: rs[m], anon: an[m], file: fi[m]}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func mib(b int64) float64        { return float64(b) / (1 << 20) }
