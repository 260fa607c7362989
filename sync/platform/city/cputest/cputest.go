// Package cputest measures the CPU time of process trees, for benchmarks
// whose system under test runs in several processes (platformd instances,
// PostgreSQL's backends, the object store, HAProxy). On a machine shared
// with other work a throughput figure moves with the load; the CPU time
// the system spends per operation moves much less, so the benchmarks
// report both. Linux only (it reads /proc).
package cputest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of /proc/PID/stat's times (USER_HZ, 100 on every
// Linux architecture Go supports; reading sysconf would need cgo).
const clockTick = 10 * time.Millisecond

type proc struct {
	ppid int
	cpu  time.Duration // own user+system time and that of its reaped children
}

// Tree returns the CPU time (user and system) used so far by the processes
// roots and all their descendants, including descendants that have exited
// and were reaped. Take it before and after the work and subtract.
func Tree(roots ...int) (time.Duration, error) {
	procs := map[int]proc{}
	dirs, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return 0, err
	}
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue // exited meanwhile
		}
		pid, p, err := parseStat(string(b))
		if err != nil {
			return 0, fmt.Errorf("cputest: %s: %w", d, err)
		}
		procs[pid] = p
	}
	children := map[int][]int{}
	for pid, p := range procs {
		children[p.ppid] = append(children[p.ppid], pid)
	}
	var total time.Duration
	seen := map[int]bool{}
	var walk func(int)
	walk = func(pid int) {
		if seen[pid] {
			return
		}
		seen[pid] = true
		total += procs[pid].cpu
		for _, c := range children[pid] {
			walk(c)
		}
	}
	for _, r := range roots {
		if _, ok := procs[r]; !ok {
			return 0, fmt.Errorf("cputest: no process %d", r)
		}
		walk(r)
	}
	return total, nil
}

// parseStat reads pid, ppid and utime+stime+cutime+cstime from a
// /proc/PID/stat line. The command name (2nd field) may hold spaces and
// parentheses, so fields are counted from its last ')'.
func parseStat(s string) (int, proc, error) {
	open := strings.IndexByte(s, '(')
	end := strings.LastIndexByte(s, ')')
	if open < 1 || end < open {
		return 0, proc{}, fmt.Errorf("malformed stat %q", s)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(s[:open]))
	if err != nil {
		return 0, proc{}, err
	}
	f := strings.Fields(s[end+1:]) // f[0] is field 3 (state)
	if len(f) < 15 {
		return 0, proc{}, fmt.Errorf("short stat %q", s)
	}
	field := func(n int) (int64, error) { return strconv.ParseInt(f[n-3], 10, 64) }
	ppid, err := field(4)
	if err != nil {
		return 0, proc{}, err
	}
	var ticks int64
	for n := 14; n <= 17; n++ {
		v, err := field(n)
		if err != nil {
			return 0, proc{}, err
		}
		ticks += v
	}
	return pid, proc{ppid: int(ppid), cpu: time.Duration(ticks) * clockTick}, nil
}
