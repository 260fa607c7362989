package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"onedoor/sync/platform/pgstore/pgtest"
)

// TestClusterScript runs build/cluster as an operator would: up starts
// PostgreSQL, versitygw, two platformd instances and HAProxy, and the kiosk
// URL it prints answers /healthz; status says each part runs; down stops
// exactly the processes up started (every pid it recorded is gone, and a
// platformd it did not start, listening beside them, still runs); status
// then says down. platformd is this test binary (TestMain), so no build.
func TestClusterScript(t *testing.T) {
	for _, tool := range []string{"haproxy", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			clusterSkip(t, tool+" not installed (build/setup installs it)")
		}
	}
	if _, err := pgtest.BinDir(); err != nil {
		clusterSkip(t, err.Error())
	}
	home, _ := os.UserHomeDir()
	if _, err := os.Stat(filepath.Join(home, ".cache/onedoor-tools/bin/versitygw")); err != nil {
		if _, err := exec.LookPath("versitygw"); err != nil {
			clusterSkip(t, "versitygw not installed (build/setup builds it)")
		}
	}
	script, err := filepath.Abs("../../../../build/cluster")
	if err != nil {
		t.Fatal(err)
	}
	// The cluster's folder must be reachable by the postgres user when we
	// are root: not under t.TempDir's 0700 parent.
	dir, err := os.MkdirTemp("", "onedoor-cluster-test-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	self, _ := os.Executable()
	wrapper := filepath.Join(t.TempDir(), "platformd")
	if err := os.WriteFile(wrapper, []byte("#!/bin/sh\n"+childEnv+"=1 exec '"+self+"' \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	base := freePortRange(t, 12)
	env := append(os.Environ(), "ONEDOOR_CLUSTER_DIR="+dir, "ONEDOOR_CLUSTER_PORT="+strconv.Itoa(base), "ONEDOOR_PLATFORMD="+wrapper)
	cluster := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, script, args...)
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	t.Cleanup(func() {
		if out, err := cluster("down", "--purge"); err != nil {
			t.Logf("cleanup: %v\n%s", err, out)
		}
		os.RemoveAll(dir)
	})

	// A platformd up did not start, which down must leave alone.
	bystander := exec.Command(self, "serve", "--addr", fmt.Sprintf("127.0.0.1:%d", base+9), "--data", t.TempDir())
	bystander.Env = append(os.Environ(), childEnv+"=1")
	if err := bystander.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bystander.Process.Kill(); bystander.Wait() })

	out, err := cluster("up", "2")
	if err != nil {
		t.Fatalf("up: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`kiosk URL:\s+(http://\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("up printed no kiosk URL:\n%s", out)
	}
	if !strings.Contains(out, "enrolment code") {
		t.Errorf("up enrolled no demo kiosk:\n%s", out)
	}
	for range 4 { // round-robin: both instances answer through HAProxy
		res, err := http.Get(m[1] + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("HAProxy /healthz = %d", res.StatusCode)
		}
	}
	out, err = cluster("status")
	if err != nil {
		t.Fatalf("status: %v\n%s", err, out)
	}
	for _, want := range []string{"postgresql", "versitygw", "platformd 0", "platformd 1", "haproxy"} {
		if !strings.Contains(out, want) || strings.Contains(out, "DOWN") {
			t.Errorf("status lacks %q running:\n%s", want, out)
		}
	}

	// Every process up started, by the pids it recorded (PostgreSQL's
	// postmaster by its own pid file).
	pids := map[string]int{}
	for _, f := range []string{"haproxy.pid", "versitygw.pid", "platformd-0.pid", "platformd-1.pid", "pg/postmaster.pid"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		pid, err := strconv.Atoi(strings.TrimSpace(line))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		pids[f] = pid
	}
	out, err = cluster("down")
	if err != nil {
		t.Fatalf("down: %v\n%s", err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for f, pid := range pids {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if alive(pid) {
			t.Errorf("%s (pid %d) still runs after down", f, pid)
		}
	}
	if bystander.ProcessState != nil || !alive(bystander.Process.Pid) {
		t.Error("down stopped a platformd it had not started")
	}
	for _, port := range []int{base, base + 1, base + 2, base + 10, base + 11} {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
			c.Close()
			t.Errorf("port %d still listens after down", port)
		}
	}
	if out, err := cluster("status"); err == nil || !strings.Contains(out, "down") {
		t.Errorf("status after down: %v\n%s", err, out)
	}
}

func clusterSkip(t *testing.T, why string) {
	t.Helper()
	if pgtest.Required() {
		t.Fatal(why)
	}
	t.Skip(why)
}

// alive reports whether pid names a process that is not a zombie.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z")
}

// freePortRange finds n consecutive free loopback ports.
func freePortRange(t *testing.T, n int) int {
	t.Helper()
	for try := 0; try < 50; try++ {
		base := freePort(t)
		if base+n > 65000 {
			continue
		}
		ok := true
		for p := base; p < base+n && ok; p++ {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				break
			}
			ln.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port range")
	return 0
}
