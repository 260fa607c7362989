// Command benchstart measures cold start to first frame and resident memory
// of `onedoor --demo` against a minimal Fyne window with the same font
// (cmd/minwindow), alternating runs in the same session so both see the same
// machine state. It needs a display (run it under Xvfb):
//
//	go build -tags no_emoji -o /tmp/onedoor ./kiosk
//	go build -tags no_emoji -o /tmp/minwindow ./kiosk/app/cmd/minwindow
//	xvfb-run -a -s "-screen 0 1700x900x24" go run ./kiosk/app/cmd/benchstart \
//	    -kiosk /tmp/onedoor -baseline /tmp/minwindow -runs 5
//
// Start time is from exec to the child's "first frame" line; memory is VmRSS
// read from /proc after the window has been up for -settle.
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
	fmt.Printf("%-28s %12s %12s\n", "", "first frame", "VmRSS")
	fmt.Printf("%-28s %10.0f ms %9.1f MiB\n", "minimal window (baseline)", ms(bb.start), mib(bb.rss))
	fmt.Printf("%-28s %10.0f ms %9.1f MiB\n", "onedoor "+*kargs, ms(kb.start), mib(kb.rss))
	fmt.Printf("%-28s %12.2fx %11.2fx\n", "ratio", float64(kb.start)/float64(bb.start), float64(kb.rss)/float64(bb.rss))
}

type sample struct {
	start time.Duration
	rss   int64 // bytes
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
			s.rss, err = vmRSS(cmd.Process.Pid)
			go func() {
				for sc.Scan() {
				}
			}()
			return s, err
		}
	}
	return sample{}, errors.New("exited without a first frame")
}

func vmRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmRSS")
}

func median(s []sample) sample {
	st := make([]time.Duration, len(s))
	rs := make([]int64, len(s))
	for i, x := range s {
		st[i], rs[i] = x.start, x.rss
	}
	slices.Sort(st)
	slices.Sort(rs)
	return sample{start: st[len(st)/2], rss: rs[len(rs)/2]}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func mib(b int64) float64        { return float64(b) / (1 << 20) }
