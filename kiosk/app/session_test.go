package app

import (
	"onedoor/internal/testdate"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"onedoor/assets"
	"onedoor/kiosk/catalog"
	"onedoor/kiosk/config"
	"onedoor/kiosk/flow"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/ui/uitest"
)

// TestSessionConfigReachesFlow: session.warning, blank_threshold and
// blur_threshold from the config file change what the flow does; the
// defaults row is the control that the checks tell them apart.
func TestSessionConfigReachesFlow(t *testing.T) {
	cat, err := catalog.Parse(assets.SampleCatalog)
	if err != nil {
		t.Fatal(err)
	}
	tuned := config.Default()
	tuned.Session.Warning = 20 * time.Second
	tuned.Session.BlankThreshold = 0.75
	tuned.Session.BlurThreshold = 0.4
	if err := tuned.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		cfg  config.Session
		// At 42 s idle of 60 s (18 s left): countdown with a 20 s warning,
		// none with the default 15 s. A page scoring 0.8 blank (or 0.5
		// blurred) is rejected at 0.75 (0.4), kept at 0.97 (0.6).
		countdown, blankRejected, blurRejected bool
	}{
		{"config", tuned.Session, true, true, true},
		{"defaults", config.Default().Session, false, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			clock := uitest.NewClock(testdate.Date(2026, 3, 10, 9, 0, 0, 0, time.Local))
			q := &queue{}
			d := Deps{Catalog: cat, Tr: i18n.New(), Store: gatedStore{newGate()}, Post: q.post, Now: clock.Now,
				TickEvery: -1, Logger: quietLog}
			d.applySession(c.cfg)
			a, err := New(d)
			if err != nil {
				t.Fatal(err)
			}
			a.Dispatch(flow.Start{})
			a.Dispatch(flow.Tick{Now: clock.Advance(42 * time.Second)})
			if got := a.m.State().Countdown > 0; got != c.countdown {
				t.Errorf("countdown at 18 s left: %v, want %v", got, c.countdown)
			}
			for _, ev := range []flow.Event{flow.Continue{}, flow.SelectItem{ItemID: "hh-residence-permit"}, flow.Next{},
				flow.CardRead{Identity: uitest.Fictional()}, flow.ConfirmCondition{Index: 1, Yes: true}, flow.Next{},
				flow.SetField{Name: "phone", Value: "13800138000"}, flow.SetField{Name: "address", Value: "东莞市示例镇演示路1号"},
				flow.SetField{Name: "move_in", Value: "20250301"}, flow.Next{}} {
				a.Dispatch(ev)
			}
			if a.m.State().Step != flow.StepMaterials {
				t.Fatalf("at %s, want materials", a.m.State().Step)
			}
			photo := func(st flow.State) flow.MaterialState {
				for _, ms := range st.Materials {
					if ms.Material.ID == "photo" {
						return ms
					}
				}
				t.Fatal("no photo material")
				return flow.MaterialState{}
			}
			// The page's scores are fed to the app's machine directly, as
			// the answer to its own ScanPage: the thresholds are the flow's.
			scan := func(blank, blur float64) string {
				t.Helper()
				_, fx := a.m.Handle(flow.Scan{MaterialID: "photo", Retake: len(photo(a.m.State()).Pages) > 0})
				for _, f := range fx {
					if sp, ok := f.(flow.ScanPage); ok {
						st, _ := a.m.Handle(flow.ScanDone{MaterialID: sp.MaterialID, Page: sp.Page, Seq: sp.Seq, Ref: "p", BlankScore: blank, BlurScore: blur})
						return photo(st).Error.Key
					}
				}
				t.Fatal("no ScanPage")
				return ""
			}
			if got := scan(0.8, 0) == "err.page_blank"; got != c.blankRejected {
				t.Errorf("page 0.8 blank rejected: %v, want %v", got, c.blankRejected)
			}
			if got := scan(0, 0.5) == "err.page_blurred"; got != c.blurRejected {
				t.Errorf("page 0.5 blurred rejected: %v, want %v", got, c.blurRejected)
			}
		})
	}
}

// TestNoticeFromConfig: the personal-information notice names the
// retention days and the platform of the config; the configured zone
// reaches the app.
func TestNoticeFromConfig(t *testing.T) {
	cat, err := catalog.Parse(assets.SampleCatalog)
	if err != nil {
		t.Fatal(err)
	}
	c := config.Default()
	c.Storage.RetentionDays = 23
	c.Platform.Name = "东莞市政务服务数据管理局"
	c.Kiosk.TimeZone = "UTC"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	q := &queue{}
	// 2026-03-10 01:30 UTC is 09:30 in China.
	clock := uitest.NewClock(testdate.Date(2026, 3, 10, 1, 30, 0, 0, time.UTC))
	d := Deps{Catalog: cat, Tr: i18n.New(), Store: gatedStore{newGate()}, Post: q.post, Now: clock.Now, TickEvery: -1, Logger: quietLog}
	if err := d.applyConfig(c); err != nil {
		t.Fatal(err)
	}
	if d.Location == nil || d.Location.String() != "UTC" {
		t.Fatalf("location %v, want UTC", d.Location)
	}
	a, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	w := test.NewWindow(a.View().Object())
	defer w.Close()
	w.Resize(uitest.Screen())
	for _, ev := range []flow.Event{flow.Start{}, flow.SelectItem{ItemID: "ss-pension-cert"}, flow.Next{},
		flow.CardRead{Identity: uitest.Fictional()}, flow.ConfirmCondition{Index: 0, Yes: true}, flow.Next{},
		flow.SetField{Name: "phone", Value: "13800138000"}, flow.Next{}, flow.Next{}} {
		a.Dispatch(ev)
	}
	if a.m.State().Step != flow.StepReview {
		t.Fatalf("at %s, want review", a.m.State().Step)
	}
	notice := uitest.JoinedAll(w.Content())
	for _, want := range []string{"23", "东莞市政务服务数据管理局"} {
		if !strings.Contains(notice, want) {
			t.Errorf("notice lacks %q:\n%s", want, notice)
		}
	}
	if strings.Contains(notice, "7 天") || strings.Contains(notice, "保留 7") {
		t.Errorf("notice still names the default retention:\n%s", notice)
	}
}
