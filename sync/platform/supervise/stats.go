package supervise

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// Dimensions a period's numbers are grouped by.
const (
	ByItem  = "item"
	ByTown  = "town"
	ByKiosk = "kiosk"
	ByStaff = "staff"
)

// ValidBy reports whether by is a grouping the statistics know.
func ValidBy(by string) bool { return by == ByItem || by == ByTown || by == ByKiosk || by == ByStaff }

// Scope narrows statistics and lists; empty fields match all.
type Scope struct {
	Town, Kiosk, ItemID, Staff string
}

// Query asks for the numbers of the days From..To (inclusive) within
// Scope, grouped By one dimension. Applications count on the day received,
// decisions on the day decided, ratings on the day received.
type Query struct {
	From, To Day
	By       string
	Scope    Scope
}

// Group is one row of the numbers: a value of the grouping dimension, or
// the total ("" key).
type Group struct {
	Key      string
	Received int
	// Decided cases (approved, rejected, returned) and of those the ones
	// accepted without a return for correction, returned, decided on time.
	Decided, FirstTime, Returned, OnTime int
	// Days is the histogram of processing times of decided cases:
	// Days[n] cases took n working days.
	Days map[int]int
	// Ratings[level] counts ratings 1 (非常不满意) … 5 (非常满意).
	Ratings [6]int
}

// Add merges o's counts into g.
func (g *Group) Add(o Group) {
	g.Received += o.Received
	g.Decided += o.Decided
	g.FirstTime += o.FirstTime
	g.Returned += o.Returned
	g.OnTime += o.OnTime
	if g.Days == nil {
		g.Days = map[int]int{}
	}
	for d, n := range o.Days {
		g.Days[d] += n
	}
	for i := range g.Ratings {
		g.Ratings[i] += o.Ratings[i]
	}
}

// FirstTimeRate is 收件及格率: accepted without a return ÷ decided (0 when
// nothing was decided).
func (g Group) FirstTimeRate() float64 { return ratio(g.FirstTime, g.Decided) }

// OnTimeRate is decided on time ÷ decided.
func (g Group) OnTimeRate() float64 { return ratio(g.OnTime, g.Decided) }

// RatingCount is how many ratings there were.
func (g Group) RatingCount() int {
	return g.Ratings[1] + g.Ratings[2] + g.Ratings[3] + g.Ratings[4] + g.Ratings[5]
}

// RatingBad counts 不满意 and 非常不满意.
func (g Group) RatingBad() int { return g.Ratings[1] + g.Ratings[2] }

// Median and P90 are nearest-rank percentiles of the processing time in
// working days (the smallest value at or above that share of decided
// cases), -1 when nothing was decided. Nearest rank keeps them whole days,
// which is how a hall reports them.
func (g Group) Median() int { return g.percentile(0.5) }

// P90 is the 90th percentile, see Median.
func (g Group) P90() int { return g.percentile(0.9) }

func (g Group) percentile(p float64) int {
	n := 0
	for _, c := range g.Days {
		n += c
	}
	if n == 0 {
		return -1
	}
	rank := int(math.Ceil(p * float64(n)))
	rank = max(rank, 1)
	days := make([]int, 0, len(g.Days))
	for d := range g.Days {
		days = append(days, d)
	}
	slices.Sort(days)
	seen := 0
	for _, d := range days {
		seen += g.Days[d]
		if seen >= rank {
			return d
		}
	}
	return days[len(days)-1]
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Count is a reason (of returns, of ratings) and how often it was given.
type Count struct {
	Level  int // rating level, for rating reasons
	Reason string
	N      int
}

// Result is the answer to a Query.
type Result struct {
	Query  Query
	Groups []Group // by key, ascending
	Total  Group
	// ReturnReasons and RatingReasons are the most frequent reasons,
	// most frequent first.
	ReturnReasons, RatingReasons []Count
	// OpenOverdue counts open cases in scope past their due day on the
	// day the result was made, and OpenDueSoon those due within 2
	// working days; FollowUpsOpen and FollowUpsOverdue count follow-up
	// tasks of bad ratings.
	OpenOverdue, OpenDueSoon        int
	FollowUpsOpen, FollowUpsOverdue int
}

// Finish sorts the groups and computes the total.
func (r *Result) Finish() {
	sort.Slice(r.Groups, func(i, j int) bool { return r.Groups[i].Key < r.Groups[j].Key })
	r.Total = Group{Days: map[int]int{}}
	for _, g := range r.Groups {
		r.Total.Add(g)
	}
	for _, cs := range [][]Count{r.ReturnReasons, r.RatingReasons} {
		sort.SliceStable(cs, func(i, j int) bool {
			if cs[i].N != cs[j].N {
				return cs[i].N > cs[j].N
			}
			if cs[i].Level != cs[j].Level {
				return cs[i].Level < cs[j].Level
			}
			return cs[i].Reason < cs[j].Reason
		})
	}
}

// Header is the header row of the CSV and the sheet: the grouping
// dimension's name, then the numbers.
func Header(by string) []string {
	return []string{by, "received", "decided", "accepted_first_time", "returned", "first_time_rate",
		"median_days", "p90_days", "on_time_rate", "rating_count", "rating_bad",
		"rating_1", "rating_2", "rating_3", "rating_4", "rating_5"}
}

// Cells is a group as the values of Header's columns: strings for the
// key, int or float64 for numbers (rates rounded to 4 places, days -1
// when nothing was decided).
func (g Group) Cells(key string) []any {
	return []any{key, g.Received, g.Decided, g.FirstTime, g.Returned, round4(g.FirstTimeRate()),
		g.Median(), g.P90(), round4(g.OnTimeRate()), g.RatingCount(), g.RatingBad(),
		g.Ratings[1], g.Ratings[2], g.Ratings[3], g.Ratings[4], g.Ratings[5]}
}

func round4(f float64) float64 { return math.Round(f*10000) / 10000 }

// TotalKey names the total row in files.
const TotalKey = "total"

// Rows are the groups then the total, as cells.
func (r Result) Rows() [][]any {
	out := make([][]any, 0, len(r.Groups)+1)
	for _, g := range r.Groups {
		out = append(out, g.Cells(g.Key))
	}
	return append(out, r.Total.Cells(TotalKey))
}

// FormatCell writes a cell as CSV text: integers plainly, rates with up to
// 4 decimals.
func FormatCell(v any) string {
	switch x := v.(type) {
	case float64:
		return fmt.Sprintf("%.4f", x)
	case int:
		return fmt.Sprint(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}
