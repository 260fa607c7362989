package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// Record is what a lookup shows of a submission: no personal data beyond
// the masked name, so it can be shown on screen and after purge.
type Record struct {
	Receipt        string
	UUID           string
	ItemID         string
	ItemVersion    string
	MaskedName     string
	State          string
	Attempts       int
	LastError      string
	CaseNumber     string
	PlatformStatus string
	CreatedAt      time.Time
	SentAt         time.Time // zero until sent
	StatusAt       time.Time // zero until a status arrived
	Purged         bool      // personal data and scans removed after retention
	// StatusNote is the staff's note with the latest status (e.g. what to
	// correct). Only LookupByID fills it: the resident proved who they
	// are with their card, while receipt numbers are guessable.
	StatusNote string
}

const recordColumns = `receipt, uuid, item_id, item_version, masked_name, state, attempts, last_error,
	case_number, platform_status, created_at, sent_at, status_at, purged_at`

func scanRecord(sc interface{ Scan(...any) error }, extra ...any) (Record, error) {
	var r Record
	var created int64
	var sent, status, purged sql.NullInt64
	dest := append([]any{&r.Receipt, &r.UUID, &r.ItemID, &r.ItemVersion, &r.MaskedName, &r.State, &r.Attempts, &r.LastError,
		&r.CaseNumber, &r.PlatformStatus, &created, &sent, &status, &purged}, extra...)
	err := sc.Scan(dest...)
	if err != nil {
		return r, err
	}
	r.CreatedAt = time.UnixMilli(created).UTC()
	if sent.Valid {
		r.SentAt = time.UnixMilli(sent.Int64).UTC()
	}
	if status.Valid {
		r.StatusAt = time.UnixMilli(status.Int64).UTC()
	}
	r.Purged = purged.Valid
	return r, nil
}

// Lookup finds a submission by receipt number; ErrNotFound if none.
func (s *Store) Lookup(ctx context.Context, receipt string) (Record, error) {
	r, err := scanRecord(s.db.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM submissions WHERE receipt = ?`, receipt))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("%w: receipt %s", ErrNotFound, receipt)
	}
	if err != nil {
		return r, fmt.Errorf("outbox: lookup: %w", err)
	}
	return r, nil
}

// LookupByID finds a resident's submissions, newest first, through the
// keyed hash of their ID number. Purged submissions no longer carry the
// hash and are not found this way (their receipt still finds them).
func (s *Store) LookupByID(ctx context.Context, idNumber string) ([]Record, error) {
	if s.keys == nil {
		return nil, ErrReadOnly
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+recordColumns+`, status_note FROM submissions WHERE id_hash = ? ORDER BY created_at DESC, seq DESC`,
		s.keys.idHash(idNumber))
	if err != nil {
		return nil, fmt.Errorf("outbox: lookup by ID: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var note []byte
		r, err := scanRecord(rows, &note)
		if err != nil {
			return nil, fmt.Errorf("outbox: lookup by ID: %w", err)
		}
		if note != nil {
			p, err := s.keys.openRow(note, r.UUID+"/note")
			if err != nil {
				return nil, fmt.Errorf("outbox: status note of %s: %w", r.Receipt, err)
			}
			r.StatusNote = string(p)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Failure is a submission that needs a technician's eye: rejected by the
// platform, or still queued after failed attempts.
type Failure struct {
	Receipt       string    `json:"receipt"`
	UUID          string    `json:"uuid"`
	State         string    `json:"state"`
	Attempts      int       `json:"attempts"`
	Reason        string    `json:"reason"`
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
}

// RatingFailure is a rating the platform refused for good; it is kept,
// not retried.
type RatingFailure struct {
	UUID       string    `json:"uuid"`
	Receipt    string    `json:"receipt,omitempty"`
	Reason     string    `json:"reason"`
	RejectedAt time.Time `json:"rejected_at"`
}

// Stats is the state of the queue, for `onedoor queue`, the heartbeat and
// the technician screen.
type Stats struct {
	Counts map[string]int `json:"counts"` // by state, every state present
	// Queued counts submissions not yet delivered (pending + sending).
	Queued int `json:"queued"`
	// OldestQueued is the creation time of the oldest undelivered
	// submission; zero when none. OldestAge is its age by the store clock.
	OldestQueued time.Time     `json:"oldest_queued,omitzero"`
	OldestAge    time.Duration `json:"-"`
	// BytesLeft is the plaintext size of the distinct blobs undelivered
	// submissions name: what the engine still has to upload, at most.
	BytesLeft int64 `json:"bytes_left"`
	// Unreadable counts queued submissions whose data does not decrypt.
	Unreadable    int       `json:"unreadable"`
	RatingsQueued int       `json:"ratings_queued"`
	Purged        int       `json:"purged"`
	Failed        []Failure `json:"failed"`
	// RatingsRejected counts ratings the platform refused; FailedRatings
	// lists them, oldest first, at most 100.
	RatingsRejected int             `json:"ratings_rejected"`
	FailedRatings   []RatingFailure `json:"failed_ratings"`
	FreeDiskBytes   int64           `json:"free_disk_bytes"`
	BlobFiles       int             `json:"blob_files"` // blobs stored, in the database or as files
	SchemaVersion   int             `json:"schema_version"`
	StatusCursor    string          `json:"status_cursor"`
	CatalogETag     string          `json:"catalog_etag"`
	LastSentAt      time.Time       `json:"last_sent_at,omitzero"`
}

// Stats summarises the queue. Failed lists rejected submissions and queued
// ones whose last attempt failed, oldest first, at most 100.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	st := Stats{Counts: map[string]int{StatePending: 0, StateSending: 0, StateSent: 0, StateRejected: 0}, Failed: []Failure{}, FailedRatings: []RatingFailure{}}
	rows, err := s.db.QueryContext(ctx, `SELECT state, COUNT(*) FROM submissions GROUP BY state`)
	if err != nil {
		return st, fmt.Errorf("outbox: stats: %w", err)
	}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			rows.Close()
			return st, fmt.Errorf("outbox: stats: %w", err)
		}
		st.Counts[state] = n
	}
	rows.Close()
	st.Queued = st.Counts[StatePending] + st.Counts[StateSending]

	var oldest, lastSent sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT
		(SELECT MIN(created_at) FROM submissions WHERE state IN ('pending', 'sending')),
		(SELECT MAX(sent_at) FROM submissions),
		(SELECT COALESCE(SUM(size), 0) FROM (SELECT DISTINCT a.sha256, a.size FROM attachments a
			JOIN submissions s ON s.uuid = a.submission_uuid WHERE s.state IN ('pending', 'sending'))),
		(SELECT COUNT(*) FROM ratings WHERE sent_at IS NULL AND rejected_at IS NULL),
		(SELECT COUNT(*) FROM ratings WHERE sent_at IS NULL AND rejected_at IS NOT NULL),
		(SELECT COUNT(*) FROM submissions WHERE purged_at IS NOT NULL),
		(SELECT COUNT(*) FROM submissions WHERE state IN ('pending', 'sending') AND last_error LIKE ? || '%')`, UnreadablePrefix).
		Scan(&oldest, &lastSent, &st.BytesLeft, &st.RatingsQueued, &st.RatingsRejected, &st.Purged, &st.Unreadable); err != nil {
		return st, fmt.Errorf("outbox: stats: %w", err)
	}
	if oldest.Valid {
		st.OldestQueued = time.UnixMilli(oldest.Int64).UTC()
		st.OldestAge = max(0, s.now().Sub(st.OldestQueued))
	}
	if lastSent.Valid {
		st.LastSentAt = time.UnixMilli(lastSent.Int64).UTC()
	}

	rows, err = s.db.QueryContext(ctx, `SELECT receipt, uuid, state, attempts, last_error, next_attempt_at FROM submissions
		WHERE state = 'rejected' OR (state IN ('pending', 'sending') AND last_error <> '')
		ORDER BY created_at LIMIT 100`)
	if err != nil {
		return st, fmt.Errorf("outbox: stats: %w", err)
	}
	for rows.Next() {
		var f Failure
		var next int64
		if err := rows.Scan(&f.Receipt, &f.UUID, &f.State, &f.Attempts, &f.Reason, &next); err != nil {
			rows.Close()
			return st, fmt.Errorf("outbox: stats: %w", err)
		}
		if f.State != StateRejected {
			f.NextAttemptAt = time.UnixMilli(next).UTC()
		}
		st.Failed = append(st.Failed, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("outbox: stats: %w", err)
	}

	rows, err = s.db.QueryContext(ctx, `SELECT uuid, receipt, last_error, rejected_at FROM ratings
		WHERE sent_at IS NULL AND rejected_at IS NOT NULL ORDER BY created_at, uuid LIMIT 100`)
	if err != nil {
		return st, fmt.Errorf("outbox: stats: %w", err)
	}
	for rows.Next() {
		var f RatingFailure
		var at int64
		if err := rows.Scan(&f.UUID, &f.Receipt, &f.Reason, &at); err != nil {
			rows.Close()
			return st, fmt.Errorf("outbox: stats: %w", err)
		}
		f.RejectedAt = time.UnixMilli(at).UTC()
		st.FailedRatings = append(st.FailedRatings, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("outbox: stats: %w", err)
	}

	if st.SchemaVersion, err = schemaVersion(ctx, s.db); err != nil {
		return st, err
	}
	if st.StatusCursor, err = s.StatusCursor(ctx); err != nil {
		return st, err
	}
	if st.CatalogETag, err = s.DocumentETag(ctx, DocCatalog); err != nil {
		return st, err
	}
	var fsst unix.Statfs_t
	if err := unix.Statfs(s.dir, &fsst); err == nil {
		st.FreeDiskBytes = int64(fsst.Bavail) * int64(fsst.Bsize)
	}
	if st.BlobFiles, err = s.countBlobs(ctx); err != nil {
		return st, err
	}
	return st, nil
}

// StatusEntry is one status a submission had on the platform.
type StatusEntry struct {
	Status string
	At     time.Time
}

// History returns the platform statuses of a submission, oldest first, as
// the resident's progress screen shows them.
func (s *Store) History(ctx context.Context, receipt string) ([]StatusEntry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT h.status, h.at FROM status_history h
		JOIN submissions s ON s.uuid = h.submission_uuid WHERE s.receipt = ? ORDER BY h.at, h.status`, receipt)
	if err != nil {
		return nil, fmt.Errorf("outbox: history: %w", err)
	}
	defer rows.Close()
	var out []StatusEntry
	for rows.Next() {
		var e StatusEntry
		var at int64
		if err := rows.Scan(&e.Status, &at); err != nil {
			return nil, fmt.Errorf("outbox: history: %w", err)
		}
		e.At = time.UnixMilli(at).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
