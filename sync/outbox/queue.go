package outbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"onedoor/sync/api"
)

// Submission states.
const (
	StatePending  = "pending"  // waiting to be sent (possibly after a failed attempt)
	StateSending  = "sending"  // claimed by the engine via NextDue
	StateSent     = "sent"     // the platform acknowledged it with a case number
	StateRejected = "rejected" // the platform refused it permanently; kept for the technician
)

// Pending is a submission handed to the engine by NextDue.
type Pending struct {
	UUID    string
	Receipt string
	// Attempts counts delivery attempts started, including this one.
	Attempts int
	// Request is the body to POST, rebuilt identically on every attempt so
	// a replay with the same Idempotency-Key carries the same body.
	Request api.SubmissionRequest
	// Blobs are the distinct blobs Request names, in order; upload them
	// (OpenBlob) before posting.
	Blobs []api.BlobRef
}

// NextDue claims the oldest submission that is due at now: it moves to
// StateSending, its attempt count goes up, and it is not handed out again
// until MarkSent/MarkRetry/MarkRejected/Release, or until
// Options.ClaimLease passes (an engine that vanished without saying so). It
// returns nil, nil when nothing is due.
//
// A submission whose sealed data cannot be decrypted (a wrong data key, a
// damaged database) must not block the queue behind it: it is set aside
// for UnreadableRetry with a last error starting "unreadable:", which
// Stats reports as unhealthy, and the next one is handed out instead.
func (s *Store) NextDue(ctx context.Context, now time.Time) (*Pending, error) {
	ps, err := s.ClaimDue(ctx, now, 1, 0)
	if err != nil || len(ps) == 0 {
		return nil, err
	}
	return ps[0], nil
}

// ClaimDue is NextDue for up to maxItems submissions at once, oldest
// first, in one transaction: one commit (one fsync) instead of one per
// submission, which is what lets a drain over a fast link keep up. It
// stops adding once the claimed blobs reach maxBytes (0: no byte limit;
// the first is always claimed), so a batch of large scans on a slow link
// does not sit claimed for longer than the claim lease. It returns an
// empty slice when nothing is due. Claimed submissions the caller does
// not start must be given back with Release.
func (s *Store) ClaimDue(ctx context.Context, now time.Time, maxItems int, maxBytes int64) ([]*Pending, error) {
	if maxItems < 1 {
		maxItems = 1
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var (
		out   []*Pending
		bytes int64
	)
	full := func() bool { return len(out) >= maxItems || (maxBytes > 0 && len(out) > 0 && bytes >= maxBytes) }
	for !full() {
		// One query for the whole batch: finding the oldest due rows
		// sorts every due row, so asking once per submission would make a
		// long queue quadratic.
		asked := maxItems - len(out)
		cands, err := dueRows(ctx, tx, now, asked)
		if err != nil {
			return nil, err
		}
		for _, c := range cands {
			if full() {
				break
			}
			p, bad, err := s.claimRow(ctx, tx, now, c)
			if err != nil {
				return nil, err
			}
			if bad != nil {
				// p names the unreadable submission; set it aside and go on.
				s.log.Error("submission data unreadable; set aside", "receipt", p.Receipt, "err", bad)
				if _, err := tx.ExecContext(ctx, `UPDATE submissions SET state = 'pending', last_error = ?, next_attempt_at = ? WHERE uuid = ?`,
					truncate(UnreadablePrefix+" "+bad.Error(), 500), now.Add(UnreadableRetry).UnixMilli(), p.UUID); err != nil {
					return nil, fmt.Errorf("outbox: set aside unreadable submission: %w", mapDiskFull(err))
				}
				if err := audit(ctx, tx, now, "unreadable", p.Receipt, ""); err != nil {
					return nil, mapDiskFull(err)
				}
				continue
			}
			out = append(out, p)
			for _, b := range p.Blobs {
				bytes += b.Size
			}
		}
		if len(cands) < asked {
			break // the queue has no more due rows
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("outbox: commit claim: %w", mapDiskFull(err))
	}
	return out, nil
}

// Release gives back claimed submissions that were never started (a
// drain stopped with part of its claimed batch unsent): they are due
// again at now and their attempt count returns to what it was, since no
// attempt was made. Submissions no longer claimed are left alone.
func (s *Store) Release(ctx context.Context, ids []string, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE submissions SET state = 'pending', next_attempt_at = ?, attempts = MAX(attempts - 1, 0)
			WHERE uuid = ? AND state = 'sending'`, now.UnixMilli(), id); err != nil {
			return fmt.Errorf("outbox: release claim: %w", mapDiskFull(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("outbox: commit release: %w", mapDiskFull(err))
	}
	return nil
}

// DueNow makes every queued submission that waits for a later attempt
// (backoff after a failure, or set aside as unreadable) due at now, and
// returns their receipt numbers, oldest first. Rejected submissions stay
// rejected (Requeue is for those), and attempt counts are kept, so a
// failure afterwards backs off as before. It is for a technician who fixed
// the cause (the link, the key file) and wants everything tried at once:
// `onedoor sync now`. Each one gets an audit line.
func (s *Store) DueNow(ctx context.Context, now time.Time) ([]string, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT uuid, receipt, next_attempt_at FROM submissions
		WHERE state = 'pending' AND next_attempt_at > ? ORDER BY created_at, seq`, now.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("outbox: find waiting submissions: %w", err)
	}
	type waiting struct {
		uuid, receipt string
		next          int64
	}
	var ws []waiting
	for rows.Next() {
		var w waiting
		if err := rows.Scan(&w.uuid, &w.receipt, &w.next); err != nil {
			rows.Close()
			return nil, fmt.Errorf("outbox: find waiting submissions: %w", err)
		}
		ws = append(ws, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("outbox: find waiting submissions: %w", err)
	}
	receipts := make([]string, 0, len(ws))
	for _, w := range ws {
		if _, err := tx.ExecContext(ctx, `UPDATE submissions SET next_attempt_at = ? WHERE uuid = ?`, now.UnixMilli(), w.uuid); err != nil {
			return nil, fmt.Errorf("outbox: make submission due: %w", mapDiskFull(err))
		}
		detail := "was due " + time.UnixMilli(w.next).UTC().Format(time.RFC3339)
		if err := audit(ctx, tx, now, "due-now", w.receipt, detail); err != nil {
			return nil, mapDiskFull(err)
		}
		receipts = append(receipts, w.receipt)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("outbox: commit due-now: %w", mapDiskFull(err))
	}
	if len(receipts) > 0 {
		s.log.Info("waiting submissions made due now", "count", len(receipts))
		s.signal()
	}
	return receipts, nil
}

// UnreadablePrefix starts the last error of a submission whose stored data
// fails to decrypt; UnreadableRetry is how long it is set aside.
const (
	UnreadablePrefix = "unreadable:"
	UnreadableRetry  = time.Hour
)

// dueRow is a submission row found due, not yet claimed.
type dueRow struct {
	uuid, receipt, kiosk, item, ver string
	createdMS                       int64
	sealed                          []byte
	attempts                        int
}

// dueRows returns up to n of the oldest due submissions.
func dueRows(ctx context.Context, tx *sql.Tx, now time.Time, n int) ([]dueRow, error) {
	rows, err := tx.QueryContext(ctx, `SELECT uuid, receipt, kiosk_id, item_id, item_version, created_at, sealed, attempts
		FROM submissions
		WHERE state IN ('pending', 'sending') AND next_attempt_at <= ?
		ORDER BY created_at, seq LIMIT ?`, now.UnixMilli(), n)
	if err != nil {
		return nil, fmt.Errorf("outbox: find due submissions: %w", err)
	}
	defer rows.Close()
	var out []dueRow
	for rows.Next() {
		var r dueRow
		if err := rows.Scan(&r.uuid, &r.receipt, &r.kiosk, &r.item, &r.ver, &r.createdMS, &r.sealed, &r.attempts); err != nil {
			return nil, fmt.Errorf("outbox: find due submissions: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("outbox: find due submissions: %w", err)
	}
	return out, nil
}

// claimRow claims one due submission inside tx. It returns a non-nil bad
// error (with p naming the submission) when its sealed data does not
// decrypt.
func (s *Store) claimRow(ctx context.Context, tx *sql.Tx, now time.Time, r dueRow) (p *Pending, bad, err error) {
	kiosk, item, ver, createdMS, sealedRow := r.kiosk, r.item, r.ver, r.createdMS, r.sealed
	p = &Pending{UUID: r.uuid, Receipt: r.receipt, Attempts: r.attempts}
	p.Attempts++
	if _, err := tx.ExecContext(ctx, `UPDATE submissions SET state = 'sending', attempts = ?, next_attempt_at = ? WHERE uuid = ?`,
		p.Attempts, now.Add(s.opts.ClaimLease).UnixMilli(), p.UUID); err != nil {
		return nil, nil, fmt.Errorf("outbox: claim submission: %w", mapDiskFull(err))
	}
	if sealedRow == nil {
		return p, fmt.Errorf("%w: submission has no data", ErrCorrupt), nil
	}
	plain, err := s.keys.openRow(sealedRow, p.UUID)
	if err != nil {
		return p, fmt.Errorf("%w (wrong data key, or the database was changed)", err), nil
	}
	var payload sealedPayload
	if err := json.Unmarshal(plain, &payload); err != nil {
		return p, fmt.Errorf("%w: %w", ErrCorrupt, err), nil
	}
	mats, err := loadMaterials(ctx, tx, p.UUID)
	if err != nil {
		return nil, nil, err
	}
	p.Request = api.SubmissionRequest{
		UUID: p.UUID, Receipt: p.Receipt, KioskID: kiosk, ItemID: item, ItemVersion: ver,
		CreatedAt: time.UnixMilli(createdMS).UTC(),
		Applicant: payload.Applicant, Agent: payload.Agent, Form: payload.Form, Materials: mats,
	}
	if payload.LookupCode != "" {
		p.Request.LookupCodeSHA256 = api.LookupCodeSHA256(payload.LookupCode)
	}
	for i, text := range payload.Promises {
		if i >= 0 && i < len(mats) {
			p.Request.Materials[i].PromiseText = text
		}
	}
	for i, number := range payload.Certs {
		if i >= 0 && i < len(mats) {
			p.Request.Materials[i].CertNumber = number
		}
	}
	seen := map[string]bool{}
	for _, m := range mats {
		for _, b := range m.Pages {
			if !seen[b.SHA256] {
				seen[b.SHA256] = true
				p.Blobs = append(p.Blobs, b)
			}
		}
	}
	return p, nil, nil
}

type rowsQueryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func loadMaterials(ctx context.Context, q rowsQueryer, id string) ([]api.MaterialRef, error) {
	rows, err := q.QueryContext(ctx, `SELECT m.ord, m.material_id, m.kind, a.sha256, a.size, a.content_type
		FROM materials m LEFT JOIN attachments a ON a.submission_uuid = m.submission_uuid AND a.material_ord = m.ord
		WHERE m.submission_uuid = ? ORDER BY m.ord, a.page`, id)
	if err != nil {
		return nil, fmt.Errorf("outbox: load materials: %w", err)
	}
	defer rows.Close()
	var out []api.MaterialRef
	last := -1
	for rows.Next() {
		var (
			ord        int
			mid, kind  string
			sha, ctype sql.NullString
			size       sql.NullInt64
		)
		if err := rows.Scan(&ord, &mid, &kind, &sha, &size, &ctype); err != nil {
			return nil, fmt.Errorf("outbox: load materials: %w", err)
		}
		if ord != last {
			out = append(out, api.MaterialRef{MaterialID: mid, Kind: kind})
			last = ord
		}
		if sha.Valid {
			m := &out[len(out)-1]
			m.Pages = append(m.Pages, api.BlobRef{SHA256: sha.String, Size: size.Int64, ContentType: ctype.String})
		}
	}
	return out, rows.Err()
}

// MarkSent records that the platform acknowledged the submission with a
// case number. Repeating it is harmless. The retention period for its
// personal data starts at at.
func (s *Store) MarkSent(ctx context.Context, id, caseNumber string, at time.Time) error {
	return s.MarkSentBatch(ctx, []Sent{{UUID: id, CaseNumber: caseNumber, At: at}})
}

// Sent is one acknowledgement for MarkSentBatch.
type Sent struct {
	UUID       string
	CaseNumber string
	At         time.Time
}

// MarkSentBatch records several acknowledgements in one transaction (one
// fsync for all). It is all or nothing: on an error none is recorded, and
// the error names the first submission that could not be marked.
func (s *Store) MarkSentBatch(ctx context.Context, marks []Sent) error {
	if len(marks) == 0 {
		return nil
	}
	return s.transitions(ctx, "sent", len(marks), func(i int) string { return marks[i].UUID },
		func(tx *sql.Tx, i int, state string) (string, error) {
			m := marks[i]
			if state == StateSent {
				return "", nil
			}
			if state == StateRejected {
				return "", fmt.Errorf("%w: submission is rejected", ErrState)
			}
			_, err := tx.ExecContext(ctx, `UPDATE submissions SET state = 'sent', case_number = ?, sent_at = ?, last_error = '',
			platform_status = CASE WHEN platform_status = '' THEN 'received' ELSE platform_status END,
			status_at = COALESCE(status_at, ?)
			WHERE uuid = ?`, m.CaseNumber, m.At.UnixMilli(), m.At.UnixMilli(), m.UUID)
			return "case=" + m.CaseNumber, err
		})
}

// MarkRetry returns a claimed (or pending) submission to the queue with
// the reason of the failed attempt, due again at next.
func (s *Store) MarkRetry(ctx context.Context, id, reason string, next time.Time) error {
	return s.transition(ctx, id, "retry", func(tx *sql.Tx, state string) (string, error) {
		if state != StatePending && state != StateSending {
			return "", fmt.Errorf("%w: submission is %s", ErrState, state)
		}
		_, err := tx.ExecContext(ctx, `UPDATE submissions SET state = 'pending', last_error = ?, next_attempt_at = ? WHERE uuid = ?`,
			truncate(MaskPersonal(reason), 500), next.UnixMilli(), id)
		return "next=" + next.UTC().Format(time.RFC3339), err
	})
}

// MarkRejected records a permanent refusal by the platform. The
// submission leaves the queue but stays, with its reason, for the
// technician.
func (s *Store) MarkRejected(ctx context.Context, id, reason string) error {
	return s.transition(ctx, id, "rejected", func(tx *sql.Tx, state string) (string, error) {
		if state == StateSent {
			return "", fmt.Errorf("%w: submission was already accepted", ErrState)
		}
		_, err := tx.ExecContext(ctx, `UPDATE submissions SET state = 'rejected', last_error = ?, rejected_at = ? WHERE uuid = ?`,
			truncate(MaskPersonal(reason), 500), s.now().UnixMilli(), id)
		return "", err
	})
}

// Requeue puts a rejected submission back into the queue, due now: for the
// technician once the cause (say, an outdated catalog) is fixed.
func (s *Store) Requeue(ctx context.Context, id string) error {
	err := s.transition(ctx, id, "requeue", func(tx *sql.Tx, state string) (string, error) {
		if state != StateRejected {
			return "", fmt.Errorf("%w: submission is %s", ErrState, state)
		}
		_, err := tx.ExecContext(ctx, `UPDATE submissions SET state = 'pending', next_attempt_at = ?, rejected_at = NULL WHERE uuid = ?`,
			s.now().UnixMilli(), id)
		return "", err
	})
	if err == nil {
		s.signal()
	}
	return err
}

func (s *Store) transition(ctx context.Context, id, event string, apply func(tx *sql.Tx, state string) (string, error)) error {
	return s.transitions(ctx, event, 1, func(int) string { return id },
		func(tx *sql.Tx, _ int, state string) (string, error) { return apply(tx, state) })
}

// transitions applies the same kind of change to n submissions, with an
// audit line each, in one transaction.
func (s *Store) transitions(ctx context.Context, event string, n int, id func(i int) string,
	apply func(tx *sql.Tx, i int, state string) (string, error)) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := s.now()
	for i := 0; i < n; i++ {
		var state, receipt string
		err = tx.QueryRowContext(ctx, `SELECT state, receipt FROM submissions WHERE uuid = ?`, id(i)).Scan(&state, &receipt)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: submission %s", ErrNotFound, id(i))
		}
		if err != nil {
			return fmt.Errorf("outbox: read submission: %w", err)
		}
		detail, err := apply(tx, i, state)
		if err != nil {
			return fmt.Errorf("outbox: %s %s: %w", event, receipt, mapDiskFull(err))
		}
		if err := audit(ctx, tx, now, event, receipt, detail); err != nil {
			return mapDiskFull(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("outbox: commit %s: %w", event, mapDiskFull(err))
	}
	return nil
}

// NextAttemptAt returns when the earliest waiting submission becomes due,
// so the engine can sleep until then; ok is false when nothing waits.
func (s *Store) NextAttemptAt(ctx context.Context) (at time.Time, ok bool, err error) {
	var ms sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM submissions WHERE state IN ('pending', 'sending')`).Scan(&ms); err != nil {
		return time.Time{}, false, fmt.Errorf("outbox: next attempt: %w", err)
	}
	if !ms.Valid {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(ms.Int64), true, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary so the stored text stays valid UTF-8.
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
