package outbox_test

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"onedoor/sync/outbox"
	"onedoor/sync/outbox/devdata"
)

// BenchmarkClaimAndMark measures the outbox's share of a drain: claiming
// queued submissions and recording their acknowledgements. "one" claims and
// marks each submission in its own transaction (the engine before batching);
// "batch" claims 16 per transaction and marks 32 per transaction (the
// engine's defaults). One op is one submission; each sub-benchmark queues
// b.N fresh submissions first, outside the timer.
func BenchmarkClaimAndMark(b *testing.B) {
	for _, bc := range []struct {
		name         string
		claim, marks int
	}{{"one", 1, 1}, {"batch", 16, 32}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			root := b.TempDir()
			s, err := outbox.Open(ctx, outbox.Options{Dir: filepath.Join(root, "data"), KeyFile: filepath.Join(root, "key"),
				KioskID: "KB", Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			rng := rand.New(rand.NewPCG(5, 6))
			for i := 0; i < b.N; i++ {
				if _, err := s.Submit(ctx, devdata.Submission(rng, i, 1024, 1)); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			var pending []outbox.Sent
			done := 0
			for done < b.N {
				ps, err := s.ClaimDue(ctx, time.Now(), bc.claim, 0)
				if err != nil || len(ps) == 0 {
					b.Fatalf("claim after %d: %d %v", done, len(ps), err)
				}
				for _, p := range ps {
					pending = append(pending, outbox.Sent{UUID: p.UUID, CaseNumber: "DG-2026-" + p.Receipt, At: time.Now()})
					if len(pending) >= bc.marks {
						if err := s.MarkSentBatch(ctx, pending); err != nil {
							b.Fatal(err)
						}
						pending = pending[:0]
					}
				}
				done += len(ps)
			}
			if err := s.MarkSentBatch(ctx, pending); err != nil {
				b.Fatal(err)
			}
		})
	}
}
