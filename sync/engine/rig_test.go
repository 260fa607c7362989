package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"onedoor/sync/client"
	"onedoor/sync/faultproxy"
	"onedoor/sync/outbox"
	"onedoor/sync/outbox/devdata"
	"onedoor/sync/platform"
	"onedoor/sync/platform/blobdir"
	"onedoor/sync/platform/blobseal"
)

const rigKiosk = "K042"

// platformProc is the real reference platform on a loopback listener over
// a temp-dir SQLite file (or PostgreSQL: stores_test.go) and blob folder. It can be stopped and started
// again over the same data (a platform restart).
type platformProc struct {
	t     *testing.T
	dir   string
	store platform.Store
	blobs *blobdir.Dir
	srv   *http.Server
	ln    net.Listener
	done  chan struct{}
}

func startPlatform(t *testing.T, dir string) *platformProc {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	st := openPlatformStore(t, dir)
	// A fixed test data key: blobs are sealed at rest (blobseal).
	blobKey, _ := blobseal.NewKey(make([]byte, 32))
	blobs, err := blobdir.Open(filepath.Join(dir, "blobs"), blobKey)
	if err != nil {
		t.Fatal(err)
	}
	h, err := platform.New(platform.Config{Store: st, Blobs: blobs, Catalog: []byte(`{"items":[{"id":"dev-residence-certificate"}]}`),
		Calendar: []byte(`{"years":[2031],"holidays":[{"name":"元旦","from":"2031-01-01","to":"2031-01-01"}]}`),
		Logger:   slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &platformProc{t: t, dir: dir, store: st, blobs: blobs, srv: &http.Server{Handler: h}, ln: ln, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.srv.Serve(ln)
	}()
	return p
}

func (p *platformProc) addr() string { return p.ln.Addr().String() }

func (p *platformProc) stop() {
	if p.srv == nil {
		return
	}
	p.srv.Close()
	<-p.done
	p.store.Close()
	p.blobs.Close()
	p.srv = nil
}

// exportRow is one submission as the platform holds it.
type exportRow = platform.ExportRow

func (p *platformProc) export(t *testing.T) []exportRow {
	t.Helper()
	var rows []exportRow
	if err := p.store.Export(context.Background(), func(r platform.ExportRow) error {
		rows = append(rows, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return rows
}

// rig is kiosk outbox → engine → client → fault proxy → platform, all
// real, on loopback and temp-dir files.
type rig struct {
	t      *testing.T
	dir    string
	plat   *platformProc
	proxy  *faultproxy.Proxy
	store  *outbox.Store
	client *client.Client
	eng    *Engine
	token  string
	rng    *rand.Rand
	n      int

	mu       sync.Mutex
	promised map[string]promise // receipt -> what the kiosk issued
}

type promise struct {
	uuid  string
	blobs []string
	data  map[string][]byte // sha -> plaintext
}

type rigOpts struct {
	storeMod  func(*outbox.Options)
	clientMod func(*client.Config)
	engineMod func(*Config)
}

func newRig(t *testing.T, o rigOpts) *rig {
	t.Helper()
	dir := t.TempDir()
	r := &rig{t: t, dir: dir, rng: rand.New(rand.NewPCG(7, uint64(len(t.Name())))), promised: map[string]promise{}}
	r.plat = startPlatform(t, filepath.Join(dir, "platform"))
	t.Cleanup(func() { r.plat.stop() })
	r.token = fmt.Sprintf("%064x", sha256.Sum256([]byte(t.Name())))
	if err := r.plat.store.AddKiosk(context.Background(), rigKiosk, r.token, time.Now()); err != nil {
		t.Fatal(err)
	}
	px, err := faultproxy.New(r.plat.addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r.proxy = px
	t.Cleanup(func() { px.Close() })
	sopts := outbox.Options{Dir: filepath.Join(dir, "kiosk"), KeyFile: filepath.Join(dir, "kiosk.key"), KioskID: rigKiosk}
	if o.storeMod != nil {
		o.storeMod(&sopts)
	}
	st, err := outbox.Open(context.Background(), sopts)
	if err != nil {
		t.Fatal(err)
	}
	r.store = st
	t.Cleanup(func() { st.Close() })
	ccfg := client.Config{BaseURL: px.URL(), KioskID: rigKiosk, Token: r.token,
		RetryWaitMin: 5 * time.Millisecond, RetryWaitMax: 50 * time.Millisecond, MaxRetryAfter: 2 * time.Second,
		IdleTimeout: 2 * time.Second}
	if o.clientMod != nil {
		o.clientMod(&ccfg)
	}
	cl, err := client.New(ccfg)
	if err != nil {
		t.Fatal(err)
	}
	r.client = cl
	ecfg := Config{Store: st, Platform: cl, KioskID: rigKiosk, Version: "test",
		RetryBase: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		ProbeMin: 10 * time.Millisecond, ProbeMax: 100 * time.Millisecond,
		PollInterval: time.Hour, HeartbeatInterval: time.Hour,
		// One sender unless a test asks for more: the fault tests reason
		// about one upload at a time (bytes on the link, Retry-After).
		Parallel: 1}
	if o.engineMod != nil {
		o.engineMod(&ecfg)
	}
	eng, err := New(ecfg)
	if err != nil {
		t.Fatal(err)
	}
	r.eng = eng
	return r
}

// enqueue stores n fictional submissions of attach bytes in pages pages
// and remembers what was promised.
func (r *rig) enqueue(n, attach, pages int) []string {
	r.t.Helper()
	var out []string
	for i := 0; i < n; i++ {
		r.n++
		sub := devdata.Submission(r.rng, r.n, attach, pages)
		rc, err := r.store.Submit(context.Background(), sub)
		if err != nil {
			r.t.Fatal(err)
		}
		p := promise{uuid: rc.UUID, data: map[string][]byte{}}
		for _, m := range sub.Materials {
			for _, pg := range m.Pages {
				s := sha256.Sum256(pg.Data)
				h := hex.EncodeToString(s[:])
				p.blobs = append(p.blobs, h)
				p.data[h] = pg.Data
			}
		}
		r.mu.Lock()
		r.promised[rc.Number] = p
		r.mu.Unlock()
		out = append(out, rc.Number)
	}
	return out
}

// drainUntilEmpty runs the engine in the background until the outbox has
// nothing queued, or fails the test after limit.
func (r *rig) runUntilDelivered(limit time.Duration) {
	r.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := r.eng.Start(ctx)
	defer func() {
		cancel()
		<-done
	}()
	deadline := time.Now().Add(limit)
	for {
		st, err := r.store.Stats(context.Background())
		if err != nil {
			r.t.Fatal(err)
		}
		if st.Queued == 0 {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("still %d queued after %v; progress %+v; failures %+v", st.Queued, limit, r.eng.Progress(), st.Failed)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// verify checks the platform's export against what the kiosk promised:
// no loss, no duplicate, no stranger, every blob present and hashing to
// its address, and the kiosk's outbox agreeing on the case numbers.
func (r *rig) verify() {
	r.t.Helper()
	rows := r.plat.export(r.t)
	seen := map[string]int{}
	for _, row := range rows {
		seen[row.Receipt]++
		p, ok := r.promised[row.Receipt]
		if !ok {
			r.t.Errorf("platform holds %s, which the kiosk never issued", row.Receipt)
			continue
		}
		if row.UUID != p.uuid {
			r.t.Errorf("%s: uuid %s, kiosk issued %s", row.Receipt, row.UUID, p.uuid)
		}
		if strings.Join(row.Blobs, ",") != strings.Join(p.blobs, ",") {
			r.t.Errorf("%s: blobs %v, kiosk sent %v", row.Receipt, row.Blobs, p.blobs)
		}
		for _, sha := range row.Blobs {
			f, err := r.plat.blobs.Open(context.Background(), sha)
			if err != nil {
				r.t.Errorf("%s: blob %.12s: %v", row.Receipt, sha, err)
				continue
			}
			h := sha256.New()
			n, _ := io.Copy(h, f)
			f.Close()
			if got := hex.EncodeToString(h.Sum(nil)); got != sha || n != int64(len(p.data[sha])) {
				r.t.Errorf("%s: platform blob %.12s hashes to %.12s (%d bytes)", row.Receipt, sha, got, n)
			}
		}
		rec, err := r.store.Lookup(context.Background(), row.Receipt)
		if err != nil {
			r.t.Errorf("%s: kiosk lookup: %v", row.Receipt, err)
		} else if rec.CaseNumber != row.CaseNumber {
			r.t.Errorf("%s: kiosk has case %q, platform %q", row.Receipt, rec.CaseNumber, row.CaseNumber)
		}
	}
	var missing []string
	for rc := range r.promised {
		switch seen[rc] {
		case 0:
			missing = append(missing, rc)
		case 1:
		default:
			r.t.Errorf("%s delivered %d times", rc, seen[rc])
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		r.t.Errorf("lost: %v", missing)
	}
}

// waitRecorded waits until the outbox holds a case number for every
// submission the platform has: the engine records acknowledgements in group
// commits after the platform answered, so a test that saw Progress().Sent
// move must wait for them before comparing both sides.
func (r *rig) waitRecorded(d time.Duration) {
	r.t.Helper()
	waitFor(r.t, d, func() bool {
		for _, row := range r.plat.export(r.t) {
			rec, err := r.store.Lookup(context.Background(), row.Receipt)
			if err != nil || rec.CaseNumber == "" {
				return false
			}
		}
		return true
	})
}
