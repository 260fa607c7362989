// Command minwindow is the baseline of the kiosk's start-up benchmark: a
// Fyne window with the kiosk's theme (the same embedded CJK font) and one
// line of Chinese, nothing else. It prints "first frame" on stdout at the
// same point in Fyne's life cycle as `onedoor` does under
// ONEDOOR_BENCH_FIRST_FRAME, and runs until killed. With -memreport D it
// also prints the Go runtime's memory figures D after the first frame, to
// set beside onedoor's /debug/memory (ONEDOOR_PPROF); it stays free of
// net/http so that the baseline's own footprint is not inflated.
package main

import (
	"flag"
	"fmt"
	"runtime"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"

	"onedoor/kiosk/ui"
)

func main() {
	memreport := flag.Duration("memreport", 0, "print Go memory figures this long after the first frame (0: never)")
	flag.Parse()
	a := app.NewWithID("cn.gov.onedoor.minwindow")
	a.Settings().SetTheme(ui.NewTheme(false))
	w := a.NewWindow("minwindow")
	w.SetContent(widget.NewLabel("一门通 政务服务自助终端"))
	w.Resize(fyne.NewSize(1280, 800))
	a.Lifecycle().SetOnStarted(func() {
		fyne.Do(func() { fmt.Println("first frame") })
		if *memreport > 0 {
			time.AfterFunc(*memreport, printMem)
		}
	})
	w.ShowAndRun()
}

func printMem() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mib := func(n uint64) float64 { return float64(n) / (1 << 20) }
	fmt.Printf("go heap in use %.1f MiB (objects %.1f), idle %.1f (released %.1f), total from OS %.1f MiB\n",
		mib(ms.HeapInuse), mib(ms.HeapAlloc), mib(ms.HeapIdle), mib(ms.HeapReleased), mib(ms.Sys))
}
