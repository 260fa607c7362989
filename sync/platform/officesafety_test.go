package platform_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"onedoor/sync/api"
	"onedoor/sync/platform"
)

// TestScansServedSafely: a page is served with the type its submission
// declared if that is JPEG, PNG or PDF, never sniffed; anything else (an
// HTML "scan") is a download that cannot render on the back office origin.
func TestScansServedSafely(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	e.addStaff("clerk")
	png := scanPNG(t, 20, 10)
	html := []byte("<html><script>alert(document.cookie)</script></html>")
	e.upload("K1", png)
	e.upload("K1", html)
	sub := newSubmission("K1", 1)
	sub.Materials = []api.MaterialRef{{MaterialID: "id-copy", Kind: api.KindScan, Pages: []api.BlobRef{
		{SHA256: shaHex(png), Size: int64(len(png)), ContentType: "image/png"},
		{SHA256: shaHex(html), Size: int64(len(html)), ContentType: "text/html"},
	}}}
	if r := e.submit("K1", sub); r.code != http.StatusCreated {
		t.Fatalf("submit: %d %s", r.code, r.body)
	}
	c := browser(t)
	if code := login(t, e, c, "clerk", staffPassword); code != http.StatusSeeOther {
		t.Fatalf("login = %d", code)
	}
	base := e.http.URL + "/office/submissions/" + sub.UUID + "/blobs/"
	code, body, h := get(t, c, base+shaHex(png))
	if code != http.StatusOK || body != string(png) || h.Get("Content-Type") != "image/png" || h.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.HasPrefix(h.Get("Content-Disposition"), "inline") {
		t.Fatalf("PNG scan = %d %v", code, h)
	}
	code, _, h = get(t, c, base+shaHex(html))
	if code != http.StatusOK || h.Get("Content-Type") != "application/octet-stream" || !strings.HasPrefix(h.Get("Content-Disposition"), "attachment") ||
		h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("HTML 'scan' = %d %v", code, h)
	}
	// A page of another submission is not served under this one.
	other := []byte("another case's page")
	e.upload("K1", other)
	if r := e.submit("K1", newSubmission("K1", 2, other)); r.code != http.StatusCreated {
		t.Fatal(r.code)
	}
	if code, _, _ := get(t, c, base+shaHex(other)); code != http.StatusNotFound {
		t.Fatalf("another submission's page = %d", code)
	}
}

// TestHSTSUnderTLS: every answer over TLS carries Strict-Transport-Security.
func TestHSTSUnderTLS(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	ts := httptest.NewTLSServer(e.server)
	defer ts.Close()
	for _, p := range []string{"/login", "/healthz", api.PathCatalog} {
		res, err := ts.Client().Get(ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if !strings.Contains(res.Header.Get("Strict-Transport-Security"), "max-age=") {
			t.Errorf("%s over TLS: no HSTS (%v)", p, res.Header)
		}
	}
	res, err := http.Get(e.http.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS over plain HTTP")
	}
}

// TestLoginLimiterPerAccount: a stranger failing at one account from the
// staff's NAT address does not lock the other staff out; that account is
// locked from that address only.
func TestLoginLimiterPerAccount(t *testing.T) {
	e := newEnv(t, t.TempDir())
	e.addStaff("clerk")
	e.addStaff("clerk2")
	stranger := browser(t)
	for i := 0; i < 6; i++ {
		login(t, e, stranger, "clerk", "a wrong guess "+strings.Repeat("x", i))
	}
	if code := login(t, e, stranger, "clerk", staffPassword); code != http.StatusTooManyRequests {
		t.Fatalf("guessed account from the guessing address = %d, want 429", code)
	}
	// Same address (loopback): the colleague still gets in.
	if code := login(t, e, browser(t), "clerk2", staffPassword); code != http.StatusSeeOther {
		t.Fatalf("colleague behind the same address = %d, want 303", code)
	}
}

// TestMetricsNotOpen: /metrics (with per-kiosk series) on the kiosks' port
// needs its bearer token; the metrics listener serves it without.
func TestMetricsNotOpen(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	get := func(url, tok string) int {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	if c := get(e.http.URL+"/metrics", ""); c != http.StatusNotFound {
		t.Fatalf("/metrics without a configured token = %d", c)
	}
	ms := httptest.NewServer(e.server.MetricsHandler())
	defer ms.Close()
	if c := get(ms.URL+"/metrics", ""); c != http.StatusOK {
		t.Fatalf("metrics listener = %d", c)
	}
	e.reconfigure(func(c *platform.Config) { c.MetricsToken = "s3cret-metrics" })
	for tok, want := range map[string]int{"": http.StatusNotFound, "wrong": http.StatusNotFound, "s3cret-metrics": http.StatusOK} {
		if c := get(e.http.URL+"/metrics", tok); c != want {
			t.Errorf("/metrics with token %q = %d, want %d", tok, c, want)
		}
	}
}
