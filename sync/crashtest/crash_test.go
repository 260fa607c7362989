package crashtest

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

var cycles = flag.Int("crash.cycles", 30, "kill cycles (the bench run uses 1000)")

const childEnv = "ONEDOOR_CRASHTEST_CHILD"

// TestMain turns the test binary into the child process when asked, so the
// test needs no separately built program.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(ChildMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func TestKill9Cycles(t *testing.T) {
	n := *cycles
	if testing.Short() && n > 10 {
		n = 10
	}
	var log strings.Builder
	res, err := Run(context.Background(), Options{
		Dir: t.TempDir(), Cycles: n, Seed: uint64(time.Now().UnixNano()),
		Child: func(args ...string) *exec.Cmd {
			cmd := exec.Command(os.Args[0], args...)
			cmd.Env = append(os.Environ(), childEnv+"=1")
			return cmd
		},
		Log: &lockedWriter{b: &log},
	})
	t.Log(res)
	if err != nil {
		t.Fatalf("%v\nchild output:\n%s", err, tail(log.String(), 4000))
	}
	if !res.OK() {
		t.Fatalf("lost=%v duplicates=%v strangers=%v mismatches=%v\nchild output:\n%s", res.Lost, res.Duplicates, res.Strangers, res.Mismatches, tail(log.String(), 4000))
	}
	if res.Issued == 0 || res.Printed == 0 {
		t.Fatalf("the children issued nothing: %v", res)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
