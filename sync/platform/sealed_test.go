package platform_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"onedoor/pii"
	"onedoor/sync/api"
	"onedoor/sync/client"
	"onedoor/sync/platform"
	"onedoor/sync/platform/local"
)

// TestApplicantDataEncryptedAtRest: through the reference platform as
// platformd opens it, a submission's personal data never reaches
// platform.db in clear (name, ID numbers, phone, address, form values,
// promise text), yet staff see it, find it by full ID number or exact
// name, and a kiosk's holder proof still matches.
func TestApplicantDataEncryptedAtRest(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	p, err := local.Open(ctx, dir, platformConfigForTest())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := p.AddKiosk(ctx, "K1")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AddStaff(ctx, "clerk", staffPassword); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p.Server)
	defer srv.Close()
	c, err := client.New(client.Config{BaseURL: srv.URL, KioskID: "K1", Token: tok, RetryMax: -1})
	if err != nil {
		t.Fatal(err)
	}
	const (
		name    = "秘密申请人"
		phone   = "13912345678"
		address = "东莞市保密路 99 号"
		reason  = "不应明文存放的理由"
		promise = "本人承诺的全文也属于个人信息"
	)
	s := newSubmission("K1", 1)
	s.Applicant = api.ApplicantData{Name: name, IDNumber: testID, Phone: phone, Address: address}
	s.Agent = &api.ApplicantData{Name: "代办人甲", IDNumber: agentID}
	s.Form = map[string]string{"reason": reason}
	s.Materials = []api.MaterialRef{{MaterialID: "p", Kind: api.KindPromise, PromiseText: promise}}
	if _, err := c.Submit(ctx, &s); err != nil {
		t.Fatal(err)
	}
	// Staff see it in clear, find it by ID (applicant's or agent's) and name.
	hc := browser(t)
	e := &env{t: t, http: srv}
	if code := login(t, e, hc, "clerk", staffPassword); code != http.StatusSeeOther {
		t.Fatalf("login = %d", code)
	}
	for _, q := range []string{testID, agentID, name, s.Receipt} {
		code, page, _ := get(t, hc, srv.URL+"/office/?q="+url.QueryEscape(q))
		if code != http.StatusOK || !strings.Contains(page, s.Receipt) || !strings.Contains(page, pii.MaskID(testID)) || !strings.Contains(page, name) {
			t.Errorf("search %q did not find the case:\n%s", pii.MaskText(q), page)
		}
	}
	if _, page, _ := get(t, hc, srv.URL+"/office/?q="+url.QueryEscape("441900199001011248")); strings.Contains(page, s.Receipt) {
		t.Error("another ID number found the case")
	}
	_, page, _ := get(t, hc, srv.URL+"/office/submissions/"+s.UUID)
	for _, want := range []string{name, address, reason, promise, pii.MaskID(testID)} {
		if !strings.Contains(page, want) {
			t.Errorf("detail page lacks %q", want)
		}
	}
	if tr, err := c.TrackProven(ctx, s.Receipt, client.TrackProof{IDNumber: testID}); err != nil || tr.ApplicantName != pii.MaskName(name) {
		t.Fatalf("track with the holder proof = %+v %v", tr, err)
	}
	// Nothing of it in the database files.
	srv.Close()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "platform.db*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, secret := range []string{name, testID, agentID, phone, address, reason, promise} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds %q in clear", filepath.Base(f), pii.MaskText(secret))
			}
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, local.DataKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("data key file: %v %v", fi, err)
	}
	// Reopened with its key, the platform still reads it.
	p2, err := local.Open(ctx, dir, platformConfigForTest())
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Close()
	srv2 := httptest.NewServer(p2.Server)
	defer srv2.Close()
	hc2 := browser(t)
	if code := login(t, &env{t: t, http: srv2}, hc2, "clerk", staffPassword); code != http.StatusSeeOther {
		t.Fatalf("login after reopen = %d", code)
	}
	if _, page, _ := get(t, hc2, srv2.URL+"/office/submissions/"+s.UUID); !strings.Contains(page, name) {
		t.Fatal("reopened platform cannot read the sealed case")
	}
}

func platformConfigForTest() platform.Config {
	return platform.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}
