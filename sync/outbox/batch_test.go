package outbox_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"onedoor/sync/outbox"
)

// TestClaimDueBatch claims several submissions in one call: oldest first,
// bounded by count and by blob bytes, never handing out one twice.
func TestClaimDueBatch(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name     string
		sizes    []int // one page per submission, in submission order
		maxItems int
		maxBytes int64
		want     []int // indexes of the submissions claimed by the first call
	}{
		{"count bound", []int{100, 100, 100, 100}, 3, 0, []int{0, 1, 2}},
		{"more asked than due", []int{100, 100}, 16, 0, []int{0, 1}},
		{"byte bound stops after reaching it", []int{400, 400, 400, 400}, 16, 800, []int{0, 1}},
		{"first is claimed even when over the byte bound", []int{5000, 100}, 16, 1000, []int{0}},
		{"zero items means one", []int{100, 100}, 0, 0, []int{0}},
		{"nothing due", nil, 4, 0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			s := e.open(t)
			var rcs []outbox.Receipt
			for i, n := range tc.sizes {
				rc, err := s.Submit(ctx, sampleSubmission(uint64(100+i), n))
				if err != nil {
					t.Fatal(err)
				}
				rcs = append(rcs, rc)
				e.clock.Advance(time.Second)
			}
			got, err := s.ClaimDue(ctx, e.clock.Now(), tc.maxItems, tc.maxBytes)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("claimed %d, want %d", len(got), len(tc.want))
			}
			for i, w := range tc.want {
				if got[i].UUID != rcs[w].UUID || got[i].Attempts != 1 || len(got[i].Blobs) != 1 || got[i].Request.UUID != rcs[w].UUID {
					t.Errorf("claim %d = %s attempts %d, want %s", i, got[i].Receipt, got[i].Attempts, rcs[w].Number)
				}
			}
			// The rest, and only the rest, are still due.
			rest, err := s.ClaimDue(ctx, e.clock.Now(), 100, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(got)+len(rest) != len(rcs) {
				t.Errorf("second claim got %d, want %d", len(rest), len(rcs)-len(got))
			}
			for _, p := range rest {
				for _, q := range got {
					if p.UUID == q.UUID {
						t.Errorf("%s handed out twice", p.Receipt)
					}
				}
			}
		})
	}
}

// TestReleaseAndMarkSentBatch: unstarted claims go back without an attempt
// counted; acknowledgements commit together, all or nothing.
func TestReleaseAndMarkSentBatch(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s := e.open(t)
	var rcs []outbox.Receipt
	for i := range 4 {
		rc, err := s.Submit(ctx, sampleSubmission(uint64(200+i), 300))
		if err != nil {
			t.Fatal(err)
		}
		rcs = append(rcs, rc)
		e.clock.Advance(time.Second)
	}
	ps, err := s.ClaimDue(ctx, e.clock.Now(), 4, 0)
	if err != nil || len(ps) != 4 {
		t.Fatalf("claim: %d %v", len(ps), err)
	}
	// Two were sent, two never started.
	if err := s.Release(ctx, []string{ps[2].UUID, ps[3].UUID}, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	again, err := s.ClaimDue(ctx, e.clock.Now(), 4, 0)
	if err != nil || len(again) != 2 || again[0].UUID != rcs[2].UUID || again[1].UUID != rcs[3].UUID {
		t.Fatalf("after release claimed %d %v", len(again), err)
	}
	if again[0].Attempts != 1 {
		t.Errorf("released submission claimed with attempts %d, want 1 (the release gave back the unused attempt)", again[0].Attempts)
	}
	// Releasing what is no longer claimed changes nothing.
	if err := s.MarkSent(ctx, rcs[3].UUID, "DG-2026-000004", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx, []string{rcs[3].UUID}, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.Lookup(ctx, rcs[3].Number); r.State != outbox.StateSent {
		t.Errorf("release of a sent submission left it %s", r.State)
	}

	marks := []outbox.Sent{
		{UUID: rcs[0].UUID, CaseNumber: "DG-2026-000001", At: e.clock.Now()},
		{UUID: rcs[1].UUID, CaseNumber: "DG-2026-000002", At: e.clock.Now()},
		{UUID: rcs[3].UUID, CaseNumber: "DG-2026-000004", At: e.clock.Now()}, // repeated: harmless
	}
	if err := s.MarkSentBatch(ctx, marks); err != nil {
		t.Fatal(err)
	}
	for i, rc := range []outbox.Receipt{rcs[0], rcs[1], rcs[3]} {
		r, err := s.Lookup(ctx, rc.Number)
		if err != nil || r.State != outbox.StateSent || r.CaseNumber != marks[i].CaseNumber || r.PlatformStatus != "received" {
			t.Errorf("%s after MarkSentBatch: %+v %v", rc.Number, r, err)
		}
	}

	// All or nothing: one rejected submission in the batch fails it whole.
	if err := s.MarkRejected(ctx, rcs[2].UUID, "validation: withdrawn"); err != nil {
		t.Fatal(err)
	}
	e2 := newEnv(t)
	s2 := e2.open(t)
	a, _ := s2.Submit(ctx, sampleSubmission(300, 100))
	b, _ := s2.Submit(ctx, sampleSubmission(301, 100))
	if err := s2.MarkRejected(ctx, b.UUID, "validation: withdrawn"); err != nil {
		t.Fatal(err)
	}
	err = s2.MarkSentBatch(ctx, []outbox.Sent{{UUID: a.UUID, CaseNumber: "C1", At: e2.clock.Now()}, {UUID: b.UUID, CaseNumber: "C2", At: e2.clock.Now()}})
	if !errors.Is(err, outbox.ErrState) {
		t.Fatalf("batch with a rejected submission: %v, want ErrState", err)
	}
	if r, _ := s2.Lookup(ctx, a.Number); r.State != outbox.StatePending || r.CaseNumber != "" {
		t.Errorf("a failed batch still marked %s: %+v", a.Number, r)
	}
	if err := s2.MarkSentBatch(ctx, []outbox.Sent{{UUID: "no-such-uuid", CaseNumber: "C3", At: e2.clock.Now()}}); !errors.Is(err, outbox.ErrNotFound) {
		t.Errorf("unknown submission: %v, want ErrNotFound", err)
	}
}

// TestClaimDueSkipsUnreadableInBatch: an unreadable submission in the
// middle of a batch is set aside and the batch goes on past it.
func TestClaimDueSkipsUnreadableInBatch(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s := e.open(t)
	var rcs []outbox.Receipt
	for i := range 3 {
		rc, err := s.Submit(ctx, sampleSubmission(uint64(400+i), 200))
		if err != nil {
			t.Fatal(err)
		}
		rcs = append(rcs, rc)
		e.clock.Advance(time.Second)
	}
	// The second row's sealed data is swapped for the third's: it no longer
	// authenticates under its own UUID.
	if _, err := rawDB(t, e).Exec(`UPDATE submissions SET sealed = (SELECT sealed FROM submissions WHERE seq = 3) WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	got, err := s.ClaimDue(ctx, e.clock.Now(), 16, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].UUID != rcs[0].UUID || got[1].UUID != rcs[2].UUID {
		t.Fatalf("claimed %d: %+v", len(got), got)
	}
	st, err := s.Stats(ctx)
	if err != nil || st.Unreadable != 1 {
		t.Errorf("unreadable %d (%v), want 1", st.Unreadable, err)
	}
}
