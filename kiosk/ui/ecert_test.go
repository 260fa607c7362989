package ui_test

import (
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2"

	"onedoor/kiosk/flow"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/ui/uitest"
)

// TestMaterialsECertOffer: the materials screen shows an e-certificate
// offer (type, issuer, date, masked number — never the full number) with
// 使用电子证照 only when the platform returned one in this session; one
// tap uses it and the card says so; offline it says it cannot check now
// and offers no certificate. Every text and button stays inside the
// window in both languages, in elder mode and at the three window sizes.
func TestMaterialsECertOffer(t *testing.T) {
	offer := flow.ECertOffer{MaterialID: "residence_permit", Number: "EC-DG-2026-000001", NumberMasked: "EC-***********001",
		TypeName: "广东省居住证", Agency: "东莞市公安局示例镇派出所（示例）", IssuedOn: "2026-03-01", ValidUntil: "2027-03-01"}
	for _, lang := range []string{i18n.ZhCN, i18n.EN} {
		for _, elder := range []bool{false, true} {
			for _, size := range uitest.Sizes() {
				for _, online := range []bool{true, false} {
					t.Run(fmt.Sprintf("%s/elder=%v/%.0fx%.0f/online=%v", lang, elder, size.Width, size.Height, online), func(t *testing.T) {
						h := newHarness(t, lang, elder)
						h.SetSize(size)
						var q flow.QueryECerts
						h.Effects = func(f flow.Effect) []flow.Event {
							if e, ok := f.(flow.QueryECerts); ok {
								q = e
							}
							return nil
						}
						h.Dispatch(flow.Start{})
						h.Dispatch(flow.SelectItem{ItemID: "mi-resident-enrol"})
						h.Dispatch(flow.Next{})
						h.Dispatch(flow.CardRead{Identity: uitest.Fictional()})
						uitest.PassEligibility(h)
						h.Dispatch(flow.SetField{Name: "phone", Value: "13800138000"})
						h.Dispatch(flow.SetField{Name: "address", Value: "示例路1号"})
						h.Dispatch(flow.Next{})
						if q.Seq == 0 {
							t.Fatal("no e-certificate query after the card read")
						}
						if online {
							h.Dispatch(flow.ECertsFound{Seq: q.Seq, Offers: []flow.ECertOffer{offer}})
						} else {
							h.Dispatch(flow.ECertsUnavailable{Seq: q.Seq, Offline: true})
						}
						if st := h.Machine.State(); st.Step != flow.StepMaterials {
							t.Fatalf("step %v %v", st.Step, st.Error)
						}
						screen := uitest.Joined(h.Win.Content())
						if strings.Contains(uitest.JoinedAll(h.Win.Content()), offer.Number) {
							t.Fatalf("full certificate number on screen:\n%s", screen)
						}
						use := h.Tr.T("btn.use_ecert")
						if !online {
							if !strings.Contains(screen, h.Tr.T("materials.ecert_offline")) || uitest.FindButton(h.Win.Content(), use) != nil {
								t.Fatalf("offline: no 'cannot check now', or a certificate offered:\n%s", screen)
							}
							return
						}
						if !strings.Contains(screen, offer.NumberMasked) || !strings.Contains(screen, offer.Agency) || !strings.Contains(screen, offer.IssuedOn) {
							t.Fatalf("offer not shown:\n%s", screen)
						}
						inside(t, h)
						if err := h.R.Tap(use); err != nil {
							t.Fatal(err)
						}
						st := h.Machine.State()
						if len(st.Materials) < 2 || st.Materials[1].How != flow.ProvidedECert || !st.Materials[1].Satisfied() {
							t.Fatalf("not used: %+v", st.Materials)
						}
						if screen := uitest.Joined(h.Win.Content()); !strings.Contains(screen, h.Tr.T("materials.ecert_used", offer.TypeName, offer.Agency, offer.NumberMasked)) {
							t.Fatalf("used certificate not shown:\n%s", screen)
						}
						inside(t, h)
						h.Dispatch(flow.Next{})
						if screen := uitest.JoinedAll(h.Win.Content()); !strings.Contains(screen, offer.NumberMasked) {
							t.Fatalf("review does not name the certificate:\n%s", screen)
						}
					})
				}
			}
		}
	}
}

// inside fails when a text or button of the shown screen lies outside the
// window.
func inside(t *testing.T, h *uitest.Harness) {
	t.Helper()
	drv := fyne.CurrentApp().Driver()
	win := h.Win.Canvas().Size()
	uitest.Walk(h.Win.Content(), func(o fyne.CanvasObject) bool {
		p, s := drv.AbsolutePositionForObject(o), o.Size()
		if p.X < -0.5 || p.Y < -0.5 || p.X+s.Width > win.Width+0.5 || p.Y+s.Height > win.Height+0.5 {
			t.Errorf("%T at %.0f,%.0f size %.0f×%.0f outside the %.0f×%.0f window", o, p.X, p.Y, s.Width, s.Height, win.Width, win.Height)
		}
		return true
	})
}
