// Command minwindow is the baseline of the kiosk's start-up benchmark: a
// Fyne window with the kiosk's theme (the same embedded CJK font) and one
// line of Chinese, nothing else. It prints "first frame" on stdout at the
// same point in Fyne's life cycle as `onedoor` does under
// ONEDOOR_BENCH_FIRST_FRAME, and runs until killed.
package main

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"

	"onedoor/kiosk/ui"
)

func main() {
	a := app.NewWithID("cn.gov.onedoor.minwindow")
	a.Settings().SetTheme(ui.NewTheme(false))
	w := a.NewWindow("minwindow")
	w.SetContent(widget.NewLabel("一门通 政务服务自助终端"))
	w.Resize(fyne.NewSize(1280, 800))
	a.Lifecycle().SetOnStarted(func() {
		fyne.Do(func() { fmt.Println("first frame") })
	})
	w.ShowAndRun()
}
