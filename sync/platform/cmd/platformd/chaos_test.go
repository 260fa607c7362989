package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"onedoor/sync/engine"
	"onedoor/sync/outbox/devdata"
	"onedoor/sync/platform"
	"onedoor/sync/platform/city"
	"onedoor/sync/platform/pgstore/pgtest"
)

// TestChaos is the city platform's fault test: kiosks running the real
// sync engine submit through HAProxy to two platformd processes on one
// PostgreSQL database and one S3 bucket, while one instance at a time is
// SIGKILLed and restarted, PostgreSQL is restarted once (fast shutdown)
// and the object store once (SIGKILL). At the end every receipt the kiosks
// issued is on the platform exactly once, with nothing else, and every
// blob the submissions name hashes to its address.
//
// In CI it does 8 kills; ONEDOOR_CHAOS_KILLS=200 makes the long run:
//
//	ONEDOOR_CHAOS_KILLS=200 go test -run TestChaos -timeout 60m -v ./sync/platform/cmd/platformd/
func TestChaos(t *testing.T) {
	kills := 8
	if s := os.Getenv("ONEDOOR_CHAOS_KILLS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 2 {
			t.Fatalf("ONEDOOR_CHAOS_KILLS=%q: want a number >= 2", s)
		}
		kills = n
	}
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		if pgtest.Required() {
			t.Fatal("haproxy not found; build/setup installs it")
		}
		t.Skip("haproxy not found")
	}
	ctx := t.Context()
	pg, gw := startCityServers(t)
	dbURL, err := pg.CreateDB(ctx, "chaos")
	if err != nil {
		t.Fatal(err)
	}
	blobsURL := gw.URL("chaos")
	dir := t.TempDir()
	// One data key for both instances, made before either starts.
	keyFile := filepath.Join(dir, "data.key")
	if _, err := platform.LoadOrCreateDataKey(keyFile); err != nil {
		t.Fatal(err)
	}

	// The instances keep their ports across restarts, so HAProxy's
	// configuration names them once.
	ports := []int{freePort(t), freePort(t)}
	lbPort := freePort(t)
	procs := make([]*exec.Cmd, len(ports))
	start := func(i int) {
		cmd := exec.Command(os.Args[0], "serve", "--addr", fmt.Sprintf("127.0.0.1:%d", ports[i]), "--db", dbURL, "--blobs", blobsURL, "--data-key", keyFile, "--partial-ttl", "0")
		cmd.Env = append(os.Environ(), childEnv+"=1")
		logf, _ := os.OpenFile(filepath.Join(dir, fmt.Sprintf("platformd-%d.log", i)), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs[i] = cmd
	}
	kill := func(i int) {
		procs[i].Process.Signal(syscall.SIGKILL)
		procs[i].Wait()
	}
	for i := range ports {
		start(i)
	}
	defer func() {
		for i := range procs {
			kill(i)
		}
	}()
	cfg := fmt.Sprintf(`global
	maxconn 4000
defaults
	mode http
	timeout connect 2s
	timeout client 60s
	timeout server 60s
	retries 2
	option redispatch
frontend kiosks
	bind 127.0.0.1:%d
	default_backend platformd
backend platformd
	balance roundrobin
	option httpchk GET /healthz
	default-server inter 200ms fall 2 rise 1
	server p0 127.0.0.1:%d check
	server p1 127.0.0.1:%d check
`, lbPort, ports[0], ports[1])
	cfgPath := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	lb := exec.Command(haproxy, "-db", "-f", cfgPath)
	lbLog, _ := os.Create(filepath.Join(dir, "haproxy.log"))
	lb.Stdout, lb.Stderr = lbLog, lbLog
	if err := lb.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { lb.Process.Kill(); lb.Wait() }()
	lbURL := fmt.Sprintf("http://127.0.0.1:%d", lbPort)
	waitHealthy(t, lbURL)

	// Kiosks registered in the shared database, each with its outbox.
	admin, err := city.OpenStore(ctx, city.Options{DB: dbURL})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	const kiosks = 4
	var heads []*engine.Headless
	for k := 0; k < kiosks; k++ {
		id := fmt.Sprintf("DG-%04d", k+1)
		tok, err := admin.AddKiosk(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		tokFile := filepath.Join(dir, id+".token")
		if err := os.WriteFile(tokFile, []byte(tok+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		h, err := engine.OpenHeadless(ctx, engine.HeadlessOptions{
			DataDir: filepath.Join(dir, id), PlatformURL: lbURL, KioskID: id, TokenFile: tokFile, Version: "chaos",
			Engine: func(c *engine.Config) {
				c.RetryBase, c.RetryMax = 20*time.Millisecond, 300*time.Millisecond
				c.ProbeMin, c.ProbeMax = 20*time.Millisecond, 200*time.Millisecond
				c.PollInterval, c.HeartbeatInterval = 500*time.Millisecond, 5*time.Second
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		heads = append(heads, h)
	}

	// Kiosks submit (and their engines send) for as long as the chaos lasts.
	runCtx, stopRun := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var mu sync.Mutex
	issued := map[string]string{} // receipt -> uuid
	for k, h := range heads {
		wg.Add(2)
		go func() { defer wg.Done(); h.Engine.Run(runCtx) }()
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(k+1), 42))
			for i := 0; runCtx.Err() == nil; i++ {
				sub := devdata.Submission(rng, k*100000+i, 1+rng.IntN(64<<10), 1+rng.IntN(2))
				rc, err := h.Store.Submit(ctx, sub)
				if err != nil {
					t.Errorf("kiosk %d: submit: %v", k, err)
					return
				}
				mu.Lock()
				issued[rc.Number] = rc.UUID
				mu.Unlock()
				select {
				case <-runCtx.Done():
				case <-time.After(time.Duration(20+rng.IntN(60)) * time.Millisecond):
				}
			}
		}()
	}

	rng := rand.New(rand.NewPCG(7, 7))
	began := time.Now()
	for n := 1; n <= kills; n++ {
		time.Sleep(time.Duration(150+rng.IntN(450)) * time.Millisecond)
		i := rng.IntN(len(procs))
		kill(i)
		time.Sleep(time.Duration(50+rng.IntN(200)) * time.Millisecond)
		start(i)
		switch n {
		case kills / 3:
			if err := pg.Halt(ctx, "fast"); err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond)
			if err := pg.Restart(ctx); err != nil {
				t.Fatal(err)
			}
			t.Logf("kill %d: PostgreSQL restarted", n)
		case 2 * kills / 3:
			gw.Kill()
			time.Sleep(300 * time.Millisecond)
			if err := gw.Restart(ctx); err != nil {
				t.Fatal(err)
			}
			t.Logf("kill %d: object store restarted", n)
		}
		if n%50 == 0 {
			t.Logf("%d kills in %v", n, time.Since(began).Round(time.Second))
		}
	}
	stopRun()
	wg.Wait()
	delivered := 0
	admin.Store.Export(ctx, func(platform.ExportRow) error { delivered++; return nil })
	t.Logf("%d kills in %v; %d issued, %d delivered during the chaos", kills, time.Since(began).Round(time.Millisecond), len(issued), delivered)

	// Drain what is left, as kiosks do once the platform is steady.
	waitHealthy(t, lbURL)
	for k, h := range heads {
		deadline := time.Now().Add(2 * time.Minute)
		for {
			d := h.Engine.Drain(ctx)
			if d.Left == 0 && d.Err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("kiosk %d: %d still queued after 2 minutes: %v", k, d.Left, d.Err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	seen := map[string]int{}
	err = admin.Store.Export(ctx, func(r platform.ExportRow) error {
		seen[r.Receipt]++
		if want, ok := issued[r.Receipt]; !ok {
			t.Errorf("on the platform but never issued: %s", r.Receipt)
		} else if want != r.UUID {
			t.Errorf("%s: uuid %s, kiosk issued %s", r.Receipt, r.UUID, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for rc := range issued {
		switch seen[rc] {
		case 1:
		case 0:
			t.Errorf("lost: %s", rc)
		default:
			t.Errorf("%s exported %d times", rc, seen[rc])
		}
	}
	p, err := city.Open(ctx, city.Options{DB: dbURL, Blobs: blobsURL, DataKey: keyFile}, platform.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	rep, err := city.Verify(ctx, p.Store, p.Blobs)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Missing)+len(rep.Damaged) > 0 {
		t.Errorf("verify: %d missing, %d damaged blobs", len(rep.Missing), len(rep.Damaged))
	}
	// The batched drain packs pages (s3blobs/pack.go): make sure the
	// chaos went through that path, not only one object per page.
	var packed int
	idx, ok := p.Store.(interface {
		WalkPacked(context.Context, func(platform.PackedBlob) error) error
	})
	if !ok {
		t.Fatal("the city store keeps no pack index")
	}
	if err := idx.WalkPacked(ctx, func(platform.PackedBlob) error { packed++; return nil }); err != nil {
		t.Fatal(err)
	}
	if packed == 0 {
		t.Error("no page was packed")
	}
	t.Logf("exported %d = issued %d; verify: %d blobs intact (%d bytes), %d of them in packs", len(seen), len(issued), rep.Checked, rep.Bytes, packed)
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitHealthy(t testing.TB, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/healthz not healthy after 30 s: %v", base, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
