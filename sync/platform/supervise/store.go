package supervise

import (
	"context"
	"fmt"
	"time"
)

// CaseQuery selects open and decided cases for the supervision list.
type CaseQuery struct {
	Scope   Scope
	Receipt string // only this receipt's case
	// Open only open cases; Overdue only open cases past due on Today;
	// DueSoon only open cases due within 2 working days (from DueSoonBy,
	// the day 2 working days after Today).
	Open, Overdue, DueSoon bool
	Today, DueSoonBy       Day
	// Sort "due" (earliest first, default) or "received" (newest first).
	Sort          string
	Limit, Offset int
}

// CaseRow is one line of the supervision list.
type CaseRow struct {
	Facts
	UUID, CaseNumber string
}

// FollowUpQuery selects follow-up tasks; Scope.Town narrows to a town.
type FollowUpQuery struct {
	Scope   Scope
	Open    bool // only tasks not closed
	Limit   int
	Today   Day
	Overdue bool // only open tasks past due on Today
	Receipt string
}

// Store keeps what supervision needs beside the platform's records. The
// SQLite store implements it; a store that does not leaves the back
// office without supervision pages. Methods answer platform.ErrNotFound
// (wrapped) for unknown ids.
type Store interface {
	// Staff roles (additive to the platform's staff table).
	SetStaffRole(ctx context.Context, a Account) error
	StaffRole(ctx context.Context, user string) (Account, error)
	StaffAccounts(ctx context.Context) ([]Account, error)
	// Towns of kiosks (a case's town is its kiosk's town when its facts
	// are computed).
	SetKioskTown(ctx context.Context, kiosk, town string) error
	KioskTowns(ctx context.Context) (map[string]string, error)

	// The refresh: ChangedCases returns whole cases having status
	// updates after the cursor (at most about limit updates) and the
	// cursor to continue from; NewRatings ratings after theirs.
	// SaveFacts stores facts (replacing a case's earlier ones, its
	// rating kept), ratings onto their cases' facts, opens tasks
	// (one per case, later ones ignored) and moves both cursors, in one
	// transaction.
	Cursors(ctx context.Context) (updates, ratings int64, err error)
	ChangedCases(ctx context.Context, after int64, limit int) ([]Case, int64, error)
	NewRatings(ctx context.Context, after int64, limit int) ([]Rating, int64, error)
	CaseFacts(ctx context.Context, submissionID int64) (Facts, bool, error)
	// EachFact calls fn with every case's stored facts and rating.
	EachFact(ctx context.Context, fn func(FactRow) error) error
	SaveFacts(ctx context.Context, facts []Facts, ratings []Rating, tasks []FollowUp, updates, ratingsCursor int64) error

	// Stats aggregates the facts for q (Groups, reasons; the caller fills
	// the open counts with Cases and FollowUps).
	Stats(ctx context.Context, q Query) (Result, error)
	CountCases(ctx context.Context, q CaseQuery) (int, error)
	Cases(ctx context.Context, q CaseQuery) ([]CaseRow, int, error)

	FollowUps(ctx context.Context, q FollowUpQuery) ([]FollowUp, error)
	CountFollowUps(ctx context.Context, q FollowUpQuery) (int, error)
	FollowUp(ctx context.Context, id int64) (FollowUp, error)
	// AddStep records s on task id if CheckStep allows it (checked in the
	// same transaction); a revisit closes the task.
	AddStep(ctx context.Context, id int64, s Step) error
}

// Refresher brings a Store's facts up to date with its records.
type Refresher struct {
	Store    Store
	Workdays *Workdays
	Limits   Limits
	// Cache, when set, is loaded on the first Refresh and kept current
	// from its own cursors.
	Cache *Cache
}

// Refresh processes every status update and rating since the last
// refresh. It is cheap when nothing changed, so pages call it before
// they read; each batch is one transaction, so a crash loses nothing.
func (r Refresher) Refresh(ctx context.Context) error {
	const batch = 5000
	var upd, rat int64
	var err error
	if c := r.Cache; c != nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		if !c.loaded {
			// Loading serves every later request, so the request that
			// happens to start it (and may give up) does not stop it.
			lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
			defer cancel()
			if err := c.load(lctx, r.Store); err != nil {
				return err
			}
		}
		upd, rat = c.upd, c.rat
	} else if upd, rat, err = r.Store.Cursors(ctx); err != nil {
		return fmt.Errorf("supervise refresh: %w", err)
	}
	towns, err := r.Store.KioskTowns(ctx)
	if err != nil {
		return fmt.Errorf("supervise refresh: %w", err)
	}
	// catchUp brings every case's facts up to date. It runs again after
	// each batch of ratings is read and before it is saved: a rating is
	// stored after its case, so its case's facts then exist for the rating
	// to land on (otherwise a case taken in and rated between the two
	// loops lost its rating; storetest.CheckSuperviseFeed).
	catchUp := func() error {
		for {
			cases, next, err := r.Store.ChangedCases(ctx, upd, batch)
			if err != nil {
				return fmt.Errorf("supervise refresh: %w", err)
			}
			if len(cases) == 0 {
				break
			}
			facts := make([]Facts, len(cases))
			for i, c := range cases {
				if c.Town == "" {
					c.Town = towns[c.Kiosk]
				}
				var lim *Limit
				if l, ok := r.Limits[c.ItemID]; ok {
					lim = &l
				}
				facts[i] = Compute(c, lim, r.Workdays)
			}
			if err := r.Store.SaveFacts(ctx, facts, nil, nil, next, rat); err != nil {
				return fmt.Errorf("supervise refresh: %w", err)
			}
			upd = next
			if c := r.Cache; c != nil {
				for _, f := range facts {
					c.put(f)
				}
				c.upd = upd
			}
		}
		return nil
	}
	if err := catchUp(); err != nil {
		return err
	}
	for {
		rs, next, err := r.Store.NewRatings(ctx, rat, batch)
		if err != nil {
			return fmt.Errorf("supervise refresh: %w", err)
		}
		if len(rs) == 0 {
			break
		}
		if err := catchUp(); err != nil {
			return err
		}
		var tasks []FollowUp
		for _, x := range rs {
			if !Bad(x.Level) || x.SubmissionID == 0 {
				continue
			}
			f, _, err := r.Store.CaseFacts(ctx, x.SubmissionID)
			if err != nil {
				return fmt.Errorf("supervise refresh: rating of %s: %w", x.Receipt, err)
			}
			tasks = append(tasks, NewFollowUp(x, f, r.Workdays))
		}
		if err := r.Store.SaveFacts(ctx, nil, rs, tasks, upd, next); err != nil {
			return fmt.Errorf("supervise refresh: %w", err)
		}
		rat = next
		if c := r.Cache; c != nil {
			for _, x := range rs {
				c.rate(x)
			}
			c.rat = rat
		}
	}
	return nil
}

// Now is the day a clock says it is.
func Now(clock func() time.Time) Day { return DayOf(clock()) }
