package supervise

import (
	"context"
	"fmt"
	"sync"
)

// FactRow is a case's stored facts with its rating, as EachFact gives them.
type FactRow struct {
	Facts
	Rating       int
	RatingReason string
	Rated        Day
}

// Cache holds every case's facts in memory, compactly, so a period's
// numbers over a million cases are a scan of a slice rather than of the
// database (a GROUP BY over a million rows costs SQLite seconds). It is
// derived data: loaded from the Store once, then kept current by the
// Refresher from the Store's records with a cursor of its own, so an
// instance also sees what other instances recorded. Safe for concurrent
// use.
type Cache struct {
	mu       sync.Mutex
	loaded   bool
	upd, rat int64
	names    map[string]uint32
	name     []string
	idx      map[int64]int32
	rows     []cacheRow
}

type cacheRow struct {
	item, town, kiosk, staff uint32
	retReason, ratReason     uint32
	received, decided, rated Day
	due                      Day
	work                     int16
	open, returned, onTime   bool
	rating                   int8
}

// NewCache returns an empty cache; the first Refresh loads it.
func NewCache() *Cache {
	return &Cache{names: map[string]uint32{"": 0}, name: []string{""}, idx: map[int64]int32{}}
}

func (c *Cache) intern(s string) uint32 {
	if id, ok := c.names[s]; ok {
		return id
	}
	id := uint32(len(c.name))
	c.names[s] = id
	c.name = append(c.name, s)
	return id
}

func (c *Cache) put(f Facts) {
	r := cacheRow{item: c.intern(f.ItemID), town: c.intern(f.Town), kiosk: c.intern(f.Kiosk), staff: c.intern(f.Staff),
		retReason: c.intern(f.ReturnReason), received: f.Received, decided: f.Decided, due: f.Due,
		work: int16(max(-1, min(f.WorkDays, 32767))), open: f.Open, returned: f.Returned, onTime: f.OnTime}
	if i, ok := c.idx[f.SubmissionID]; ok {
		old := c.rows[i]
		r.rating, r.ratReason, r.rated = old.rating, old.ratReason, old.rated
		c.rows[i] = r
		return
	}
	c.idx[f.SubmissionID] = int32(len(c.rows))
	c.rows = append(c.rows, r)
}

func (c *Cache) rate(r Rating) {
	if i, ok := c.idx[r.SubmissionID]; ok {
		c.rows[i].rating, c.rows[i].ratReason, c.rows[i].rated = int8(r.Level), c.intern(r.Reason), DayOf(r.ReceivedAt)
	}
}

// load reads the store's cursors, then every stored fact: facts newer than
// the cursors are recomputed to the same values by the next refresh.
func (c *Cache) load(ctx context.Context, st Store) error {
	upd, rat, err := st.Cursors(ctx)
	if err != nil {
		return err
	}
	err = st.EachFact(ctx, func(f FactRow) error {
		c.put(f.Facts)
		if f.Rating != 0 {
			i := c.idx[f.SubmissionID]
			c.rows[i].rating, c.rows[i].ratReason, c.rows[i].rated = int8(f.Rating), c.intern(f.RatingReason), f.Rated
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("loading supervision cache: %w", err)
	}
	c.upd, c.rat, c.loaded = upd, rat, true
	return nil
}

// Len is how many cases the cache holds.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.rows)
}

// Stats computes q's groups and reasons as Store.Stats does.
func (c *Cache) Stats(q Query) (Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	res := Result{Query: q}
	if !ValidBy(q.By) {
		return res, fmt.Errorf("stats: unknown grouping %q", q.By)
	}
	// A scope naming something never seen matches nothing.
	want := func(s string) (uint32, bool, bool) {
		if s == "" {
			return 0, false, true
		}
		id, ok := c.names[s]
		return id, true, ok
	}
	town, byTown, ok1 := want(q.Scope.Town)
	kiosk, byKiosk, ok2 := want(q.Scope.Kiosk)
	item, byItem, ok3 := want(q.Scope.ItemID)
	staff, byStaff, ok4 := want(q.Scope.Staff)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		res.Finish()
		return res, nil
	}
	type agg struct {
		g    Group
		used bool
	}
	groups := make([]agg, len(c.name))
	retReasons, ratReasons := map[uint32]int{}, map[[2]uint32]int{}
	in := func(d Day) bool { return d != 0 && d >= q.From && d <= q.To }
	for i := range c.rows {
		r := &c.rows[i]
		if byTown && r.town != town || byKiosk && r.kiosk != kiosk || byItem && r.item != item || byStaff && r.staff != staff {
			continue
		}
		var k uint32
		switch q.By {
		case ByItem:
			k = r.item
		case ByTown:
			k = r.town
		case ByKiosk:
			k = r.kiosk
		default:
			k = r.staff
		}
		g := &groups[k]
		if in(r.received) {
			g.used = true
			g.g.Received++
		}
		if in(r.decided) {
			g.used = true
			g.g.Decided++
			if r.returned {
				g.g.Returned++
				retReasons[r.retReason]++
			} else {
				g.g.FirstTime++
			}
			if r.onTime {
				g.g.OnTime++
			}
			if g.g.Days == nil {
				g.g.Days = map[int]int{}
			}
			g.g.Days[int(r.work)]++
		}
		if r.rating >= 1 && r.rating <= 5 && in(r.rated) {
			g.used = true
			g.g.Ratings[r.rating]++
			if r.ratReason != 0 {
				ratReasons[[2]uint32{uint32(r.rating), r.ratReason}]++
			}
		}
	}
	for k := range groups {
		if groups[k].used {
			g := groups[k].g
			g.Key = c.name[k]
			if g.Days == nil {
				g.Days = map[int]int{}
			}
			res.Groups = append(res.Groups, g)
		}
	}
	for k, n := range retReasons {
		res.ReturnReasons = append(res.ReturnReasons, Count{Reason: c.name[k], N: n})
	}
	for k, n := range ratReasons {
		res.RatingReasons = append(res.RatingReasons, Count{Level: int(k[0]), Reason: c.name[k[1]], N: n})
	}
	res.Finish()
	if len(res.ReturnReasons) > 10 {
		res.ReturnReasons = res.ReturnReasons[:10]
	}
	if len(res.RatingReasons) > 20 {
		res.RatingReasons = res.RatingReasons[:20]
	}
	return res, nil
}
