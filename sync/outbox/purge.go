package outbox

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"
)

// PurgeReport says what a Purge removed.
type PurgeReport struct {
	Submissions int // submissions whose personal data and scans were removed
	Ratings     int // delivered ratings deleted
	BlobFiles   int // blobs deleted: rows, and files of earlier versions
}

// Purge removes personal data of submissions the platform acknowledged
// more than Options.Retention before now: the sealed applicant and form
// data, the ID-number hash, staff notes and the attachment rows, and the
// blobs no remaining submission names (overwritten: secure_delete), then
// blob files of earlier versions no submission names. The receipt number, item,
// state, case number, status and masked name stay for lookup. Rejected and
// undelivered submissions are never purged: they still need their data.
func (s *Store) Purge(ctx context.Context, now time.Time) (PurgeReport, error) {
	var rep PurgeReport
	cutoff := now.Add(-s.opts.Retention).UnixMilli()
	tx, err := s.begin(ctx)
	if err != nil {
		return rep, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT uuid, receipt FROM submissions
		WHERE state = 'sent' AND purged_at IS NULL AND sent_at <= ?`, cutoff)
	if err != nil {
		return rep, fmt.Errorf("outbox: find expired submissions: %w", err)
	}
	var ids, receipts []string
	for rows.Next() {
		var id, receipt string
		if err := rows.Scan(&id, &receipt); err != nil {
			rows.Close()
			return rep, fmt.Errorf("outbox: find expired submissions: %w", err)
		}
		ids = append(ids, id)
		receipts = append(receipts, receipt)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("outbox: find expired submissions: %w", err)
	}
	for i, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE submissions SET sealed = NULL, id_hash = NULL, status_note = NULL, purged_at = ?
			WHERE uuid = ?`, now.UnixMilli(), id); err != nil {
			return rep, fmt.Errorf("outbox: purge submission: %w", mapDiskFull(err))
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM attachments WHERE submission_uuid = ?`, id); err != nil {
			return rep, fmt.Errorf("outbox: purge attachments: %w", mapDiskFull(err))
		}
		if err := audit(ctx, tx, now, "purge", receipts[i], ""); err != nil {
			return rep, mapDiskFull(err)
		}
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM ratings WHERE sent_at IS NOT NULL AND sent_at <= ?`, cutoff)
	if err != nil {
		return rep, fmt.Errorf("outbox: purge ratings: %w", mapDiskFull(err))
	}
	n, _ := res.RowsAffected()
	rep.Ratings = int(n)
	// In the same transaction as the rows: a Submit about to name one of
	// these blobs found it in its own transaction, which either committed
	// before this one began (and its rows keep the blob) or begins after.
	if rep.BlobFiles, err = deleteUnnamedBlobs(ctx, tx); err != nil {
		return rep, err
	}
	if err := tx.Commit(); err != nil {
		return rep, fmt.Errorf("outbox: commit purge: %w", mapDiskFull(err))
	}
	rep.Submissions = len(ids)
	// The pages of the deleted blobs are overwritten with zeros now (a
	// crash before leaves them in pack_free for the next open).
	if err := s.erasePackFree(ctx); err != nil {
		return rep, err
	}
	// The rows are gone first, so a crash here leaves only unreferenced
	// files, which the next collection removes.
	files, err := s.collectBlobFiles(ctx)
	rep.BlobFiles += files
	if err != nil {
		return rep, err
	}
	if rep.Submissions > 0 || rep.Ratings > 0 {
		s.log.Info("purged expired personal data", "submissions", rep.Submissions, "ratings", rep.Ratings, "blob_files", rep.BlobFiles)
	}
	return rep, nil
}

// PurgeEvery runs Purge (at the store clock's time) once at start and on
// every tick until ctx ends, logging failures and carrying on. The app
// runs it in a goroutine with a time.Ticker's channel; tests feed ticks by
// hand.
func (s *Store) PurgeEvery(ctx context.Context, ticks <-chan time.Time) error {
	for {
		if _, err := s.Purge(ctx, s.now()); err != nil && ctx.Err() == nil {
			s.log.Error("purge failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticks:
		}
	}
}

func countBlobFiles(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			n++
		}
	}
	return n, nil
}
