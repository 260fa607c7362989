package outbox_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"onedoor/sync/api"
	"onedoor/sync/outbox"
)

// TestMarkRatingRejected: a refused rating leaves the delivery queue but
// stays, with its reason (masked), in Stats and the audit log.
func TestMarkRatingRejected(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s := e.open(t)
	t0 := e.clock.Now()
	r1 := api.Rating{UUID: "11111111-1111-4111-8111-111111111111", Receipt: "K01-20261125-0001", Level: 1, Reason: "太慢", At: t0}
	r2 := api.Rating{UUID: "22222222-2222-4222-8222-222222222222", Level: 5, At: t0}
	for _, r := range []api.Rating{r1, r2} {
		if err := s.SaveRating(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.MarkRatingRejected(ctx, r1.UUID, "validation: reason: quotes 99999919500101000X"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.NextRating(ctx); err != nil || got == nil || got.UUID != r2.UUID {
		t.Fatalf("NextRating after a rejection = %+v %v, want the next rating", got, err)
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.RatingsQueued != 1 || st.RatingsRejected != 1 || len(st.FailedRatings) != 1 {
		t.Fatalf("stats: queued %d rejected %d failed %+v", st.RatingsQueued, st.RatingsRejected, st.FailedRatings)
	}
	f := st.FailedRatings[0]
	if f.UUID != r1.UUID || f.Receipt != r1.Receipt || !f.RejectedAt.Equal(t0) ||
		!strings.Contains(f.Reason, "validation") || strings.Contains(f.Reason, "99999919500101000X") {
		t.Fatalf("failed rating %+v", f)
	}
	log, err := s.Audit(ctx, 1)
	if err != nil || len(log) != 1 || log[0].Event != "rating-rejected" || log[0].Receipt != r1.Receipt {
		t.Fatalf("audit %+v %v", log, err)
	}

	tests := []struct {
		name string
		id   string
		want error
	}{
		{"unknown rating", "33333333-3333-4333-8333-333333333333", outbox.ErrNotFound},
		{"already delivered", r2.UUID, outbox.ErrState},
		{"rejected twice", r1.UUID, nil},
	}
	if err := s.MarkRatingSent(ctx, r2.UUID, t0); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.MarkRatingRejected(ctx, tc.id, "x"); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if st, _ := s.Stats(ctx); st.RatingsQueued != 0 || st.RatingsRejected != 1 || !st.FailedRatings[0].RejectedAt.Equal(t0) {
		t.Fatalf("after: %+v", st)
	}
}
