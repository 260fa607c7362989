// Command screenshots renders every kiosk screen headless with Fyne's test
// driver and writes PNGs in zh-CN, in English and in elder mode (Chinese,
// and English as elder-en-*), at each
// supported window size, so the screens can be reviewed without a kiosk:
//
//	go run -tags no_emoji ./kiosk/ui/cmd/screenshots -out docs/screenshots [-sizes 1280x800,1366x768]
//
// The default size's files go in -out itself, the other sizes' in a
// subdirectory named for the size (docs/screenshots/1920x1080/...).
//
// The screens are reached by feeding the real flow machine the events a
// session produces (uitest.Tour); devices are stood in for by canned results.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"

	"onedoor/kiosk/flow"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/ui/uitest"
)

func main() {
	out := flag.String("out", "docs/screenshots", "directory for the PNG files")
	sizes := flag.String("sizes", "all", "window sizes, comma-separated WxH (1280x800,1366x768,1920x1080), or all")
	flag.Parse()
	var want []fyne.Size
	for _, sz := range uitest.Sizes() {
		name := sizeName(sz)
		if *sizes == "all" || strings.Contains(","+*sizes+",", ","+name+",") {
			want = append(want, sz)
		}
	}
	if len(want) == 0 {
		fmt.Fprintf(os.Stderr, "screenshots: no supported size in %q\n", *sizes)
		os.Exit(2)
	}
	n := 0
	for _, size := range want {
		dir := *out
		if size != uitest.Screen() {
			dir = filepath.Join(*out, sizeName(size))
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for _, mode := range []struct {
			name  string
			lang  string
			elder bool
		}{{"zh", i18n.ZhCN, false}, {"en", i18n.EN, false}, {"elder", i18n.ZhCN, true}, {"elder-en", i18n.EN, true}} {
			shots, err := shoot(dir, size, mode.name, mode.lang, mode.elder)
			if err != nil {
				fmt.Fprintf(os.Stderr, "screenshots (%s, %s): %v\n", sizeName(size), mode.name, err)
				os.Exit(1)
			}
			n += shots
		}
	}
	slog.Info("screenshots written", "count", n, "dir", *out)
}

func sizeName(s fyne.Size) string { return fmt.Sprintf("%.0fx%.0f", s.Width, s.Height) }

func shoot(dir string, size fyne.Size, mode, lang string, elder bool) (int, error) {
	h, err := uitest.NewHarness()
	if err != nil {
		return 0, err
	}
	defer h.Close()
	h.SetSize(size)
	if err := h.SetLang(lang); err != nil {
		return 0, err
	}
	if elder {
		h.Dispatch(flow.SetElderMode{On: true})
	}
	n := 0
	err = uitest.Tour(h, func(name string) error {
		n++
		return uitest.SavePNG(h.Win, filepath.Join(dir, fmt.Sprintf("%s-%02d-%s.png", mode, n, name)))
	})
	return n, err
}
