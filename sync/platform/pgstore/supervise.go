package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"onedoor/sync/platform"
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
	var out []supervise.Account
	for rows.Next() {
		var a supervise.Account
		var role string
		var at *time.Time
		if err := rows.Scan(&a.User, &a.Name, &role, &a.Town, &a.SetBy, &at); err != nil {
			return nil, fmt.Errorf("staff accounts: %w", err)
		}
		a.Role = supervise.Role(role)
		if at != nil {
			a.SetAt = at.UTC()
		}
		out = append(out, a)
	}
	return out, rows.Err()
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
	rows, err := s.pool.Query(ctx, `SELECT kiosk, town FROM kiosk_towns`)
	if err != nil {
		return nil, fmt.Errorf("kiosk towns: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, t string
		if err := rows.Scan(&k, &t); err != nil {
			return nil, fmt.Errorf("kiosk towns: %w", err)
		}
		out[k] = t
	}
	return out, rows.Err()
}

// Cursors returns how far the facts have been brought up to date.
func (s *Store) Cursors(ctx context.Context) (int64, int64, error) {
	var u, r int64
	if err := s.pool.QueryRow(ctx, `SELECT updates, ratings FROM supervise_cursor`).Scan(&u, &r); err != nil {
		return 0, 0, fmt.Errorf("supervise cursor: %w", err)
	}
	return u, r, nil
}

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
	next := after
	var ids []int64
	seen := map[int64]bool{}
	for rows.Next() {
		var sid int64
		if err := rows.Scan(&next, &sid); err != nil {
			rows.Close()
			return nil, after, fmt.Errorf("changed cases: %w", err)
		}
		if !seen[sid] {
			seen[sid] = true
			ids = append(ids, sid)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, after, fmt.Errorf("changed cases: %w", err)
	}
	if len(ids) == 0 {
		return nil, after, nil
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
	next := after
	var out []supervise.Rating
	for rows.Next() {
		var r supervise.Rating
		if err := rows.Scan(&r.Seq, &r.SubmissionID, &r.Receipt, &r.Level, &r.Reason, &r.ReceivedAt); err != nil {
			return nil, after, fmt.Errorf("new ratings: %w", err)
		}
		r.ReceivedAt = r.ReceivedAt.UTC()
		next = r.Seq
		out = append(out, r)
	}
	return out, next, rows.Err()
}

const factCols = `submission_id, receipt, kiosk, town, item_id, staff, status, received_day, start_day, due_day,
	decided_day, open, returned, return_reason, work_days, on_time`

func scanFacts(sc interface{ Scan(...any) error }, extra ...any) (supervise.Facts, error) {
	var f supervise.Facts
	var recv, start, due, dec int32
	err := sc.Scan(append([]any{&f.SubmissionID, &f.Receipt, &f.Kiosk, &f.Town, &f.ItemID, &f.Staff, &f.Status,
		&recv, &start, &due, &dec, &f.Open, &f.Returned, &f.ReturnReason, &f.WorkDays, &f.OnTime}, extra...)...)
	f.Received, f.Start, f.Due, f.Decided = supervise.Day(recv), supervise.Day(start), supervise.Day(due), supervise.Day(dec)
	return f, err
}

// CaseFacts returns one case's facts; ok is false before its first refresh.
func (s *Store) CaseFacts(ctx context.Context, id int64) (supervise.Facts, bool, error) {
	f, err := scanFacts(s.pool.QueryRow(ctx, `SELECT `+factCols+` FROM case_facts WHERE submission_id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return f, false, nil
	}
	if err != nil {
		return f, false, fmt.Errorf("case facts: %w", err)
	}
	return f, true, nil
}

// EachFact streams every case's facts and rating.
func (s *Store) EachFact(ctx context.Context, fn func(supervise.FactRow) error) error {
	rows, err := s.pool.Query(ctx, `SELECT `+factCols+`, rating, rating_reason, rated_day FROM case_facts ORDER BY submission_id`)
	if err != nil {
		return fmt.Errorf("each fact: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var fr supervise.FactRow
		var rated int32
		f, err := scanFacts(rows, &fr.Rating, &fr.RatingReason, &rated)
		if err != nil {
			return fmt.Errorf("each fact: %w", err)
		}
		fr.Facts, fr.Rated = f, supervise.Day(rated)
		if err := fn(fr); err != nil {
			return err
		}
	}
	return rows.Err()
}

// SaveFacts stores a refresh batch in one transaction. Two instances may
// refresh at once: both compute the same facts from the same history, and
// the cursors only move forward.
func (s *Store) SaveFacts(ctx context.Context, facts []supervise.Facts, ratings []supervise.Rating, tasks []supervise.FollowUp, updates, ratingsCursor int64) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, f := range facts {
			b.Queue(`INSERT INTO case_facts(`+factCols+`) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)
			ON CONFLICT(submission_id) DO UPDATE SET town = excluded.town, staff = excluded.staff, status = excluded.status,
			start_day = excluded.start_day, due_day = excluded.due_day, decided_day = excluded.decided_day, open = excluded.open,
			returned = excluded.returned, return_reason = excluded.return_reason, work_days = excluded.work_days, on_time = excluded.on_time`,
				f.SubmissionID, f.Receipt, f.Kiosk, f.Town, f.ItemID, f.Staff, f.Status,
				int32(f.Received), int32(f.Start), int32(f.Due), int32(f.Decided), f.Open, f.Returned,
				f.ReturnReason, f.WorkDays, f.OnTime)
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
				t.SubmissionID, t.Receipt, t.Kiosk, t.Town, t.ItemID, t.Level, t.Reason, int32(t.Opened), int32(t.Due))
		}
		b.Queue(`UPDATE supervise_cursor SET updates = greatest(updates, $1), ratings = greatest(ratings, $2)`, updates, ratingsCursor)
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("save facts: %w", err)
	}
	return nil
}

var byColumn = map[string]string{supervise.ByItem: "item_id", supervise.ByTown: "town", supervise.ByKiosk: "kiosk", supervise.ByStaff: "staff"}

// args numbers query parameters as they are added.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

func scopeSQL(sc supervise.Scope, prefix string, a *args) string {
	var where []string
	for _, c := range []struct{ col, v string }{{"town", sc.Town}, {"kiosk", sc.Kiosk}, {"item_id", sc.ItemID}, {"staff", sc.Staff}} {
		if c.v != "" {
			where = append(where, prefix+c.col+` = `+a.add(c.v))
		}
	}
	if len(where) == 0 {
		return ""
	}
	return " AND " + strings.Join(where, " AND ")
}

// Stats aggregates case_facts for q: range queries on received, decided
// and rated days, each on its own index.
func (s *Store) Stats(ctx context.Context, q supervise.Query) (supervise.Result, error) {
	res := supervise.Result{Query: q}
	col, ok := byColumn[q.By]
	if !ok {
		return res, fmt.Errorf("stats: unknown grouping %q", q.By)
	}
	var a args
	from, to := a.add(int32(q.From)), a.add(int32(q.To))
	cond := scopeSQL(q.Scope, "", &a)
	groups := map[string]*supervise.Group{}
	g := func(k string) *supervise.Group {
		if groups[k] == nil {
			groups[k] = &supervise.Group{Key: k, Days: map[int]int{}}
		}
		return groups[k]
	}
	query := func(sqlText string, scan func(pgx.Rows) error) error {
		rows, err := s.pool.Query(ctx, sqlText, a...)
		if err != nil {
			return fmt.Errorf("stats: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return fmt.Errorf("stats: %w", err)
			}
		}
		return rows.Err()
	}
	between := func(c string) string { return ` WHERE ` + c + ` BETWEEN ` + from + ` AND ` + to + ` AND ` + c + ` > 0` }
	if err := query(`SELECT `+col+`, count(*) FROM case_facts WHERE received_day BETWEEN `+from+` AND `+to+cond+` GROUP BY 1`, func(r pgx.Rows) error {
		var k string
		var n int
		err := r.Scan(&k, &n)
		g(k).Received += n
		return err
	}); err != nil {
		return res, err
	}
	if err := query(`SELECT `+col+`, work_days, count(*), count(*) FILTER (WHERE returned), count(*) FILTER (WHERE on_time)
		FROM case_facts`+between("decided_day")+cond+` GROUP BY 1, 2`, func(r pgx.Rows) error {
		var k string
		var days, n, ret, ontime int
		err := r.Scan(&k, &days, &n, &ret, &ontime)
		x := g(k)
		x.Decided += n
		x.Returned += ret
		x.FirstTime += n - ret
		x.OnTime += ontime
		x.Days[days] += n
		return err
	}); err != nil {
		return res, err
	}
	if err := query(`SELECT `+col+`, rating, count(*) FROM case_facts`+between("rated_day")+cond+` GROUP BY 1, 2`, func(r pgx.Rows) error {
		var k string
		var lvl, n int
		err := r.Scan(&k, &lvl, &n)
		if lvl >= 1 && lvl <= 5 {
			g(k).Ratings[lvl] += n
		}
		return err
	}); err != nil {
		return res, err
	}
	if err := query(`SELECT return_reason, count(*) FROM case_facts`+between("decided_day")+` AND returned`+cond+`
		GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10`, func(r pgx.Rows) error {
		var c supervise.Count
		err := r.Scan(&c.Reason, &c.N)
		res.ReturnReasons = append(res.ReturnReasons, c)
		return err
	}); err != nil {
		return res, err
	}
	if err := query(`SELECT rating, rating_reason, count(*) FROM case_facts`+between("rated_day")+` AND rating_reason <> ''`+cond+`
		GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 20`, func(r pgx.Rows) error {
		var c supervise.Count
		err := r.Scan(&c.Level, &c.Reason, &c.N)
		res.RatingReasons = append(res.RatingReasons, c)
		return err
	}); err != nil {
		return res, err
	}
	for _, x := range groups {
		res.Groups = append(res.Groups, *x)
	}
	res.Finish()
	return res, nil
}

func caseWhere(q supervise.CaseQuery, a *args) string {
	cond := scopeSQL(q.Scope, "f.", a)
	if q.Receipt != "" {
		cond += ` AND f.receipt = ` + a.add(q.Receipt)
	}
	switch {
	case q.Overdue:
		cond += ` AND f.open AND f.due_day > 0 AND f.due_day < ` + a.add(int32(q.Today))
	case q.DueSoon:
		cond += ` AND f.open AND f.due_day BETWEEN ` + a.add(int32(q.Today)) + ` AND ` + a.add(int32(q.DueSoonBy))
	case q.Open:
		cond += ` AND f.open`
	}
	return cond
}

// CountCases counts the cases q selects.
func (s *Store) CountCases(ctx context.Context, q supervise.CaseQuery) (int, error) {
	var a args
	cond := caseWhere(q, &a)
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM case_facts f WHERE true`+cond, a...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count cases: %w", err)
	}
	return n, nil
}

// Cases lists the cases q selects with their total.
func (s *Store) Cases(ctx context.Context, q supervise.CaseQuery) ([]supervise.CaseRow, int, error) {
	total, err := s.CountCases(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	var a args
	cond := caseWhere(q, &a)
	order := ` ORDER BY f.open DESC, f.due_day = 0, f.due_day, f.submission_id`
	if q.Sort == "received" {
		order = ` ORDER BY f.received_day DESC, f.submission_id DESC`
	}
	limit := q.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	cols := "f." + strings.ReplaceAll(strings.Join(strings.Fields(factCols), " "), ", ", ", f.")
	rows, err := s.pool.Query(ctx, `SELECT `+cols+`, s.uuid, s.case_number FROM case_facts f JOIN submissions s ON s.id = f.submission_id
		WHERE true`+cond+order+` LIMIT `+a.add(limit)+` OFFSET `+a.add(q.Offset), a...)
	if err != nil {
		return nil, 0, fmt.Errorf("cases: %w", err)
	}
	defer rows.Close()
	var out []supervise.CaseRow
	for rows.Next() {
		var c supervise.CaseRow
		f, err := scanFacts(rows, &c.UUID, &c.CaseNumber)
		if err != nil {
			return nil, 0, fmt.Errorf("cases: %w", err)
		}
		c.Facts = f
		out = append(out, c)
	}
	return out, total, rows.Err()
}

func followUpWhere(q supervise.FollowUpQuery, a *args) string {
	var where []string
	for _, c := range []struct{ col, v string }{{"town", q.Scope.Town}, {"kiosk", q.Scope.Kiosk}, {"item_id", q.Scope.ItemID}, {"receipt", q.Receipt}} {
		if c.v != "" {
			where = append(where, c.col+` = `+a.add(c.v))
		}
	}
	if q.Open || q.Overdue {
		where = append(where, `NOT closed`)
	}
	if q.Overdue {
		where = append(where, `due_day < `+a.add(int32(q.Today)))
	}
	if len(where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(where, " AND ")
}

// CountFollowUps counts the tasks q selects.
func (s *Store) CountFollowUps(ctx context.Context, q supervise.FollowUpQuery) (int, error) {
	var a args
	cond := followUpWhere(q, &a)
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM followups`+cond, a...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count follow-ups: %w", err)
	}
	return n, nil
}

const followUpCols = `id, submission_id, receipt, kiosk, town, item_id, level, reason, opened_day, due_day, closed`

func scanFollowUp(sc interface{ Scan(...any) error }) (supervise.FollowUp, error) {
	var t supervise.FollowUp
	var opened, due int32
	err := sc.Scan(&t.ID, &t.SubmissionID, &t.Receipt, &t.Kiosk, &t.Town, &t.ItemID, &t.Level, &t.Reason, &opened, &due, &t.Closed)
	t.Opened, t.Due = supervise.Day(opened), supervise.Day(due)
	return t, err
}

type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func steps(ctx context.Context, q queryer, t *supervise.FollowUp) error {
	rows, err := q.Query(ctx, `SELECT kind, text, actor, at FROM followup_steps WHERE followup_id = $1 ORDER BY seq`, t.ID)
	if err != nil {
		return fmt.Errorf("follow-up steps: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st supervise.Step
		if err := rows.Scan(&st.Kind, &st.Text, &st.Actor, &st.At); err != nil {
			return fmt.Errorf("follow-up steps: %w", err)
		}
		st.At = st.At.UTC()
		t.Steps = append(t.Steps, st)
	}
	return rows.Err()
}

// FollowUps lists the tasks q selects, open ones first, earliest due
// first, with their steps.
func (s *Store) FollowUps(ctx context.Context, q supervise.FollowUpQuery) ([]supervise.FollowUp, error) {
	var a args
	cond := followUpWhere(q, &a)
	limit := q.Limit
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT `+followUpCols+` FROM followups`+cond+` ORDER BY closed, due_day, id LIMIT `+a.add(limit), a...)
	if err != nil {
		return nil, fmt.Errorf("follow-ups: %w", err)
	}
	var out []supervise.FollowUp
	for rows.Next() {
		t, err := scanFollowUp(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("follow-ups: %w", err)
		}
		out = append(out, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("follow-ups: %w", err)
	}
	for i := range out {
		if err := steps(ctx, s.pool, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// FollowUp returns one task with its steps.
func (s *Store) FollowUp(ctx context.Context, id int64) (supervise.FollowUp, error) {
	t, err := scanFollowUp(s.pool.QueryRow(ctx, `SELECT `+followUpCols+` FROM followups WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, fmt.Errorf("follow-up %d: %w", id, platform.ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("follow-up: %w", err)
	}
	return t, steps(ctx, s.pool, &t)
}

// AddStep records the next step of a task; the revisit closes it. The
// task's row is locked, so two staff members on two instances recording a
// step at once are checked one after the other.
func (s *Store) AddStep(ctx context.Context, id int64, st supervise.Step) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		t, err := scanFollowUp(tx.QueryRow(ctx, `SELECT `+followUpCols+` FROM followups WHERE id = $1 FOR UPDATE`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("follow-up %d: %w", id, platform.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("follow-up step: %w", err)
		}
		if err := steps(ctx, tx, &t); err != nil {
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
