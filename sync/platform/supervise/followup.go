package supervise

import (
	"fmt"
	"time"
)

// FollowUpDays is how many working days a follow-up task of a bad rating
// has from the day the rating arrived (Sichuan's rule; 整改时限 15 个工作日).
const FollowUpDays = 15

// Steps of a follow-up task, in the order they are recorded: 受理/指派 →
// 核实 → 整改 → 反馈 → 回访. The revisit closes the task.
const (
	StepAssign  = "assign"
	StepVerify  = "verify"
	StepRectify = "rectify"
	StepReply   = "reply"
	StepRevisit = "revisit"
)

// StepOrder lists the steps in order.
var StepOrder = []string{StepAssign, StepVerify, StepRectify, StepReply, StepRevisit}

// StepLabel is a step's Chinese name.
func StepLabel(s string) string {
	switch s {
	case StepAssign:
		return "指派"
	case StepVerify:
		return "核实"
	case StepRectify:
		return "整改"
	case StepReply:
		return "反馈"
	case StepRevisit:
		return "回访"
	}
	return s
}

// Bad reports whether a rating level opens a follow-up (不满意, 非常不满意).
func Bad(level int) bool { return level == 1 || level == 2 }

// LevelLabel names the five national levels.
func LevelLabel(level int) string {
	switch level {
	case 1:
		return "非常不满意"
	case 2:
		return "不满意"
	case 3:
		return "基本满意"
	case 4:
		return "满意"
	case 5:
		return "非常满意"
	}
	return "—"
}

// Step is one recorded step of a follow-up task. For StepAssign, Text is
// the responsible office the supervisor assigned it to.
type Step struct {
	Kind, Text, Actor string
	At                time.Time
}

// Rating is a rating of a case as supervision sees it.
type Rating struct {
	Seq          int64 // the store's position, for the refresh cursor
	SubmissionID int64
	Receipt      string
	Level        int
	Reason       string
	ReceivedAt   time.Time
}

// FollowUp is the closed loop of one bad rating.
type FollowUp struct {
	ID           int64
	SubmissionID int64
	Receipt      string
	Kiosk, Town  string
	ItemID       string
	Level        int
	Reason       string
	Opened, Due  Day
	Steps        []Step
	Closed       bool
}

// NewFollowUp opens the task of a bad rating of case f.
func NewFollowUp(r Rating, f Facts, w *Workdays) FollowUp {
	opened := DayOf(r.ReceivedAt)
	return FollowUp{SubmissionID: r.SubmissionID, Receipt: r.Receipt, Kiosk: f.Kiosk, Town: f.Town, ItemID: f.ItemID,
		Level: r.Level, Reason: r.Reason, Opened: opened, Due: w.Add(opened, FollowUpDays)}
}

// Next is the step to record next, "" once closed.
func (t FollowUp) Next() string {
	if len(t.Steps) >= len(StepOrder) {
		return ""
	}
	return StepOrder[len(t.Steps)]
}

// Overdue reports whether the task is still open after its due day.
func (t FollowUp) Overdue(today Day) bool { return !t.Closed && today > t.Due }

// Office is who the task was assigned to, "" before assignment.
func (t FollowUp) Office() string {
	for _, s := range t.Steps {
		if s.Kind == StepAssign {
			return s.Text
		}
	}
	return ""
}

// Get returns the recorded step of kind, if any.
func (t FollowUp) Get(kind string) (Step, bool) {
	for _, s := range t.Steps {
		if s.Kind == kind {
			return s, true
		}
	}
	return Step{}, false
}

// CheckStep says whether s may be recorded next on t: steps go in order,
// each with text, one each.
func (t FollowUp) CheckStep(s Step) error {
	next := t.Next()
	if next == "" {
		return fmt.Errorf("follow-up %d is closed", t.ID)
	}
	if s.Kind != next {
		return fmt.Errorf("follow-up %d: next step is %s, not %s", t.ID, next, s.Kind)
	}
	if s.Text == "" || s.Actor == "" {
		return fmt.Errorf("follow-up %d: %s needs text and who recorded it", t.ID, s.Kind)
	}
	return nil
}
