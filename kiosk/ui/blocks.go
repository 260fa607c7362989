package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"
)

// Subheading, Para and Card are the text and panel building blocks of the
// resident screens, exported so the technician screens (kiosk/techui) look
// the same and follow the same theme without copies of their own.

// Subheading is a medium bold line.
func Subheading(text string) *canvas.Text { return subheading(text) }

// Para is wrapped body text.
func Para(text string) *widget.Label { return para(text) }

// Card is a bordered panel stacking content vertically.
func Card(content ...fyne.CanvasObject) fyne.CanvasObject { return card(content...) }
