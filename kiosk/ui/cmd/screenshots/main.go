// Command screenshots renders every kiosk screen headless with Fyne's test
// driver and writes PNGs in zh-CN, in English and in elder mode, so the
// screens can be reviewed without a kiosk:
//
//	go run -tags no_emoji ./kiosk/ui/cmd/screenshots -out docs/screenshots
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

	"onedoor/kiosk/flow"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/ui/uitest"
)

func main() {
	out := flag.String("out", "docs/screenshots", "directory for the PNG files")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	n := 0
	for _, mode := range []struct {
		name  string
		lang  string
		elder bool
	}{{"zh", i18n.ZhCN, false}, {"en", i18n.EN, false}, {"elder", i18n.ZhCN, true}} {
		shots, err := shoot(*out, mode.name, mode.lang, mode.elder)
		if err != nil {
			fmt.Fprintf(os.Stderr, "screenshots (%s): %v\n", mode.name, err)
			os.Exit(1)
		}
		n += shots
	}
	slog.Info("screenshots written", "count", n, "dir", *out)
}

func shoot(dir, mode, lang string, elder bool) (int, error) {
	h, err := uitest.NewHarness()
	if err != nil {
		return 0, err
	}
	defer h.Close()
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
