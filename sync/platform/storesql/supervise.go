package storesql

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"onedoor/sync/platform"
	"onedoor/sync/platform/supervise"
)

// FactCols are case_facts' columns in ScanFacts' order.
const FactCols = `submission_id, receipt, kiosk, town, item_id, staff, status, received_day, start_day, due_day,
	decided_day, open, returned, return_reason, work_days, on_time`

// ScanFacts scans FactCols, then extra.
func ScanFacts(sc Scanner, extra ...any) (supervise.Facts, error) {
	var f supervise.Facts
	var recv, start, due, dec int64
	err := sc.Scan(append([]any{&f.SubmissionID, &f.Receipt, &f.Kiosk, &f.Town, &f.ItemID, &f.Staff, &f.Status,
		&recv, &start, &due, &dec, &f.Open, &f.Returned, &f.ReturnReason, &f.WorkDays, &f.OnTime}, extra...)...)
	f.Received, f.Start, f.Due, f.Decided = supervise.Day(recv), supervise.Day(start), supervise.Day(due), supervise.Day(dec)
	return f, err
}

// FactArgs are f's values in FactCols' order.
func FactArgs(f supervise.Facts) []any {
	return []any{f.SubmissionID, f.Receipt, f.Kiosk, f.Town, f.ItemID, f.Staff, f.Status,
		int64(f.Received), int64(f.Start), int64(f.Due), int64(f.Decided), f.Open, f.Returned,
		f.ReturnReason, f.WorkDays, f.OnTime}
}

// FollowUpCols are followups' columns in ScanFollowUp's order.
const FollowUpCols = `id, submission_id, receipt, kiosk, town, item_id, level, reason, opened_day, due_day, closed`

// ScanFollowUp scans FollowUpCols.
func ScanFollowUp(sc Scanner) (supervise.FollowUp, error) {
	var t supervise.FollowUp
	var opened, due int64
	err := sc.Scan(&t.ID, &t.SubmissionID, &t.Receipt, &t.Kiosk, &t.Town, &t.ItemID, &t.Level, &t.Reason, &opened, &due, &t.Closed)
	t.Opened, t.Due = supervise.Day(opened), supervise.Day(due)
	return t, err
}

// TaskArgs are a new task's values for followups(submission_id, receipt,
// kiosk, town, item_id, level, reason, opened_day, due_day).
func TaskArgs(t supervise.FollowUp) []any {
	return []any{t.SubmissionID, t.Receipt, t.Kiosk, t.Town, t.ItemID, t.Level, t.Reason, int64(t.Opened), int64(t.Due)}
}

// ScanAccounts reads (username, name, role, town, set_by, set_at) rows.
func ScanAccounts(d Dialect, rows Rows) ([]supervise.Account, error) {
	var out []supervise.Account
	for rows.Next() {
		var a supervise.Account
		var role string
		at, get := d.Time()
		if err := rows.Scan(&a.User, &a.Name, &role, &a.Town, &a.SetBy, at); err != nil {
			return nil, fmt.Errorf("staff accounts: %w", err)
		}
		a.Role, a.SetAt = supervise.Role(role), get()
		out = append(out, a)
	}
	return out, rows.Err()
}

// FeedIDs reads (feed position, submission_id) rows of status updates
// after the cursor: the cases they name, each once in feed order, and
// the cursor to continue from.
func FeedIDs(rows Rows, after int64) ([]int64, int64, error) {
	next := after
	var ids []int64
	seen := map[int64]bool{}
	for rows.Next() {
		var sid int64
		if err := rows.Scan(&next, &sid); err != nil {
			return nil, after, fmt.Errorf("changed cases: %w", err)
		}
		if !seen[sid] {
			seen[sid] = true
			ids = append(ids, sid)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, after, fmt.Errorf("changed cases: %w", err)
	}
	return ids, next, nil
}

// ScanRatings reads (feed position, submission id, receipt, level,
// reason, received_at) rows and returns the cursor to continue from.
func ScanRatings(d Dialect, rows Rows, after int64) ([]supervise.Rating, int64, error) {
	next := after
	var out []supervise.Rating
	for rows.Next() {
		var r supervise.Rating
		at, get := d.Time()
		if err := rows.Scan(&r.Seq, &r.SubmissionID, &r.Receipt, &r.Level, &r.Reason, at); err != nil {
			return nil, after, fmt.Errorf("new ratings: %w", err)
		}
		r.ReceivedAt = get()
		next = r.Seq
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, after, err
	}
	return out, next, nil
}

// EachFact calls fn with every case's facts and rating.
func EachFact(each Each, fn func(supervise.FactRow) error) error {
	var fnErr error
	err := each(`SELECT `+FactCols+`, rating, rating_reason, rated_day FROM case_facts ORDER BY submission_id`, nil, func(sc Scanner) error {
		var fr supervise.FactRow
		var rated int64
		f, err := ScanFacts(sc, &fr.Rating, &fr.RatingReason, &rated)
		if err != nil {
			return err
		}
		fr.Facts, fr.Rated = f, supervise.Day(rated)
		fnErr = fn(fr)
		return fnErr
	})
	if err != nil && fnErr == nil {
		return fmt.Errorf("each fact: %w", err)
	}
	return err
}

// ScopeWhere is " AND col = … AND …" for the scope's set fields (columns
// prefixed), or "".
func ScopeWhere(a *Args, sc supervise.Scope, prefix string) string {
	var where []string
	for _, c := range []struct{ col, v string }{{"town", sc.Town}, {"kiosk", sc.Kiosk}, {"item_id", sc.ItemID}, {"staff", sc.Staff}} {
		if c.v != "" {
			where = append(where, prefix+c.col+` = `+a.Add(c.v))
		}
	}
	if len(where) == 0 {
		return ""
	}
	return " AND " + strings.Join(where, " AND ")
}

// CaseWhere is the condition on case_facts f that q selects, to follow
// "WHERE <All>".
func CaseWhere(a *Args, q supervise.CaseQuery) string {
	d := a.d
	cond := ScopeWhere(a, q.Scope, "f.")
	if q.Receipt != "" {
		cond += ` AND f.receipt = ` + a.Add(q.Receipt)
	}
	switch {
	case q.Overdue:
		cond += ` AND ` + d.True("f.open") + ` AND f.due_day > 0 AND f.due_day < ` + a.Add(int64(q.Today))
	case q.DueSoon:
		cond += ` AND ` + d.True("f.open") + ` AND f.due_day BETWEEN ` + a.Add(int64(q.Today)) + ` AND ` + a.Add(int64(q.DueSoonBy))
	case q.Open:
		cond += ` AND ` + d.True("f.open")
	}
	return cond
}

// CountCasesSQL counts the cases q selects.
func CountCasesSQL(d Dialect, q supervise.CaseQuery) (string, []any) {
	a := NewArgs(d)
	cond := CaseWhere(a, q)
	return `SELECT count(*) FROM case_facts f WHERE ` + d.All + cond, a.List
}

// Cases lists the cases q selects, each with its submission's uuid and
// case number.
func Cases(d Dialect, each Each, q supervise.CaseQuery) ([]supervise.CaseRow, error) {
	a := NewArgs(d)
	cond := CaseWhere(a, q)
	order := ` ORDER BY f.open DESC, f.due_day = 0, f.due_day, f.submission_id`
	if q.Sort == "received" {
		order = ` ORDER BY f.received_day DESC, f.submission_id DESC`
	}
	limit := q.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	cols := "f." + strings.ReplaceAll(strings.Join(strings.Fields(FactCols), " "), ", ", ", f.")
	text := `SELECT ` + cols + `, s.uuid, s.case_number FROM case_facts f JOIN submissions s ON s.id = f.submission_id
		WHERE ` + d.All + cond + order + ` LIMIT ` + a.Add(limit) + ` OFFSET ` + a.Add(q.Offset)
	var out []supervise.CaseRow
	err := each(text, a.List, func(sc Scanner) error {
		var c supervise.CaseRow
		f, err := ScanFacts(sc, &c.UUID, &c.CaseNumber)
		c.Facts = f
		out = append(out, c)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cases: %w", err)
	}
	return out, nil
}

// FollowUpWhere is " WHERE …" for the tasks q selects, or "".
func FollowUpWhere(a *Args, q supervise.FollowUpQuery) string {
	var where []string
	for _, c := range []struct{ col, v string }{{"town", q.Scope.Town}, {"kiosk", q.Scope.Kiosk}, {"item_id", q.Scope.ItemID}, {"receipt", q.Receipt}} {
		if c.v != "" {
			where = append(where, c.col+` = `+a.Add(c.v))
		}
	}
	if q.Open || q.Overdue {
		where = append(where, a.d.False("closed"))
	}
	if q.Overdue {
		where = append(where, `due_day < `+a.Add(int64(q.Today)))
	}
	if len(where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(where, " AND ")
}

// CountFollowUpsSQL counts the tasks q selects.
func CountFollowUpsSQL(d Dialect, q supervise.FollowUpQuery) (string, []any) {
	a := NewArgs(d)
	return `SELECT count(*) FROM followups` + FollowUpWhere(a, q), a.List
}

// FollowUps lists the tasks q selects, open ones first, earliest due
// first, without their steps.
func FollowUps(d Dialect, each Each, q supervise.FollowUpQuery) ([]supervise.FollowUp, error) {
	a := NewArgs(d)
	cond := FollowUpWhere(a, q)
	limit := q.Limit
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var out []supervise.FollowUp
	err := each(`SELECT `+FollowUpCols+` FROM followups`+cond+` ORDER BY closed, due_day, id LIMIT `+a.Add(limit), a.List, func(sc Scanner) error {
		t, err := ScanFollowUp(sc)
		out = append(out, t)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("follow-ups: %w", err)
	}
	return out, nil
}

// Steps reads task t's steps into it.
func Steps(d Dialect, each Each, t *supervise.FollowUp) error {
	err := each(`SELECT kind, text, actor, at FROM followup_steps WHERE followup_id = `+d.Param(1)+` ORDER BY seq`, []any{t.ID}, func(sc Scanner) error {
		var st supervise.Step
		at, get := d.Time()
		if err := sc.Scan(&st.Kind, &st.Text, &st.Actor, at); err != nil {
			return err
		}
		st.At = get()
		t.Steps = append(t.Steps, st)
		return nil
	})
	if err != nil {
		return fmt.Errorf("follow-up steps: %w", err)
	}
	return nil
}

// StatsSQL is a dialect's five queries of Stats, each selecting what its
// adder in Stats scans. Its arguments are from, to and the scope's.
type StatsSQL struct {
	// Received: key, count.
	Received string
	// Decided: key, work days, count, returned, on time.
	Decided string
	// Rated: key, rating, count.
	Rated string
	// ReturnReasons: reason, count; RatingReasons: level, reason, count.
	ReturnReasons, RatingReasons string
}

var byColumn = map[string]string{supervise.ByItem: "item_id", supervise.ByTown: "town", supervise.ByKiosk: "kiosk", supervise.ByStaff: "staff"}

// Stats aggregates case_facts for q. texts writes the dialect's queries
// for the grouping column col, the placeholders of the day range and the
// scope's condition.
func Stats(d Dialect, each Each, q supervise.Query, texts func(col, from, to, cond string) StatsSQL) (supervise.Result, error) {
	res := supervise.Result{Query: q}
	col, ok := byColumn[q.By]
	if !ok {
		return res, fmt.Errorf("stats: unknown grouping %q", q.By)
	}
	a := NewArgs(d)
	from, to := a.Add(int64(q.From)), a.Add(int64(q.To))
	sq := texts(col, from, to, ScopeWhere(a, q.Scope, ""))
	groups := map[string]*supervise.Group{}
	g := func(k string) *supervise.Group {
		if groups[k] == nil {
			groups[k] = &supervise.Group{Key: k, Days: map[int]int{}}
		}
		return groups[k]
	}
	query := func(text string, row func(Scanner) error) error {
		err := each(text, a.List, row)
		if err != nil {
			return fmt.Errorf("stats: %w", err)
		}
		return nil
	}
	if err := query(sq.Received, func(r Scanner) error {
		var k string
		var n int
		err := r.Scan(&k, &n)
		g(k).Received += n
		return err
	}); err != nil {
		return res, err
	}
	if err := query(sq.Decided, func(r Scanner) error {
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
	if err := query(sq.Rated, func(r Scanner) error {
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
	if err := query(sq.ReturnReasons, func(r Scanner) error {
		var c supervise.Count
		err := r.Scan(&c.Reason, &c.N)
		res.ReturnReasons = append(res.ReturnReasons, c)
		return err
	}); err != nil {
		return res, err
	}
	if err := query(sq.RatingReasons, func(r Scanner) error {
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

// Reader answers the reads of supervise.Store whose SQL is the same in
// every dialect, from a store's way of running queries.
type Reader struct {
	D Dialect
	// Each runs queries in ctx; Row runs one that returns a single row.
	Each func(ctx context.Context) Each
	Row  func(ctx context.Context, text string, args ...any) Scanner
	// NoRows is the driver's error for a single row not found.
	NoRows error
}

// KioskTowns maps kiosks to their towns.
func (r Reader) KioskTowns(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	err := r.Each(ctx)(`SELECT kiosk, town FROM kiosk_towns`, nil, func(sc Scanner) error {
		var k, t string
		err := sc.Scan(&k, &t)
		out[k] = t
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("kiosk towns: %w", err)
	}
	return out, nil
}

// Cursors returns how far the facts have been brought up to date.
func (r Reader) Cursors(ctx context.Context) (int64, int64, error) {
	var u, rt int64
	if err := r.Row(ctx, `SELECT updates, ratings FROM supervise_cursor`).Scan(&u, &rt); err != nil {
		return 0, 0, fmt.Errorf("supervise cursor: %w", err)
	}
	return u, rt, nil
}

// CaseFacts returns one case's facts; ok is false before its first refresh.
func (r Reader) CaseFacts(ctx context.Context, id int64) (supervise.Facts, bool, error) {
	f, err := ScanFacts(r.Row(ctx, `SELECT `+FactCols+` FROM case_facts WHERE submission_id = `+r.D.Param(1), id))
	if errors.Is(err, r.NoRows) {
		return f, false, nil
	}
	if err != nil {
		return f, false, fmt.Errorf("case facts: %w", err)
	}
	return f, true, nil
}

// EachFact streams every case's facts and rating.
func (r Reader) EachFact(ctx context.Context, fn func(supervise.FactRow) error) error {
	return EachFact(r.Each(ctx), fn)
}

// CountCases counts the cases q selects.
func (r Reader) CountCases(ctx context.Context, q supervise.CaseQuery) (int, error) {
	text, args := CountCasesSQL(r.D, q)
	var n int
	if err := r.Row(ctx, text, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count cases: %w", err)
	}
	return n, nil
}

// Cases lists the cases q selects with their total.
func (r Reader) Cases(ctx context.Context, q supervise.CaseQuery) ([]supervise.CaseRow, int, error) {
	total, err := r.CountCases(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	out, err := Cases(r.D, r.Each(ctx), q)
	return out, total, err
}

// CountFollowUps counts the tasks q selects.
func (r Reader) CountFollowUps(ctx context.Context, q supervise.FollowUpQuery) (int, error) {
	text, args := CountFollowUpsSQL(r.D, q)
	var n int
	if err := r.Row(ctx, text, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count follow-ups: %w", err)
	}
	return n, nil
}

// FollowUps lists the tasks q selects, open ones first, earliest due
// first, with their steps.
func (r Reader) FollowUps(ctx context.Context, q supervise.FollowUpQuery) ([]supervise.FollowUp, error) {
	out, err := FollowUps(r.D, r.Each(ctx), q)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if err := Steps(r.D, r.Each(ctx), &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// FollowUp returns one task with its steps.
func (r Reader) FollowUp(ctx context.Context, id int64) (supervise.FollowUp, error) {
	t, err := ScanFollowUp(r.Row(ctx, `SELECT `+FollowUpCols+` FROM followups WHERE id = `+r.D.Param(1), id))
	if errors.Is(err, r.NoRows) {
		return t, fmt.Errorf("follow-up %d: %w", id, platform.ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("follow-up: %w", err)
	}
	return t, Steps(r.D, r.Each(ctx), &t)
}

// Stats aggregates case_facts for q with the dialect's queries (see the
// function Stats).
func (r Reader) Stats(ctx context.Context, q supervise.Query, texts func(col, from, to, cond string) StatsSQL) (supervise.Result, error) {
	return Stats(r.D, r.Each(ctx), q, texts)
}
