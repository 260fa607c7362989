package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"onedoor/kiosk/catalog"
	"onedoor/kiosk/flow"
	"onedoor/pii"
)

func (k *Kiosk) fieldLabel(f catalog.Field) string {
	l := k.tr.Pick(f.Label, f.LabelEN)
	if f.Required {
		l += " *"
	}
	return l
}

func keypadFor(kind catalog.FieldKind) []KeypadKind {
	switch kind {
	case catalog.KindPhone, catalog.KindNumber, catalog.KindDate:
		return []KeypadKind{KeypadNumeric}
	case catalog.KindIDNumber:
		return []KeypadKind{KeypadIDNumber}
	}
	return []KeypadKind{KeypadPinyin, KeypadLatin, KeypadNumeric}
}

func hintKey(kind catalog.FieldKind) string {
	switch kind {
	case catalog.KindPhone, catalog.KindDate, catalog.KindIDNumber, catalog.KindSelect:
		return "form.hint_" + string(kind)
	}
	return ""
}

// formScreen is the item's form; it owns which field the keypad writes
// into and the keypad layout each field was last typed with.
type formScreen struct {
	k      *Kiosk
	active string // the field the keypad writes into
	show   bool   // bring active's page forward at the next drawing
	// errs are the wrong fields of the last drawing: a failed "next"
	// that finds a different set brings the first of them forward.
	errs       string
	keypadKind map[string]KeypadKind // by field, kept while the session lasts
}

// leave forgets the active field; the keypad layouts stay for a return
// to the form.
func (sc *formScreen) leave() { sc.active, sc.show, sc.errs = "", false, "" }

func (sc *formScreen) wipe() {
	sc.leave()
	sc.keypadKind = map[string]KeypadKind{}
}

func (sc *formScreen) draw(s flow.State) fyne.CanvasObject {
	k := sc.k
	// The first editable field without a value is where typing goes, so a
	// resident who placed a card can type the phone number without a tap.
	if sc.active == "" || !hasEditable(s.Fields, sc.active) {
		sc.active = ""
		// The field chosen is shown: in elder mode the card's locked
		// fields can fill the first page, and a keypad writing into a
		// field on another page leaves the resident typing blind.
		sc.show = true
		for _, f := range s.Fields {
			if !f.Locked && f.Field.Kind != catalog.KindSelect && f.Value == "" {
				sc.active = f.Field.Name
				break
			}
		}
		if sc.active == "" {
			for _, f := range s.Fields {
				if !f.Locked && f.Field.Kind != catalog.KindSelect {
					sc.active = f.Field.Name
					break
				}
			}
		}
	}
	// After a failed "next", bring the first wrong field forward: its page
	// is shown and the keypad writes into it.
	// Only when the set of wrong fields changes (a new failed "next"), so
	// that redraws while the resident corrects them or pages leave the
	// page alone.
	var errs strings.Builder
	for _, f := range s.Fields {
		if !f.Error.IsZero() {
			errs.WriteString(f.Field.Name + "\n")
		}
	}
	if s.Error.Key == "err.form_incomplete" && errs.String() != sc.errs {
		for _, f := range s.Fields {
			if !f.Error.IsZero() && hasEditable(s.Fields, f.Field.Name) {
				sc.active = f.Field.Name
				sc.show = true
				break
			}
		}
	}
	sc.errs = errs.String()
	var rows []fyne.CanvasObject
	var active *Field
	var activeKind catalog.FieldKind
	activeRow := -1
	for _, fs := range s.Fields {
		fs := fs
		name := fs.Field.Name
		label := widget.NewLabel(k.fieldLabel(fs.Field))
		var input fyne.CanvasObject
		if fs.Field.Kind == catalog.KindSelect && !fs.Locked {
			var opts []fyne.CanvasObject
			for _, o := range fs.Field.Options {
				v := o.Value
				st := StyleNormal
				if fs.Value == v {
					st = StyleChosen
				}
				opts = append(opts, NewStyledButton(k.tr.Pick(o.Label, o.LabelEN), st, func() {
					k.dispatch(flow.SetField{Name: name, Value: v})
				}))
			}
			input = container.NewGridWithColumns(min(len(opts), 3), opts...)
		} else {
			f := NewField(k.placeholder(fs.Field))
			f.Name = name
			f.Value = displayValue(fs)
			f.ReadOnly = fs.Locked
			f.MaxLen = fs.Field.MaxLen
			f.Invalid = !fs.Error.IsZero()
			f.Active = name == sc.active
			f.OnChanged = func(v string) { k.dispatch(flow.SetField{Name: name, Value: v}) }
			f.OnTapped = func() {
				sc.active = name
				k.touch()
				k.Refresh()
			}
			if f.Active {
				active, activeKind = f, fs.Field.Kind
				activeRow = len(rows)
			}
			input = f
		}
		objs := []fyne.CanvasObject{label, input}
		if fs.Locked {
			objs = append(objs, widget.NewLabel(k.tr.T("form.from_card")))
		}
		if !fs.Error.IsZero() {
			e := widget.NewLabel(k.msg(fs.Error))
			e.Importance = widget.DangerImportance
			e.Wrapping = fyne.TextWrapWord
			objs = append(objs, e)
		}
		rows = append(rows, container.NewVBox(objs...))
	}
	list := k.paged("fields", rows, 4, 1)
	// The active field's page stays in front over redraws (each key tap
	// redraws) until the resident pages by hand.
	if sc.show && activeRow >= 0 {
		list.ShowItem(rows[activeRow])
	}
	onPage := list.OnPage
	list.OnPage = func(n int) {
		sc.show = false
		onPage(n)
	}
	if active == nil {
		return list
	}
	modes := keypadFor(activeKind)
	if kind, ok := sc.keypadKind[sc.active]; ok && len(modes) > 1 {
		modes = append([]KeypadKind{kind}, without(modes, kind)...)
	}
	kp := k.newKeypad("field/"+sc.active, active, modes...)
	field := sc.active
	kp.OnKey = func() {
		sc.keypadKind[field] = kp.Kind()
		k.touch()
	}
	return container.NewBorder(nil, nil, nil, kp, list)
}

func without(ms []KeypadKind, m KeypadKind) []KeypadKind {
	var out []KeypadKind
	for _, x := range ms {
		if x != m {
			out = append(out, x)
		}
	}
	return out
}

func hasEditable(fields []flow.FieldState, name string) bool {
	for _, f := range fields {
		if f.Field.Name == name {
			return !f.Locked && f.Field.Kind != catalog.KindSelect
		}
	}
	return false
}

// reviewValue is a field's value on the review screen: every ID number is
// masked there, typed ones (a spouse's, a child's) too. The form showed the
// number whole while it was typed and checked its check character; the
// review stays on screen while the notice is read, in a hall where the
// next person in line can see it, as staff pages and receipts mask it.
func reviewValue(fs flow.FieldState) string {
	if fs.Field.Kind == catalog.KindIDNumber {
		return pii.MaskID(fs.Value)
	}
	return fs.Value
}

// displayValue masks a card-filled ID number: the resident does not need to
// see it and the person behind them should not.
func displayValue(fs flow.FieldState) string {
	if fs.Locked && fs.Field.Kind == catalog.KindIDNumber {
		return pii.MaskID(fs.Value)
	}
	return fs.Value
}

func (k *Kiosk) placeholder(f catalog.Field) string {
	if f.Hint != "" {
		return k.tr.Pick(f.Hint, f.HintEN)
	}
	if key := hintKey(f.Kind); key != "" {
		return k.tr.T(key)
	}
	return ""
}
