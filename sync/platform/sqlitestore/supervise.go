package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"onedoor/sync/platform"
	"onedoor/sync/platform/storesql"
	"onedoor/sync/platform/supervise"
)

var _ supervise.Store = (*Store)(nil)

// superviseMigration is migration 4: what supervision keeps beside the
// records. case_facts is derived from status_updates and ratings (the
// truth) by supervise.Refresher, one row per case, so a period's numbers
// are aggregate queries over one narrow table.
const superviseMigration = `CREATE TABLE staff_roles(user TEXT PRIMARY KEY REFERENCES staff(user), name TEXT NOT NULL,
		role TEXT NOT NULL, town TEXT NOT NULL, set_by TEXT NOT NULL, set_at INTEGER NOT NULL);
	CREATE TABLE kiosk_towns(kiosk TEXT PRIMARY KEY, town TEXT NOT NULL);
	CREATE INDEX status_updates_submission ON status_updates(submission_id, id);
	CREATE TABLE supervise_cursor(id INTEGER PRIMARY KEY CHECK(id = 1), updates INTEGER NOT NULL, ratings INTEGER NOT NULL);
	INSERT INTO supervise_cursor VALUES(1, 0, 0);
	CREATE TABLE case_facts(submission_id INTEGER PRIMARY KEY, receipt TEXT NOT NULL, kiosk TEXT NOT NULL,
		town TEXT NOT NULL, item_id TEXT NOT NULL, staff TEXT NOT NULL, status TEXT NOT NULL,
		received_day INTEGER NOT NULL, start_day INTEGER NOT NULL, due_day INTEGER NOT NULL,
		decided_day INTEGER NOT NULL, open INTEGER NOT NULL, returned INTEGER NOT NULL,
		return_reason TEXT NOT NULL, work_days INTEGER NOT NULL, on_time INTEGER NOT NULL,
		rating INTEGER NOT NULL DEFAULT 0, rating_reason TEXT NOT NULL DEFAULT '', rated_day INTEGER NOT NULL DEFAULT 0);
	CREATE INDEX case_facts_received ON case_facts(received_day);
	CREATE INDEX case_facts_decided ON case_facts(decided_day) WHERE decided_day > 0;
	CREATE INDEX case_facts_rated ON case_facts(rated_day) WHERE rated_day > 0;
	CREATE INDEX case_facts_open ON case_facts(due_day) WHERE open = 1;
	CREATE TABLE followups(id INTEGER PRIMARY KEY AUTOINCREMENT, submission_id INTEGER NOT NULL UNIQUE,
		receipt TEXT NOT NULL, kiosk TEXT NOT NULL, town TEXT NOT NULL, item_id TEXT NOT NULL,
		level INTEGER NOT NULL, reason TEXT NOT NULL, opened_day INTEGER NOT NULL, due_day INTEGER NOT NULL,
		closed INTEGER NOT NULL DEFAULT 0);
	CREATE INDEX followups_receipt ON followups(receipt);
	CREATE INDEX case_facts_receipt ON case_facts(receipt);
	CREATE TABLE followup_steps(followup_id INTEGER NOT NULL REFERENCES followups(id), seq INTEGER NOT NULL,
		kind TEXT NOT NULL, text TEXT NOT NULL, actor TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY(followup_id, seq));`

// SetStaffRole gives an existing staff account its role and scope.
func (s *Store) SetStaffRole(ctx context.Context, a supervise.Account) error {
	if !a.Role.Valid() {
		return fmt.Errorf("staff role %q: unknown role", a.Role)
	}
	res, err := s.w.ExecContext(ctx, `INSERT INTO staff_roles(user, name, role, town, set_by, set_at)
		SELECT user, ?, ?, ?, ?, ? FROM staff WHERE user = ?
		ON CONFLICT(user) DO UPDATE SET name = excluded.name, role = excluded.role, town = excluded.town,
		set_by = excluded.set_by, set_at = excluded.set_at`, a.Name, string(a.Role), a.Town, a.SetBy, ts(a.SetAt), a.User)
	if err != nil {
		return fmt.Errorf("staff role: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("staff %q: %w", a.User, platform.ErrNotFound)
	}
	return nil
}

// StaffRole returns user's role, or ErrNotFound when none was given.
func (s *Store) StaffRole(ctx context.Context, user string) (supervise.Account, error) {
	a := supervise.Account{User: user}
	var role string
	var at int64
	err := s.r.QueryRowContext(ctx, `SELECT name, role, town, set_by, set_at FROM staff_roles WHERE user = ?`, user).
		Scan(&a.Name, &role, &a.Town, &a.SetBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("role of %q: %w", user, platform.ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("staff role: %w", err)
	}
	a.Role, a.SetAt = supervise.Role(role), fromTS(at)
	return a, nil
}

// StaffAccounts lists every staff account with its role (none for
// accounts not given one), by user name.
func (s *Store) StaffAccounts(ctx context.Context) ([]supervise.Account, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT s.user, coalesce(r.name, ''), coalesce(r.role, ''), coalesce(r.town, ''),
		coalesce(r.set_by, ''), coalesce(r.set_at, 0) FROM staff s LEFT JOIN staff_roles r ON r.user = s.user ORDER BY s.user`)
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
		_, err = s.w.ExecContext(ctx, `DELETE FROM kiosk_towns WHERE kiosk = ?`, kiosk)
	} else {
		_, err = s.w.ExecContext(ctx, `INSERT INTO kiosk_towns(kiosk, town) VALUES(?, ?) ON CONFLICT(kiosk) DO UPDATE SET town = excluded.town`, kiosk, town)
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

// ChangedCases returns the cases with status updates after the cursor (a
// status update's id is its commit order: one writer).
func (s *Store) ChangedCases(ctx context.Context, after int64, limit int) ([]supervise.Case, int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, submission_id FROM status_updates WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, after, fmt.Errorf("changed cases: %w", err)
	}
	ids, next, err := storesql.FeedIDs(rows, after)
	rows.Close()
	if err != nil || len(ids) == 0 {
		return nil, after, err
	}
	conn, err := s.r.Conn(ctx)
	if err != nil {
		return nil, after, fmt.Errorf("changed cases: %w", err)
	}
	defer conn.Close()
	sub, err := conn.PrepareContext(ctx, `SELECT receipt, kiosk, item_id, received_at FROM submissions WHERE id = ?`)
	if err != nil {
		return nil, after, fmt.Errorf("changed cases: %w", err)
	}
	defer sub.Close()
	hist, err := conn.PrepareContext(ctx, `SELECT status, note, actor, at FROM status_updates WHERE submission_id = ? ORDER BY id`)
	if err != nil {
		return nil, after, fmt.Errorf("changed cases: %w", err)
	}
	defer hist.Close()
	out := make([]supervise.Case, 0, len(ids))
	for _, id := range ids {
		c := supervise.Case{SubmissionID: id}
		var recv int64
		if err := sub.QueryRowContext(ctx, id).Scan(&c.Receipt, &c.Kiosk, &c.ItemID, &recv); err != nil {
			return nil, after, fmt.Errorf("changed case %d: %w", id, err)
		}
		c.ReceivedAt = fromTS(recv)
		hr, err := hist.QueryContext(ctx, id)
		if err != nil {
			return nil, after, fmt.Errorf("changed case %d: %w", id, err)
		}
		for hr.Next() {
			var u supervise.Update
			var at int64
			if err := hr.Scan(&u.Status, &u.Note, &u.Actor, &at); err != nil {
				hr.Close()
				return nil, after, fmt.Errorf("changed case %d: %w", id, err)
			}
			u.At = fromTS(at)
			c.History = append(c.History, u)
		}
		hr.Close()
		if err := hr.Err(); err != nil {
			return nil, after, fmt.Errorf("changed case %d: %w", id, err)
		}
		out = append(out, c)
	}
	return out, next, nil
}

// NewRatings returns ratings stored after the cursor (their rowid), with
// the case each rates (SubmissionID 0 for a receipt the platform lacks).
func (s *Store) NewRatings(ctx context.Context, after int64, limit int) ([]supervise.Rating, int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT r.rowid, coalesce(s.id, 0), r.receipt, r.level, r.reason, r.received_at
		FROM ratings r LEFT JOIN submissions s ON s.receipt = r.receipt WHERE r.rowid > ? ORDER BY r.rowid LIMIT ?`, after, limit)
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

// SaveFacts stores a refresh batch in one transaction.
func (s *Store) SaveFacts(ctx context.Context, facts []supervise.Facts, ratings []supervise.Rating, tasks []supervise.FollowUp, updates, ratingsCursor int64) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save facts: %w", err)
	}
	defer tx.Rollback()
	if len(facts) > 0 {
		st, err := tx.PrepareContext(ctx, `INSERT INTO case_facts(`+storesql.FactCols+`) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
			ON CONFLICT(submission_id) DO UPDATE SET town = excluded.town, staff = excluded.staff, status = excluded.status,
			start_day = excluded.start_day, due_day = excluded.due_day, decided_day = excluded.decided_day, open = excluded.open,
			returned = excluded.returned, return_reason = excluded.return_reason, work_days = excluded.work_days, on_time = excluded.on_time`)
		if err != nil {
			return fmt.Errorf("save facts: %w", err)
		}
		defer st.Close()
		for _, f := range facts {
			if _, err := st.ExecContext(ctx, storesql.FactArgs(f)...); err != nil {
				return fmt.Errorf("save facts of case %d: %w", f.SubmissionID, err)
			}
		}
	}
	for _, r := range ratings {
		if r.SubmissionID == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE case_facts SET rating = ?, rating_reason = ?, rated_day = ? WHERE submission_id = ?`,
			r.Level, r.Reason, int64(supervise.DayOf(r.ReceivedAt)), r.SubmissionID); err != nil {
			return fmt.Errorf("save rating: %w", err)
		}
	}
	for _, t := range tasks {
		if _, err := tx.ExecContext(ctx, `INSERT INTO followups(submission_id, receipt, kiosk, town, item_id, level, reason, opened_day, due_day)
			VALUES(?,?,?,?,?,?,?,?,?) ON CONFLICT(submission_id) DO NOTHING`, storesql.TaskArgs(t)...); err != nil {
			return fmt.Errorf("open follow-up: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE supervise_cursor SET updates = max(updates, ?), ratings = max(ratings, ?)`, updates, ratingsCursor); err != nil {
		return fmt.Errorf("save facts: %w", err)
	}
	return tx.Commit()
}

// Stats aggregates case_facts for q: three range queries (received,
// decided, rated days), each on its own index.
func (s *Store) Stats(ctx context.Context, q supervise.Query) (supervise.Result, error) {
	return s.reader().Stats(ctx, q, func(col, from, to, cond string) storesql.StatsSQL {
		between := func(c string) string { return ` WHERE ` + c + ` BETWEEN ` + from + ` AND ` + to + ` AND ` + c + ` > 0` }
		return storesql.StatsSQL{
			Received: `SELECT ` + col + `, count(*) FROM case_facts WHERE received_day BETWEEN ` + from + ` AND ` + to + cond + ` GROUP BY 1`,
			Decided: `SELECT ` + col + `, work_days, count(*), sum(returned), sum(on_time) FROM case_facts` +
				between("decided_day") + cond + ` GROUP BY 1, 2`,
			Rated: `SELECT ` + col + `, rating, count(*) FROM case_facts` + between("rated_day") + cond + ` GROUP BY 1, 2`,
			ReturnReasons: `SELECT return_reason, count(*) FROM case_facts` + between("decided_day") + ` AND returned = 1` + cond + `
		GROUP BY 1 ORDER BY 2 DESC LIMIT 10`,
			RatingReasons: `SELECT rating, rating_reason, count(*) FROM case_facts` + between("rated_day") + ` AND rating_reason != ''` + cond + `
		GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 20`,
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

// AddStep records the next step of a task; the revisit closes it.
func (s *Store) AddStep(ctx context.Context, id int64, st supervise.Step) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("follow-up step: %w", err)
	}
	defer tx.Rollback()
	t, err := storesql.ScanFollowUp(tx.QueryRowContext(ctx, `SELECT `+storesql.FollowUpCols+` FROM followups WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
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
	if _, err := tx.ExecContext(ctx, `INSERT INTO followup_steps(followup_id, seq, kind, text, actor, at) VALUES(?,?,?,?,?,?)`,
		id, len(t.Steps), st.Kind, st.Text, st.Actor, ts(st.At)); err != nil {
		return fmt.Errorf("follow-up step: %w", err)
	}
	if st.Kind == supervise.StepRevisit {
		if _, err := tx.ExecContext(ctx, `UPDATE followups SET closed = 1 WHERE id = ?`, id); err != nil {
			return fmt.Errorf("follow-up step: %w", err)
		}
	}
	return tx.Commit()
}

// dialect is SQLite's for the shared supervision queries: ? placeholders,
// booleans as 0 and 1, times as Unix nanoseconds.
var dialect = storesql.Dialect{
	Param: storesql.Question,
	True:  func(col string) string { return col + " = 1" },
	False: func(col string) string { return col + " = 0" },
	All:   "1 = 1",
	Time: func() (any, func() time.Time) {
		n := new(int64)
		return n, func() time.Time { return fromTS(*n) }
	},
}

// each runs a query on q for the shared supervision code.
func each(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) storesql.Each {
	return func(text string, args []any, row func(storesql.Scanner) error) error {
		rows, err := q.QueryContext(ctx, text, args...)
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
		Each: func(ctx context.Context) storesql.Each { return each(ctx, s.r) },
		Row: func(ctx context.Context, text string, args ...any) storesql.Scanner {
			return s.r.QueryRowContext(ctx, text, args...)
		},
		NoRows: sql.ErrNoRows,
	}
}
