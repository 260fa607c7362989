package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// The kinds of text every screen draws, in one place: a heading, a
// subheading, wrapped body text, and long text cut into sentences a paged
// list can page between.

// heading is a large line.
func heading(text string) *canvas.Text {
	t := canvas.NewText(text, theme.Color(theme.ColorNameForeground))
	t.TextSize = theme.Size(theme.SizeNameHeadingText)
	return t
}

// subheading is a medium line.
func subheading(text string) *canvas.Text {
	t := canvas.NewText(text, theme.Color(theme.ColorNameForeground))
	t.TextSize = theme.Size(theme.SizeNameSubHeadingText)
	return t
}

// para is wrapped body text.
func para(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// paras is long text as wrapped lines a paged list can cut between: one
// per sentence (after 。！？ or ". "), so no single item is taller than
// the room a list has (a promise text in elder mode ran under the buttons).
func paras(text string) []fyne.CanvasObject {
	var out []fyne.CanvasObject
	start := 0
	rs := []rune(text)
	for i, r := range rs {
		end := strings.ContainsRune("。！？", r) || (strings.ContainsRune(".!?", r) && (i+1 == len(rs) || rs[i+1] == ' '))
		if end && i+1 < len(rs) {
			if t := strings.TrimSpace(string(rs[start : i+1])); t != "" {
				out = append(out, para(t))
			}
			start = i + 1
		}
	}
	if t := strings.TrimSpace(string(rs[start:])); t != "" || len(out) == 0 {
		out = append(out, para(t))
	}
	return out
}
