package outbox_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"onedoor/internal/testdate"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"onedoor/pii"
	"onedoor/sync/api"
	"onedoor/sync/outbox"
	"onedoor/sync/outbox/sealed"
)

func TestKeyFile(t *testing.T) {
	ctx := context.Background()
	t.Run("created 0600 on first open, reused after", func(t *testing.T) {
		e := newEnv(t)
		s := e.open(t)
		rc, err := s.Submit(ctx, sampleSubmission(1, 100))
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		st, err := os.Stat(e.keyFile)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("key file mode %04o, want 0600", st.Mode().Perm())
		}
		s = e.open(t)
		if _, err := s.NextDue(ctx, e.clock.Now()); err != nil {
			t.Errorf("reopened store cannot decrypt: %v", err)
		}
		if r, err := s.Lookup(ctx, rc.Number); err != nil || r.UUID != rc.UUID {
			t.Errorf("Lookup: %+v %v", r, err)
		}
	})
	tests := []struct {
		name  string
		setup func(e *env) outbox.Options
		want  error
	}{
		{"group-readable key refused", func(e *env) outbox.Options {
			os.MkdirAll(filepath.Dir(e.keyFile), 0o700)
			os.WriteFile(e.keyFile, []byte(strings.Repeat("ab", 32)+"\n"), 0o640)
			return e.options()
		}, outbox.ErrKeyPermissions},
		{"world-readable key refused", func(e *env) outbox.Options {
			os.MkdirAll(filepath.Dir(e.keyFile), 0o700)
			os.WriteFile(e.keyFile, []byte(strings.Repeat("ab", 32)), 0o604)
			os.Chmod(e.keyFile, 0o604)
			return e.options()
		}, outbox.ErrKeyPermissions},
		{"key too short", func(e *env) outbox.Options {
			os.MkdirAll(filepath.Dir(e.keyFile), 0o700)
			os.WriteFile(e.keyFile, []byte("abcd"), 0o600)
			return e.options()
		}, outbox.ErrKey},
		{"key not hex", func(e *env) outbox.Options {
			os.MkdirAll(filepath.Dir(e.keyFile), 0o700)
			os.WriteFile(e.keyFile, []byte(strings.Repeat("zz", 32)), 0o600)
			return e.options()
		}, outbox.ErrKey},
		{"key inside the data directory", func(e *env) outbox.Options {
			o := e.options()
			o.KeyFile = filepath.Join(e.dir, "data.key")
			return o
		}, outbox.ErrKey},
		{"no key file configured", func(e *env) outbox.Options {
			o := e.options()
			o.KeyFile = ""
			return o
		}, outbox.ErrKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			s, err := outbox.Open(ctx, tc.setup(e))
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("Open: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestWrongKeyCannotRead(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s := e.open(t)
	if _, err := s.Submit(ctx, sampleSubmission(1, 100)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	o := e.options()
	o.KeyFile = e.keyFile + ".other"
	s2, err := outbox.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	// The submission is set aside, not handed out, and reported.
	if p, err := s2.NextDue(ctx, e.clock.Now()); p != nil || err != nil {
		t.Errorf("NextDue with another key: %+v, %v; want nothing", p, err)
	}
	st, err := s2.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Unreadable != 1 || len(st.Failed) != 1 || !strings.HasPrefix(st.Failed[0].Reason, outbox.UnreadablePrefix) {
		t.Errorf("stats: unreadable %d, failed %+v", st.Unreadable, st.Failed)
	}
	if p := st.Problems(outbox.HealthRules{MinFreeBytes: 1}); len(p) != 1 || !strings.Contains(p[0], "decrypt") {
		t.Errorf("problems: %v", p)
	}
	// With the right key again it is delivered after the set-aside time.
	s2.Close()
	s = e.open(t)
	if p, err := s.NextDue(ctx, e.clock.Now().Add(outbox.UnreadableRetry)); err != nil || p == nil {
		t.Errorf("NextDue with the right key: %+v %v", p, err)
	}
}

func TestTamperDetected(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s := e.open(t)
	subA := sampleSubmission(1, 9000)
	subB := sampleSubmission(2, 9000)
	if _, err := s.Submit(ctx, subA); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Submit(ctx, subB); err != nil {
		t.Fatal(err)
	}
	shaA := shaHex(subA.Materials[0].Pages[0].Data)
	shaB := shaHex(subB.Materials[0].Pages[0].Data)
	db := rawDB(t, e)
	orig := storedBlob(t, db, shaA)
	if len(orig.segs) < 2 {
		t.Fatalf("blob has %d segments; the test needs at least 2", len(orig.segs))
	}

	t.Run("flipped byte in a late segment", func(t *testing.T) {
		bad := orig.clone()
		last := bad.segs[len(bad.segs)-1]
		last[len(last)-20] ^= 1
		bad.store(t, db, shaA)
		defer orig.store(t, db, shaA)
		r, err := s.OpenBlob(ctx, shaA)
		if err != nil {
			t.Fatalf("OpenBlob reads only the first segment, should succeed: %v", err)
		}
		defer r.Close()
		// The early segments still read; the damaged one does not.
		if _, err := r.ReadAt(make([]byte, 100), 0); err != nil {
			t.Errorf("undamaged segment: %v", err)
		}
		if _, err := io.ReadAll(r); !errors.Is(err, outbox.ErrCorrupt) {
			t.Errorf("reading the damaged segment: %v, want ErrCorrupt", err)
		}
	})
	t.Run("flipped byte in the first segment", func(t *testing.T) {
		bad := orig.clone()
		bad.segs[0][12] ^= 1
		bad.store(t, db, shaA)
		defer orig.store(t, db, shaA)
		if _, err := s.OpenBlob(ctx, shaA); !errors.Is(err, outbox.ErrCorrupt) {
			t.Errorf("OpenBlob: %v, want ErrCorrupt", err)
		}
	})
	t.Run("flipped byte in the header", func(t *testing.T) {
		bad := orig.clone()
		bad.header[22] ^= 1 // the nonce prefix
		bad.store(t, db, shaA)
		defer orig.store(t, db, shaA)
		if _, err := s.OpenBlob(ctx, shaA); !errors.Is(err, outbox.ErrCorrupt) {
			t.Errorf("OpenBlob: %v, want ErrCorrupt", err)
		}
	})
	t.Run("blob swapped for another", func(t *testing.T) {
		storedBlob(t, db, shaB).store(t, db, shaA)
		defer orig.store(t, db, shaA)
		if _, err := s.OpenBlob(ctx, shaA); !errors.Is(err, outbox.ErrCorrupt) {
			t.Errorf("OpenBlob: %v, want ErrCorrupt", err)
		}
	})
	t.Run("segments reordered", func(t *testing.T) {
		bad := orig.clone()
		bad.segs[0], bad.segs[1] = bad.segs[1], bad.segs[0]
		bad.store(t, db, shaA)
		defer orig.store(t, db, shaA)
		if _, err := s.OpenBlob(ctx, shaA); !errors.Is(err, outbox.ErrCorrupt) {
			t.Errorf("OpenBlob: %v, want ErrCorrupt", err)
		}
	})
	t.Run("last segment lost or cut short", func(t *testing.T) {
		defer orig.store(t, db, shaA)
		lost := orig.clone()
		lost.segs = lost.segs[:len(lost.segs)-1]
		short := orig.clone()
		last := short.segs[len(short.segs)-1]
		short.segs[len(short.segs)-1] = last[:len(last)-1]
		for name, bad := range map[string]blobRows{"lost": lost, "a byte short": short} {
			bad.store(t, db, shaA)
			r, err := s.OpenBlob(ctx, shaA)
			if err == nil {
				_, err = io.ReadAll(r)
				r.Close()
			}
			if !errors.Is(err, outbox.ErrCorrupt) {
				t.Errorf("last segment %s: %v, want ErrCorrupt", name, err)
			}
		}
	})
	t.Run("missing and malformed addresses", func(t *testing.T) {
		if _, err := s.OpenBlob(ctx, strings.Repeat("0", 64)); !errors.Is(err, outbox.ErrNotFound) {
			t.Errorf("missing blob: %v", err)
		}
		if _, err := s.OpenBlob(ctx, "../onedoor.db"); !errors.Is(err, outbox.ErrNotFound) {
			t.Errorf("path outside blobs: %v", err)
		}
	})
	t.Run("sealed row moved to another submission", func(t *testing.T) {
		db := rawDB(t, e)
		if _, err := db.Exec(`UPDATE submissions SET sealed = (SELECT sealed FROM submissions WHERE seq = 2) WHERE seq = 1`); err != nil {
			t.Fatal(err)
		}
		// The damaged first submission is set aside; the second still goes.
		p, err := s.NextDue(ctx, e.clock.Now())
		if err != nil || p == nil || p.Request.Applicant != subB.Applicant {
			t.Errorf("NextDue: %+v %v, want the second submission", p, err)
		}
		st, _ := s.Stats(ctx)
		if st.Unreadable != 1 {
			t.Errorf("unreadable %d, want 1", st.Unreadable)
		}
	})
	if got := readBlob(t, s, shaA); !bytes.Equal(got, subA.Materials[0].Pages[0].Data) {
		t.Error("restored blob reads wrong")
	}
}

// blobRows is a stored blob as the store keeps it: its header (in its
// row) and its sealed segments (in the page pack).
type blobRows struct {
	header []byte
	segs   [][]byte
}

// packPath is the page pack beside the database db has open.
func packPath(t *testing.T, db *sql.DB) string {
	t.Helper()
	var seq int
	var name, file string
	if err := db.QueryRow(`PRAGMA database_list`).Scan(&seq, &name, &file); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(filepath.Dir(file), "pages.pack")
}

func storedBlob(t *testing.T, db *sql.DB, sha string) blobRows {
	t.Helper()
	var b blobRows
	var off, n int64
	if err := db.QueryRow(`SELECT header, pack_off, pack_len FROM blobs WHERE sha256 = ?`, sha).Scan(&b.header, &off, &n); err != nil {
		t.Fatalf("blob %s: %v", sha, err)
	}
	f, err := os.Open(packPath(t, db))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stream := make([]byte, n)
	if _, err := f.ReadAt(stream, off); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stream[:sealed.HeaderSize], b.header) {
		t.Fatalf("blob %s: the pack's header differs from the row's", sha)
	}
	h, err := sealed.ParseHeader(b.header)
	if err != nil {
		t.Fatal(err)
	}
	stride := int(h.StreamOffset(1) - h.StreamOffset(0))
	for rest := stream[sealed.HeaderSize:]; len(rest) > 0; {
		k := min(stride, len(rest))
		b.segs = append(b.segs, rest[:k])
		rest = rest[k:]
	}
	return b
}

func (b blobRows) clone() blobRows {
	c := blobRows{header: bytes.Clone(b.header)}
	for _, s := range b.segs {
		c.segs = append(c.segs, bytes.Clone(s))
	}
	return c
}

// store replaces blob sha with b, behind the store's back: the header in
// its row, the segments at its place in the pack (its length in the row
// follows b).
func (b blobRows) store(t *testing.T, db *sql.DB, sha string) {
	t.Helper()
	stream := bytes.Clone(b.header)
	for _, s := range b.segs {
		stream = append(stream, s...)
	}
	var off int64
	if err := db.QueryRow(`SELECT pack_off FROM blobs WHERE sha256 = ?`, sha).Scan(&off); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE blobs SET header = ?, pack_len = ? WHERE sha256 = ?`, b.header, len(stream), sha); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(packPath(t, db), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(stream, off); err != nil {
		t.Fatal(err)
	}
}

// rawDB opens the outbox database behind the store's back, as an attacker
// or a broken disk would change it.
func rawDB(t *testing.T, e *env) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(e.dir, outbox.DBName)+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestQueueLifecycle(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s := e.open(t)
	var rcs []outbox.Receipt
	for i := range 4 {
		rc, err := s.Submit(ctx, sampleSubmission(uint64(10+i), 1000))
		if err != nil {
			t.Fatal(err)
		}
		rcs = append(rcs, rc)
		e.clock.Advance(time.Second)
	}
	// Oldest first; a permanent rejection does not block the rest.
	p, _ := s.NextDue(ctx, e.clock.Now())
	if p.UUID != rcs[0].UUID {
		t.Fatalf("first due %s, want the oldest", p.Receipt)
	}
	if err := s.MarkRejected(ctx, p.UUID, "validation: item_version: withdrawn"); err != nil {
		t.Fatal(err)
	}
	p, _ = s.NextDue(ctx, e.clock.Now())
	if p.UUID != rcs[1].UUID {
		t.Fatalf("after rejection got %s, want the next one", p.Receipt)
	}
	if err := s.MarkSent(ctx, p.UUID, "DG-2026-000001", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSent(ctx, p.UUID, "DG-2026-000001", e.clock.Now()); err != nil {
		t.Errorf("repeated MarkSent: %v", err)
	}
	if err := s.MarkRetry(ctx, p.UUID, "late", e.clock.Now()); !errors.Is(err, outbox.ErrState) {
		t.Errorf("MarkRetry on a sent submission: %v, want ErrState", err)
	}
	p, _ = s.NextDue(ctx, e.clock.Now())
	if err := s.MarkRetry(ctx, p.UUID, "dial tcp: connection refused", e.clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// The fourth is claimed and its engine vanishes: after the lease it is
	// due again.
	p4, _ := s.NextDue(ctx, e.clock.Now())
	if p4.UUID != rcs[3].UUID {
		t.Fatalf("got %s, want the fourth", p4.Receipt)
	}
	if p, _ := s.NextDue(ctx, e.clock.Now()); p != nil {
		t.Fatalf("%s handed out while everything is claimed or waiting", p.Receipt)
	}
	if next, ok, err := s.NextAttemptAt(ctx); err != nil || !ok || !next.Equal(e.clock.Now().Add(outbox.DefaultClaimLease).Truncate(time.Millisecond)) {
		t.Errorf("NextAttemptAt = %v %v %v", next, ok, err)
	}

	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantCounts := map[string]int{"pending": 1, "sending": 1, "sent": 1, "rejected": 1}
	for k, v := range wantCounts {
		if st.Counts[k] != v {
			t.Errorf("count %s = %d, want %d", k, st.Counts[k], v)
		}
	}
	if st.Queued != 2 || st.BytesLeft != 2000 {
		t.Errorf("queued %d bytes left %d, want 2 and 2000", st.Queued, st.BytesLeft)
	}
	if want := 2 * time.Second; st.OldestAge != want {
		t.Errorf("oldest age %v, want %v", st.OldestAge, want)
	}
	if len(st.Failed) != 2 || st.Failed[0].Receipt != rcs[0].Number || st.Failed[0].State != "rejected" ||
		!strings.Contains(st.Failed[0].Reason, "withdrawn") || !strings.Contains(st.Failed[1].Reason, "connection refused") {
		t.Errorf("failed: %+v", st.Failed)
	}
	problems := st.Problems(outbox.HealthRules{MinFreeBytes: 1})
	if len(problems) != 1 || !strings.Contains(problems[0], "rejected") {
		t.Errorf("problems %v, want the rejection", problems)
	}
	if p := st.Problems(outbox.HealthRules{MinFreeBytes: 1, AllowRejected: true}); len(p) != 0 {
		t.Errorf("problems with rejections allowed: %v", p)
	}
	if p := st.Problems(outbox.HealthRules{MinFreeBytes: 1, AllowRejected: true, MaxAge: time.Second}); len(p) != 1 {
		t.Errorf("problems with max age 1s: %v", p)
	}

	// Restart while the fourth is claimed: it is due again at once.
	s.Close()
	s = e.open(t)
	if p, _ := s.NextDue(ctx, e.clock.Now()); p == nil || p.UUID != rcs[3].UUID || p.Attempts != 2 {
		t.Errorf("after restart: %+v, want the interrupted fourth with attempt 2", p)
	}
	// Lease expiry without restart.
	e.clock.Advance(outbox.DefaultClaimLease + time.Second)
	if p, _ := s.NextDue(ctx, e.clock.Now()); p == nil {
		t.Error("abandoned claim not due again after the lease")
	}
	if err := s.Requeue(ctx, rcs[0].UUID); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.Lookup(ctx, rcs[0].Number); r.State != outbox.StatePending {
		t.Errorf("requeued state %s", r.State)
	}
	audit, err := s.Audit(ctx, 100)
	if err != nil || len(audit) < 8 {
		t.Errorf("audit log: %d entries, %v", len(audit), err)
	}
}

func TestStatusesCatalogRatings(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s := e.open(t)
	a, _ := s.Submit(ctx, sampleSubmission(1, 10))
	b, _ := s.Submit(ctx, sampleSubmission(2, 10))
	pa, _ := s.NextDue(ctx, e.clock.Now())
	s.MarkSent(ctx, pa.UUID, "C-1", e.clock.Now())
	t0 := e.clock.Now()
	ups := []api.StatusUpdate{
		{UUID: a.UUID, Receipt: a.Number, CaseNumber: "C-1", Status: api.StatusApproved, Note: "准予", At: t0.Add(2 * time.Hour)},
		{UUID: a.UUID, Receipt: a.Number, CaseNumber: "C-1", Status: api.StatusAccepted, At: t0.Add(time.Hour)}, // late, older
		// b's 201 was lost, but the platform has it: it counts as sent.
		{Receipt: b.Number, CaseNumber: "C-2", Status: api.StatusReceived, At: t0.Add(time.Minute)},
		{UUID: "00000000-0000-4000-8000-000000000000", Receipt: "X-1", Status: api.StatusReceived, At: t0},
	}
	if err := s.ApplyStatuses(ctx, ups, "cursor-7"); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.StatusCursor(ctx); c != "cursor-7" {
		t.Errorf("cursor %q", c)
	}
	ra, _ := s.Lookup(ctx, a.Number)
	if ra.PlatformStatus != api.StatusApproved || ra.CaseNumber != "C-1" || ra.StatusNote != "" {
		t.Errorf("a by receipt (no note: receipts are guessable): %+v", ra)
	}
	byID, _ := s.LookupByID(ctx, sampleSubmission(1, 10).Applicant.IDNumber)
	if len(byID) != 1 || byID[0].StatusNote != "准予" || byID[0].PlatformStatus != api.StatusApproved {
		t.Errorf("a by ID number: %+v", byID)
	}
	rb, _ := s.Lookup(ctx, b.Number)
	if rb.State != outbox.StateSent || rb.CaseNumber != "C-2" || rb.PlatformStatus != api.StatusReceived {
		t.Errorf("b: %+v", rb)
	}
	if p, _ := s.NextDue(ctx, e.clock.Now()); p != nil {
		t.Errorf("%s still due after the platform reported it", p.Receipt)
	}
	// Applying the same page again changes nothing.
	if err := s.ApplyStatuses(ctx, ups, "cursor-7"); err != nil {
		t.Fatal(err)
	}
	h, err := s.History(ctx, a.Number)
	if err != nil || len(h) != 2 || h[0].Status != api.StatusAccepted || h[1].Status != api.StatusApproved || !h[1].At.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("History: %+v %v", h, err)
	}

	for _, doc := range []outbox.Document{outbox.DocCatalog, outbox.DocCalendar} {
		if etag, _ := s.DocumentETag(ctx, doc); etag != "" {
			t.Errorf("%s etag before any save: %q", doc, etag)
		}
		if _, _, err := s.Document(ctx, doc); !errors.Is(err, outbox.ErrNotFound) {
			t.Errorf("%s before save: %v", doc, err)
		}
	}
	s.SaveDocument(ctx, outbox.DocCatalog, `"v2"`, []byte(`{"items":[]}`))
	s.SaveDocument(ctx, outbox.DocCalendar, `"c1"`, []byte(`{"years":[2031]}`))
	body, etag, err := s.Document(ctx, outbox.DocCatalog)
	if err != nil || etag != `"v2"` || string(body) != `{"items":[]}` {
		t.Errorf("catalog: %q %q %v", body, etag, err)
	}
	body, etag, err = s.Document(ctx, outbox.DocCalendar)
	if err != nil || etag != `"c1"` || string(body) != `{"years":[2031]}` {
		t.Errorf("calendar: %q %q %v", body, etag, err)
	}

	r1 := api.Rating{UUID: "11111111-1111-4111-8111-111111111111", Receipt: a.Number, Level: 5, Reason: "很好", At: t0}
	r2 := api.Rating{UUID: "22222222-2222-4222-8222-222222222222", Level: 2, At: t0}
	for _, r := range []api.Rating{r1, r2, r1} {
		if err := s.SaveRating(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SaveRating(ctx, api.Rating{UUID: "bad", Level: 9}); !errors.Is(err, outbox.ErrInvalid) {
		t.Errorf("bad rating: %v", err)
	}
	got, err := s.NextRating(ctx)
	if err != nil || got == nil || got.UUID != r1.UUID || got.Reason != "很好" || !got.At.Equal(t0) {
		t.Fatalf("NextRating: %+v %v", got, err)
	}
	s.MarkRatingSent(ctx, r1.UUID, t0)
	got, _ = s.NextRating(ctx)
	if got == nil || got.UUID != r2.UUID {
		t.Fatalf("second NextRating: %+v", got)
	}
	s.MarkRatingSent(ctx, r2.UUID, t0)
	if got, _ := s.NextRating(ctx); got != nil {
		t.Errorf("NextRating after all sent: %+v", got)
	}
}

func TestPurgeAfterRetention(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s := e.open(t)
	shared := bytes.Repeat([]byte("shared page"), 300)
	mk := func(seed uint64, own int) outbox.NewSubmission {
		sub := sampleSubmission(seed, own)
		sub.Materials[0].Pages = append(sub.Materials[0].Pages, outbox.Page{Data: shared, ContentType: "image/png"})
		return sub
	}
	subOld, subNew := mk(1, 500), mk(2, 600)
	subOld.Applicant.IDNumber = "99999919800101001" + "X"
	subOld.Applicant.IDNumber = fixCheck(subOld.Applicant.IDNumber)
	subNew.Applicant.IDNumber = subOld.Applicant.IDNumber // same resident
	old, _ := s.Submit(ctx, subOld)
	nw, _ := s.Submit(ctx, subNew)
	rej, _ := s.Submit(ctx, mk(3, 700))
	for _, want := range []string{old.UUID, nw.UUID, rej.UUID} {
		p, _ := s.NextDue(ctx, e.clock.Now())
		if p.UUID != want {
			t.Fatal("unexpected order")
		}
	}
	s.MarkSent(ctx, old.UUID, "C-1", e.clock.Now())
	s.MarkRejected(ctx, rej.UUID, "validation")
	e.clock.Advance(2 * 24 * time.Hour)
	s.MarkSent(ctx, nw.UUID, "C-2", e.clock.Now())
	s.SaveRating(ctx, api.Rating{UUID: "33333333-3333-4333-8333-333333333333", Level: 4, At: e.clock.Now()})
	s.MarkRatingSent(ctx, "33333333-3333-4333-8333-333333333333", e.clock.Now())

	if got, _ := s.LookupByID(ctx, strings.ToLower(subOld.Applicant.IDNumber)); len(got) != 2 || got[0].UUID != nw.UUID {
		t.Fatalf("LookupByID before purge: %+v", got)
	}
	// Six days after the first was sent: nothing is due for purge.
	e.clock.Advance(4 * 24 * time.Hour)
	rep, err := s.Purge(ctx, e.clock.Now())
	if err != nil || rep.Submissions != 0 {
		t.Fatalf("early purge: %+v %v", rep, err)
	}
	// Seven days and a bit: the first goes, the second stays, the rejected
	// one is never purged.
	e.clock.Advance(24*time.Hour + time.Minute)
	rep, err = s.Purge(ctx, e.clock.Now())
	if err != nil || rep.Submissions != 1 || rep.BlobFiles != 1 {
		t.Fatalf("purge: %+v %v; want 1 submission and its own blob (the shared one stays)", rep, err)
	}
	r, err := s.Lookup(ctx, old.Number)
	if err != nil || !r.Purged || r.MaskedName != pii.MaskName(subOld.Applicant.Name) || r.CaseNumber != "C-1" || r.ItemID != subOld.ItemID {
		t.Errorf("purged record: %+v %v", r, err)
	}
	if got, _ := s.LookupByID(ctx, subOld.Applicant.IDNumber); len(got) != 1 || got[0].UUID != nw.UUID {
		t.Errorf("LookupByID after purge: %+v, want only the unpurged one", got)
	}
	if _, err := s.OpenBlob(ctx, shaHex(subOld.Materials[0].Pages[0].Data)); !errors.Is(err, outbox.ErrNotFound) {
		t.Errorf("purged blob: %v, want ErrNotFound", err)
	}
	if !bytes.Equal(readBlob(t, s, shaHex(shared)), shared) {
		t.Error("shared blob damaged by purge")
	}
	var sealedLeft int
	rawDB(t, e).QueryRow(`SELECT COUNT(*) FROM submissions WHERE uuid = ? AND (sealed IS NOT NULL OR id_hash IS NOT NULL)`, old.UUID).Scan(&sealedLeft)
	if sealedLeft != 0 {
		t.Error("purged row still holds sealed data or the ID hash")
	}
	// Two more days: the second goes too, with its own blob and the
	// rating; the shared blob stays for the rejected submission.
	e.clock.Advance(2 * 24 * time.Hour)
	rep, err = s.Purge(ctx, e.clock.Now())
	if err != nil || rep.Submissions != 1 || rep.BlobFiles != 1 || rep.Ratings != 1 {
		t.Fatalf("second purge: %+v %v", rep, err)
	}
	st, _ := s.Stats(ctx)
	if st.Purged != 2 || st.BlobFiles != 2 || st.Counts["rejected"] != 1 {
		t.Errorf("after purges: purged %d, blob files %d (want the rejected one's two), rejected %d", st.Purged, st.BlobFiles, st.Counts["rejected"])
	}
}

func fixCheck(id string) string {
	for _, c := range "0123456789X" {
		if cand := id[:17] + string(c); pii.ValidateIDNumber(cand, testdate.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) == nil {
			return cand
		}
	}
	return id
}

func TestLookup(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s := e.open(t)
	sub := sampleSubmission(7, 10)
	sub.Applicant.Name = "王小明"
	rc, _ := s.Submit(ctx, sub)
	r, err := s.Lookup(ctx, rc.Number)
	if err != nil || r.MaskedName != "王*明" || r.State != outbox.StatePending || r.Receipt != rc.Number {
		t.Errorf("Lookup: %+v %v", r, err)
	}
	if _, err := s.Lookup(ctx, "K01-20000101-0001"); !errors.Is(err, outbox.ErrNotFound) {
		t.Errorf("unknown receipt: %v", err)
	}
	if got, err := s.LookupByID(ctx, " "+sub.Applicant.IDNumber+" "); err != nil || len(got) != 1 {
		t.Errorf("LookupByID: %+v %v", got, err)
	}
	if got, _ := s.LookupByID(ctx, fixCheck("99999919990101999")); len(got) != 0 {
		t.Errorf("LookupByID of another number: %+v", got)
	}
}

func TestMasking(t *testing.T) {
	tests := []struct{ in, name, id string }{
		{"张三", "张*", "**"},
		{"欧阳娜娜", "欧**娜", "****"},
		{"", "", ""},
		{"441900199001011234", "4****************4", "4419**********1234"},
		{"44190019900101123X", "4****************X", "4419**********123X"},
	}
	for _, tc := range tests {
		if got := pii.MaskName(tc.in); got != tc.name {
			t.Errorf("pii.MaskName(%q) = %q, want %q", tc.in, got, tc.name)
		}
		if got := pii.MaskID(tc.in); got != tc.id {
			t.Errorf("pii.MaskID(%q) = %q, want %q", tc.in, got, tc.id)
		}
	}
}

func TestMaskPersonal(t *testing.T) {
	tests := []struct{ in, want string }{
		{"applicant.id_number: 44190019900101123X is invalid", "applicant.id_number: 4419**********123X is invalid"},
		{"id 441900199001011234, phone 13912345678.", "id 4419**********1234, phone 139****5678."},
		{"13912345678", "139****5678"},
		{"503 Service Unavailable after 12345 bytes", "503 Service Unavailable after 12345 bytes"},
		{"case DG-2026-000123", "case DG-2026-000123"},
	}
	for _, tc := range tests {
		if got := outbox.MaskPersonal(tc.in); got != tc.want {
			t.Errorf("MaskPersonal(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestReasonsStoredMasked(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s := e.open(t)
	sub := sampleSubmission(1, 10)
	rc, _ := s.Submit(ctx, sub)
	s.NextDue(ctx, e.clock.Now())
	s.MarkRejected(ctx, rc.UUID, "validation: "+sub.Applicant.IDNumber+" does not match "+sub.Applicant.Phone)
	st, _ := s.Stats(ctx)
	if len(st.Failed) != 1 || strings.Contains(st.Failed[0].Reason, sub.Applicant.IDNumber) || strings.Contains(st.Failed[0].Reason, sub.Applicant.Phone) ||
		!strings.Contains(st.Failed[0].Reason, pii.MaskID(sub.Applicant.IDNumber)) {
		t.Errorf("stored reason %+v", st.Failed)
	}
}

func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s := e.open(t)
	s.Submit(ctx, sampleSubmission(1, 10))
	ro, err := outbox.Open(ctx, outbox.Options{Dir: e.dir, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	st, err := ro.Stats(ctx)
	if err != nil || st.Queued != 1 {
		t.Errorf("read-only Stats: %+v %v", st, err)
	}
	if _, err := ro.Submit(ctx, sampleSubmission(2, 10)); !errors.Is(err, outbox.ErrReadOnly) {
		t.Errorf("read-only Submit: %v", err)
	}
	if _, err := ro.NextDue(ctx, e.clock.Now()); !errors.Is(err, outbox.ErrReadOnly) {
		t.Errorf("read-only NextDue: %v", err)
	}
	if _, err := outbox.Open(ctx, outbox.Options{Dir: filepath.Join(e.dir, "nope"), ReadOnly: true}); err == nil {
		t.Error("read-only open of a missing outbox succeeded")
	}
}

// TestConcurrentWriters: two stores on one directory (as two processes
// would have) and several goroutines each: receipt numbers stay unique and
// sequential per day.
func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s1, s2 := e.open(t), e.open(t)
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := s1
			if g%2 == 1 {
				s = s2
			}
			for i := range 5 {
				rc, err := s.Submit(ctx, sampleSubmission(uint64(100*g+i), 200))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[rc.Number] {
					t.Errorf("receipt %s issued twice", rc.Number)
				}
				seen[rc.Number] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for i := 1; i <= 30; i++ {
		if n := "K01-" + e.clock.Now().Format("20060102") + "-" + pad4(i); !seen[n] {
			t.Errorf("receipt %s missing: numbers are not dense", n)
		}
	}
}

func pad4(i int) string {
	s := "000" + string(rune('0'+i/10)) + string(rune('0'+i%10))
	return s[len(s)-4:]
}

// mountTmpfs mounts a tmpfs of the given size for the test, or skips: it
// needs root (the injected-failure test TestSubmitFailuresLeaveNothing
// covers the same code paths without it).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("mounts a tmpfs")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	return mnt
}

// TestDiskFullOnTmpfs fills a real 2 MB file system until a write fails
// with ENOSPC. Every Submit either returns a receipt whose data reads back,
// or ErrDiskFull with nothing of it left; once space returns the queue
// moves again.
func TestDiskFullOnTmpfs(t *testing.T) {
	mnt := mountTmpfs(t, "2m")
	ctx := context.Background()
	e := newEnv(t)
	e.dir = filepath.Join(mnt, "data")
	o := e.options()
	o.ReserveBytes = -1 // no reserve: run into the real ENOSPC
	s, err := outbox.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ballast := filepath.Join(mnt, "ballast")
	if err := os.WriteFile(ballast, make([]byte, 300_000), 0o600); err != nil {
		t.Fatal(err)
	}
	var stored []outbox.Receipt
	var subs []outbox.NewSubmission
	var fullErr error
	for i := range 40 {
		sub := sampleSubmission(uint64(i), 150_000)
		rc, err := s.Submit(ctx, sub)
		if err != nil {
			fullErr = err
			break
		}
		stored = append(stored, rc)
		subs = append(subs, sub)
	}
	if !errors.Is(fullErr, outbox.ErrDiskFull) {
		t.Fatalf("filling 2 MB: got %v after %d submissions, want ErrDiskFull", fullErr, len(stored))
	}
	t.Logf("%d submissions fitted; then: %v", len(stored), fullErr)
	// Reads need no space.
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(e.dir, "blobs", ".tmp-*"))
	if st.Queued != len(stored) || st.BlobFiles != len(stored) || len(left) != 0 {
		t.Errorf("rows %d, blob files %d (want %d each), temp files %v", st.Queued, st.BlobFiles, len(stored), left)
	}
	for i, rc := range stored {
		if r, err := s.Lookup(ctx, rc.Number); err != nil || r.UUID != rc.UUID {
			t.Errorf("Lookup %s: %v", rc.Number, err)
		}
		if !bytes.Equal(readBlob(t, s, shaHex(subs[i].Materials[0].Pages[0].Data)), subs[i].Materials[0].Pages[0].Data) {
			t.Errorf("submission %d scan reads back wrong", i)
		}
	}
	// Space comes back: everything stored is delivered as usual.
	os.Remove(ballast)
	for i, rc := range stored {
		p, err := s.NextDue(ctx, e.clock.Now())
		if err != nil || p == nil || p.UUID != rc.UUID {
			t.Fatalf("stored submission %d: %+v %v", i, p, err)
		}
		if err := s.MarkSent(ctx, p.UUID, "C", e.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDiskReserveKeepsQueueMoving: with the default reserve, Submit says
// ErrDiskFull while there is still room for the engine's bookkeeping, so
// the queue keeps draining on a nearly full disk.
func TestDiskReserveKeepsQueueMoving(t *testing.T) {
	mnt := mountTmpfs(t, "3m")
	ctx := context.Background()
	e := newEnv(t)
	e.dir = filepath.Join(mnt, "data")
	o := e.options()
	o.ReserveBytes = 1 << 20
	s, err := outbox.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	for ; n < 40; n++ {
		if _, err := s.Submit(ctx, sampleSubmission(uint64(n), 150_000)); err != nil {
			if !errors.Is(err, outbox.ErrDiskFull) {
				t.Fatalf("got %v, want ErrDiskFull", err)
			}
			break
		}
	}
	if n == 0 || n == 40 {
		t.Fatalf("%d submissions fitted", n)
	}
	for i := range n {
		p, err := s.NextDue(ctx, e.clock.Now())
		if err != nil || p == nil {
			t.Fatalf("NextDue %d on a nearly full disk: %v", i, err)
		}
		if err := s.MarkSent(ctx, p.UUID, "C", e.clock.Now()); err != nil {
			t.Fatalf("MarkSent on a nearly full disk: %v", err)
		}
	}
}

func TestPurgeEvery(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	e := newEnv(t)
	s := e.open(t)
	rc, _ := s.Submit(ctx, sampleSubmission(1, 100))
	p, _ := s.NextDue(ctx, e.clock.Now())
	s.MarkSent(ctx, p.UUID, "C", e.clock.Now())
	ticks := make(chan time.Time)
	done := make(chan error)
	go func() { done <- s.PurgeEvery(ctx, ticks) }()
	ticks <- time.Time{} // first purge (at start) finished: nothing old enough
	if r, _ := s.Lookup(ctx, rc.Number); r.Purged {
		t.Fatal("purged before retention")
	}
	e.clock.Advance(outbox.DefaultRetention + time.Second)
	ticks <- time.Time{} // the loop takes this tick, purges…
	ticks <- time.Time{} // …and only then takes the next one
	if r, _ := s.Lookup(ctx, rc.Number); !r.Purged {
		t.Error("not purged after retention")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("PurgeEvery returned %v", err)
	}
}

func TestDataFilesPrivate(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s := e.open(t)
	if _, err := s.Submit(ctx, sampleSubmission(1, 100)); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", outbox.DBName, outbox.DBName + "-wal", outbox.DBName + "-shm"} {
		st, err := os.Stat(filepath.Join(e.dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %04o; group and others must have no access", name, st.Mode().Perm())
		}
	}
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s := e.open(t)
	a, b, c := sampleSubmission(1, 5000), sampleSubmission(2, 5000), sampleSubmission(3, 5000)
	ra, _ := s.Submit(ctx, a)
	rb, _ := s.Submit(ctx, b)
	s.Submit(ctx, c)
	rep, err := s.Verify(ctx)
	if err != nil || !rep.OK() || rep.BlobsOK != 3 || rep.BytesRead != 15000 || rep.Unreferenced != 0 {
		t.Fatalf("healthy store: %+v %v", rep, err)
	}
	// a's page lost, b's damaged, a stray blob no row names (stored, and
	// as a file of an earlier version).
	db := rawDB(t, e)
	shaA := shaHex(a.Materials[0].Pages[0].Data)
	if _, err := db.Exec(`DELETE FROM blob_segments WHERE sha256 = ?; DELETE FROM blobs WHERE sha256 = ?`, shaA, shaA); err != nil {
		t.Fatal(err)
	}
	shaB := shaHex(b.Materials[0].Pages[0].Data)
	bad := storedBlob(t, db, shaB)
	bad.segs[0][len(bad.segs[0])-1] ^= 1
	bad.store(t, db, shaB)
	if _, err := db.Exec(`INSERT INTO blobs (sha256, header) VALUES (?, x'00')`, strings.Repeat("cd", 32)); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(e.dir, "blobs"), 0o700)
	os.WriteFile(filepath.Join(e.dir, "blobs", strings.Repeat("ab", 32)), []byte("stray"), 0o600)
	rep, err = s.Verify(ctx)
	if err != nil || rep.OK() || rep.BlobsOK != 1 || len(rep.Missing) != 1 || rep.Missing[0] != ra.Number ||
		len(rep.Corrupt) != 1 || rep.Corrupt[0] != rb.Number || rep.Unreferenced != 2 || rep.Integrity != "ok" {
		t.Errorf("damaged store: %+v %v", rep, err)
	}
}

// TestKeyCreatedOnceByConcurrentOpens: stores opened at the same moment on
// a fresh directory agree on one data key.
func TestKeyCreatedOnceByConcurrentOpens(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	stores := make(chan *outbox.Store, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := outbox.Open(ctx, e.options())
			if err != nil {
				t.Error(err)
				return
			}
			stores <- s
		}()
	}
	wg.Wait()
	close(stores)
	var all []*outbox.Store
	for s := range stores {
		all = append(all, s)
		t.Cleanup(func() { s.Close() })
	}
	if len(all) != 4 {
		t.Fatalf("%d of 4 opens succeeded", len(all))
	}
	rc, err := all[0].Submit(ctx, sampleSubmission(1, 100))
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range all[1:] {
		if got, err := s.LookupByID(ctx, sampleSubmission(1, 100).Applicant.IDNumber); err != nil || len(got) != 1 || got[0].UUID != rc.UUID {
			t.Errorf("store %d uses another key: %+v %v", i+1, got, err)
		}
	}
}
