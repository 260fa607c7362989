package techui

import (
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"

	"onedoor/kiosk/ui"
)

// voiceSettings are the Kiosk page's rows for the spoken guidance (issue
// 17): when a session starts speaking, in which Chinese voice, and how
// loud. row, choice and choiceRow are the page's own row builders.
func (m *Mode) voiceSettings(row func(string, fyne.CanvasObject) fyne.CanvasObject,
	choice func(key, current string, options []string, text func(string) string) fyne.CanvasObject,
	choiceRow func(string, fyne.CanvasObject) fyne.CanvasObject) fyne.CanvasObject {
	c := m.cfg.Voice
	named := func(prefix string) func(string) string {
		return func(v string) string { return m.tr.T(prefix + v) }
	}
	editVolume := ui.NewButton(m.tr.T("tech.voice.edit_volume"), func() {
		m.startEdit("voice.volume", "tech.voice.volume_field", strconv.Itoa(c.Volume), false, "", ui.KeypadNumeric)
	})
	return container.NewVBox(
		choiceRow(m.tr.T("tech.voice.default"), choice("voice.default", c.Default, []string{"elder", "on", "off"}, named("tech.voice.default_"))),
		choiceRow(m.tr.T("tech.voice.chinese"), choice("voice.chinese", c.Chinese, []string{"cmn", "yue"}, named("tech.voice.chinese_"))),
		row(m.tr.T("tech.voice.volume", c.Volume), editVolume),
	)
}
