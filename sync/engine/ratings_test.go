package engine

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"onedoor/sync/api"
	"onedoor/sync/faultproxy"
	"onedoor/sync/outbox"
)

// TestRefusedRatingIsKept: a rating the platform refuses for good is kept
// in the outbox with its reason, is not sent again, and does not hold back
// the rating behind it.
func TestRefusedRatingIsKept(t *testing.T) {
	const (
		bad  = "0b6f7c9e-2f4c-4c53-8f0e-3a2b1c0d9e01"
		good = "0b6f7c9e-2f4c-4c53-8f0e-3a2b1c0d9e02"
	)
	tests := []struct {
		name string
		// queue stores the rating the platform will refuse and returns
		// the proxy rule that counts the attempts to send it.
		queue  func(t *testing.T, r *rig, at time.Time) *faultproxy.Rule
		reason string
	}{
		{
			// The platform's own validation: a receipt longer than the
			// protocol allows, written past SaveRating's checks as an
			// older kiosk version might have stored it.
			name: "platform validation (422)",
			queue: func(t *testing.T, r *rig, at time.Time) *faultproxy.Rule {
				db, err := sql.Open("sqlite3", "file:"+filepath.Join(r.dir, "kiosk", outbox.DBName)+"?_busy_timeout=10000")
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				if _, err := db.Exec(`INSERT INTO ratings (uuid, receipt, level, at, created_at) VALUES (?, ?, 3, ?, ?)`,
					bad, strings.Repeat("R", 80), at.UnixMilli(), at.Add(-time.Second).UnixMilli()); err != nil {
					t.Fatal(err)
				}
				return r.proxy.Add(&faultproxy.Rule{Match: bad, Action: faultproxy.Action{Kind: faultproxy.Pass}})
			},
			reason: "receipt",
		},
		{
			name: "refusal from a stricter platform (400)",
			queue: func(t *testing.T, r *rig, at time.Time) *faultproxy.Rule {
				if err := r.store.SaveRating(context.Background(), api.Rating{UUID: bad, Level: 1, At: at}); err != nil {
					t.Fatal(err)
				}
				return r.proxy.Add(&faultproxy.Rule{Match: bad, Action: faultproxy.RespondWith(400, map[string]string{"Content-Type": "application/json"},
					`{"code":"bad_request","message":"ratings without a receipt are not taken"}`)})
			},
			reason: "ratings without a receipt",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, rigOpts{})
			ctx := context.Background()
			at := time.Now().UTC().Truncate(time.Millisecond)
			attempts := tc.queue(t, r, at)
			time.Sleep(2 * time.Millisecond) // the good one is saved after the bad one
			// The platform takes ratings only for receipts this kiosk issued.
			rc := r.enqueue(1, 1<<10, 1)
			if err := r.store.SaveRating(ctx, api.Rating{UUID: good, Receipt: rc[0], Level: 5, At: at}); err != nil {
				t.Fatal(err)
			}
			if res := r.eng.Drain(ctx); res.Err != nil {
				t.Fatalf("drain: %+v", res)
			}
			st, err := r.store.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.RatingsQueued != 0 || st.RatingsRejected != 1 || len(st.FailedRatings) != 1 {
				t.Fatalf("after the drain: %d queued, %d rejected, %+v", st.RatingsQueued, st.RatingsRejected, st.FailedRatings)
			}
			if f := st.FailedRatings[0]; f.UUID != bad || !strings.Contains(f.Reason, tc.reason) {
				t.Fatalf("kept rating %+v, want %s with a reason naming %q", f, bad, tc.reason)
			}
			// Not tried again: a second drain leaves it alone.
			if res := r.eng.Drain(ctx); res.Err != nil {
				t.Fatalf("second drain: %+v", res)
			}
			if n := attempts.Hits(); n != 1 {
				t.Fatalf("the refused rating was sent %d times, want 1", n)
			}
			db, err := sql.Open("sqlite3", "file:"+filepath.Join(r.plat.dir, "platform.db")+"?mode=ro")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var got []string
			rows, err := db.Query(`SELECT uuid FROM ratings ORDER BY uuid`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var id string
				rows.Scan(&id)
				got = append(got, id)
			}
			if len(got) != 1 || got[0] != good {
				t.Fatalf("platform holds ratings %v, want only %s", got, good)
			}
		})
	}
}
