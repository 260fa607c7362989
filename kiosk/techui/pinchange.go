package techui

import (
	"context"
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"onedoor/kiosk/config"
	"onedoor/kiosk/techpin"
	"onedoor/kiosk/ui"
)

// pinChange is the panel where the technician changes the PIN: current,
// new and new again, each typed on the one numeric keypad, shown as dots.
type pinChange struct {
	fields [3]*pinTarget
	active int
	pad    *ui.Keypad
	err    string
}

func pinFieldKeys() [3]string {
	return [3]string{"tech.pinc.current", "tech.pinc.next", "tech.pinc.again"}
}

func (m *Mode) startPINChange() {
	p := &pinChange{}
	for i := range p.fields {
		p.fields[i] = &pinTarget{}
	}
	p.pad = ui.NewKeypad(m.tr, nil, ui.KeypadNumeric)
	p.pad.OnKey = m.touch
	p.pad.SetTarget(p.fields[0])
	m.pinc = p
	m.msg = ""
	m.redraw()
}

func (p *pinChange) view(m *Mode) fyne.CanvasObject {
	objs := []fyne.CanvasObject{ui.Subheading(m.tr.T("tech.pinc.title"))}
	for i, key := range pinFieldKeys() {
		f := ui.NewField(m.tr.T(key))
		f.Name = key
		f.Active = i == p.active
		f.OnTapped = func() {
			p.active = i
			p.pad.SetTarget(p.fields[i])
			m.redraw()
		}
		p.fields[i].field = f
		p.fields[i].show()
		objs = append(objs, f)
	}
	if p.err != "" {
		e := widget.NewLabel(p.err)
		e.Importance = widget.DangerImportance
		objs = append(objs, e)
	}
	cancel := ui.NewButton(m.tr.T("tech.cancel"), func() {
		m.pinc = nil
		m.redraw()
	})
	save := ui.NewStyledButton(m.tr.T("tech.save"), ui.StylePrimary, func() { p.save(m) })
	save.Disabled = m.busy > 0
	objs = append(objs, p.pad, container.NewGridWithColumns(2, cancel, save))
	return ui.Card(objs...)
}

func (p *pinChange) save(m *Mode) {
	cur, next, again := p.fields[0].digits, p.fields[1].digits, p.fields[2].digits
	switch {
	case next != again:
		p.err = m.tr.T("tech.pinc.mismatch")
		m.redraw()
		return
	case techpin.CheckRules(next) != nil:
		p.err = m.tr.T("tech.pinc.rules")
		m.redraw()
		return
	}
	for _, f := range p.fields {
		f.Clear()
	}
	p.err = ""
	m.redraw()
	m.run(func(ctx context.Context) func() {
		hash, err := m.d.Gate.Change(ctx, cur, next)
		return func() {
			if m.pinc != p {
				return
			}
			switch {
			case errors.Is(err, techpin.ErrWrongPIN), errors.Is(err, techpin.ErrLocked):
				p.err = m.tr.T("tech.pinc.wrong")
				if errors.Is(err, techpin.ErrLocked) {
					// Five wrong PINs here lock entry like at the door.
					m.Close()
					return
				}
			case err != nil:
				p.err = m.tr.T("tech.failed", err.Error())
			default:
				if m.change("technician.pin_hash changed", func(c *config.Config) error {
					return c.Set("technician.pin_hash", hash)
				}) {
					m.pinc = nil
					m.say(m.tr.T("tech.pinc.done"), false)
				}
			}
			m.redraw()
		}
	})
}

// pinSummary says whether a PIN is set, for the Kiosk page.
func (m *Mode) pinSummary() string {
	if strings.TrimSpace(m.cfg.Technician.PINHash) == "" {
		return m.tr.T("tech.pinc.unset")
	}
	return m.tr.T("tech.pinc.set")
}
