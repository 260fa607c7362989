package idcard_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"onedoor/drivers/idcard"
	"onedoor/drivers/serialport"
	"onedoor/drivers/sim"
)

// simLinkEnv names the pty link a helper process serves the simulator on.
const simLinkEnv = "ONEDOOR_IDCARD_SIM_LINK"

// TestSimHelperProcess is not a test of its own: BenchmarkIdlePollCPU runs
// this test binary again with simLinkEnv set, and this then serves the SAM
// simulator on a pty at that path until its standard input closes. With the
// simulator in another process, the benchmark's CPU time is the driver's.
func TestSimHelperProcess(t *testing.T) {
	link := os.Getenv(simLinkEnv)
	if link == "" {
		t.Skip("helper process of BenchmarkIdlePollCPU")
	}
	pt, err := sim.OpenPTY(link)
	if err != nil {
		t.Fatal(err)
	}
	defer pt.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sim.NewIDCard(sim.IDCardConfig{Logger: quiet}).Serve(ctx, pt); close(done) }()
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	cancel()
	<-done
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime(tb testing.TB) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkIdlePollCPU measures what Watch costs while no card is on the
// reader: CPU time of this process (driver, port and Go runtime) against
// wall time, in percent of one core, with the simulator in a child process
// so that its own work is not counted. One iteration is one second of idle
// polling. "none" is the same process with the port open and no Watch, the
// floor; "100ms" is the poll interval before issue 15.
//
//	go test -run XXX -bench IdlePollCPU -benchtime 5x -count 7 ./drivers/idcard/
func BenchmarkIdlePollCPU(b *testing.B) {
	for _, tc := range []struct {
		name     string
		watch    bool
		interval time.Duration
	}{{"none", false, 0}, {"default", true, 0}, {"100ms", true, 100 * time.Millisecond}} {
		b.Run(tc.name, func(b *testing.B) {
			link := filepath.Join(b.TempDir(), "idcard")
			cmd := exec.Command(os.Args[0], "-test.run=^TestSimHelperProcess$")
			cmd.Env = append(os.Environ(), simLinkEnv+"="+link)
			stdin, err := cmd.StdinPipe()
			if err != nil {
				b.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				b.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			defer func() {
				stdin.Close()
				if err := cmd.Wait(); err != nil {
					b.Errorf("simulator process: %v", err)
				}
			}()
			if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "ready\n" {
				b.Fatalf("simulator process said %q, %v", line, err)
			}
			var polls atomic.Int64 // the Tap runs on the Watch goroutine
			p, err := serialport.Open(serialport.Config{Path: link, Baud: 115200, Tap: func(r serialport.Record) {
				if r.Dir == serialport.Out {
					polls.Add(1)
				}
			}})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			ctx, cancel := context.WithCancel(context.Background())
			ch := make(chan idcard.Event)
			if tc.watch {
				ch = make(chan idcard.Event, 8)
				go func() {
					defer close(ch)
					for e := range idcard.NewReader(p, idcard.Options{Logger: quiet}).Watch(ctx, idcard.WatchOptions{Interval: tc.interval}) {
						ch <- e
					}
				}()
				if e := <-ch; e.Kind != idcard.DeviceReady {
					b.Fatalf("first event %v (%v), want device ready", e.Kind, e.Err)
				}
			}
			// Let the loop settle before counting.
			time.Sleep(200 * time.Millisecond)
			polls.Store(0)
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			mallocs0 := ms.Mallocs
			cpu0, wall0 := cpuTime(b), time.Now()
			b.ResetTimer()
			for range b.N {
				select {
				case e := <-ch:
					b.Fatalf("unexpected %v event (%v) with no card", e.Kind, e.Err)
				case <-time.After(time.Second):
				}
			}
			b.StopTimer()
			cpu, wall := cpuTime(b)-cpu0, time.Since(wall0)
			n := polls.Load()
			runtime.ReadMemStats(&ms)
			mallocs := ms.Mallocs - mallocs0
			cancel()
			if tc.watch {
				for range ch {
				}
			}
			b.ReportMetric(100*float64(cpu)/float64(wall), "cpu-%")
			b.ReportMetric(float64(n)/wall.Seconds(), "polls/s")
			if n > 0 {
				b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-us/poll")
				b.ReportMetric(float64(mallocs)/float64(n), "allocs/poll")
			}
		})
	}
}
