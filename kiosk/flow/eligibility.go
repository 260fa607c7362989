package flow

import (
	"strings"
	"time"

	"onedoor/kiosk/catalog"
)

// Outcome is what the kiosk found for one eligibility rule.
type Outcome string

// Outcomes of a rule.
const (
	RuleMet     Outcome = "met"
	RuleFailed  Outcome = "failed"
	RuleConfirm Outcome = "confirm" // the kiosk cannot check it: the resident confirms
)

// RuleResult is one 受理条件 as evaluated for the applicant.
type RuleResult struct {
	Rule    catalog.Rule
	Outcome Outcome
	// Found says what the kiosk found when a rule failed, e.g. the age.
	Found Message
	// Confirmed is the resident's confirmation of a RuleConfirm.
	Confirmed bool
}

// evaluate checks the item's eligibility rules for the applicant on the
// application date (in the kiosk's zone) or the date a rule names.
func (m *Machine) evaluate(it *catalog.Item, id Identity) []RuleResult {
	today := DateOf(m.opts.Now().In(m.opts.Location))
	out := make([]RuleResult, 0, len(it.Eligibility))
	for _, r := range it.Eligibility {
		out = append(out, checkRule(r, id, today))
	}
	return out
}

func checkRule(r catalog.Rule, id Identity, today Date) RuleResult {
	res := RuleResult{Rule: r, Outcome: RuleConfirm}
	verdict := func(ok bool, found Message) {
		res.Outcome = RuleMet
		if !ok {
			res.Outcome, res.Found = RuleFailed, found
		}
	}
	switch r.Kind {
	case catalog.RuleMinAge, catalog.RuleMaxAge:
		on := today
		if r.On != "" {
			if d, err := ParseDate(r.On); err == nil {
				on = d
			}
		}
		if id.Birth.IsZero() {
			return res
		}
		age := id.Birth.AgeOn(on)
		found := Message{Key: "elig.found_age", Args: []any{age}}
		if r.Kind == catalog.RuleMinAge {
			verdict(age >= r.Years, found)
		} else {
			verdict(age <= r.Years, found)
		}
	case catalog.RuleHukou:
		var in bool
		here, elsewhere := "elig.found_hukou_here", "elig.found_hukou_elsewhere"
		switch {
		case r.Source == catalog.SourceCardAddress && id.FromCard && id.Address != "":
			in = strings.HasPrefix(strings.TrimSpace(id.Address), r.AddressPrefix)
		case r.Source == catalog.SourceIDNumber && len(id.IDNumber) == 18:
			in = strings.HasPrefix(id.IDNumber, r.Region)
			here, elsewhere = "elig.found_region_here", "elig.found_region_elsewhere"
		default:
			return res // no card address (代办): the resident confirms
		}
		found := Message{Key: elsewhere}
		if in {
			found = Message{Key: here}
		}
		verdict(in != r.Outside, found)
	case catalog.RuleCardValid:
		if !id.FromCard {
			return res
		}
		if id.LongTerm {
			verdict(true, Message{})
			break
		}
		until := time.Date(today.Year, today.Month, today.Day+r.Days, 0, 0, 0, 0, time.UTC)
		verdict(!id.ValidTo.IsZero() && !id.ValidTo.Before(DateOf(until)),
			Message{Key: "elig.found_valid_to", Args: []any{id.ValidTo.String()}})
	}
	return res
}

func allMet(rs []RuleResult) bool {
	for _, r := range rs {
		if r.Outcome != RuleMet {
			return false
		}
	}
	return true
}

// Ineligible reports whether a rule failed.
func ineligible(rs []RuleResult) bool {
	for _, r := range rs {
		if r.Outcome == RuleFailed {
			return true
		}
	}
	return false
}

// confirmCondition records the resident's answer to a condition the kiosk
// cannot check.
func (m *Machine) confirmCondition(e ConfirmCondition) []Effect {
	s := &m.s
	if s.step != StepEligibility || e.Index < 0 || e.Index >= len(s.rules) || s.rules[e.Index].Outcome != RuleConfirm {
		return nil
	}
	s.rules[e.Index].Confirmed = e.Yes
	if s.err.Key == "err.confirm_conditions" && confirmedAll(s.rules) {
		s.err = Message{}
	}
	return nil
}

func confirmedAll(rs []RuleResult) bool {
	for _, r := range rs {
		if r.Outcome == RuleConfirm && !r.Confirmed {
			return false
		}
	}
	return true
}

// leaveEligibility is Next on the eligibility screen.
func (m *Machine) leaveEligibility() []Effect {
	s := &m.s
	switch {
	case ineligible(s.rules):
		s.err = Message{Key: "err.ineligible"}
		return []Effect{Beep{Kind: BeepError}}
	case !confirmedAll(s.rules):
		s.err = Message{Key: "err.confirm_conditions"}
		return []Effect{Beep{Kind: BeepError}}
	}
	s.err = Message{}
	s.step = StepForm
	return nil
}
