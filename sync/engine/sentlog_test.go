package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"onedoor/sync/outbox"
)

// batchRecorder stands in for the outbox: it records each MarkSentBatch
// call, and fails them while fail is set. While gate is open (not yet
// closed) a commit blocks on it, as a real fsync takes time; without that an
// instant commit lets the writer take marks one by one as they trickle in,
// and how they group would depend on goroutine scheduling.
type batchRecorder struct {
	mu      sync.Mutex
	batches [][]outbox.Sent
	fail    error
	gate    chan struct{}
}

func (b *batchRecorder) MarkSentBatch(_ context.Context, marks []outbox.Sent) error {
	if b.gate != nil {
		<-b.gate
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil {
		return b.fail
	}
	b.batches = append(b.batches, append([]outbox.Sent(nil), marks...))
	return nil
}

func (b *batchRecorder) recorded() (batches, marks int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, x := range b.batches {
		marks += len(x)
	}
	return len(b.batches), marks
}

func TestSentLogGroupsAcknowledgements(t *testing.T) {
	cases := []struct {
		name        string
		adds        int
		maxBatches  int // at most this many commits
		waitForTime bool
	}{
		{"many at once go in two commits: the full batch, then all that came while it was written", 100, 2, false},
		{"a few are written together at wait", 5, 1, false},
		{"a lone one is written after the delay without wait", 1, 1, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &batchRecorder{gate: make(chan struct{})}
			l := newSentLog(rec, slog.New(slog.DiscardHandler))
			for i := range tc.adds {
				l.add(outbox.Sent{UUID: fmt.Sprint(i), CaseNumber: fmt.Sprint("C", i), At: time.Now()})
			}
			// The first commit (started by a full batch) finishes only now,
			// so everything added meanwhile must go into the next one.
			close(rec.gate)
			if tc.waitForTime {
				deadline := time.Now().Add(10 * time.Second)
				for {
					if _, n := rec.recorded(); n == tc.adds {
						break
					}
					if time.Now().After(deadline) {
						t.Fatal("acknowledgement never written without wait")
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
			if err := l.wait(); err != nil {
				t.Fatal(err)
			}
			batches, marks := rec.recorded()
			if marks != tc.adds || batches > tc.maxBatches || batches == 0 {
				t.Fatalf("%d marks in %d commits, want %d in at most %d", marks, batches, tc.adds, tc.maxBatches)
			}
			seen := map[string]bool{}
			for _, b := range rec.batches {
				for _, m := range b {
					if seen[m.UUID] {
						t.Errorf("%s written twice", m.UUID)
					}
					seen[m.UUID] = true
				}
			}
		})
	}
}

func TestSentLogReportsFailure(t *testing.T) {
	boom := errors.New("disk on fire")
	rec := &batchRecorder{fail: boom}
	l := newSentLog(rec, slog.New(slog.DiscardHandler))
	l.add(outbox.Sent{UUID: "a", CaseNumber: "C1", At: time.Now()})
	if err := l.wait(); !errors.Is(err, boom) {
		t.Fatalf("wait = %v, want the commit's failure", err)
	}
}
