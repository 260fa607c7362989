package outbox

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"
)

// phaseFS times Submit's durable steps from the outside: the first Rename
// marks the end of hashing, sealing and the parallel blob writes with their
// fsyncs; the end of SyncDir marks the end of the renames and the directory
// fsync; what follows until Submit returns is the row commit.
type phaseFS struct {
	osFS
	firstRename, dirSynced time.Time
}

func (p *phaseFS) Rename(o, n string) error {
	if p.firstRename.IsZero() {
		p.firstRename = time.Now()
	}
	return p.osFS.Rename(o, n)
}

func (p *phaseFS) SyncDir(dir string) error {
	err := p.osFS.SyncDir(dir)
	p.dirSynced = time.Now()
	return err
}

// BenchmarkSubmitPhases splits a durable submit of three 300 KB scans (the
// form of BenchmarkSubmitVsRaw) into its phases, on a real SQLite file and
// blob folder.
func BenchmarkSubmitPhases(b *testing.B) {
	root := b.TempDir()
	fsys := &phaseFS{}
	s, err := open(context.Background(), Options{
		Dir: filepath.Join(root, "data"), KeyFile: filepath.Join(root, "k"), KioskID: "K9",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, fsys)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(9, 10))
	var prep, renames, commit time.Duration
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
		fsys.firstRename, fsys.dirSynced = time.Time{}, time.Time{}
		b.StartTimer()
		t0 := time.Now()
		if _, err := s.Submit(context.Background(), sub); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		prep += fsys.firstRename.Sub(t0)
		renames += fsys.dirSynced.Sub(fsys.firstRename)
		commit += t1.Sub(fsys.dirSynced)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(b.N) / 1000 }
	b.ReportMetric(ms(prep), "hash+seal+write+fsync-ms/op")
	b.ReportMetric(ms(renames), "rename+dirsync-ms/op")
	b.ReportMetric(ms(commit), "commit-ms/op")
}
