package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"

	"onedoor/kiosk/flow"
)

// identifyScreen asks for the ID card (人证合一: no typed number starts an
// application). On the 代办 path it asks for the agent's card, then for
// the principal's name and number, which it owns while they are typed.
type identifyScreen struct {
	k      *Kiosk
	name   string // principal's name being typed
	number string // principal's ID number being typed
	onName bool   // the keypad writes into the name
}

func (sc *identifyScreen) leave() { sc.name, sc.number, sc.onName = "", "", false }
func (sc *identifyScreen) wipe()  { sc.leave() }

func (sc *identifyScreen) draw(s flow.State) fyne.CanvasObject {
	k := sc.k
	if s.AgentMode && s.AgentRead {
		return sc.principal(s)
	}
	title, hint := "identify.title", "identify.place_card"
	if s.AgentMode {
		title = "identify.agent_title"
	}
	objs := []fyne.CanvasObject{
		container.NewCenter(heading(k.tr.T(title))),
		para(k.tr.T(hint)),
		container.NewCenter(cardIcon()),
		para(k.tr.T("identify.card_only")),
	}
	switch {
	case s.AgentMode:
		objs = append(objs, NewButton(k.tr.T("btn.self"), func() { k.dispatch(flow.SetAgentMode{On: false}) }))
	case s.AgentAllowed:
		b := NewButton(k.tr.T("btn.agent"), func() { k.dispatch(flow.SetAgentMode{On: true}) })
		objs = append(objs, para(k.tr.T("identify.agent_hint")), b)
	}
	return container.NewPadded(card(objs...))
}

// principal is the 代办 form: the agent's card was read; the principal's
// name (pinyin keypad) and number (ID keypad) are typed.
func (sc *identifyScreen) principal(s flow.State) fyne.CanvasObject {
	k := sc.k
	who, whoID := "", ""
	if s.Applicant != nil {
		who, whoID = s.Applicant.AgentMaskedName, s.Applicant.AgentMaskedID
	}
	name := NewField(k.tr.T("identify.principal_name"))
	name.Name, name.Value, name.MaxLen = "principal_name", sc.name, 20
	name.OnChanged = func(v string) { sc.name = v }
	name.OnTapped = func() { sc.onName = true; k.touch(); k.Refresh() }
	number := NewField(k.tr.T("identify.principal_id"))
	number.Name, number.Value, number.MaxLen = "principal_id", sc.number, 18
	number.Invalid = s.Error.Key == "err.id_invalid"
	number.OnChanged = func(v string) { sc.number = v }
	number.OnTapped = func() { sc.onName = false; k.touch(); k.Refresh() }
	enter := func() {
		if k.keypad != nil {
			k.keypad.CommitLetters()
		}
		k.dispatch(flow.EnterPrincipal{Name: sc.name, IDNumber: sc.number})
	}
	number.OnSubmit = enter
	ok := NewStyledButton(k.tr.T("btn.confirm_yes"), StylePrimary, enter)
	ok.Big = true
	var kp *Keypad
	if sc.onName {
		name.Active = true
		kp = k.newKeypad("principal_name", name, KeypadPinyin, KeypadLatin)
	} else {
		number.Active = true
		kp = k.newKeypad("principal_id", number, KeypadIDNumber)
	}
	left := container.NewVBox(
		subheading(k.tr.T("identify.agent_read", who, whoID)),
		para(k.tr.T("identify.principal")),
		widget2(k.tr.T("identify.principal_name"), name),
		widget2(k.tr.T("identify.principal_id"), number),
		ok,
		NewButton(k.tr.T("btn.self"), func() { k.dispatch(flow.SetAgentMode{On: false}) }),
	)
	return container.NewBorder(nil, nil, nil, kp, container.NewPadded(left))
}

// widget2 is a label above an input.
func widget2(label string, in fyne.CanvasObject) fyne.CanvasObject {
	return container.NewVBox(para(label), in)
}

// cardIcon is a drawn ID card outline, so the screen needs no image file.
func cardIcon() fyne.CanvasObject {
	r := canvas.NewRectangle(theme.Color(theme.ColorNameHeaderBackground))
	r.StrokeColor = theme.Color(theme.ColorNamePrimary)
	r.StrokeWidth = 4
	r.CornerRadius = 12
	r.SetMinSize(fyne.NewSize(2.7*currentTarget(), 1.7*currentTarget()))
	return r
}
