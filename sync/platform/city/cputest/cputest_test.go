package cputest

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestTreeCountsChildren: a child that spins is counted while it runs and,
// through its parent's reaped-children time, after it has exited.
func TestTreeCountsChildren(t *testing.T) {
	before, err := Tree(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// A shell loop that burns about half a second of CPU.
	cmd := exec.Command("sh", "-c", `end=$(($(date +%s%N) + 500000000)); while [ "$(date +%s%N)" -lt $end ]; do :; done`)
	if err := cmd.Run(); err != nil {
		t.Skip("no sh:", err)
	}
	after, err := Tree(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if d := after - before; d < 100*time.Millisecond {
		t.Fatalf("a child that ran ~0.5 s of CPU added %v", d)
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
