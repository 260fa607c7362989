package ui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// Timer starts f after d and returns a function that cancels it. It is
// injected so tests fire long presses without sleeping.
type Timer func(d time.Duration, f func()) (stop func())

// RealTimer runs f on Fyne's goroutine after d.
func RealTimer(d time.Duration, f func()) func() {
	t := time.AfterFunc(d, func() { fyne.Do(f) })
	return func() { t.Stop() }
}

// LongPress wraps content and calls OnLongPress when the pointer is held on
// it for Hold. Fyne's desktop driver turns touches into mouse events and has
// no long press, so it is built from mouse down and up; leaving the area
// cancels it. The technician entrance is a hidden long press.
type LongPress struct {
	widget.BaseWidget
	Content     fyne.CanvasObject
	Hold        time.Duration
	OnLongPress func()
	timer       Timer
	stop        func()
}

// NewLongPress wraps content; timer may be nil for RealTimer.
func NewLongPress(content fyne.CanvasObject, hold time.Duration, timer Timer, f func()) *LongPress {
	if timer == nil {
		timer = RealTimer
	}
	l := &LongPress{Content: content, Hold: hold, OnLongPress: f, timer: timer}
	l.ExtendBaseWidget(l)
	return l
}

// MouseDown implements desktop.Mouseable.
func (l *LongPress) MouseDown(*desktop.MouseEvent) {
	l.cancel()
	l.stop = l.timer(l.Hold, func() {
		l.stop = nil
		if l.OnLongPress != nil {
			l.OnLongPress()
		}
	})
}

// MouseUp implements desktop.Mouseable.
func (l *LongPress) MouseUp(*desktop.MouseEvent) { l.cancel() }

// MouseIn implements desktop.Hoverable.
func (l *LongPress) MouseIn(*desktop.MouseEvent) {}

// MouseMoved implements desktop.Hoverable.
func (l *LongPress) MouseMoved(*desktop.MouseEvent) {}

// MouseOut implements desktop.Hoverable: sliding off cancels the press.
func (l *LongPress) MouseOut() { l.cancel() }

func (l *LongPress) cancel() {
	if l.stop != nil {
		l.stop()
		l.stop = nil
	}
}

// CreateRenderer implements fyne.Widget.
func (l *LongPress) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(l.Content)
}
