package outbox

import (
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"onedoor/sync/outbox/sealed"
)

// BenchmarkSubmitPhases splits a durable submit of three 300 KB scans (the
// form of BenchmarkSubmitVsRaw) into its phases, on a real SQLite file,
// timed at Submit's hooks: hashing the pages; validation and the rows
// written into the WAL while the pages are sealed, then the pages written
// into the pack (no flush yet); the flushes: the rows' commit (fsync of
// the WAL) and the pack's fdatasync, run at once.
func BenchmarkSubmitPhases(b *testing.B) {
	root := b.TempDir()
	s, err := Open(context.Background(), Options{
		Dir: filepath.Join(root, "data"), KeyFile: filepath.Join(root, "k"), KioskID: "K9",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		// Checkpoints are run between iterations, untimed.
		CheckpointIdle: -1,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var hashedAt, writtenAt time.Time
	s.hooks = &submitHooks{
		hashed:       func() { hashedAt = time.Now() },
		beforeCommit: func() { writtenAt = time.Now() },
	}
	rng := rand.New(rand.NewPCG(9, 10))
	var hash, write, commit time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		pages := make([][]byte, 3)
		for j := range pages {
			pages[j] = make([]byte, 300<<10)
			for k := 0; k < len(pages[j]); k += 8 {
				v := rng.Uint64()
				for m := 0; m < 8 && k+m < len(pages[j]); m++ {
					pages[j][k+m] = byte(v >> (8 * m))
				}
			}
		}
		sub := fictional(pages...)
		if i%16 == 0 {
			if err := s.Checkpoint(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		t0 := time.Now()
		if _, err := s.Submit(context.Background(), sub); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		hash += hashedAt.Sub(t0)
		write += writtenAt.Sub(hashedAt)
		commit += t1.Sub(writtenAt)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(b.N) / 1000 }
	b.ReportMetric(ms(hash), "hash-ms/op")
	b.ReportMetric(ms(write), "seal+rows+pagewrite-ms/op")
	b.ReportMetric(ms(commit), "commit||fdatasync-ms/op")
}

// BenchmarkHashSeal measures hashing and sealing the three 300 KB pages
// of a form on their own: one after another on one goroutine, and as
// Submit does it (startSealing: a goroutine per page, so both cores of
// the kiosk work on them).
func BenchmarkHashSeal(b *testing.B) {
	root := b.TempDir()
	s, err := Open(context.Background(), Options{
		Dir: filepath.Join(root, "data"), KeyFile: filepath.Join(root, "k"), KioskID: "K9",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), CheckpointIdle: -1,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(11, 12))
	pages := make([][]byte, 3)
	for j := range pages {
		pages[j] = make([]byte, 300<<10)
		for k := range pages[j] {
			pages[j][k] = byte(rng.Uint32())
		}
	}
	sub := fictional(pages...)
	b.Run("serial", func(b *testing.B) {
		b.SetBytes(3 * 300 << 10)
		for i := 0; i < b.N; i++ {
			for _, p := range pages {
				sum := sha256.Sum256(p)
				if _, err := sealed.SealStream(s.keys.blob, p, sum[:], s.segmentSize()); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetBytes(3 * 300 << 10)
		for i := 0; i < b.N; i++ {
			ps := s.startSealing(sub.Materials)
			for j := range pages {
				if _, err := ps.page(context.Background(), j); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
