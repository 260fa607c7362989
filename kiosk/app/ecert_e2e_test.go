package app

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"onedoor/kiosk/flow"
	"onedoor/kiosk/ui/uitest"
	"onedoor/sync/api"
	"onedoor/sync/outbox"
	"onedoor/sync/platform/ecert"
	"onedoor/sync/platform/local"
	"onedoor/sync/sqlitedb"
)

// elderID is the "elder" demo card's number: 艾尔肯·测试, who holds no
// 居住证 in the demo library until one is approved for him here.
const elderID = "650102195201080134"

// TestECertEndToEnd is issue 13's end-to-end test, every part real: the
// kiosk flow and screens on Fyne's test driver, the card reader, scanner
// and printer simulators on ptys, the outbox, the sync engine and the
// reference platform on loopback. A 居住证申领 approved in the back office
// issues a sealed 居住证 that verifies; the resident's next application
// that needs a 居住证 (城乡居民医保参保登记) is completed with one tap on
// the offered e-certificate and no scan; the platform's export names the
// certificate, the back office shows it seal-verified, the receipt lists
// it and the resident's lookup shows who used it.
func TestECertEndToEnd(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()

	// 1. 居住证申领 with scans; approved in the back office.
	r.startResidencePermit("elder")
	for _, m := range []struct{ id, kind string }{{"photo", "form"}, {"housing", "certificate"}} {
		r.scanMaterial(m.id, m.kind, scanWait)
	}
	no1 := r.submit()
	r.finishSession()
	row1 := r.waitExported(no1)
	r.decideInBackOffice(row1.UUID, api.StatusApproved, "准予办理")

	// 2. The certificate is in the library, sealed by the item's agency,
	// and verifies.
	plat := demoPlatformOf(r.demo)
	lib, err := local.OpenECerts(filepath.Join(r.demo.Dir, "platform"), plat.Store, nil)
	if err != nil {
		t.Fatal(err)
	}
	var permit ecert.Certificate
	r.settle("居住证 issued", 30*time.Second, func() bool {
		certs, err := lib.Query(ctx, elderID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range certs {
			if c.TypeCode == "11440000MB2D00001L002" {
				permit = c
				return true
			}
		}
		return false
	})
	if err := lib.Verify(ctx, permit, time.Now()); err != nil {
		t.Fatalf("issued 居住证 %s does not verify: %v", permit.Number, err)
	}

	// 3. The next application that needs a 居住证: one tap on the offer,
	// no scan.
	r.res.Count.Taps, r.res.Count.Typed = 0, 0
	scansBefore := r.demo.Scanner.Stats().Scans
	r.tap("城乡居民基本医疗保险参保登记") // the Home shortcut
	r.tap("开始办理")
	r.placeCard("elder", flow.StepForm)
	r.settle("e-certificate offer", 30*time.Second, func() bool { return r.state().ECerts.Status == flow.ECertReady })
	// The address lived at is not on the card; the 居住证 holds the one
	// typed for it (东1), and the form takes it from there.
	if f := formField(r.state(), "address"); f.Value != "东1" {
		t.Errorf("address %q, want 东1 from the 居住证", f.Value)
	}
	r.typeKeys(phone)
	r.tap("下一步")
	r.waitStep(flow.StepMaterials)
	formTaps := r.res.Count.Taps
	contains(t, "materials screen", r.screen(), "广东省居住证", ecert.MaskNumber(permit.Number))
	if strings.Contains(r.screen(), permit.Number) {
		t.Errorf("the full certificate number is on screen:\n%s", r.screen())
	}
	r.tap("使用电子证照")
	if !satisfied(r.state(), "residence_permit") {
		t.Fatalf("residence permit not provided by the e-certificate; screen:\n%s", r.screen())
	}
	no2 := r.submit()
	toReceipt := r.res.Count
	page, _ := r.demo.LastReceipt()
	contains(t, "printed receipt", page.Text, no2, "电子证照", ecert.MaskNumber(permit.Number))
	r.finishSession()
	c := r.res.Count
	t.Logf("repeat applicant, 城乡居民医保参保登记 with every material an e-certificate: Home to receipt %d taps (%d of them choosing the item and filling the form) and %d typed characters; Home to Home %d taps; %d scans",
		toReceipt.Taps, formTaps, toReceipt.Typed, c.Taps, r.demo.Scanner.Stats().Scans-scansBefore)
	if toReceipt.Taps > 8 {
		t.Errorf("Home to receipt took %d taps; the goal is at most 8", toReceipt.Taps)
	}
	if materialsToReceipt := toReceipt.Taps - formTaps; materialsToReceipt > 4 {
		t.Errorf("materials to receipt took %d taps, want at most 4 (use e-certificate, next, consent, submit)", materialsToReceipt)
	}
	if n := r.demo.Scanner.Stats().Scans - scansBefore; n != 0 {
		t.Errorf("%d scans during the second application, want none", n)
	}
	sub, ok := r.stored.submission(no2)
	if !ok {
		t.Fatal("the outbox did not commit the second application")
	}
	for _, m := range sub.Materials {
		if len(m.Pages) > 0 {
			t.Errorf("material %s sent %d scanned pages", m.MaterialID, len(m.Pages))
		}
		if m.MaterialID == "residence_permit" && (m.Kind != api.KindECert || m.CertNumber != permit.Number) {
			t.Errorf("residence permit sent as %q %q, want the e-certificate %s", m.Kind, m.CertNumber, permit.Number)
		}
	}

	// 4. The platform took it (intake verified the seal: an invalid one is
	// a 422 and never exported) and its export names the certificate.
	row2 := r.waitExported(no2)
	if !slices.Contains(row2.Certs, permit.Number) || len(row2.Blobs) != 0 {
		t.Errorf("export row %+v: want certificate %s and no scans", row2, permit.Number)
	}

	// 5. The back office shows the certificate seal-verified.
	office := r.officePage("/office/submissions/" + row2.UUID)
	contains(t, "back office case page", office, "签章已核验", "广东省居住证")
	if strings.Contains(office, "签章核验未通过") {
		t.Errorf("back office shows the seal failed:\n%s", office)
	}

	// 6. The resident's lookup by card shows who used the certificate.
	r.placeCard("elder", flow.StepLookup)
	r.settle("lookup answer", 30*time.Second, func() bool { return r.state().Lookup.Done })
	found := false
	for _, lr := range r.state().Lookup.Results {
		for _, u := range lr.CertUses {
			found = found || u.Action == ecert.ActionUse && u.NumberMasked == ecert.MaskNumber(permit.Number)
		}
	}
	if !found {
		t.Errorf("lookup shows no use of %s: %+v", ecert.MaskNumber(permit.Number), r.state().Lookup.Results)
	}
	r.q.drain()
	if !strings.Contains(uitest.JoinedAll(r.win.Content()), "谁使用了我的证照") {
		t.Errorf("lookup screen lacks 谁使用了我的证照:\n%s", r.screen())
	}
}

func formField(s flow.State, name string) flow.FieldState {
	for _, f := range s.Fields {
		if f.Field.Name == name {
			return f
		}
	}
	return flow.FieldState{}
}

// finishSession skips the rating and takes the card, back to Home.
func (r *rig) finishSession() {
	r.t.Helper()
	r.tap("下一步")
	r.tap("跳过评价")
	r.removeCard()
	r.waitStep(flow.StepHome)
}

// officePage logs in to the back office as the demo clerk and returns a
// page's HTML.
func (r *rig) officePage(path string) string {
	r.t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		r.t.Fatal(err)
	}
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	base := strings.TrimSuffix(r.demo.BackOfficeURL(), "/")
	get := func(p string) string {
		r.t.Helper()
		resp, err := c.Get(base + p)
		if err != nil {
			r.t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			r.t.Fatalf("GET %s: %s", p, resp.Status)
		}
		return string(b)
	}
	m := csrfField.FindStringSubmatch(get("/login"))
	if m == nil {
		r.t.Fatal("no CSRF token on the login page")
	}
	resp, err := c.PostForm(base+"/login", url.Values{"csrf": {m[1]}, "user": {DemoStaffUser}, "password": {DemoStaffPassword}})
	if err != nil {
		r.t.Fatal(err)
	}
	resp.Body.Close()
	return get(path)
}

// TestECertOfflineAndRefusedAtIntake: with the link down the kiosk offers
// no e-certificate as confirmed — it says it cannot check now, and the
// material stays to be scanned; with the link up a certificate changed
// in the library after it was offered is refused at intake (422
// ecert_invalid), and the resident's lookup says to apply again and scan
// that material, instead of a silent accept.
func TestECertOfflineAndRefusedAtIntake(t *testing.T) {
	r := newRig(t)
	toMaterials := func() {
		t.Helper()
		r.tap("我要办事")
		r.tap("城乡居民基本医疗保险参保登记")
		r.tap("开始办理")
		r.placeCard("resident", flow.StepForm) // 王晓梅 holds DEMO-JZZ-0001
		r.typeKeys(phone)
		r.onField("address")
		r.tap("拼音")
		r.typeHan("dong", '东')
		r.tap("下一步")
		r.waitStep(flow.StepMaterials)
	}

	// Offline.
	r.demo.SetNetwork(false)
	toMaterials()
	r.settle("e-certificate query answered", 30*time.Second, func() bool { return r.state().ECerts.Status == flow.ECertOffline })
	contains(t, "offline materials screen", r.screen(), "现在无法联网查询电子证照")
	if uitest.FindButton(r.win.Content(), "使用电子证照") != nil {
		t.Errorf("使用电子证照 offered offline:\n%s", r.screen())
	}
	r.app.Dispatch(flow.UseECert{MaterialID: "residence_permit"})
	r.q.drain()
	if satisfied(r.state(), "residence_permit") {
		t.Fatal("residence permit counted as provided by an e-certificate offline")
	}
	r.tap("取消办理")
	r.tap("确定")
	r.removeCard()
	r.waitStep(flow.StepHome)
	r.demo.SetNetwork(true)
	r.settle("link up", 30*time.Second, func() bool { r.stack.Nudge(); return r.stack.Online() })

	// Online: offered and used, then changed in the library before intake.
	toMaterials()
	r.settle("e-certificate offer", 30*time.Second, func() bool { return r.state().ECerts.Status == flow.ECertReady })
	r.tap("使用电子证照")
	db, err := sqlitedb.OpenOne(filepath.Join(r.demo.Dir, "platform", "platform.db"), sqlitedb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := db.ExecContext(t.Context(), `UPDATE ecerts SET cert = CAST(replace(CAST(cert AS TEXT), '示例路1号', '示例路9号') AS BLOB) WHERE number = 'DEMO-JZZ-0001'`)
	db.Close()
	if n, _ := res.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("tamper: %v (%d rows)", err, n)
	}
	no := r.submit()
	r.finishSession()
	r.stack.Nudge()
	r.settle("platform's verdict", 30*time.Second, func() bool {
		rec, err := r.stored.Lookup(t.Context(), no)
		return err == nil && rec.State == outbox.StateRejected
	})
	rec, _ := r.stored.Lookup(t.Context(), no)
	if !strings.Contains(rec.LastError, api.CodeECertInvalid) {
		t.Errorf("rejected with %q, want %s", rec.LastError, api.CodeECertInvalid)
	}
	for _, row := range r.export() {
		if row.Receipt == no {
			t.Fatalf("the platform accepted a changed certificate: %+v", row)
		}
	}
	r.placeCard("resident", flow.StepLookup)
	r.settle("lookup answer", 30*time.Second, func() bool { return r.state().Lookup.Done })
	contains(t, "lookup screen", uitest.JoinedAll(r.win.Content()), "电子证照核验未通过", "扫描该材料")
}
