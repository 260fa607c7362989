package ui

import (
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"
)

// Texts is what the widgets need from kiosk/i18n's Translator.
type Texts interface {
	T(key string, args ...any) string
}

// Target is what a keypad writes into; *Field implements it.
type Target interface {
	AppendRune(r rune)
	Backspace()
	Clear()
}

// KeypadKind selects a keypad layout.
type KeypadKind int

// Keypad layouts.
const (
	KeypadNumeric  KeypadKind = iota // digits: phone, receipt number, dates
	KeypadIDNumber                   // digits and X, for the 18-character ID number
	KeypadPinyin                     // letters into a pinyin buffer, Han candidates
	KeypadLatin                      // letters, digits and a few signs, typed as is
)

const candidatesPerPage = 6

// Keypad is an on-screen keyboard writing into one Target, set explicitly
// rather than through Fyne focus, because there is no system keyboard or
// input method on the kiosk and taps on keys must not move the target.
type Keypad struct {
	widget.BaseWidget
	kind     KeypadKind
	modes    []KeypadKind
	target   Target
	dict     *PinyinDict
	tr       Texts
	buffer   string
	candPage int
	// OnKey is called after every key tap, so the caller can count keys and
	// restart the idle timer.
	OnKey func()
	box   *fyne.Container
}

// NewKeypad returns a keypad of the first of modes; when there are several
// modes, tabs switch between them. dict may be nil when no mode is pinyin.
func NewKeypad(tr Texts, dict *PinyinDict, modes ...KeypadKind) *Keypad {
	if len(modes) == 0 {
		modes = []KeypadKind{KeypadNumeric}
	}
	k := &Keypad{kind: modes[0], modes: modes, dict: dict, tr: tr, box: container.NewVBox()}
	k.ExtendBaseWidget(k)
	k.rebuild()
	return k
}

// SetTarget points the keypad at t (nil to write nowhere) and drops any
// unfinished pinyin.
func (k *Keypad) SetTarget(t Target) {
	k.target = t
	k.buffer = ""
	k.candPage = 0
	k.rebuild()
}

// takeOver continues where prev, the same input's keypad in the previous
// drawing of the screen, left off: its layout (if this keypad offers it),
// unfinished pinyin and candidate page. The target stays this keypad's.
func (k *Keypad) takeOver(prev *Keypad) {
	if !slices.Contains(k.modes, prev.kind) {
		return
	}
	k.kind, k.buffer, k.candPage = prev.kind, prev.buffer, prev.candPage
	k.rebuild()
}

// Kind is the current layout.
func (k *Keypad) Kind() KeypadKind { return k.kind }

// SetKind switches the layout.
func (k *Keypad) SetKind(kind KeypadKind) {
	k.kind = kind
	k.buffer = ""
	k.candPage = 0
	k.rebuild()
}

// Buffer is the pinyin typed but not yet turned into a character.
func (k *Keypad) Buffer() string { return k.buffer }

// Candidates is the current page of Han candidates.
func (k *Keypad) Candidates() []rune {
	all := k.allCandidates()
	from := min(k.candPage*candidatesPerPage, len(all))
	return all[from:min(from+candidatesPerPage, len(all))]
}

func (k *Keypad) allCandidates() []rune {
	if k.dict == nil || k.buffer == "" {
		return nil
	}
	return k.dict.Candidates(k.buffer)
}

// CreateRenderer implements fyne.Widget.
func (k *Keypad) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(k.box)
}

func (k *Keypad) key() {
	if k.OnKey != nil {
		k.OnKey()
	}
}

// Press performs the key labelled s as if tapped, for hardware keys.
func (k *Keypad) Press(r rune) {
	switch k.kind {
	case KeypadPinyin:
		if r >= 'a' && r <= 'z' {
			k.buffer += string(r)
			k.candPage = 0
			k.rebuild()
			return
		}
	}
	if k.target != nil {
		k.target.AppendRune(r)
	}
}

// Choose inserts candidate r and clears the pinyin buffer. The buffer is
// cleared first: writing into the target redraws the screen, and the next
// drawing's keypad takes over this one's buffer (see Kiosk.newKeypad), so
// letters still here then would come back after their character.
func (k *Keypad) Choose(r rune) {
	k.buffer = ""
	k.candPage = 0
	k.rebuild()
	if k.target != nil {
		k.target.AppendRune(r)
	}
}

// CommitLetters writes the unfinished pinyin letters into the target as
// typed and clears the buffer. The catalog search calls it when the
// resident taps Search with letters still waiting for a character: the
// catalog matches pinyin itself (jzz finds 居住证申领), so the letters are a
// query, not an unfinished character to be thrown away.
func (k *Keypad) CommitLetters() {
	letters := k.buffer
	if letters == "" {
		return
	}
	// Cleared before writing, as in Choose.
	k.buffer = ""
	k.candPage = 0
	k.rebuild()
	if k.target != nil {
		for _, r := range letters {
			k.target.AppendRune(r)
		}
	}
}

// Delete removes the last pinyin letter, or else the target's last rune.
func (k *Keypad) Delete() {
	if k.buffer != "" {
		k.buffer = k.buffer[:len(k.buffer)-1]
		k.candPage = 0
		k.rebuild()
		return
	}
	if k.target != nil {
		k.target.Backspace()
	}
}

// ClearAll empties the pinyin buffer and the target.
func (k *Keypad) ClearAll() {
	k.buffer = ""
	k.candPage = 0
	if k.target != nil {
		k.target.Clear()
	}
	k.rebuild()
}

func (k *Keypad) keyButton(label string, r rune) *Button {
	b := NewButton(label, func() {
		k.Press(r)
		k.key()
	})
	b.Big = true
	if k.kind == KeypadNumeric || k.kind == KeypadIDNumber {
		// Digits are what residents type most: phone and ID numbers.
		b.MinWidth = 1.8 * currentTarget()
		b.MinHeight = 1.3 * currentTarget()
	}
	return b
}

func (k *Keypad) actionButton(key string, f func()) *Button {
	return NewButton(k.tr.T(key), func() {
		f()
		k.key()
	})
}

func (k *Keypad) rebuild() {
	var rows []fyne.CanvasObject
	if len(k.modes) > 1 {
		var tabs []fyne.CanvasObject
		for _, m := range k.modes {
			m := m
			style := StyleNormal
			if m == k.kind {
				style = StyleChosen
			}
			tabs = append(tabs, NewStyledButton(k.tr.T(keypadModeKey(m)), style, func() {
				k.SetKind(m)
				k.key()
			}))
		}
		rows = append(rows, container.NewGridWithColumns(len(tabs), tabs...))
	}
	switch k.kind {
	case KeypadNumeric, KeypadIDNumber:
		rows = append(rows, k.numericRows()...)
	case KeypadPinyin:
		rows = append(rows, k.candidateBar())
		rows = append(rows, k.letterRows(false)...)
	case KeypadLatin:
		rows = append(rows, k.letterRows(true)...)
	}
	k.box.Objects = rows
	k.box.Refresh()
}

func keypadModeKey(m KeypadKind) string {
	switch m {
	case KeypadPinyin:
		return "kb.pinyin"
	case KeypadLatin:
		return "kb.latin"
	}
	return "kb.numeric"
}

func (k *Keypad) numericRows() []fyne.CanvasObject {
	var keys []fyne.CanvasObject
	for _, r := range "123456789" {
		keys = append(keys, k.keyButton(string(r), r))
	}
	if k.kind == KeypadIDNumber {
		keys = append(keys, k.keyButton("X", 'X'))
	} else {
		keys = append(keys, k.actionButton("kb.clear", k.ClearAll))
	}
	keys = append(keys, k.keyButton("0", '0'), k.actionButton("kb.backspace", k.Delete))
	return []fyne.CanvasObject{container.NewGridWithColumns(3, keys...)}
}

func (k *Keypad) candidateBar() fyne.CanvasObject {
	all := k.allCandidates()
	buf := widget.NewLabel(k.buffer)
	if k.buffer == "" {
		buf.SetText(k.tr.T("kb.candidates"))
	}
	cells := []fyne.CanvasObject{}
	for _, r := range k.Candidates() {
		r := r
		b := NewButton(string(r), func() {
			k.Choose(r)
			k.key()
		})
		b.Big = true
		cells = append(cells, b)
	}
	for len(cells) < candidatesPerPage {
		cells = append(cells, layout.NewSpacer())
	}
	prev := NewButton("<", func() {
		if k.candPage > 0 {
			k.candPage--
			k.rebuild()
		}
		k.key()
	})
	prev.Disabled = k.candPage == 0
	next := NewButton(">", func() {
		if (k.candPage+1)*candidatesPerPage < len(all) {
			k.candPage++
			k.rebuild()
		}
		k.key()
	})
	next.Disabled = (k.candPage+1)*candidatesPerPage >= len(all)
	grid := container.NewGridWithColumns(candidatesPerPage, cells...)
	return container.NewBorder(nil, nil, buf, container.NewHBox(prev, next), grid)
}

func (k *Keypad) letterRows(latin bool) []fyne.CanvasObject {
	rowsText := []string{"qwertyuiop", "asdfghjkl", "zxcvbnm"}
	if latin {
		rowsText = append([]string{"1234567890"}, rowsText...)
	}
	var rows []fyne.CanvasObject
	for i, rt := range rowsText {
		var keys []fyne.CanvasObject
		for _, r := range rt {
			label := string(r)
			keys = append(keys, k.keyButton(label, r))
		}
		if i == len(rowsText)-1 {
			keys = append(keys, layout.NewSpacer(), k.actionButton("kb.backspace", k.Delete))
		}
		for len(keys) < 10 {
			keys = append(keys, layout.NewSpacer())
		}
		rows = append(rows, container.NewGridWithColumns(10, keys...))
	}
	var bottom []fyne.CanvasObject
	bottom = append(bottom, k.actionButton("kb.clear", k.ClearAll))
	if latin {
		for _, r := range "@.-" {
			bottom = append(bottom, k.keyButton(string(r), r))
		}
	}
	bottom = append(bottom, k.actionButton("kb.space", func() {
		if k.buffer != "" {
			if c := k.allCandidates(); len(c) > 0 {
				k.Choose(c[0])
			}
			return
		}
		if k.target != nil {
			k.target.AppendRune(' ')
		}
	}))
	rows = append(rows, container.NewGridWithColumns(len(bottom), bottom...))
	return rows
}
