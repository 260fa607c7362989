package outbox_test

import (
	"context"
	"testing"
	"time"

	"onedoor/sync/outbox"
)

// TestDueNow: submissions waiting out a backoff become due at once;
// rejected and delivered ones are left alone, attempt counts are kept,
// and each change is audited.
func TestDueNow(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s := e.open(t)
	var ids, receipts []string
	for i := 0; i < 4; i++ {
		rc, err := s.Submit(ctx, sampleSubmission(uint64(i+1), 100))
		if err != nil {
			t.Fatal(err)
		}
		ids, receipts = append(ids, rc.UUID), append(receipts, rc.Number)
	}
	now := e.clock.Now()
	for range ids {
		if p, err := s.NextDue(ctx, now); err != nil || p == nil {
			t.Fatalf("NextDue: %v %v", p, err)
		}
	}
	// 0 waits an hour, 1 is due already, 2 was rejected, 3 was delivered.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.MarkRetry(ctx, ids[0], "POST /api/v1/submissions: 503", now.Add(time.Hour)))
	must(s.MarkRetry(ctx, ids[1], "link down", now))
	must(s.MarkRejected(ctx, ids[2], "validation"))
	must(s.MarkSent(ctx, ids[3], "C-1", now))

	got, err := s.DueNow(ctx, now)
	if err != nil || len(got) != 1 || got[0] != receipts[0] {
		t.Fatalf("DueNow = %v %v, want [%s]", got, err, receipts[0])
	}
	tests := []struct {
		receipt  string
		state    string
		attempts int
	}{
		{receipts[0], outbox.StatePending, 1},
		{receipts[1], outbox.StatePending, 1},
		{receipts[2], outbox.StateRejected, 1},
		{receipts[3], outbox.StateSent, 1},
	}
	for _, tc := range tests {
		r, err := s.Lookup(ctx, tc.receipt)
		if err != nil || r.State != tc.state || r.Attempts != tc.attempts {
			t.Errorf("%s: %s after %d attempts (%v), want %s after %d", tc.receipt, r.State, r.Attempts, err, tc.state, tc.attempts)
		}
	}
	if at, ok, err := s.NextAttemptAt(ctx); err != nil || !ok || at.After(now) {
		t.Errorf("next attempt at %v (%v %v), want by %v", at, ok, err, now)
	}
	log, err := s.Audit(ctx, 1)
	if err != nil || len(log) != 1 || log[0].Event != "due-now" || log[0].Receipt != receipts[0] {
		t.Errorf("audit %+v %v", log, err)
	}
	if again, err := s.DueNow(ctx, now); err != nil || len(again) != 0 {
		t.Errorf("second DueNow = %v %v, want nothing", again, err)
	}
}
