package app

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"onedoor/kiosk/flow"
	"onedoor/kiosk/ui"
	"onedoor/kiosk/ui/uitest"
)

// The fictional resident card of the ID-card simulator.
const (
	residentName   = "王晓梅"
	residentID     = "440305199006120240"
	residentMasked = "4403**********0240"
	phone          = "13800138000"
)

// applyPensionCert is the most common kiosk errand: the yearly pension
// eligibility check, ID card plus a phone number, nothing to scan. It starts
// at Home and ends on the receipt screen with the receipt printed.
func (r *rig) applyPensionCert() string {
	r.t.Helper()
	r.startPensionCert()
	r.placeCard("resident", flow.StepForm)
	r.typeKeys(phone)
	r.tap("下一步")
	r.waitStep(flow.StepMaterials)
	return r.submit()
}

// TestApplicationsEndToEnd is done-means (a): two different items, through
// the real flow, devices on pty simulators, the outbox and the platform.
func TestApplicationsEndToEnd(t *testing.T) {
	r := newRig(t)

	// Item 1: no scans.
	no1 := r.applyPensionCert()
	if !r.state().Printed {
		t.Fatalf("receipt not printed; screen:\n%s", r.screen())
	}
	page, ok := r.demo.LastReceipt()
	if !ok {
		t.Fatal("the simulated printer printed nothing")
	}
	contains(t, "printed receipt", page.Text, no1, "城乡居民养老保险待遇领取资格认证", residentMasked)
	if strings.Contains(page.Text, residentID) || strings.Contains(page.Text, residentName) {
		t.Errorf("receipt shows the full ID number or name:\n%s", page.Text)
	}
	r.tap("下一步")
	r.tap("非常满意")
	r.tap("提交评价")
	r.removeCard() // the thank-you screen waits for it
	r.waitStep(flow.StepHome)

	// Item 2: residence permit, two scanned materials and a date field.
	r.startResidencePermit("resident")
	r.scanMaterial("photo", "form", scanWait)
	r.scanMaterial("housing", "certificate", scanWait)
	no2 := r.submit()
	page, _ = r.demo.LastReceipt()
	contains(t, "second receipt", page.Text, no2, "居住证申领", residentMasked)

	row1 := r.waitExported(no1)
	row2 := r.waitExported(no2)
	if row1.ItemID != "ss-pension-cert" || row2.ItemID != "hh-residence-permit" {
		t.Errorf("exported items %q, %q", row1.ItemID, row2.ItemID)
	}
	if len(row2.Blobs) != 2 {
		t.Errorf("platform holds %d scans for %s, want 2", len(row2.Blobs), no2)
	}
	for _, sha := range row2.Blobs {
		if ok, err := demoPlatformOf(r.demo).Store.SubmissionHasBlob(t.Context(), sha); err != nil || !ok {
			t.Errorf("blob %s not stored on the platform: %v", sha, err)
		}
	}
}

// scanWait bounds one page going through the simulated scanner.
const scanWait = 30 * time.Second

func satisfied(s flow.State, materialID string) bool {
	for _, m := range s.Materials {
		if m.Material.ID == materialID {
			return m.Satisfied()
		}
	}
	return false
}

// TestMostCommonItemTapBudget is done-means (b): the pension eligibility
// check, the errand every pensioner does each year, from Home back to Home
// in at most 12 taps and 11 typed characters, counted as the test taps.
func TestMostCommonItemTapBudget(t *testing.T) {
	r := newRig(t)
	r.applyPensionCert()
	r.tap("下一步")
	r.tap("非常满意")
	r.tap("提交评价")
	r.removeCard() // the thank-you screen waits for it
	r.waitStep(flow.StepHome)
	c := r.res.Count
	t.Logf("pension eligibility check: %d taps, %d typed characters", c.Taps, c.Typed)
	if c.Taps > 12 || c.Typed > 11 {
		t.Errorf("took %d taps and %d typed characters; budget is 12 and 11", c.Taps, c.Typed)
	}
	if c.Typed != len(phone) {
		t.Errorf("typed %d characters, want only the phone number (%d)", c.Typed, len(phone))
	}
}

// personalData lists what must never stay on screen after a session.
var personalData = []string{residentName, residentID, residentMasked, phone, "王*梅", "示例大道100号"}

// TestIdleTimeoutWipesScreen is done-means (c): after the idle timeout no
// widget in the window tree, shown or hidden, holds the applicant's name,
// ID number or phone.
func TestIdleTimeoutWipesScreen(t *testing.T) {
	for _, stop := range []flow.Step{flow.StepForm, flow.StepReview} {
		t.Run(stop.String(), func(t *testing.T) {
			r := newRig(t)
			r.startPensionCert()
			r.placeCard("resident", flow.StepForm)
			r.typeKeys(phone)
			if stop == flow.StepReview {
				r.tap("下一步")
				r.waitStep(flow.StepMaterials)
				r.tap("下一步")
				r.waitStep(flow.StepReview)
				r.tapContaining("我已阅读")
			}
			before := uitest.JoinedAll(r.win.Content())
			if !strings.Contains(before, phone) {
				t.Fatalf("phone not on screen before the timeout; the check below would prove nothing:\n%s", before)
			}
			// The warning comes first, with its continue button.
			r.tick(50 * time.Second)
			if r.state().Countdown == 0 || uitest.FindButton(r.win.Content(), "我还在，继续办理") == nil {
				t.Fatalf("no countdown 10 s before the timeout; screen:\n%s", r.screen())
			}
			r.tick(11 * time.Second)
			if r.state().Step != flow.StepHome {
				t.Fatalf("still at %s after the timeout", r.state().Step)
			}
			after := uitest.JoinedAll(r.win.Content())
			for _, p := range personalData {
				if strings.Contains(after, p) {
					t.Errorf("%q still in the window tree after the timeout", p)
				}
			}
		})
	}
}

// tick advances the kiosk clock and delivers the idle tick.
func (r *rig) tick(d time.Duration) {
	now := r.clock.Advance(d)
	r.q.post(func() { r.app.Dispatch(flow.Tick{Now: now}) })
	r.q.drain()
}

// TestPaperOutKeepsReceipt is done-means (d): the printer runs out of paper
// mid-receipt; the receipt number stays on screen, the submission is
// stored, and after a refill the receipt prints again.
func TestPaperOutKeepsReceipt(t *testing.T) {
	r := newRig(t)
	r.demo.PaperOut()
	no := r.applyPensionCert()
	s := r.state()
	if s.Printed || !s.PaperOut {
		t.Fatalf("printed=%v paperOut=%v, want the paper-out state", s.Printed, s.PaperOut)
	}
	contains(t, "screen", r.screen(), no, "打印机缺纸")
	rec, err := r.stack.Store.Lookup(t.Context(), no)
	if err != nil {
		t.Fatalf("submission %s not stored: %v", no, err)
	}
	if rec.ItemID != "ss-pension-cert" {
		t.Errorf("stored item %q", rec.ItemID)
	}
	r.demo.Refill()
	r.tap("重新打印回执")
	r.settle("reprint", 20*time.Second, func() bool { return r.state().Printed && !r.app.Busy() })
	page, _ := r.demo.LastReceipt()
	contains(t, "reprinted receipt", page.Text, no, residentMasked)
	r.waitExported(no)
}

// TestLookupShowsDecision is done-means (e): a decision made in the
// platform's back office (over HTTP, logged in as a clerk) shows in the
// kiosk's progress lookup, by receipt number and the lookup code printed
// under it typed on the keypad, and by placing the ID card (the platform
// answers only with either proof).
func TestLookupShowsDecision(t *testing.T) {
	r := newRig(t)
	no := r.applyPensionCert()
	page, ok := r.demo.LastReceipt()
	if !ok {
		t.Fatal("the simulated printer printed nothing")
	}
	m := regexp.MustCompile(`查 询 码：([0-9A-Z]{5}-[0-9A-Z]{5})`).FindStringSubmatch(page.Text)
	if m == nil {
		t.Fatalf("no lookup code on the printed receipt:\n%s", page.Text)
	}
	code := strings.ToLower(m[1])
	typeNumberAndCode := func() {
		r.typeKeys(strings.ToLower(no))
		r.tapField("lookup_code")
		r.typeKeys(code)
		r.tap("查询")
	}
	r.tap("下一步")
	r.tap("跳过评价")
	r.removeCard() // the thank-you screen waits for it
	r.waitStep(flow.StepHome)
	row := r.waitExported(no)
	const note = "资格认证已通过，待遇按月发放。"
	r.decideInBackOffice(row.UUID, "approved", note)

	r.tap("办件查询")
	typeNumberAndCode()
	r.settle("lookup answer", 20*time.Second, func() bool { return r.state().Lookup.Done && !r.app.Busy() })
	contains(t, "lookup by receipt", r.screen(), no, "已办结（通过）", note)
	if r.state().Lookup.Offline {
		t.Error("answer marked offline while the platform is up")
	}

	// By ID card, from a fresh lookup screen.
	r.tap("返回")
	r.tap("办件查询")
	r.placeCard("resident", flow.StepLookup)
	r.settle("lookup by card", 20*time.Second, func() bool { return r.state().Lookup.Done && !r.app.Busy() })
	contains(t, "lookup by card", r.screen(), no, "已办结（通过）", residentMasked)

	// Offline, the local record answers and says so.
	r.demo.SetNetwork(false)
	r.tap("返回")
	r.tap("办件查询")
	typeNumberAndCode()
	r.settle("offline lookup", 60*time.Second, func() bool { return r.state().Lookup.Done && !r.app.Busy() })
	if !r.state().Lookup.Offline {
		t.Errorf("offline answer not marked offline")
	}
	contains(t, "offline lookup", r.screen(), no, "网络暂时中断")
}

// TestSessionEndResetsLanguage: the next resident starts in Chinese and in
// normal mode whatever the last one chose.
func TestSessionEndResetsLanguage(t *testing.T) {
	r := newRig(t)
	r.tap("English")
	r.tap("Large mode")
	r.tap("Apply for a service")
	if !r.state().ElderMode || r.tr.Lang() != "en" {
		t.Fatalf("elder=%v lang=%s after switching", r.state().ElderMode, r.tr.Lang())
	}
	r.tap("Home")
	r.waitStep(flow.StepHome)
	if r.state().ElderMode || r.tr.Lang() != "zh-CN" {
		t.Errorf("after the session: elder=%v lang=%s, want normal zh-CN", r.state().ElderMode, r.tr.Lang())
	}
	if uitest.FindButton(r.win.Content(), "我要办事") == nil {
		t.Errorf("Home not redrawn in Chinese:\n%s", r.screen())
	}
}

// TestOfflineApplication: with the link to the platform cut, the kiosk says
// so on screen, still takes an application and prints its receipt, and the
// engine delivers it once the link is back.
func TestOfflineApplication(t *testing.T) {
	r := newRig(t)
	r.demo.SetNetwork(false)
	r.stack.Nudge()
	r.settle("offline badge", 60*time.Second, func() bool { return !r.app.View().Online() })
	contains(t, "home while offline", r.screen(), "网络暂时中断")
	no := r.applyPensionCert()
	if !r.state().Printed {
		t.Fatalf("receipt not printed offline; screen:\n%s", r.screen())
	}
	for _, row := range r.export() {
		if row.Receipt == no {
			t.Fatalf("%s reached the platform through a cut link", no)
		}
	}
	r.demo.SetNetwork(true)
	r.waitExported(no)
	r.settle("badge cleared", 60*time.Second, func() bool { return r.app.View().Online() })
}

// TestDemoPanel drives an application with the demo panel's own buttons
// (place the card, feed a page) and checks that the panel shows the printed
// receipt.
func TestDemoPanel(t *testing.T) {
	r := newRig(t)
	panel := NewDemoPanel(r.demo)
	pw := test.NewTempWindow(t, panel.Object())
	pw.Resize(fyne.NewSize(360, 1400))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go panel.Watch(ctx, r.q.post)
	tapPanel := func(label string) {
		t.Helper()
		for _, b := range panelButtons(panel.Object()) {
			if b.Text == label {
				test.Tap(b)
				r.q.drain()
				return
			}
		}
		t.Fatalf("no panel button %q", label)
	}
	r.tap("我要办事")
	r.tap("户籍与居住")
	r.tap("居住证申领")
	r.tap("开始办理")
	tapPanel("王晓梅 (resident)")
	r.passEligibility()
	r.fillResidencePermit()
	tapPanel("放入 Feed: form")
	r.tap("扫描")
	r.settle("photo scanned", scanWait, func() bool { return !r.app.Busy() && satisfied(r.state(), "photo") })
	r.tap("书面承诺代替") // housing by written promise, shown in full
	if uitest.FindButton(r.win.Content(), "我已阅读并承诺") == nil {
		r.tap("下一页") // the promise's whole text moved it to the next page
	}
	r.tap("我已阅读并承诺")
	no := r.submit()
	r.settle("receipt on the panel", 10*time.Second, func() bool { return strings.Contains(panel.text.Text, no) })
	if panel.receipt.Image == nil {
		t.Error("panel shows no receipt image")
	}
}

func panelButtons(o fyne.CanvasObject) []*ui.Button { return uitest.All[*ui.Button](o) }
