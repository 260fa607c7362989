// Command screenshots renders every kiosk screen headless with Fyne's test
// driver and writes PNGs in zh-CN, in English and in elder mode, so the
// screens can be reviewed without a kiosk:
//
//	go run -tags no_emoji ./kiosk/ui/cmd/screenshots -out docs/screenshots
//
// The screens are reached by feeding the real flow machine the events a
// session produces; devices are stood in for by canned results.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

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

// fictional is the applicant of the screenshots; invented, like the
// simulator's cards.
func fictional() flow.Identity {
	return flow.Identity{Name: "王晓梅", Gender: "女", Nation: "汉", Birth: "1990-06-12",
		Address: "广东省东莞市示例镇演示路100号", IDNumber: "440305199006120240", FromCard: true}
}

func shoot(dir, mode, lang string, elder bool) (int, error) {
	h, err := uitest.NewHarness()
	if err != nil {
		return 0, err
	}
	defer h.Close()
	page := 0
	h.Effects = func(e flow.Effect) []flow.Event {
		switch e := e.(type) {
		case flow.ScanPage:
			page++
			return []flow.Event{flow.ScanDone{MaterialID: e.MaterialID, Page: e.Page, Ref: fmt.Sprintf("page-%d", page), BlankScore: 0.1, BlurScore: 0.1}}
		case flow.SubmitApplication:
			return nil // the submitting screen is shot first
		}
		return nil
	}
	if err := h.Tr.SetLang(lang); err != nil {
		return 0, err
	}
	n := 0
	snap := func(name string) error {
		n++
		return uitest.SavePNG(h.Win, filepath.Join(dir, fmt.Sprintf("%s-%02d-%s.png", mode, n, name)))
	}
	d := h.Dispatch
	if elder {
		d(flow.SetElderMode{On: true})
	}
	steps := []struct {
		name   string
		events []flow.Event
	}{
		{"home", nil},
		{"catalog", []flow.Event{flow.Start{}}},
		{"catalog-search", []flow.Event{flow.SearchCatalog{Query: "养老"}}},
		{"guide", []flow.Event{flow.SelectItem{ItemID: "hh-residence-permit"}}},
		{"identify", []flow.Event{flow.Next{}}},
		{"form", []flow.Event{flow.CardRead{Identity: fictional()}}},
		{"form-filled", []flow.Event{flow.SetField{Name: "phone", Value: "13800138000"}, flow.SetField{Name: "move_in", Value: "2025"}, flow.Next{}}},
		{"materials", []flow.Event{flow.SetField{Name: "move_in", Value: "20250301"}, flow.Next{}, flow.Scan{MaterialID: "photo"}}},
		{"materials-blank", []flow.Event{flow.Scan{MaterialID: "photo"}}},
		{"review", []flow.Event{flow.UsePromise{MaterialID: "housing"}, flow.Next{}, flow.SetConsent{Agreed: true}}},
		{"confirm-cancel", []flow.Event{flow.Cancel{}}},
		{"submitting", []flow.Event{flow.ConfirmNo{}, flow.Submit{}}},
		{"receipt", []flow.Event{flow.SubmitDone{ReceiptNo: "DG0001-20260310-0007", AcceptedAt: h.Clock.Now()}, flow.PrintDone{}}},
		{"receipt-paper-out", []flow.Event{flow.Reprint{}, flow.PrintFailed{PaperOut: true}}},
		{"rating", []flow.Event{flow.Next{}, flow.Rate{Level: flow.Dissatisfied}}},
		{"countdown", nil},
		{"lookup", []flow.Event{flow.SkipRating{}, flow.OpenLookup{}, flow.EnterReceiptNo{Number: "DG0001-20260310-0007"},
			flow.LookupDone{Results: []flow.LookupResult{{ReceiptNo: "DG0001-20260310-0007", ItemName: "居住证申领", Status: "approved", Note: "审核通过，请于 3 月 20 日后到镇行政服务中心 2 号窗口领取居住证。", UpdatedAt: h.Clock.Now()}}}}},
	}
	for _, s := range steps {
		for _, e := range s.events {
			d(e)
		}
		if s.name == "materials-blank" {
			// A blank page as the scanner would report it.
			d(flow.ScanDone{MaterialID: "photo", Page: 1, Ref: "blank", BlankScore: 0.99})
		}
		if s.name == "countdown" {
			h.Tick(time.Duration(flow.DefaultIdleTimeout) - 10*time.Second)
			if elder {
				h.Tick(flow.DefaultElderIdleTimeout - flow.DefaultIdleTimeout)
			}
		}
		if s.name == "lookup" && elder {
			d(flow.SetElderMode{On: true})
		}
		if s.name == "home" {
			h.Kiosk.SetOnline(false)
		}
		if err := snap(s.name); err != nil {
			return n, err
		}
		if s.name == "home" {
			h.Kiosk.SetOnline(true)
		}
	}
	return n, nil
}
