package app

import (
	"testing"
	"time"

	"onedoor/sync/outbox"
)

// TestRetentionPurgeRuns: while the kiosk runs, a submission the platform
// accepted loses its personal data once it is older than the retention,
// at the outbox clock's time; before that it keeps it.
func TestRetentionPurgeRuns(t *testing.T) {
	const retention = 24 * time.Hour
	r := newRigWith(t, func(r *rig, s *Settings) {
		s.Clock = r.clock.Now
		s.Retention = retention
		// Many purges per test second, so the test waits on the outcome,
		// not on an hour.
		s.PurgeEvery = 20 * time.Millisecond
	})
	no := r.applyPensionCert()
	r.waitExported(no)
	ctx := t.Context()
	r.settle("the outbox to record the delivery", 20*time.Second, func() bool {
		rec, err := r.stack.Store.Lookup(ctx, no)
		return err == nil && rec.State == outbox.StateSent
	})
	// Several purge runs go by inside the retention: none may touch it.
	time.Sleep(100 * time.Millisecond)
	if rec, err := r.stack.Store.Lookup(ctx, no); err != nil || rec.Purged {
		t.Fatalf("inside the retention: purged=%v err=%v", rec.Purged, err)
	}
	if recs, err := r.stack.Store.LookupByID(ctx, residentID); err != nil || len(recs) != 1 {
		t.Fatalf("lookup by ID number inside the retention: %d records, err %v", len(recs), err)
	}

	r.clock.Advance(retention + time.Hour)
	r.settle("the purge", 20*time.Second, func() bool {
		rec, err := r.stack.Store.Lookup(ctx, no)
		return err == nil && rec.Purged
	})
	// The ID-number hash went with the rest of the personal data.
	if recs, err := r.stack.Store.LookupByID(ctx, residentID); err != nil || len(recs) != 0 {
		t.Errorf("lookup by ID number after the purge: %d records, err %v", len(recs), err)
	}
}
