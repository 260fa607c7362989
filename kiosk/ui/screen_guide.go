package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"onedoor/kiosk/catalog"
	"onedoor/kiosk/flow"
	"onedoor/kiosk/i18n"
)

// guideScreen is an item's guide (办事指南).
type guideScreen struct {
	k *Kiosk
}

func (sc *guideScreen) draw(s flow.State) fyne.CanvasObject {
	k := sc.k
	it := s.Item
	if it == nil {
		return widget.NewLabel("")
	}
	var sections []fyne.CanvasObject
	sec := func(titleKey string, lines ...string) {
		var objs []fyne.CanvasObject
		objs = append(objs, subheading(k.tr.T(titleKey)))
		for _, l := range lines {
			if strings.TrimSpace(l) != "" {
				objs = append(objs, para(l))
			}
		}
		sections = append(sections, card(objs...))
	}
	sec("guide.conditions", bullets(k.lines(it.AcceptConditions, it.AcceptConditionsEN))...)
	var mats []string
	for _, m := range it.Materials {
		// Each note is a sentence of its own: run together with spaces
		// they read as one ("…the paper When needed: …").
		open, comma, closing, stop := "（", "，", "）", "。"
		if k.tr.Lang() == i18n.EN {
			open, comma, closing, stop = " (", ", ", ")", ". "
		}
		line := k.tr.Pick(m.Name, m.NameEN) + open + k.tr.T("guide.required_"+m.Required) + comma + k.tr.T("guide.form_"+m.Form) + closing
		var notes []string
		if m.ECertAllowed() {
			notes = append(notes, k.tr.T("guide.ecert_ok"))
		}
		if m.PromiseAllowed {
			notes = append(notes, k.tr.T("guide.promise_ok"))
		}
		if m.SharedVerification {
			notes = append(notes, k.tr.T("guide.shared_ok"))
		}
		if m.Required == "conditional" && m.Condition != "" {
			// "Required in some cases" says nothing without the cases.
			notes = append(notes, k.tr.T("guide.when", k.tr.Pick(m.Condition, m.ConditionEN)))
		}
		if len(notes) > 0 {
			line += stop + strings.Join(notes, stop)
		}
		mats = append(mats, "• "+line)
	}
	sec("guide.materials", mats...)
	var limits []string
	if it.CaseKind == "instant" {
		limits = append(limits, k.tr.T("guide.instant"))
	}
	if it.TimeLimit.Legal.Value > 0 {
		limits = append(limits, k.tr.T("guide.legal_limit", k.limit(it.TimeLimit.Legal)))
	}
	if it.TimeLimit.Promised.Value > 0 {
		limits = append(limits, k.tr.T("guide.promised_limit", k.limit(it.TimeLimit.Promised)))
	}
	if it.VisitsRequired == 0 {
		limits = append(limits, k.tr.T("guide.visits_none"))
	} else {
		limits = append(limits, k.tr.T("guide.visits", it.VisitsRequired))
	}
	sec("guide.time_limit", limits...)
	var fees []string
	for _, f := range it.Fees {
		fees = append(fees, k.tr.Pick(f.Name, f.NameEN)+k.colon()+k.tr.Pick(f.Standard, f.StandardEN))
	}
	if len(fees) == 0 {
		fees = []string{k.tr.T("guide.free")}
	}
	sec("guide.fees", fees...)
	var places []string
	for _, p := range it.Places {
		places = append(places, k.place(p), k.tr.T("guide.hours")+k.colon()+k.tr.Pick(p.Hours, p.HoursEN))
	}
	for _, c := range it.Consult {
		places = append(places, k.tr.T("guide.consult")+k.colon()+c.Value)
	}
	sec("guide.place", places...)
	if !s.CanApply {
		sections = append([]fyne.CanvasObject{card(para(k.tr.T("guide.guide_only")))}, sections...)
	}
	per, cols := 4, 2
	if s.ElderMode {
		cols = 1
	}
	title := container.NewVBox(heading(k.itemName(it)), widget.NewLabel(k.agency(it)))
	if s.CanApply && s.Printer.CannotPrint() {
		// Said before the application starts, with what happens instead.
		why := "printer.offline"
		switch {
		case s.Printer.PaperOut:
			why = "printer.paper_out"
		case s.Printer.CoverOpen:
			why = "printer.cover_open"
		}
		title.Add(k.errorBar(flow.Message{Key: "printer.cannot", Args: []any{k.tr.T(why)}}))
	}
	return container.NewBorder(title, nil, nil, nil, k.paged("sections", sections, per, cols))
}

func bullets(lines []string) []string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		out = append(out, "• "+l)
	}
	return out
}

func (k *Kiosk) limit(l catalog.Limit) string {
	if l.Unit == "workday" {
		return k.tr.T("guide.workdays", l.Value)
	}
	return k.tr.T("guide.days", l.Value)
}
