package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"onedoor/sync/api"
)

const kvStatusCursor = "status_cursor"

// Document names a JSON document the platform publishes with an ETag and
// the outbox caches: the service catalog and the working-day calendar.
type Document string

// The cached documents. Their names are the key prefixes in the kv table
// ("catalog_etag", "catalog_body"), fixed by the first migration.
const (
	DocCatalog  Document = "catalog"
	DocCalendar Document = "calendar"
)

func (d Document) etagKey() string { return string(d) + "_etag" }
func (d Document) bodyKey() string { return string(d) + "_body" }

// ApplyStatuses records status updates from the platform and the cursor to
// ask from next time, in one transaction, so a crash cannot store the
// cursor without the updates it covers. Updates for unknown submissions
// (e.g. made before this database was reset) are skipped and counted. A
// status update for a submission still queued shows the platform already
// has it (its answer was lost), so the submission counts as sent.
func (s *Store) ApplyStatuses(ctx context.Context, updates []api.StatusUpdate, cursor string) error {
	now := s.now()
	tx, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	applied, unknown := 0, 0
	for _, u := range updates {
		var id, state string
		var statusAt sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT uuid, state, status_at FROM submissions WHERE uuid = ? OR receipt = ? LIMIT 1`,
			u.UUID, u.Receipt).Scan(&id, &state, &statusAt)
		if errors.Is(err, sql.ErrNoRows) {
			unknown++
			continue
		}
		if err != nil {
			return fmt.Errorf("outbox: find submission for status: %w", err)
		}
		at := u.At.UnixMilli()
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO status_history (submission_uuid, status, at, received_at) VALUES (?, ?, ?, ?)`,
			id, u.Status, at, now.UnixMilli()); err != nil {
			return fmt.Errorf("outbox: record status: %w", mapDiskFull(err))
		}
		if statusAt.Valid && statusAt.Int64 > at {
			continue // an older update arriving late does not undo a newer one
		}
		var note []byte
		if u.Note != "" {
			if note, err = s.keys.sealRow([]byte(u.Note), id+"/note"); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE submissions SET platform_status = ?, status_note = ?, status_at = ?,
			case_number = CASE WHEN ? <> '' THEN ? ELSE case_number END
			WHERE uuid = ?`, u.Status, note, at, u.CaseNumber, u.CaseNumber, id); err != nil {
			return fmt.Errorf("outbox: update status: %w", mapDiskFull(err))
		}
		if state == StatePending || state == StateSending {
			if _, err := tx.ExecContext(ctx, `UPDATE submissions SET state = 'sent', sent_at = ?, last_error = '' WHERE uuid = ?`,
				at, id); err != nil {
				return fmt.Errorf("outbox: update status: %w", mapDiskFull(err))
			}
		}
		applied++
	}
	if err := putKV(ctx, tx, kvStatusCursor, []byte(cursor)); err != nil {
		return err
	}
	if len(updates) > 0 {
		if err := audit(ctx, tx, now, "statuses", "", fmt.Sprintf("applied=%d unknown=%d", applied, unknown)); err != nil {
			return mapDiskFull(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("outbox: commit statuses: %w", mapDiskFull(err))
	}
	return nil
}

// StatusCursor returns the cursor saved by the last ApplyStatuses, "" at
// first.
func (s *Store) StatusCursor(ctx context.Context) (string, error) {
	v, err := s.getKV(ctx, kvStatusCursor)
	return string(v), err
}

// DocumentETag returns the ETag of a cached document, "" when none.
func (s *Store) DocumentETag(ctx context.Context, doc Document) (string, error) {
	v, err := s.getKV(ctx, doc.etagKey())
	return string(v), err
}

// Document returns a cached document's body and ETag; ErrNotFound when
// none was saved yet.
func (s *Store) Document(ctx context.Context, doc Document) (body []byte, etag string, err error) {
	body, err = s.getKV(ctx, doc.bodyKey())
	if err != nil {
		return nil, "", err
	}
	if body == nil {
		return nil, "", fmt.Errorf("%w: no %s cached", ErrNotFound, doc)
	}
	e, err := s.getKV(ctx, doc.etagKey())
	return body, string(e), err
}

// SaveDocument caches a document's body with its ETag.
func (s *Store) SaveDocument(ctx context.Context, doc Document, etag string, body []byte) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := putKV(ctx, tx, doc.bodyKey(), body); err != nil {
		return err
	}
	if err := putKV(ctx, tx, doc.etagKey(), []byte(etag)); err != nil {
		return err
	}
	if err := audit(ctx, tx, s.now(), string(doc), "", fmt.Sprintf("bytes=%d", len(body))); err != nil {
		return mapDiskFull(err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("outbox: commit %s: %w", doc, mapDiskFull(err))
	}
	return nil
}

func putKV(ctx context.Context, tx *sql.Tx, key string, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
		key, value); err != nil {
		return fmt.Errorf("outbox: save %s: %w", key, mapDiskFull(err))
	}
	return nil
}

func (s *Store) getKV(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.db.QueryRowContext(ctx, `SELECT value FROM kv WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("outbox: read %s: %w", key, err)
	}
	return v, nil
}

// SaveRating queues a rating (好差评) for delivery. Saving the same UUID
// again is a no-op. The free-text reason is sealed: residents write names
// into it.
func (s *Store) SaveRating(ctx context.Context, r api.Rating) error {
	if err := s.writable(); err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("%w: rating: %w", ErrInvalid, err)
	}
	var reason []byte
	if r.Reason != "" {
		var err error
		if reason, err = s.keys.sealRow([]byte(r.Reason), "rating/"+r.UUID); err != nil {
			return err
		}
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO ratings (uuid, receipt, level, reason, at, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		r.UUID, r.Receipt, r.Level, reason, r.At.UnixMilli(), s.now().UnixMilli())
	if err != nil {
		return fmt.Errorf("outbox: save rating: %w", mapDiskFull(err))
	}
	if n, _ := res.RowsAffected(); n > 0 {
		if err := audit(ctx, tx, s.now(), "rating", r.Receipt, fmt.Sprintf("level=%d", r.Level)); err != nil {
			return mapDiskFull(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("outbox: commit rating: %w", mapDiskFull(err))
	}
	s.signal()
	return nil
}

// NextRating returns the oldest rating not yet delivered nor rejected, or
// nil.
func (s *Store) NextRating(ctx context.Context) (*api.Rating, error) {
	if s.keys == nil {
		return nil, ErrReadOnly
	}
	var r api.Rating
	var reason []byte
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT uuid, receipt, level, reason, at FROM ratings
		WHERE sent_at IS NULL AND rejected_at IS NULL ORDER BY created_at, uuid LIMIT 1`).
		Scan(&r.UUID, &r.Receipt, &r.Level, &reason, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("outbox: next rating: %w", err)
	}
	r.At = time.UnixMilli(at).UTC()
	if reason != nil {
		p, err := s.keys.openRow(reason, "rating/"+r.UUID)
		if err != nil {
			return nil, fmt.Errorf("outbox: rating %s: %w", r.UUID, err)
		}
		r.Reason = string(p)
	}
	return &r, nil
}

// MarkRatingSent records that the platform has the rating.
func (s *Store) MarkRatingSent(ctx context.Context, id string, at time.Time) error {
	if err := s.writable(); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE ratings SET sent_at = COALESCE(sent_at, ?) WHERE uuid = ?`, at.UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("outbox: mark rating sent: %w", mapDiskFull(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: rating %s", ErrNotFound, id)
	}
	return nil
}

// MarkRatingRejected records that the platform refused a rating for good
// (a 4xx verdict). The rating leaves the delivery queue, so it is not tried
// again and does not hold back the ones behind it, but it is kept with its
// reason for the technician (Stats.FailedRatings), like a rejected
// submission. The reason is masked: platform messages may quote the text.
func (s *Store) MarkRatingRejected(ctx context.Context, id, reason string) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var receipt string
	var sent sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT receipt, sent_at FROM ratings WHERE uuid = ?`, id).Scan(&receipt, &sent)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: rating %s", ErrNotFound, id)
	}
	if err != nil {
		return fmt.Errorf("outbox: read rating: %w", err)
	}
	if sent.Valid {
		return fmt.Errorf("outbox: reject rating %s: %w: the platform already has it", id, ErrState)
	}
	now := s.now()
	if _, err := tx.ExecContext(ctx, `UPDATE ratings SET rejected_at = COALESCE(rejected_at, ?), last_error = ? WHERE uuid = ?`,
		now.UnixMilli(), truncate(MaskPersonal(reason), 500), id); err != nil {
		return fmt.Errorf("outbox: reject rating: %w", mapDiskFull(err))
	}
	if err := audit(ctx, tx, now, "rating-rejected", receipt, "rating="+id); err != nil {
		return mapDiskFull(err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("outbox: commit rating rejection: %w", mapDiskFull(err))
	}
	return nil
}
