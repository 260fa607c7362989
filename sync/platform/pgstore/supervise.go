package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"onedoor/sync/platform"
	"onedoor/sync/platform/storesql"
	"onedoor/sync/platform/supervise"
)

var _ supervise.Store = (*Store)(nil)

// SetStaffRole gives an existing staff account its role and scope.
func (s *Store) SetStaffRole(ctx context.Context, a supervise.Account) error {
	if !a.Role.Valid() {
		return fmt.Errorf("staff role %q: unknown role", a.Role)
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO staff_roles(username, name, role, town, set_by, set_at)
		SELECT username, $1, $2, $3, $4, $5 FROM staff WHERE username = $6
		ON CONFLICT(username) DO UPDATE SET name = excluded.name, role = excluded.role, town = excluded.town,
		set_by = excluded.set_by, set_at = excluded.set_at`, a.Name, string(a.Role), a.Town, a.SetBy, ts(a.SetAt), a.User)
	if err != nil {
		return fmt.Errorf("staff role: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("staff %q: %w", a.User, platform.ErrNotFound)
	}
	return nil
}

// StaffRole returns user's role, or ErrNotFound when none was given.
func (s *Store) StaffRole(ctx context.Context, user string) (supervise.Account, error) {
	a := supervise.Account{User: user}
	var role string
	err := s.pool.QueryRow(ctx, `SELECT name, role, town, set_by, set_at FROM staff_roles WHERE username = $1`, user).
		Scan(&a.Name, &role, &a.Town, &a.SetBy, &a.SetAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, fmt.Errorf("role of %q: %w", user, platform.ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("staff role: %w", err)
	}
	a.Role, a.SetAt = supervise.Role(role), a.SetAt.UTC()
	return a, nil
}

// StaffAccounts lists every staff account with its role (none for
// accounts not given one), by user name.
func (s *Store) StaffAccounts(ctx context.Context) ([]supervise.Account, error) {
	rows, err := s.pool.Query(ctx, `SELECT s.username, coalesce(r.name, ''), coalesce(r.role, ''), coalesce(r.town, ''),
		coalesce(r.set_by, ''), r.set_at FROM staff s LEFT JOIN staff_roles r ON r.username = s.username ORDER BY s.username`)
	if err != nil {
		return nil, fmt.Errorf("staff accounts: %w", err)
	}
	defer rows.Close()
	return storesql.ScanAccounts(dialect, rows)
}

// SetKioskTown places a kiosk in a town ("" removes it).
func (s *Store) SetKioskTown(ctx context.Context, kiosk, town string) error {
	var err error
	if town == "" {
		_, err = s.pool.Exec(ctx, `DELETE FROM kiosk_towns WHERE kiosk = $1`, kiosk)
	} else {
		_, err = s.pool.Exec(ctx, `INSERT INTO kiosk_towns(kiosk, town) VALUES($1, $2) ON CONFLICT(kiosk) DO UPDATE SET town = excluded.town`, kiosk, town)
	}
	if err != nil {
		return fmt.Errorf("kiosk town: %w", err)
	}
	return nil
}

// KioskTowns maps kiosks to their towns.
func (s *Store) KioskTowns(ctx context.Context) (map[string]string, error) {
	return s.reader().KioskTowns(ctx)
}

// Cursors returns how far the facts have been brought up to date.
func (s *Store) Cursors(ctx context.Context) (int64, int64, error) { return s.reader().Cursors(ctx) }

// ChangedCases returns the cases with status updates after the cursor, a
// feed position (seq): positions are given in commit order (see the package
// comment), so one committing late is not passed over.
func (s *Store) ChangedCases(ctx context.Context, after int64, limit int) ([]supervise.Case, int64, error) {
	q := `SELECT seq, submission_id FROM status_updates WHERE seq > $1 ORDER BY seq LIMIT $2`
	if s.naiveFeed {
		q = `SELECT id, submission_id FROM status_updates WHERE id > $1 ORDER BY id LIMIT $2`
	} else if err := s.sequence(ctx); err != nil {
		return nil, after, fmt.Errorf("changed cases: sequencing: %w", err)
	}
	rows, err := s.pool.Query(ctx, q, after, limit)
	if err != nil {
		return nil, after, fmt.Errorf("changed cases: %w", err)
	}
	ids, next, err := storesql.FeedIDs(rows, after)
	rows.Close()
	if err != nil || len(ids) == 0 {
		return nil, after, err
	}
	// Each case whole: its submission and its full history, in two
	// queries for the batch.
	byID := make(map[int64]*supervise.Case, len(ids))
	out := make([]supervise.Case, len(ids))
	for i, id := range ids {
		out[i].SubmissionID = id
		byID[id] = &out[i]
	}
	srows, err := s.pool.Query(ctx, `SELECT id, receipt, kiosk, item_id, received_at FROM submissions WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, after, fmt.Errorf("changed cases: %w", err)
	}
	for srows.Next() {
		var id int64
		var c supervise.Case
		if err := srows.Scan(&id, &c.Receipt, &c.Kiosk, &c.ItemID, &c.ReceivedAt); err != nil {
			srows.Close()
			return nil, after, fmt.Errorf("changed cases: %w", err)
		}
		p := byID[id]
		p.Receipt, p.Kiosk, p.ItemID, p.ReceivedAt = c.Receipt, c.Kiosk, c.ItemID, c.ReceivedAt.UTC()
	}
	srows.Close()
	if err := srows.Err(); err != nil {
		return nil, after, fmt.Errorf("changed cases: %w", err)
	}
	hrows, err := s.pool.Query(ctx, `SELECT submission_id, status, note, actor, at FROM status_updates
		WHERE submission_id = ANY($1) ORDER BY submission_id, id`, ids)
	if err != nil {
		return nil, after, fmt.Errorf("changed cases: %w", err)
	}
	defer hrows.Close()
	for hrows.Next() {
		var id int64
		var u supervise.Update
		if err := hrows.Scan(&id, &u.Status, &u.Note, &u.Actor, &u.At); err != nil {
			return nil, after, fmt.Errorf("changed cases: %w", err)
		}
		u.At = u.At.UTC()
		p := byID[id]
		p.History = append(p.History, u)
	}
	if err := hrows.Err(); err != nil {
		return nil, after, fmt.Errorf("changed cases: %w", err)
	}
	return out, next, nil
}

// NewRatings returns ratings after the cursor (their feed position), with
// the case each rates (SubmissionID 0 for a receipt the platform lacks).
func (s *Store) NewRatings(ctx context.Context, after int64, limit int) ([]supervise.Rating, int64, error) {
	q := `SELECT r.seq, coalesce(s.id, 0), r.receipt, r.level, r.reason, r.received_at
		FROM ratings r LEFT JOIN submissions s ON s.receipt = r.receipt WHERE r.seq > $1 ORDER BY r.seq LIMIT $2`
	if s.naiveFeed {
		q = strings.ReplaceAll(q, "r.seq", "r.id")
	} else if err := s.sequence(ctx); err != nil {
		return nil, after, fmt.Errorf("new ratings: sequencing: %w", err)
	}
	rows, err := s.pool.Query(ctx, q, after, limit)
	if err != nil {
		return nil, after, fmt.Errorf("new ratings: %w", err)
	}
	defer rows.Close()
	return storesql.ScanRatings(dialect, rows, after)
}

// CaseFacts returns one case's facts; ok is false before its first refresh.
func (s *Store) CaseFacts(ctx context.Context, id int64) (supervise.Facts, bool, error) {
	return s.reader().CaseFacts(ctx, id)
}

// EachFact streams every case's facts and rating.
func (s *Store) EachFact(ctx context.Context, fn func(supervise.FactRow) error) error {
	return s.reader().EachFact(ctx, fn)
}

// SaveFacts stores a refresh batch in one transaction. Two instances may
// refresh at once: both compute the same facts from the same history, and
// the cursors only move forward.
func (s *Store) SaveFacts(ctx context.Context, facts []supervise.Facts, ratings []supervise.Rating, tasks []supervise.FollowUp, updates, ratingsCursor int64) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, f := range facts {
			b.Queue(`INSERT INTO case_facts(`+storesql.FactCols+`) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)
			ON CONFLICT(submission_id) DO UPDATE SET town = excluded.town, staff = excluded.staff, status = excluded.status,
			start_day = excluded.start_day, due_day = excluded.due_day, decided_day = excluded.decided_day, open = excluded.open,
			returned = excluded.returned, return_reason = excluded.return_reason, work_days = excluded.work_days, on_time = excluded.on_time`,
				storesql.FactArgs(f)...)
		}
		for _, r := range ratings {
			if r.SubmissionID == 0 {
				continue
			}
			b.Queue(`UPDATE case_facts SET rating = $1, rating_reason = $2, rated_day = $3 WHERE submission_id = $4`,
				r.Level, r.Reason, int32(supervise.DayOf(r.ReceivedAt)), r.SubmissionID)
		}
		for _, t := range tasks {
			b.Queue(`INSERT INTO followups(submission_id, receipt, kiosk, town, item_id, level, reason, opened_day, due_day)
			VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT(submission_id) DO NOTHING`,
				storesql.TaskArgs(t)...)
		}
		b.Queue(`UPDATE supervise_cursor SET updates = greatest(updates, $1), ratings = greatest(ratings, $2)`, updates, ratingsCursor)
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("save facts: %w", err)
	}
	return nil
}

// Stats aggregates case_facts for q: range queries on received, decided
// and rated days, each on its own index.
func (s *Store) Stats(ctx context.Context, q supervise.Query) (supervise.Result, error) {
	return s.reader().Stats(ctx, q, func(col, from, to, cond string) storesql.StatsSQL {
		between := func(c string) string { return ` WHERE ` + c + ` BETWEEN ` + from + ` AND ` + to + ` AND ` + c + ` > 0` }
		return storesql.StatsSQL{
			Received: `SELECT ` + col + `, count(*) FROM case_facts WHERE received_day BETWEEN ` + from + ` AND ` + to + cond + ` GROUP BY 1`,
			Decided: `SELECT ` + col + `, work_days, count(*), count(*) FILTER (WHERE returned), count(*) FILTER (WHERE on_time)
		FROM case_facts` + between("decided_day") + cond + ` GROUP BY 1, 2`,
			Rated: `SELECT ` + col + `, rating, count(*) FROM case_facts` + between("rated_day") + cond + ` GROUP BY 1, 2`,
			ReturnReasons: `SELECT return_reason, count(*) FROM case_facts` + between("decided_day") + ` AND returned` + cond + `
		GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10`,
			RatingReasons: `SELECT rating, rating_reason, count(*) FROM case_facts` + between("rated_day") + ` AND rating_reason <> ''` + cond + `
		GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 20`,
		}
	})
}

// CountCases counts the cases q selects.
func (s *Store) CountCases(ctx context.Context, q supervise.CaseQuery) (int, error) {
	return s.reader().CountCases(ctx, q)
}

// Cases lists the cases q selects with their total.
func (s *Store) Cases(ctx context.Context, q supervise.CaseQuery) ([]supervise.CaseRow, int, error) {
	return s.reader().Cases(ctx, q)
}

// CountFollowUps counts the tasks q selects.
func (s *Store) CountFollowUps(ctx context.Context, q supervise.FollowUpQuery) (int, error) {
	return s.reader().CountFollowUps(ctx, q)
}

// FollowUps lists the tasks q selects, open ones first, earliest due
// first, with their steps.
func (s *Store) FollowUps(ctx context.Context, q supervise.FollowUpQuery) ([]supervise.FollowUp, error) {
	return s.reader().FollowUps(ctx, q)
}

// FollowUp returns one task with its steps.
func (s *Store) FollowUp(ctx context.Context, id int64) (supervise.FollowUp, error) {
	return s.reader().FollowUp(ctx, id)
}

// AddStep records the next step of a task; the revisit closes it. The
// task's row is locked, so two staff members on two instances recording a
// step at once are checked one after the other.
func (s *Store) AddStep(ctx context.Context, id int64, st supervise.Step) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		t, err := storesql.ScanFollowUp(tx.QueryRow(ctx, `SELECT `+storesql.FollowUpCols+` FROM followups WHERE id = $1 FOR UPDATE`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("follow-up %d: %w", id, platform.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("follow-up step: %w", err)
		}
		if err := storesql.Steps(dialect, each(ctx, tx), &t); err != nil {
			return err
		}
		if err := t.CheckStep(st); err != nil {
			return fmt.Errorf("%w: %w", platform.ErrBadTransition, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO followup_steps(followup_id, seq, kind, text, actor, at) VALUES($1,$2,$3,$4,$5,$6)`,
			id, len(t.Steps), st.Kind, st.Text, st.Actor, ts(st.At)); err != nil {
			return fmt.Errorf("follow-up step: %w", err)
		}
		if st.Kind == supervise.StepRevisit {
			if _, err := tx.Exec(ctx, `UPDATE followups SET closed = true WHERE id = $1`, id); err != nil {
				return fmt.Errorf("follow-up step: %w", err)
			}
		}
		return nil
	})
}

// dialect is PostgreSQL's for the shared supervision queries: $n
// placeholders, boolean columns, timestamptz.
var dialect = storesql.Dialect{
	Param: storesql.Numbered,
	True:  func(col string) string { return col },
	False: func(col string) string { return "NOT " + col },
	All:   "true",
	Time: func() (any, func() time.Time) {
		t := new(*time.Time)
		return t, func() time.Time {
			if *t == nil {
				return time.Time{}
			}
			return (**t).UTC()
		}
	},
}

// each runs a query on q for the shared supervision code.
func each(ctx context.Context, q interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}) storesql.Each {
	return func(text string, args []any, row func(storesql.Scanner) error) error {
		rows, err := q.Query(ctx, text, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := row(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
}

// reader answers the supervision reads whose SQL all dialects share.
func (s *Store) reader() storesql.Reader {
	return storesql.Reader{
		D:    dialect,
		Each: func(ctx context.Context) storesql.Each { return each(ctx, s.pool) },
		Row: func(ctx context.Context, text string, args ...any) storesql.Scanner {
			return s.pool.QueryRow(ctx, text, args...)
		},
		NoRows: pgx.ErrNoRows,
	}
}
