package techui

import (
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"onedoor/kiosk/config"
	"onedoor/kiosk/ui"
)

// editor is the side panel where one text setting is typed on an
// on-screen keypad (the kiosk has no hardware keyboard).
type editor struct {
	key      string // config key
	titleKey string
	field    *ui.Field
	keypad   *ui.Keypad
	target   *editTarget
	// extra are keys the kiosk's Latin keypad lacks but URLs need.
	extra string
	// toValue turns what was typed into config.Set's text (e.g. "90" →
	// "90s"); nil keeps it.
	toValue func(string) string
	// secret: the audit line names the key but not the value.
	secret bool
}

// editTarget lets the technician type capitals (kiosk IDs are upper case)
// on the lower-case Latin keypad.
type editTarget struct {
	field *ui.Field
	upper bool
}

func (t *editTarget) AppendRune(r rune) {
	if t.upper {
		r = unicode.ToUpper(r)
	}
	t.field.AppendRune(r)
}

func (t *editTarget) Backspace() { t.field.Backspace() }
func (t *editTarget) Clear()     { t.field.Clear() }

// startEdit opens the editor for key with its current value.
func (m *Mode) startEdit(key, titleKey, value string, upper bool, extra string, modes ...ui.KeypadKind) *editor {
	var dict *ui.PinyinDict
	for _, k := range modes {
		if k == ui.KeypadPinyin {
			dict = m.pinyin()
		}
	}
	f := ui.NewField("")
	f.Name = key
	f.Active = true
	f.Value = value
	t := &editTarget{field: f, upper: upper}
	kp := ui.NewKeypad(m.tr, dict, modes...)
	kp.SetTarget(t)
	kp.OnKey = m.touch
	m.edit = &editor{key: key, titleKey: titleKey, field: f, keypad: kp, target: t, extra: extra}
	m.msg = ""
	m.redraw()
	return m.edit
}

// pinyin loads the pinyin dictionary the first time a Chinese setting is
// edited; it takes a moment and most visits never need it.
func (m *Mode) pinyin() *ui.PinyinDict {
	if m.dict == nil {
		m.dict = ui.NewPinyinDict()
	}
	return m.dict
}

func (e *editor) save(m *Mode) {
	v := e.field.Value
	if e.toValue != nil {
		v = e.toValue(v)
	}
	detail := e.key + "=" + v
	if e.secret {
		detail = e.key + " changed"
	}
	if m.change(detail, func(c *config.Config) error { return c.Set(e.key, v) }) {
		m.edit = nil
		m.redraw()
	}
}

func (e *editor) view(m *Mode) fyne.CanvasObject {
	title := widget.NewLabel(m.tr.T(e.titleKey))
	title.Wrapping = fyne.TextWrapWord
	objs := []fyne.CanvasObject{title, e.field}
	var keys []fyne.CanvasObject
	for _, r := range e.extra {
		keys = append(keys, ui.NewButton(string(r), func() { e.target.AppendRune(r) }))
	}
	caseKey := "tech.upper"
	if e.target.upper {
		caseKey = "tech.lower"
	}
	keys = append(keys, ui.NewButton(m.tr.T(caseKey), func() {
		e.target.upper = !e.target.upper
		m.redraw()
	}))
	objs = append(objs, container.NewHBox(keys...), e.keypad)
	cancel := ui.NewButton(m.tr.T("tech.cancel"), func() {
		m.edit = nil
		m.redraw()
	})
	save := ui.NewStyledButton(m.tr.T("tech.save"), ui.StylePrimary, func() { e.save(m) })
	objs = append(objs, container.NewGridWithColumns(2, cancel, save))
	return ui.Card(objs...)
}
