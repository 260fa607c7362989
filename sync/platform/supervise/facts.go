package supervise

import (
	"encoding/json"
	"time"
	"unicode/utf8"
)

// Statuses of a case, as in sync/api (repeated here so this package stays
// free of the wire types).
const (
	StatusReceived = "received"
	StatusAccepted = "accepted"
	StatusReturned = "returned"
	StatusApproved = "approved"
	StatusRejected = "rejected"
)

// Update is one entry of a case's history.
type Update struct {
	Status, Note, Actor string
	At                  time.Time
}

// Case is what the facts of one case are computed from: where it came
// from and its whole history, oldest first.
type Case struct {
	SubmissionID int64
	Receipt      string
	Kiosk, Town  string
	ItemID       string
	ReceivedAt   time.Time
	History      []Update
}

// Facts are one case as supervision counts it, kept by the Store so a
// period's numbers are one aggregate query.
type Facts struct {
	SubmissionID int64
	Receipt      string
	Kiosk, Town  string
	ItemID       string
	// Staff is who took the case in (the actor of its acceptance), else
	// who decided it: window staff are assessed on what they accepted.
	Staff  string
	Status string
	// Received is the day the platform received it; Start the day its
	// clock starts (acceptance, or receipt while not yet accepted); Due
	// the promised completion day (0 when the item has no known limit);
	// Decided the day of the final decision (0 while open).
	Received, Start, Due, Decided Day
	Open                          bool
	// Returned is set when the case was ever returned for correction:
	// it then did not pass acceptance the first time.
	Returned     bool
	ReturnReason string
	// WorkDays is the processing time in working days, start to
	// decision, the days it spent returned not counted (-1 while open).
	WorkDays int
	OnTime   bool
}

// Final reports whether a status ends a case. A returned case ends too
// (the resident applies again); should staff later accept the corrected
// case, the time it spent returned is paused, not counted.
func Final(status string) bool {
	return status == StatusApproved || status == StatusRejected || status == StatusReturned
}

// Limit is an item's promised time limit (承诺办结时限).
type Limit struct {
	Value int
	// Unit is "workday" (default) or "day" (natural days, ending on a
	// working day).
	Unit string
}

// Limits are the items' promised limits, by item id.
type Limits map[string]Limit

// ParseLimits reads the promised time limits out of the service catalog the
// platform serves to kiosks (kiosk/catalog's schema: items[].time_limit.
// promised). A catalog it cannot read gives no limits: cases then have no
// due date rather than a wrong one.
func ParseLimits(catalogJSON []byte) Limits {
	var raw struct {
		Items []struct {
			ID        string `json:"id"`
			TimeLimit struct {
				Promised *struct {
					Value int    `json:"value"`
					Unit  string `json:"unit"`
				} `json:"promised"`
			} `json:"time_limit"`
		} `json:"items"`
	}
	out := Limits{}
	if len(catalogJSON) == 0 || json.Unmarshal(catalogJSON, &raw) != nil {
		return out
	}
	for _, it := range raw.Items {
		if p := it.TimeLimit.Promised; p != nil && p.Value >= 0 {
			out[it.ID] = Limit{Value: p.Value, Unit: p.Unit}
		}
	}
	return out
}

// due is the promised day for a clock started on start, extended by paused
// working days.
func (w *Workdays) due(start Day, l Limit, paused int) Day {
	if l.Unit == "day" {
		d := start + Day(l.Value)
		for !w.IsWorkday(d) {
			d++
		}
		return w.Add(d, paused)
	}
	return w.Add(start, l.Value+paused)
}

// Compute derives a case's facts. limit is nil when the item's limit is
// unknown.
func Compute(c Case, limit *Limit, w *Workdays) Facts {
	f := Facts{SubmissionID: c.SubmissionID, Receipt: c.Receipt, Kiosk: c.Kiosk, Town: c.Town, ItemID: c.ItemID,
		Status: StatusReceived, Received: DayOf(c.ReceivedAt), Open: true, WorkDays: -1}
	f.Start = f.Received
	accepted := false
	paused := 0
	var returnedOn Day
	var decider string
	for _, u := range c.History {
		day := DayOf(u.At)
		if returnedOn != 0 && u.Status != StatusReturned {
			// Back from correction: the days it spent with the
			// resident do not count against the office.
			paused += w.Between(returnedOn, day)
			returnedOn = 0
		}
		switch u.Status {
		case StatusAccepted:
			if !accepted {
				accepted, f.Start, f.Staff = true, day, u.Actor
			}
		case StatusReturned:
			f.Returned = true
			f.ReturnReason = clip(u.Note, 60)
			returnedOn = day
		}
		if u.Status != StatusReceived {
			f.Status = u.Status
		}
		if Final(u.Status) {
			f.Decided, decider = day, u.Actor
		} else {
			f.Decided = 0
		}
	}
	if f.Staff == "" {
		f.Staff = decider
	}
	if limit != nil {
		f.Due = w.due(f.Start, *limit, paused)
	}
	if f.Decided != 0 {
		f.Open = false
		// A case returned and never resumed is decided on the day it was
		// returned, with nothing paused.
		f.WorkDays = max(0, w.Between(f.Start, f.Decided)-paused)
		f.OnTime = f.Due == 0 || f.Decided <= f.Due
	}
	return f
}

// Overdue reports whether an open case is past its due day on today.
func (f Facts) Overdue(today Day) bool { return f.Open && f.Due != 0 && today > f.Due }

// clip shortens s to at most n runes, so free-text reasons group.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}
