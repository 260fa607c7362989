package techui

import (
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"onedoor/assets"
	"onedoor/kiosk/config"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/ui"
)

func (m *Mode) kioskPage() fyne.CanvasObject {
	c := m.cfg
	row := func(text string, btn fyne.CanvasObject) fyne.CanvasObject {
		return container.NewBorder(nil, nil, nil, btn, ui.Para(text))
	}
	editSite := ui.NewButton(m.tr.T("tech.kiosk.edit_site"), func() {
		m.startEdit("kiosk.name", "tech.field.site", c.Kiosk.Name, false, "", ui.KeypadPinyin, ui.KeypadLatin)
	})
	editID := ui.NewButton(m.tr.T("tech.kiosk.edit_id"), func() {
		m.startEdit("kiosk.id", "tech.field.id", c.Kiosk.ID, true, "", ui.KeypadLatin)
	})
	editIdle := ui.NewButton(m.tr.T("tech.kiosk.edit_idle"), func() {
		e := m.startEdit("session.idle_timeout", "tech.field.idle", strconv.Itoa(int(c.Session.IdleTimeout.Seconds())), false, "", ui.KeypadNumeric)
		e.toValue = func(s string) string { return strings.TrimSpace(s) + "s" }
	})
	editRetention := ui.NewButton(m.tr.T("tech.kiosk.edit_retention"), func() {
		m.startEdit("storage.retention_days", "tech.field.retention", strconv.Itoa(c.Storage.RetentionDays), false, "", ui.KeypadNumeric)
	})

	choice := func(key, current string, options []string, text func(string) string) fyne.CanvasObject {
		var bs []fyne.CanvasObject
		for _, o := range options {
			style := ui.StyleNormal
			if o == current {
				style = ui.StyleChosen
			}
			b := ui.NewStyledButton(text(o), style, func() {
				if o != current {
					m.change(key+"="+o, func(c *config.Config) error { return c.Set(key, o) })
				}
			})
			bs = append(bs, b)
		}
		return container.NewGridWithColumns(len(bs), bs...)
	}
	// A label over its choices: a wrapping label beside buttons in a row
	// would be squeezed to one character a line.
	choiceRow := func(text string, choices fyne.CanvasObject) fyne.CanvasObject {
		return container.NewBorder(nil, nil, widget.NewLabel(text), nil, choices)
	}
	langName := func(l string) string { return m.tr.In(l, "lang.name") }
	onOff := func(v string) string {
		if v == "true" {
			return m.tr.T("tech.on")
		}
		return m.tr.T("tech.off")
	}
	return container.NewVBox(
		row(m.tr.T("tech.kiosk.site", c.Kiosk.Name), editSite),
		row(m.tr.T("tech.kiosk.id", c.Kiosk.ID), editID),
		choiceRow(m.tr.T("tech.kiosk.language"), choice("kiosk.language", c.Kiosk.Language, i18n.Languages(), langName)),
		row(m.tr.T("tech.kiosk.idle", int(c.Session.IdleTimeout.Seconds())), editIdle),
		choiceRow(m.tr.T("tech.kiosk.elder"), choice("session.elder_default", fmt.Sprint(c.Session.ElderDefault), []string{"true", "false"}, onOff)),
		m.voiceSettings(row, choice, choiceRow),
		choiceRow(m.tr.T("tech.kiosk.profile"), choice("devices.printer.profile", c.Devices.Printer.Profile, assets.PrinterProfileNames(), func(s string) string { return s })),
		row(m.tr.T("tech.kiosk.retention", c.Storage.RetentionDays), editRetention),
		row(m.pinSummary(), ui.NewButton(m.tr.T("tech.pinc.title"), m.startPINChange)),
	)
}

func (m *Mode) logsPage() fyne.CanvasObject {
	title := ui.Subheading(m.tr.T("tech.logs.title"))
	refresh := ui.NewButton(m.tr.T("tech.refresh"), m.redraw)
	top := container.NewBorder(nil, nil, title, refresh)
	if m.d.Logs == nil {
		return container.NewBorder(top, nil, nil, nil, ui.Para(m.tr.T("tech.logs.empty")))
	}
	lines := m.d.Logs.Lines()
	if len(lines) == 0 {
		return container.NewBorder(top, nil, nil, nil, ui.Para(m.tr.T("tech.logs.empty")))
	}
	var items []fyne.CanvasObject
	for i := len(lines) - 1; i >= 0; i-- { // newest first
		l := ui.Para(lines[i])
		l.TextStyle = fyne.TextStyle{Monospace: true}
		l.Wrapping = fyne.TextWrapBreak
		items = append(items, l)
	}
	pl := ui.NewPagedList(m.tr, items, 12, 1, m.logPage)
	pl.OnPage = func(n int) { m.logPage = n }
	return container.NewBorder(top, nil, nil, nil, pl)
}
