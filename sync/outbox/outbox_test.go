package outbox_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"math/rand/v2"
	"onedoor/internal/testdate"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"onedoor/sync/api"
	"onedoor/sync/outbox"
	"onedoor/sync/outbox/devdata"
)

// clock is a settable clock for retention and backoff tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: testdate.Date(2026, 11, 25, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	dir, keyFile string
	clock        *clock
	logs         *lockedBuffer
}

// lockedBuffer collects log output from several stores (each with its own
// handler) in one buffer.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}

func newEnv(t *testing.T) *env {
	t.Helper()
	root := t.TempDir()
	return &env{dir: filepath.Join(root, "data"), keyFile: filepath.Join(root, "keys", "data.key"), clock: newClock(), logs: &lockedBuffer{}}
}

func (e *env) options() outbox.Options {
	return outbox.Options{
		Dir: e.dir, KeyFile: e.keyFile, KioskID: "K01", Clock: e.clock.Now,
		Logger:      slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		SegmentSize: 4096,
	}
}

func (e *env) open(t *testing.T) *outbox.Store {
	t.Helper()
	s, err := outbox.Open(context.Background(), e.options())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func sampleSubmission(seed uint64, pageSizes ...int) outbox.NewSubmission {
	rng := rand.New(rand.NewPCG(seed, 2))
	sub := devdata.Submission(rng, int(seed), 1, 1)
	sub.Materials = nil
	m := outbox.Material{MaterialID: "m-id-card", Kind: api.KindScan}
	for _, n := range pageSizes {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		m.Pages = append(m.Pages, outbox.Page{Data: data, ContentType: "image/png"})
	}
	if len(m.Pages) > 0 {
		sub.Materials = append(sub.Materials, m)
	}
	sub.Materials = append(sub.Materials, outbox.Material{MaterialID: "m-promise", Kind: api.KindPromise})
	return sub
}

func readBlob(t *testing.T, s *outbox.Store, sha string) []byte {
	t.Helper()
	return outbox.ReadBlobForTest(t, s, sha)
}

func shaHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestSubmitReopenRoundTrip(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s := e.open(t)
	sub := sampleSubmission(1, 10000, 300, 4096)
	rc, err := s.Submit(ctx, sub)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	if want := "K01-" + e.clock.Now().Format("20060102") + "-0001"; rc.Number != want {
		t.Errorf("receipt %q, want %q", rc.Number, want)
	}
	select {
	case <-s.Wake():
	default:
		t.Error("Submit did not wake the engine")
	}
	rc2, err := s.Submit(ctx, sampleSubmission(2, 10))
	if err != nil {
		t.Fatal(err)
	}
	if want := "K01-" + e.clock.Now().Format("20060102") + "-0002"; rc2.Number != want {
		t.Errorf("second receipt %q, want %q", rc2.Number, want)
	}
	s.Close()

	// Reopen: everything comes back, decrypted, identical.
	s = e.open(t)
	p, err := s.NextDue(ctx, e.clock.Now())
	if err != nil || p == nil {
		t.Fatalf("NextDue: %v, %v", p, err)
	}
	if p.UUID != rc.UUID || p.Receipt != rc.Number || p.Attempts != 1 {
		t.Errorf("NextDue gave %s %s attempts %d", p.UUID, p.Receipt, p.Attempts)
	}
	req := p.Request
	if err := req.Validate(); err != nil {
		t.Errorf("rebuilt request invalid: %v", err)
	}
	if req.Applicant != sub.Applicant || req.Form["purpose"] != sub.Form["purpose"] || req.ItemID != sub.ItemID || req.KioskID != "K01" {
		t.Errorf("request differs from submission: %+v", req)
	}
	if !req.CreatedAt.Equal(e.clock.Now()) {
		t.Errorf("CreatedAt %v, want %v", req.CreatedAt, e.clock.Now())
	}
	if len(req.Materials) != 2 || len(req.Materials[0].Pages) != 3 || req.Materials[1].Kind != api.KindPromise {
		t.Fatalf("materials: %+v", req.Materials)
	}
	for i, pg := range sub.Materials[0].Pages {
		ref := req.Materials[0].Pages[i]
		if ref.SHA256 != shaHex(pg.Data) || ref.Size != int64(len(pg.Data)) || ref.ContentType != "image/png" {
			t.Errorf("page %d ref %+v", i, ref)
		}
		if got := readBlob(t, s, ref.SHA256); !bytes.Equal(got, pg.Data) {
			t.Errorf("page %d blob differs after reopen", i)
		}
	}
	if len(p.Blobs) != 3 {
		t.Errorf("Blobs: %d, want 3", len(p.Blobs))
	}
	// Claimed: not handed out twice.
	p2, err := s.NextDue(ctx, e.clock.Now())
	if err != nil || p2 == nil || p2.UUID != rc2.UUID {
		t.Fatalf("second NextDue: %+v, %v", p2, err)
	}
	if p3, err := s.NextDue(ctx, e.clock.Now()); err != nil || p3 != nil {
		t.Fatalf("third NextDue: %+v, %v; want nothing due", p3, err)
	}
}

func TestSubmitRequestIsStableAcrossAttempts(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s := e.open(t)
	rc, err := s.Submit(ctx, sampleSubmission(3, 100))
	if err != nil {
		t.Fatal(err)
	}
	p1, err := s.NextDue(ctx, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MarkRetry(ctx, rc.UUID, "connection reset", e.clock.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.NextDue(ctx, e.clock.Now()); p != nil {
		t.Fatal("retry handed out before its time")
	}
	e.clock.Advance(time.Minute)
	p2, err := s.NextDue(ctx, e.clock.Now())
	if err != nil || p2 == nil {
		t.Fatalf("NextDue after backoff: %v %v", p2, err)
	}
	if p2.Attempts != 2 {
		t.Errorf("attempts %d, want 2", p2.Attempts)
	}
	b1, _ := jsonBytes(p1.Request)
	b2, _ := jsonBytes(p2.Request)
	if !bytes.Equal(b1, b2) {
		t.Errorf("request body changed between attempts:\n%s\n%s", b1, b2)
	}
}

func TestInvalidSubmissionStoresNothing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s := e.open(t)
	tests := []struct {
		name   string
		mutate func(*outbox.NewSubmission)
	}{
		{"bad ID number", func(n *outbox.NewSubmission) { n.Applicant.IDNumber = "123" }},
		{"no name", func(n *outbox.NewSubmission) { n.Applicant.Name = " " }},
		{"no item", func(n *outbox.NewSubmission) { n.ItemID = "" }},
		{"scan without pages", func(n *outbox.NewSubmission) { n.Materials[0].Pages = nil }},
		{"empty page", func(n *outbox.NewSubmission) { n.Materials[0].Pages[0].Data = nil }},
		{"unknown kind", func(n *outbox.NewSubmission) { n.Materials[0].Kind = "photo" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sub := sampleSubmission(4, 50)
			tc.mutate(&sub)
			if _, err := s.Submit(ctx, sub); !errors.Is(err, outbox.ErrInvalid) {
				t.Errorf("got %v, want ErrInvalid", err)
			}
		})
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Queued != 0 || st.BlobFiles != 0 {
		t.Errorf("invalid submissions left %d rows and %d blob files", st.Queued, st.BlobFiles)
	}
}

func TestDuplicateBlobStoredOnce(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s := e.open(t)
	page := bytes.Repeat([]byte("same scan "), 1000)
	mk := func(seed uint64) outbox.NewSubmission {
		sub := sampleSubmission(seed)
		sub.Materials = []outbox.Material{{MaterialID: "m1", Kind: api.KindScan, Pages: []outbox.Page{
			{Data: page, ContentType: "image/png"}, {Data: page, ContentType: "image/png"},
		}}}
		return sub
	}
	if _, err := s.Submit(ctx, mk(5)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Submit(ctx, mk(6)); err != nil {
		t.Fatal(err)
	}
	var shas []string
	rows, err := rawDB(t, e).Query(`SELECT sha256 FROM blobs`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var sha string
		rows.Scan(&sha)
		shas = append(shas, sha)
	}
	rows.Close()
	if len(shas) != 1 || shas[0] != shaHex(page) {
		t.Fatalf("blobs stored: %v, want the one content address %s", shas, shaHex(page))
	}
	p, err := s.NextDue(ctx, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Blobs) != 1 || len(p.Request.Materials[0].Pages) != 2 {
		t.Errorf("blobs %d (want 1 distinct), pages %d (want 2)", len(p.Blobs), len(p.Request.Materials[0].Pages))
	}
	if !bytes.Equal(readBlob(t, s, shaHex(page)), page) {
		t.Error("deduplicated blob reads back wrong")
	}
}

// TestDamagedBlobNotReused: a new submission with the same page as an
// earlier one whose stored blob was damaged gets a fresh, good blob
// instead of sharing the damaged one.
func TestDamagedBlobNotReused(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s := e.open(t)
	sub := sampleSubmission(8, 9000)
	if _, err := s.Submit(ctx, sub); err != nil {
		t.Fatal(err)
	}
	page := sub.Materials[0].Pages[0].Data
	db := rawDB(t, e)
	bad := storedBlob(t, db, shaHex(page))
	last := bad.segs[len(bad.segs)-1]
	last[len(last)-5] ^= 0xff
	bad.store(t, db, shaHex(page))
	if _, err := s.Submit(ctx, sampleSubmission(8, 9000)); err != nil {
		t.Fatal(err)
	}
	if got := readBlob(t, s, shaHex(page)); !bytes.Equal(got, page) {
		t.Error("blob still damaged after a second submission of the same page")
	}
}
