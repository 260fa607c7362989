package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"onedoor/kiosk/flow"
)

// eligibilityScreen shows the item's 受理条件 as checked right after
// identity: a failed one with what was found and where to go instead,
// those the kiosk cannot check with a confirmation button each. Nothing
// has been typed yet when it shows.
type eligibilityScreen struct{ k *Kiosk }

func (*eligibilityScreen) leave() {}
func (*eligibilityScreen) wipe()  {}

func (sc *eligibilityScreen) draw(s flow.State) fyne.CanvasObject {
	k := sc.k
	var rows []fyne.CanvasObject
	for _, r := range s.Eligibility {
		text := k.tr.Pick(r.Rule.Text, r.Rule.TextEN)
		var objs []fyne.CanvasObject
		switch r.Outcome {
		case flow.RuleMet:
			objs = append(objs, para(k.tr.T("elig.met", text)))
		case flow.RuleFailed:
			l := widget.NewLabel(k.tr.T("elig.failed", text))
			l.Wrapping, l.Importance = fyne.TextWrapWord, widget.DangerImportance
			objs = append(objs, l)
			if !r.Found.IsZero() {
				objs = append(objs, para(k.msg(r.Found)))
			}
			objs = append(objs, para(sc.elsewhere(s, r)))
		case flow.RuleConfirm:
			// One button under the list confirms every such condition
			// (confirmAll): a tap per condition cost taps and told the
			// resident nothing more.
			objs = append(objs, para(k.tr.T("elig.confirm", text)))
		}
		rows = append(rows, card(objs...))
	}
	top := []fyne.CanvasObject{para(k.tr.T("elig.intro"))}
	var bottom fyne.CanvasObject
	if s.Ineligible {
		top = append(top, subheading(k.tr.T("elig.stop")))
	} else if toConfirm(s) {
		bottom = para(k.tr.T("elig.confirm_hint"))
	}
	cols := 2
	if s.ElderMode {
		cols = 1
	}
	k.rulesList = k.paged("rules", rows, 4, cols)
	return container.NewBorder(container.NewVBox(top...), bottom, nil, nil, k.rulesList)
}

// toConfirm reports whether a condition waits for the resident's
// confirmation.
func toConfirm(s flow.State) bool {
	for _, r := range s.Eligibility {
		if r.Outcome == flow.RuleConfirm && !r.Confirmed {
			return true
		}
	}
	return false
}

// confirmAll is the eligibility screen's forward button: it confirms every
// condition the kiosk cannot check and goes on, but only once every
// condition has been on screen; before that it shows the next page of
// them, so no condition is confirmed unseen.
func (k *Kiosk) confirmAll() {
	if l := k.rulesList; l != nil && l.Page() < l.Pages()-1 {
		l.Next()
		return
	}
	for i, r := range k.state.Eligibility {
		if r.Outcome == flow.RuleConfirm && !r.Confirmed {
			k.dispatch(flow.ConfirmCondition{Index: i, Yes: true})
		}
	}
	k.dispatch(flow.Next{})
}

// elsewhere says where a resident who fails r can go: the rule's own
// advice, else the item's place.
func (sc *eligibilityScreen) elsewhere(s flow.State, r flow.RuleResult) string {
	k := sc.k
	if r.Rule.Elsewhere != "" {
		return k.tr.T("elig.go", k.tr.Pick(r.Rule.Elsewhere, r.Rule.ElsewhereEN))
	}
	if s.Item != nil && len(s.Item.Places) > 0 {
		return k.tr.T("elig.go_place", k.place(s.Item.Places[0]))
	}
	return ""
}

// thanksScreen ends an application: take the card and the receipt. It
// shows until the card reader reports the card removed.
type thanksScreen struct{ k *Kiosk }

func (*thanksScreen) leave() {}
func (*thanksScreen) wipe()  {}

func (sc *thanksScreen) draw(flow.State) fyne.CanvasObject {
	k := sc.k
	return container.NewCenter(container.NewVBox(
		container.NewCenter(heading(k.tr.T("thanks.take"))),
		container.NewCenter(cardIcon()),
		container.NewCenter(subheading(k.tr.T("thanks.bye"))),
	))
}
