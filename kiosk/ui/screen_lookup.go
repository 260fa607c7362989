package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"onedoor/kiosk/flow"
)

// lookupScreen is the progress lookup; it owns the receipt number and
// the lookup code being typed (the code printed on the receipt proves the
// receipt is the resident's; a card read needs neither).
type lookupScreen struct {
	k      *Kiosk
	input  string
	code   string
	onCode bool // the keypad writes into the code box
	typing bool // keypad shown over a lookup answer
}

func (sc *lookupScreen) leave() { sc.input, sc.code, sc.onCode, sc.typing = "", "", false, false }
func (sc *lookupScreen) wipe()  { sc.leave() }

func (sc *lookupScreen) draw(s flow.State) fyne.CanvasObject {
	k := sc.k
	box := func(name, placeholder string, value *string, onCode bool, maxLen int) *Field {
		f := NewField(placeholder)
		f.Name, f.Value, f.MaxLen = name, *value, maxLen
		f.Active = sc.onCode == onCode
		f.OnChanged = func(v string) { *value = v }
		f.OnTapped = func() {
			sc.typing, sc.onCode = true, onCode
			k.touch()
			k.Refresh()
		}
		return f
	}
	field := box("receipt_no", k.tr.T("receipt.number"), &sc.input, false, 40)
	field.Invalid = s.Error.Key == "err.receipt_no_invalid"
	codeField := box("lookup_code", k.tr.T("lookup.code"), &sc.code, true, 11)
	codeField.Invalid = s.Error.Key == "err.lookup_code_invalid"
	lookUp := func() {
		sc.typing = false
		if strings.TrimSpace(sc.code) == "" {
			// The flow says the code is missing; the keypad moves to its
			// box (a scanned number ends with Enter before any code).
			sc.onCode = true
		}
		k.dispatch(flow.EnterReceiptNo{Number: strings.ToUpper(sc.input), Code: sc.code})
	}
	goBtn := NewStyledButton(k.tr.T("btn.lookup_go"), StylePrimary, lookUp)
	goBtn.Disabled = s.Busy
	if !s.Busy {
		field.OnSubmit, codeField.OnSubmit = lookUp, lookUp
	}
	top := container.NewVBox(para(k.tr.T("lookup.hint")), field, container.NewBorder(nil, nil, nil, goBtn, codeField))
	var results, rows []fyne.CanvasObject
	l := s.Lookup
	if l.Pending {
		results = append(results, widget.NewLabel(k.tr.T("lookup.searching")))
	}
	if l.Done {
		if l.Offline {
			results = append(results, para(k.tr.T("lookup.offline")))
		}
		if l.MaskedID != "" {
			results = append(results, widget.NewLabel(k.tr.T("lookup.by_id", l.MaskedID)))
		}
		for _, r := range l.Results {
			no := widget.NewLabelWithStyle(k.tr.T("lookup.by_receipt", r.ReceiptNo), fyne.TextAlignLeading, fyne.TextStyle{})
			// Wrapped: beside the keypad the column is narrow in elder mode.
			no.Wrapping = fyne.TextWrapBreak
			lines := []fyne.CanvasObject{
				no,
				widget.NewLabel(k.tr.Pick(r.ItemName, r.ItemNameEN)),
				widget.NewLabel(k.tr.T(flow.StatusKey(r.Status))),
			}
			if r.Note != "" {
				lines = append(lines, paras(r.Note)...)
			}
			if r.NoteKey != "" {
				lines = append(lines, para(k.tr.T(r.NoteKey)))
			}
			if len(r.CertUses) > 0 {
				// "Who used my certificates" (issue 13): numbers masked by
				// the platform.
				lines = append(lines, widget.NewLabelWithStyle(k.tr.T("lookup.cert_uses"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
				for _, u := range r.CertUses {
					lines = append(lines, para(k.tr.T("lookup.cert_use", k.at(u.At, "2006-01-02 15:04"), k.tr.T("lookup.cert_action."+u.Action), u.TypeName, u.NumberMasked, u.KioskID, u.ItemID)))
				}
			}
			if !r.UpdatedAt.IsZero() {
				u := widget.NewLabel(k.tr.T("lookup.updated", k.at(r.UpdatedAt, "2006-01-02 15:04")))
				u.Wrapping = fyne.TextWrapBreak
				lines = append(lines, u)
			}
			if s.ElderMode {
				// Elder mode's large type makes one answer's card taller
				// than the room under the boxes (the buttons covered its
				// last lines at every size): the number, item and status
				// stay together, the rest are items the list pages by
				// height.
				rows = append(rows, card(lines[:3]...))
				rows = append(rows, lines[3:]...)
				continue
			}
			rows = append(rows, card(lines...))
		}
	}
	// The answers get the room left under the boxes and are paged within
	// it (by height: one row's room asked for, as on the receipt).
	var list fyne.CanvasObject
	if len(rows) > 0 {
		per := 2
		if s.ElderMode {
			per = len(rows)
		}
		p := k.paged("results", rows, per, 1)
		p.Rows = 1
		list = p
	}
	left := container.NewBorder(container.NewVBox(append([]fyne.CanvasObject{top}, results...)...), nil, nil, nil, list)
	if (l.Done || l.Pending) && !sc.typing {
		// The answer gets the whole width; tapping the box brings the
		// keypad back for another number.
		field.Active, codeField.Active = false, false
		return left
	}
	target := field
	if sc.onCode {
		target = codeField
	}
	kp := k.newKeypad("receipt_no", target, KeypadLatin)
	return container.NewBorder(nil, nil, nil, kp, left)
}
