package app

import (
	"strings"
	"testing"
	"time"

	"onedoor/kiosk/flow"
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
	r.tap("我要办事")
	r.tap("城乡居民养老保险待遇领取资格认证")
	r.tap("开始办理")
	r.placeCard("resident", flow.StepForm)
	r.typeKeys(phone)
	r.tap("下一步")
	r.waitStep(flow.StepMaterials)
	r.tap("下一步")
	r.waitStep(flow.StepReview)
	r.tapContaining("我已阅读")
	r.tap("确认提交")
	r.waitStep(flow.StepReceipt)
	return r.state().Receipt.Number
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
	r.waitStep(flow.StepHome)

	// Item 2: residence permit, two scanned materials and a date field.
	r.tap("我要办事")
	r.tap("户籍与居住")
	r.tap("居住证申领")
	r.tap("开始办理")
	r.placeCard("resident", flow.StepForm)
	r.typeKeys(phone) // the first empty field, phone, has the keypad
	r.tap("下一页")
	r.tapField("move_in")
	r.typeKeys("20250301")
	r.tap("下一步")
	r.waitStep(flow.StepMaterials)
	if err := r.demo.Scanner.Feed("form", 1); err != nil {
		t.Fatal(err)
	}
	r.tap("扫描") // photo
	r.settle("photo scanned", scanWait, func() bool { return !r.app.Busy() && satisfied(r.state(), "photo") })
	if err := r.demo.Scanner.Feed("certificate", 1); err != nil {
		t.Fatal(err)
	}
	r.tap("扫描") // housing
	r.settle("housing scanned", scanWait, func() bool { return !r.app.Busy() && satisfied(r.state(), "housing") })
	r.tap("下一步")
	r.waitStep(flow.StepReview)
	r.tapContaining("我已阅读")
	r.tap("确认提交")
	r.waitStep(flow.StepReceipt)
	no2 := r.state().Receipt.Number
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
		if ok, err := r.demo.Platform.Store.SubmissionHasBlob(t.Context(), sha); err != nil || !ok {
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
