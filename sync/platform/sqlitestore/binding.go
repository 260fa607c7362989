package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"onedoor/sync/platform"
)

// NoteUpload records that kioskID is uploading blob sha (length bytes),
// or moves its last-progress time forward.
func (s *Store) NoteUpload(ctx context.Context, kioskID, sha string, length int64, at time.Time) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO kiosk_uploads(kiosk, sha256, length, last_at, done) VALUES(?,?,?,?,0)
		ON CONFLICT(kiosk, sha256) DO UPDATE SET length = excluded.length, last_at = excluded.last_at`, kioskID, sha, length, ts(at))
	if err != nil {
		return fmt.Errorf("note upload: %w", err)
	}
	return nil
}

// UploadDone marks blob sha complete for every kiosk that uploaded it.
func (s *Store) UploadDone(ctx context.Context, sha string) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE kiosk_uploads SET done = 1 WHERE sha256 = ? AND done = 0`, sha); err != nil {
		return fmt.Errorf("upload done: %w", err)
	}
	return nil
}

// Unfinished lists kioskID's uploads not done that progressed at or after since.
func (s *Store) Unfinished(ctx context.Context, kioskID string, since time.Time) ([]platform.Upload, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT sha256, length, last_at FROM kiosk_uploads WHERE kiosk = ? AND done = 0 AND last_at >= ? ORDER BY last_at`, kioskID, ts(since))
	if err != nil {
		return nil, fmt.Errorf("unfinished uploads: %w", err)
	}
	defer rows.Close()
	var out []platform.Upload
	for rows.Next() {
		var u platform.Upload
		var at int64
		if err := rows.Scan(&u.SHA256, &u.Length, &at); err != nil {
			return nil, fmt.Errorf("unfinished uploads: %w", err)
		}
		u.LastAt = fromTS(at)
		out = append(out, u)
	}
	return out, rows.Err()
}

// KioskKnowsBlob reports whether kioskID uploaded blob sha or named it in
// one of its stored submissions.
func (s *Store) KioskKnowsBlob(ctx context.Context, kioskID, sha string) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT EXISTS(SELECT 1 FROM kiosk_uploads WHERE kiosk = ? AND sha256 = ?)
		OR EXISTS(SELECT 1 FROM submission_blobs b JOIN submissions s ON s.id = b.submission_id WHERE b.sha256 = ? AND s.kiosk = ?)`,
		kioskID, sha, sha, kioskID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("kiosk blob: %w", err)
	}
	return n > 0, nil
}

// RecordLookup notes that kioskID looked up receipt with proof.
func (s *Store) RecordLookup(ctx context.Context, kioskID, receipt string, at time.Time) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO lookups(kiosk, receipt, at) VALUES(?,?,?)
		ON CONFLICT(kiosk, receipt) DO UPDATE SET at = excluded.at`, kioskID, receipt, ts(at))
	if err != nil {
		return fmt.Errorf("record lookup: %w", err)
	}
	return nil
}

// MayRate reports whether a submission has receipt, and whether kioskID
// submitted it or looked it up with proof.
func (s *Store) MayRate(ctx context.Context, kioskID, receipt string) (exists, allowed bool, err error) {
	var kiosk string
	err = s.r.QueryRowContext(ctx, `SELECT kiosk FROM submissions WHERE receipt = ?`, receipt).Scan(&kiosk)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("may rate: %w", err)
	}
	if kiosk == kioskID {
		return true, true, nil
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM lookups WHERE kiosk = ? AND receipt = ?`, kioskID, receipt).Scan(&n); err != nil {
		return true, false, fmt.Errorf("may rate: %w", err)
	}
	return true, n > 0, nil
}
