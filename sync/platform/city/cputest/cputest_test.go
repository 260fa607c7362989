package cputest

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// spinEnv makes the test binary, started as a child, burn spinCPU of its
// own CPU time and exit. It counts CPU time, not wall time: on a loaded
// machine a child that spins for half a second of wall time may get a
// tenth of that on a core (CI saw 40 ms).
const (
	spinEnv = "CPUTEST_SPIN"
	spinCPU = 300 * time.Millisecond
)

func TestMain(m *testing.M) {
	if os.Getenv(spinEnv) == "1" {
		for {
			var ru syscall.Rusage
			if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
				os.Exit(2)
			}
			if time.Duration(ru.Utime.Nano()+ru.Stime.Nano()) >= spinCPU {
				os.Exit(0)
			}
			for i := 0; i < 1_000_000; i++ {
				spinSink += i
			}
		}
	}
	os.Exit(m.Run())
}

var spinSink int

// TestTreeCountsChildren: a child that spins is counted, through its
// parent's reaped-children time, after it has exited.
func TestTreeCountsChildren(t *testing.T) {
	before, err := Tree(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^$")
	cmd.Env = append(os.Environ(), spinEnv+"=1")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	after, err := Tree(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if d := after - before; d < spinCPU {
		t.Fatalf("a child that ran %v of CPU added %v", spinCPU, d)
	}
	if _, err := Tree(1 << 30); err == nil {
		t.Fatal("a process that does not exist was measured")
	}
}

func TestParseStat(t *testing.T) {
	pid, p, err := parseStat("42 (a (b) c) S 7 1 1 0 -1 0 0 0 0 0 150 50 3 2 20 0 1 0")
	if err != nil || pid != 42 || p.ppid != 7 || p.cpu != 2050*time.Millisecond {
		t.Fatalf("parseStat = %d %+v %v", pid, p, err)
	}
}
