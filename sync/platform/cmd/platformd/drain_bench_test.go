package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"onedoor/sync/engine"
	"onedoor/sync/outbox/devdata"
	"onedoor/sync/platform"
	"onedoor/sync/platform/city"
	"onedoor/sync/platform/city/cputest"
)

// The drain benchmarks time one kiosk (the real engine, 4 senders) sending
// a backlog of 1,000 submissions with one 64 KiB scan each through HAProxy
// to real platformd processes: two instances on PostgreSQL and an S3
// bucket, and, as the same-run baseline, one instance on SQLite and its
// blob folder behind the same HAProxy.
//
//	go test -run '^$' -bench 'Drain' -benchtime 1x ./sync/platform/cmd/platformd/
func BenchmarkDrainPostgresS3(b *testing.B) {
	ctx := b.Context()
	pg, gw := startCityServers(b)
	db, err := pg.CreateDB(ctx, "drain")
	if err != nil {
		b.Fatal(err)
	}
	pid, err := pg.PID()
	if err != nil {
		b.Fatal(err)
	}
	benchDrain(b, city.Options{DB: db, Blobs: gw.URL("drain")}, 2, pid)
}

func BenchmarkDrainSQLiteDisk(b *testing.B) {
	benchDrain(b, city.Options{Data: b.TempDir()}, 1)
}

// benchDrain reports submissions and bytes per second and the CPU time
// per submission of this process and its children (the kiosk's engine,
// platformd, HAProxy, the object store) and of the process trees in
// serverPIDs (PostgreSQL).
func benchDrain(b *testing.B, o city.Options, instances int, serverPIDs ...int) {
	const count, attach = 1000, 64 << 10
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		b.Skip("haproxy not found")
	}
	ctx := b.Context()
	dir := b.TempDir()
	keyFile := filepath.Join(dir, "data.key")
	if _, err := platform.LoadOrCreateDataKey(keyFile); err != nil {
		b.Fatal(err)
	}
	var servers []string
	for i := range instances {
		port := freePort(b)
		args := []string{"serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--partial-ttl", "0"}
		if o.Data != "" {
			args = append(args, "--data", o.Data)
		}
		if o.DB != "" {
			args = append(args, "--db", o.DB, "--blobs", o.Blobs, "--data-key", keyFile)
		}
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), childEnv+"=1")
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
		servers = append(servers, fmt.Sprintf("\tserver p%d 127.0.0.1:%d check", i, port))
	}
	lbPort := freePort(b)
	cfg := fmt.Sprintf("defaults\n\tmode http\n\ttimeout connect 2s\n\ttimeout client 60s\n\ttimeout server 60s\nfrontend k\n\tbind 127.0.0.1:%d\n\tdefault_backend p\nbackend p\n\tbalance roundrobin\n\toption httpchk GET /healthz\n%s\n",
		lbPort, strings.Join(servers, "\n"))
	cfgPath := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(cfgPath, []byte(cfg), 0o600)
	lb := exec.Command(haproxy, "-db", "-f", cfgPath)
	if err := lb.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { lb.Process.Kill(); lb.Wait() }()
	lbURL := fmt.Sprintf("http://127.0.0.1:%d", lbPort)
	waitHealthy(b, lbURL)

	admin, err := city.OpenStore(ctx, city.Options{DB: o.DB, Data: o.Data})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := admin.AddKiosk(ctx, "DG-0001")
	admin.Close()
	if err != nil {
		b.Fatal(err)
	}
	tokFile := filepath.Join(dir, "token")
	os.WriteFile(tokFile, []byte(tok+"\n"), 0o600)
	h, err := engine.OpenHeadless(ctx, engine.HeadlessOptions{
		DataDir: filepath.Join(dir, "kiosk"), PlatformURL: lbURL, KioskID: "DG-0001", TokenFile: tokFile, Version: "bench",
		Engine: func(c *engine.Config) {
			c.Parallel = 4
			c.RetryBase, c.RetryMax = 10*time.Millisecond, 100*time.Millisecond
			c.PollInterval, c.HeartbeatInterval = time.Hour, time.Hour
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range count {
		if _, err := h.Store.Submit(ctx, devdata.Submission(rng, i, attach, 1)); err != nil {
			b.Fatal(err)
		}
	}
	roots := append([]int{os.Getpid()}, serverPIDs...)
	cpu0, err := cputest.Tree(roots...)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for {
		d := h.Engine.Drain(ctx)
		if d.Left == 0 && d.Err == nil {
			break
		}
		if time.Since(start) > 5*time.Minute {
			b.Fatalf("%d left after 5 minutes: %v", d.Left, d.Err)
		}
	}
	el := time.Since(start)
	b.StopTimer()
	cpu1, err := cputest.Tree(roots...)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(count)/el.Seconds(), "subs/s")
	b.ReportMetric(float64((cpu1-cpu0).Microseconds())/1000/count, "cpu-ms/sub")
	b.ReportMetric(float64(count*attach)/el.Seconds()/1e6, "MB/s")
}
