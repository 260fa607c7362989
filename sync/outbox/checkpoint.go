package outbox

import (
	"context"
	"fmt"
	"time"
)

// Checkpoints.
//
// Submit's rows go into the WAL (its pages into the page pack, pack.go);
// a checkpoint copies them into the database file and fsyncs it, after which the next writer starts the WAL
// over from its beginning (the file keeps its size up to walSizeLimit, so
// commits overwrite blocks already allocated and their fsync need not
// commit file-system metadata). SQLite's automatic checkpoint would run
// inside whichever commit crosses its threshold — inside a Submit, with a
// resident waiting for the receipt — so the writer connection has it off
// and a goroutine of the store runs checkpoints on a connection of its
// own instead: after the store has been idle for Options.CheckpointIdle,
// or at once in the background when more than walBusyBytes were written
// since the last one. A PASSIVE checkpoint takes no writer lock: a Submit
// arriving meanwhile is not held up, only shares the disk.
//
// The WAL stays bounded even if that goroutine cannot keep up, is off
// (CheckpointIdle < 0), or its process never lives long enough: SQLite's
// own automatic checkpoint stays on as a backstop at walMaxBytes of WAL
// (it counts frames in the WAL itself, whichever process wrote them), far
// above what the background checkpoints let it reach. And a store that
// opens on a large WAL another process left counts it as pending, so it
// checkpoints it at once.

const (
	// DefaultCheckpointIdle: a kiosk is idle for seconds between
	// residents; one second of quiet is enough to know a burst is over.
	DefaultCheckpointIdle = time.Second
	// walBusyBytes: checkpoint in the background without waiting for
	// quiet past this much.
	walBusyBytes = 16 << 20
	// walMaxBytes: SQLite's automatic checkpoint, in the commit that
	// passes it, as a backstop (PRAGMA wal_autocheckpoint, in pages).
	walMaxBytes = 128 << 20
	// walSizeLimit is the WAL file's size kept after it restarts
	// (PRAGMA journal_size_limit): larger is truncated back to it.
	walSizeLimit = 64 << 20
	// walPageSize is SQLite's default page size, which the outbox uses.
	walPageSize = 4096
)

// walInit returns the writer and checkpoint connections' settings the DSN
// cannot carry.
func walInit() []string {
	return []string{
		fmt.Sprintf("PRAGMA wal_autocheckpoint=%d", walMaxBytes/walPageSize),
		fmt.Sprintf("PRAGMA journal_size_limit=%d", walSizeLimit),
	}
}

// Checkpoint copies what the WAL holds into the database file now, without
// holding up writers (a PASSIVE checkpoint), then prepares zeroed room
// in the page pack for the next Submits (packZeroAhead, which takes the
// write lock for a moment when the room runs low). The background
// goroutine also moves the pack's verified mark after it
// (advanceVerified). The store runs it by itself
// when idle; callers may run it at a moment they know to be quiet.
func (s *Store) Checkpoint(ctx context.Context) error {
	if err := s.writable(); err != nil {
		return err
	}
	s.ckptMu.Lock()
	defer s.ckptMu.Unlock()
	pending := s.walPending.Load()
	var busy, logFrames, done int
	if err := s.rdb.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &done); err != nil {
		return fmt.Errorf("outbox: checkpoint: %w", mapDiskFull(err))
	}
	if logFrames == done {
		// Everything written before the checkpoint began is in the
		// database file now; what came in meanwhile stays counted.
		s.walPending.Add(-pending)
	}
	return s.packZeroAhead(ctx)
}

// noteWrite is called when a write transaction begins (bytes 0) and when a
// Submit has committed bytes of pages: it counts towards the next
// checkpoint and restarts the idle wait.
func (s *Store) noteWrite(bytes int64) {
	s.walPending.Add(bytes)
	select {
	case s.ckptNudge <- struct{}{}:
	default:
	}
}

// checkpointLoop runs checkpoints until ctx ends (Close).
func (s *Store) checkpointLoop(ctx context.Context, idle time.Duration) {
	defer close(s.ckptDone)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.ckptNudge:
		}
		if !s.waitQuiet(ctx, idle) {
			return
		}
		if err := s.Checkpoint(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("checkpoint failed", "err", err)
		}
		if err := s.advanceVerified(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("could not record the page pack as verified", "err", err)
		}
	}
}

// waitQuiet returns once no write has begun for idle, or at once when the
// WAL holds more than walBusyBytes; false when ctx ended.
func (s *Store) waitQuiet(ctx context.Context, idle time.Duration) bool {
	t := time.NewTimer(idle)
	defer t.Stop()
	for s.walPending.Load() < walBusyBytes {
		select {
		case <-ctx.Done():
			return false
		case <-s.ckptNudge:
			t.Reset(idle)
		case <-t.C:
			return true
		}
	}
	return true
}
