package platform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"onedoor/assets"
	"onedoor/sync/api"
	"onedoor/sync/platform"
	"onedoor/sync/platform/ecert"
	"onedoor/sync/platform/local"
	"onedoor/sync/platform/supervise"
)

const (
	policeUSCC = "11441900000000103M" // the sample catalog's agency of 居住证申领
	permitType = "11440000MB2D00001L002"
)

// ecertEnv is the reference platform as platformd runs it (local.Open:
// sealed store, reference e-certificate library) on loopback.
type ecertEnv struct {
	*env
	p *local.Platform
}

func newECertEnv(t *testing.T) *ecertEnv {
	t.Helper()
	dir := t.TempDir()
	kr := ecert.Keyring{Dir: filepath.Join(dir, local.ECertDir, "agencies")}
	if _, err := kr.Generate(policeUSCC, "东莞市公安局示例镇派出所（示例）"); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: dir, tokens: map[string]string{"K1": strings.Repeat("ab", 32)}, logs: &bytes.Buffer{}}
	p, err := local.Open(context.Background(), dir, platform.Config{Catalog: assets.SampleCatalog, NonceFile: filepath.Join(dir, "nonces.json")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := p.Store.AddKiosk(ctx, "K1", e.tokens["K1"], time.Now()); err != nil {
		t.Fatal(err)
	}
	h, _ := platform.HashPassword(staffPassword)
	if err := p.Store.AddStaff(ctx, "clerk", h, time.Now()); err != nil {
		t.Fatal(err)
	}
	e.http = httptest.NewServer(p.Server)
	t.Cleanup(func() { e.http.Close(); p.Close() })
	return &ecertEnv{env: e, p: p}
}

func (e *ecertEnv) ref(t *testing.T) *ecert.Reference {
	r, err := local.OpenECerts(e.dir, e.p.Store, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// query asks for item's offers; proof "" sends none.
func (e *ecertEnv) query(item, id string, readAt time.Time, proof func(q api.ECertQueryRequest) string) resp {
	q := api.ECertQueryRequest{ItemID: item, Session: uuid.NewString(), IDNumber: id, CardReadAt: readAt}
	b, _ := json.Marshal(q)
	h := map[string]string{}
	if p := proof(q); p != "" {
		h[api.HeaderHolderProof] = p
	}
	return e.do(req{method: "POST", path: api.PathECertQuery, body: b, header: h})
}

func goodProof(q api.ECertQueryRequest) string {
	return api.ECertHolderProof(q.IDNumber, "K1", q.Session, q.CardReadAt)
}

func (e *ecertEnv) decide(t *testing.T, c *http.Client, uuid, status string) {
	t.Helper()
	_, page, _ := get(t, c, e.http.URL+"/office/submissions/"+uuid)
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("detail page without CSRF:\n%s", page)
	}
	code, body, _ := post(t, c, e.http.URL+"/office/submissions/"+uuid+"/decide", url.Values{"status": {status}, "csrf": {m[1]}, "confirm": {"yes"}})
	if code != http.StatusSeeOther {
		t.Fatalf("decide %s = %d\n%s", status, code, body)
	}
}

// TestECertEndToEndOnPlatform: approving a 居住证申领 in the back office
// issues a sealed 居住证 that verifies; a kiosk that read the card queries
// it for 城乡居民医保参保 and the second application names it instead of a
// scan; intake verifies it; the access log has one line per use and no ID
// number; the resident's lookup lists who used it; the back office shows
// it verified with its image.
func TestECertEndToEndOnPlatform(t *testing.T) {
	e := newECertEnv(t)
	ctx := context.Background()
	page := scanPNG(t, 40, 30)
	e.upload("K1", page)
	first := newSubmission("K1", 1, page)
	first.ItemID, first.Form = "hh-residence-permit", map[string]string{"address": "东莞市示例镇测试路1号", "move_in": "2025-06-01"}
	first.Materials[0].MaterialID = "housing"
	if r := e.submit("K1", first); r.code != http.StatusCreated {
		t.Fatalf("first submission: %d %s", r.code, r.body)
	}
	c := browser(t)
	if code := login(t, e.env, c, "clerk", staffPassword); code != http.StatusSeeOther {
		t.Fatalf("login = %d", code)
	}
	e.decide(t, c, first.UUID, api.StatusApproved)

	ref := e.ref(t)
	certs, err := ref.Query(ctx, testID)
	if err != nil || len(certs) != 1 || certs[0].TypeCode != permitType {
		t.Fatalf("certificates after the approval: %+v, %v", certs, err)
	}
	permit := certs[0]
	if err := ref.Verify(ctx, permit, time.Now()); err != nil {
		t.Fatalf("issued certificate does not verify: %v", err)
	}
	if permit.Fields[1].Value != "东莞市示例镇测试路1号" || permit.Holder.IDMasked != "4419**********1231" {
		t.Fatalf("issued certificate: %+v", permit.Fields)
	}

	// Without the card read in this session the query is refused.
	now := time.Now()
	for name, r := range map[string]resp{
		"no proof": e.query("mi-resident-enrol", testID, now, func(api.ECertQueryRequest) string { return "" }),
		"proof of another": e.query("mi-resident-enrol", testID, now, func(q api.ECertQueryRequest) string {
			return api.ECertHolderProof("110105194912310021", "K1", q.Session, q.CardReadAt)
		}),
		"another session": e.query("mi-resident-enrol", testID, now, func(q api.ECertQueryRequest) string {
			return api.ECertHolderProof(q.IDNumber, "K1", uuid.NewString(), q.CardReadAt)
		}),
		"another kiosk": e.query("mi-resident-enrol", testID, now, func(q api.ECertQueryRequest) string {
			return api.ECertHolderProof(q.IDNumber, "K2", q.Session, q.CardReadAt)
		}),
		"card read earlier": e.query("mi-resident-enrol", testID, now.Add(-time.Hour), goodProof),
	} {
		if r.code != http.StatusForbidden || r.errCode(t).Code != api.CodeHolderProof {
			t.Errorf("%s: %d %s, want 403 holder_proof", name, r.code, r.body)
		}
	}
	r := e.query("mi-resident-enrol", testID, now, goodProof)
	var qr api.ECertQueryResponse
	if r.code != http.StatusOK || json.Unmarshal(r.body, &qr) != nil || len(qr.Offers) != 1 || qr.Offers[0].Number != permit.Number || qr.Offers[0].MaterialID != "residence_permit" {
		t.Fatalf("query = %d %s", r.code, r.body)
	}

	second := newSubmission("K1", 2)
	second.ItemID = "mi-resident-enrol"
	second.Materials = []api.MaterialRef{{MaterialID: "residence_permit", Kind: api.KindECert, CertNumber: qr.Offers[0].Number}}
	for i := 0; i < 2; i++ { // the second is a replay: no second use
		if r := e.submit("K1", second); r.code != http.StatusCreated {
			t.Fatalf("second submission: %d %s", r.code, r.body)
		}
	}
	acc, err := e.p.Store.Accesses(ctx, ref.HolderHash(testID), 100)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, a := range acc {
		count[a.Action]++
		if a.Action == ecert.ActionUse && (a.KioskID != "K1" || a.ItemID != "mi-resident-enrol" || a.Number != permit.Number || a.Receipt != second.Receipt) {
			t.Errorf("use line: %+v", a)
		}
	}
	if count[ecert.ActionUse] != 1 || count[ecert.ActionQuery] != 1 || count[ecert.ActionIssue] != 1 {
		t.Fatalf("access log: %v, want one issue, one query, one use", count)
	}

	// Who used my certificates, in the resident's lookup.
	tr := e.do(req{method: "GET", path: api.PathTrack + second.Receipt, header: map[string]string{api.HeaderHolderProof: api.HolderProof(testID, second.Receipt)}})
	var track api.TrackResponse
	if tr.code != http.StatusOK || json.Unmarshal(tr.body, &track) != nil || len(track.CertificateUses) != 3 || track.CertificateUses[0].Action != "use" ||
		strings.Contains(string(tr.body), permit.Number) || strings.Contains(string(tr.body), testID) {
		t.Fatalf("track: %d %s", tr.code, tr.body)
	}

	// The back office shows the certificate verified, with its image.
	_, detail, _ := get(t, c, e.http.URL+"/office/submissions/"+second.UUID)
	if !strings.Contains(detail, "seal-verified") || !strings.Contains(detail, permit.Number) || !strings.Contains(detail, "东莞市示例镇测试路1号") {
		t.Fatalf("back office detail without the verified certificate:\n%s", detail)
	}
	code, img, h := get(t, c, e.http.URL+"/office/submissions/"+second.UUID+"/ecerts/"+permit.Number+"/image")
	if code != http.StatusOK || h.Get("Content-Type") != "image/png" || !strings.HasPrefix(img, "\x89PNG") {
		t.Fatalf("certificate image: %d %s", code, h.Get("Content-Type"))
	}
	if code, _, _ := get(t, c, e.http.URL+"/office/submissions/"+first.UUID+"/ecerts/"+permit.Number+"/image"); code != http.StatusNotFound {
		t.Fatalf("image of a certificate the case does not name: %d", code)
	}
	// Nor to another town's staff, who may not open the case either.
	sv := e.p.Store
	hash, _ := platform.HashPassword(staffPassword)
	if err := e.p.Store.AddStaff(ctx, "other-town", hash, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := sv.SetKioskTown(ctx, "K1", "石龙镇"); err != nil {
		t.Fatal(err)
	}
	if err := sv.SetStaffRole(ctx, supervise.Account{User: "other-town", Role: supervise.RoleClerk, Town: "虎门镇", SetBy: "test", SetAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	other := browser(t)
	if code := login(t, e.env, other, "other-town", staffPassword); code != http.StatusSeeOther {
		t.Fatalf("login = %d", code)
	}
	if code, _, _ := get(t, other, e.http.URL+"/office/submissions/"+second.UUID+"/ecerts/"+permit.Number+"/image"); code != http.StatusNotFound {
		t.Fatalf("another town's clerk fetching the certificate image = %d, want 404", code)
	}

	// Nothing stored holds the ID number in clear.
	for _, f := range []string{"platform.db", "platform.db-wal"} {
		b, _ := os.ReadFile(filepath.Join(e.dir, f))
		if bytes.Contains(b, []byte(testID)) {
			t.Errorf("%s holds the plaintext ID number", f)
		}
	}
	if strings.Contains(e.logs.String(), testID) {
		t.Error("the log holds the plaintext ID number")
	}
}

// TestECertRefusedAtIntake: a changed field, a changed seal byte, an
// unknown agency key, an expired certificate and another holder's
// certificate are each refused at intake with 422 ecert_invalid naming the
// reason.
func TestECertRefusedAtIntake(t *testing.T) {
	e := newECertEnv(t)
	ctx := context.Background()
	ref := e.ref(t)
	issue := func(number string, issued time.Time, id string) ecert.Certificate {
		c, err := ref.Issue(ctx, ecert.Draft{TypeCode: permitType, TypeName: "广东省居住证", IDNumber: id, Name: "测试人", Number: number,
			Agency: ecert.Agency{Code: policeUSCC}, IssuedOn: issued, ValidDays: 365, Fields: []ecert.Field{{Name: "居住地址", Value: "东莞市示例镇测试路1号"}}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	put := func(c ecert.Certificate) {
		if err := e.p.Store.PutCertificate(ctx, c, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	changed := issue("JZZ-FIELD", now, testID)
	changed.Number = "JZZ-FIELD2"
	changed.Fields[0].Value = "别处"
	put(changed)
	seal := issue("JZZ-SEAL", now, testID)
	seal.Number = "JZZ-SEAL2"
	put(seal) // number changed: the seal no longer matches
	sealByte := issue("JZZ-SEALBYTE", now, testID)
	sealByte.Number = "JZZ-SEALBYTE2"
	put(sealByte)
	sb, _ := e.p.Store.Certificate(ctx, "JZZ-SEALBYTE")
	sb.Number = "JZZ-SEALBYTE3"
	stranger, _ := ecert.NewSigner(policeUSCC, "冒名机关")
	unknown, _ := stranger.Seal(issue("JZZ-UNKNOWN", now, testID))
	unknown.Number = "JZZ-UNKNOWN2"
	unknown, _ = stranger.Seal(unknown)
	put(unknown)
	issue("JZZ-EXPIRED", now.AddDate(-2, 0, 0), testID)
	issue("JZZ-OTHER", now, "110105194912310021")
	good := issue("JZZ-GOOD", now, testID)
	// A seal byte changed on a certificate in the library.
	good2 := good
	good2.Number = "JZZ-BYTE"
	good2.Seal.Signature = append([]byte(nil), good.Seal.Signature...)
	good2.Seal.Signature[12] ^= 0x08
	put(good2)

	tests := []struct{ number, reason string }{
		{"JZZ-FIELD2", "seal mismatch"},
		{"JZZ-SEAL2", "seal mismatch"},
		{"JZZ-BYTE", "seal mismatch"},
		{"JZZ-UNKNOWN2", "unknown agency key"},
		{"JZZ-EXPIRED", "expired"},
		{"JZZ-OTHER", "not the applicant's"},
		{"JZZ-NONE", "not found"},
	}
	for i, tt := range tests {
		t.Run(tt.number, func(t *testing.T) {
			s := newSubmission("K1", 10+i)
			s.ItemID = "mi-resident-enrol"
			s.Materials = []api.MaterialRef{{MaterialID: "residence_permit", Kind: api.KindECert, CertNumber: tt.number}}
			r := e.submit("K1", s)
			if r.code != http.StatusUnprocessableEntity || r.errCode(t).Code != api.CodeECertInvalid || !strings.Contains(string(r.body), tt.reason) {
				t.Fatalf("submit with %s = %d %s; want 422 ecert_invalid (%s)", tt.number, r.code, r.body, tt.reason)
			}
		})
	}
	s := newSubmission("K1", 99)
	s.ItemID = "mi-resident-enrol"
	s.Materials = []api.MaterialRef{{MaterialID: "residence_permit", Kind: api.KindECert, CertNumber: "JZZ-GOOD"}}
	if r := e.submit("K1", s); r.code != http.StatusCreated {
		t.Fatalf("intact certificate refused: %d %s", r.code, r.body)
	}
	acc, _ := e.p.Store.Accesses(ctx, ref.HolderHash(testID), 100)
	uses := 0
	for _, a := range acc {
		if a.Action == ecert.ActionUse {
			uses++
		}
	}
	if uses != 1 {
		t.Fatalf("%d use lines, want 1 (refused submissions use nothing)", uses)
	}
	_ = fmt.Sprint
}
