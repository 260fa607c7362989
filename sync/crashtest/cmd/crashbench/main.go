// Command crashbench runs the kill -9 crash test for many cycles (1,000 by
// default) and prints the result; it exits 1 if anything was lost,
// duplicated or corrupted. It re-executes itself as the child process.
//
//	go run ./sync/crashtest/cmd/crashbench -cycles 1000
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"onedoor/sync/crashtest"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		os.Exit(crashtest.ChildMain(os.Args[2:]))
	}
	cycles := flag.Int("cycles", 1000, "kill cycles")
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()), "random seed")
	keep := flag.Bool("keep", false, "keep the working directory")
	maxLife := flag.Duration("max-life", 530*time.Millisecond, "longest a child lives before SIGKILL")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "crashbench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	res, err := crashtest.Run(ctx, crashtest.Options{
		Dir: dir, Cycles: *cycles, Seed: *seed, MaxLife: *maxLife,
		Child: func(args ...string) *exec.Cmd { return exec.Command(self, append([]string{"child"}, args...)...) },
		Log:   os.Stderr,
	})
	fmt.Printf("seed=%d %v\n", *seed, res)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crashbench:", err)
		os.Exit(1)
	}
	if !res.OK() {
		fmt.Fprintf(os.Stderr, "crashbench: FAILED lost=%v duplicates=%v strangers=%v mismatches=%v\n", res.Lost, res.Duplicates, res.Strangers, res.Mismatches)
		os.Exit(1)
	}
}
