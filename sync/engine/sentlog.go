package engine

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"onedoor/sync/outbox"
)

// sentLog records the platform's acknowledgements in the outbox in groups:
// a commit starts once sentBatch acknowledgements are waiting or the oldest
// has waited sentDelay, and whatever arrives while one commit is being
// written goes into the next. So a drain costs about one commit (one
// fsync) per sentBatch submissions rather than one each, and no sender
// waits for the disk before it starts on the next submission.
//
// Deferring the mark is safe because it is only bookkeeping. Until it is
// committed the submission stays claimed ("sending"); if the kiosk crashes
// first, the next start returns it to the queue and the engine sends it
// again with the same Idempotency-Key and body, and the platform answers
// with the same case number without creating a second case (the crash
// test, sync/crashtest, checks exactly this). The delay is bounded by
// sentDelay, and a drain pass waits for its marks before it returns.
type sentLog struct {
	store interface {
		MarkSentBatch(ctx context.Context, marks []outbox.Sent) error
	}
	log *slog.Logger

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []outbox.Sent
	writing bool
	timer   *time.Timer // armed while acknowledgements wait for company
	err     error       // the first failed commit, for wait
}

const (
	sentBatch = 32
	sentDelay = 100 * time.Millisecond
)

func newSentLog(store interface {
	MarkSentBatch(ctx context.Context, marks []outbox.Sent) error
}, log *slog.Logger) *sentLog {
	l := &sentLog{store: store, log: log}
	l.cond = sync.NewCond(&l.mu)
	return l
}

// add queues an acknowledgement. It never waits for the disk.
func (l *sentLog) add(m outbox.Sent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queue = append(l.queue, m)
	switch {
	case l.writing:
		// The running writer takes it with its next batch.
	case len(l.queue) >= sentBatch:
		l.startLocked()
	case l.timer == nil:
		l.timer = time.AfterFunc(sentDelay, l.flush)
	}
}

// flush starts a writer for whatever is queued, unless one runs.
func (l *sentLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.writing && len(l.queue) > 0 {
		l.startLocked()
	}
}

func (l *sentLog) startLocked() {
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	l.writing = true
	go l.write()
}

// write commits the queue, batch after batch, until it is empty.
func (l *sentLog) write() {
	for {
		l.mu.Lock()
		batch := l.queue
		l.queue = nil
		if len(batch) == 0 {
			l.writing = false
			l.cond.Broadcast()
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
		// Not the drain's context: a shutdown must not throw away
		// acknowledgements that are already in hand.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := l.store.MarkSentBatch(ctx, batch)
		cancel()
		if err != nil {
			// The platform has them; they stay claimed and are sent again
			// (and answered identically) once the claim lease ends or the
			// kiosk restarts.
			l.log.Error("sync: recording deliveries failed", "count", len(batch), "err", err)
			l.mu.Lock()
			if l.err == nil {
				l.err = err
			}
			l.mu.Unlock()
		}
	}
}

// wait commits every queued acknowledgement at once, blocks until they are
// committed (or failed), and returns the first failure.
func (l *sentLog) wait() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.writing && len(l.queue) > 0 {
		l.startLocked()
	}
	for l.writing {
		l.cond.Wait()
	}
	return l.err
}
