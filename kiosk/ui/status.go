package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// NewOfflineBadge is the notice shown while the platform is unreachable. It
// tells residents the kiosk still takes their application and sends it by
// itself, so nobody walks away thinking it failed.
func NewOfflineBadge(tr Texts) fyne.CanvasObject {
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameWarning))
	bg.CornerRadius = theme.Size(theme.SizeNameInputRadius)
	txt := widget.NewLabel(tr.T("home.offline"))
	txt.Wrapping = fyne.TextWrapWord
	txt.Importance = widget.HighImportance
	return container.NewStack(bg, txt)
}

// NewStepProgress is the session progress bar: M segments with the first N
// filled and the words "step N of M". It returns nil outside the
// application path (N == 0).
func NewStepProgress(tr Texts, n, m int) fyne.CanvasObject {
	if n <= 0 || m <= 0 {
		return nil
	}
	var segs []fyne.CanvasObject
	for i := 1; i <= m; i++ {
		c := theme.Color(theme.ColorNameDisabledButton)
		if i <= n {
			c = theme.Color(theme.ColorNamePrimary)
		}
		r := canvas.NewRectangle(c)
		r.SetMinSize(fyne.NewSize(20, 10))
		r.CornerRadius = 4
		segs = append(segs, r)
	}
	label := widget.NewLabel(tr.T("step.progress", n, m))
	return container.NewBorder(nil, nil, label, nil,
		container.NewVBox(container.NewGridWithColumns(m, segs...)))
}

// NewCountdownBanner is the idle warning: how many seconds are left and a
// large button to keep the session. It is inline, never a pop-up, so it
// obeys the elder-mode rule and cannot hide behind another window.
func NewCountdownBanner(tr Texts, seconds int, onContinue func()) fyne.CanvasObject {
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameWarning))
	// A wrapped label: the English sentence is longer than the screen is
	// wide at elder-mode size.
	msg := widget.NewLabelWithStyle(tr.T("idle.countdown", seconds), fyne.TextAlignCenter, fyne.TextStyle{})
	msg.Wrapping = fyne.TextWrapWord
	btn := NewStyledButton(tr.T("idle.continue"), StylePrimary, onContinue)
	btn.Big = true
	btn.MinWidth = 4 * currentTarget()
	row := container.NewBorder(nil, nil, nil, btn, msg)
	return container.NewStack(bg, container.NewPadded(row))
}
