package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"onedoor/kiosk/flow"
)

// lookupScreen is the progress lookup; it owns the receipt number being
// typed.
type lookupScreen struct {
	k      *Kiosk
	input  string
	typing bool // keypad shown over a lookup answer
}

func (sc *lookupScreen) leave() { sc.input, sc.typing = "", false }
func (sc *lookupScreen) wipe()  { sc.leave() }

func (sc *lookupScreen) draw(s flow.State) fyne.CanvasObject {
	k := sc.k
	field := NewField(k.tr.T("receipt.number"))
	field.Value = sc.input
	field.Active = true
	field.MaxLen = 40
	field.Invalid = s.Error.Key == "err.receipt_no_invalid"
	field.OnChanged = func(v string) { sc.input = v }
	field.OnTapped = func() {
		sc.typing = true
		k.touch()
		k.Refresh()
	}
	lookUp := func() {
		sc.typing = false
		k.dispatch(flow.EnterReceiptNo{Number: strings.ToUpper(sc.input)})
	}
	goBtn := NewStyledButton(k.tr.T("btn.lookup_go"), StylePrimary, lookUp)
	goBtn.Disabled = s.Busy
	if !s.Busy {
		field.OnSubmit = lookUp
	}
	top := container.NewVBox(para(k.tr.T("lookup.hint")), container.NewBorder(nil, nil, nil, goBtn, field))
	var results []fyne.CanvasObject
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
		var rows []fyne.CanvasObject
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
				lines = append(lines, para(r.Note))
			}
			if !r.UpdatedAt.IsZero() {
				u := widget.NewLabel(k.tr.T("lookup.updated", k.at(r.UpdatedAt, "2006-01-02 15:04")))
				u.Wrapping = fyne.TextWrapBreak
				lines = append(lines, u)
			}
			rows = append(rows, card(lines...))
		}
		per := 2
		if s.ElderMode {
			per = 1
		}
		if len(rows) > 0 {
			results = append(results, k.paged("results", rows, per, 1))
		}
	}
	left := container.NewBorder(top, nil, nil, nil, container.NewVBox(results...))
	if (l.Done || l.Pending) && !sc.typing {
		// The answer gets the whole width; tapping the box brings the
		// keypad back for another number.
		field.Active = false
		return left
	}
	kp := k.newKeypad("receipt_no", field, KeypadLatin)
	return container.NewBorder(nil, nil, nil, kp, left)
}
