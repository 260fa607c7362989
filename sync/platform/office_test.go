package platform_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"onedoor/pii"
	"onedoor/sync/api"
	"onedoor/sync/platform"
)

// scanPNG is a small picture standing in for a scanned page.
func scanPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{R: uint8(x), G: 0x40, B: uint8(y), A: 0xff})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const staffPassword = "correct horse battery"

func (e *env) addStaff(user string) {
	e.t.Helper()
	h, err := platform.HashPassword(staffPassword)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.AddStaff(context.Background(), user, h, time.Now()); err != nil {
		e.t.Fatal(err)
	}
}

// browser is a cookie-keeping HTTP client that does not follow redirects,
// so tests see where the back office sends it.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func get(t *testing.T, c *http.Client, u string) (int, string, http.Header) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

func post(t *testing.T, c *http.Client, u string, form url.Values) (int, string, http.Header) {
	t.Helper()
	res, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

func login(t *testing.T, e *env, c *http.Client, user, pw string) int {
	t.Helper()
	_, page, _ := get(t, c, e.http.URL+"/login")
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("login page without CSRF token:\n%s", page)
	}
	code, _, _ := post(t, c, e.http.URL+"/login", url.Values{"user": {user}, "password": {pw}, "csrf": {m[1]}})
	return code
}

func TestBackOfficeAccessControl(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	e.addStaff("clerk")
	scan := scanPNG(t, 40, 30)
	e.upload("K1", scan)
	sub := newSubmission("K1", 1, scan)
	if r := e.submit("K1", sub); r.code != http.StatusCreated {
		t.Fatal(r.code)
	}
	other := []byte("a blob no submission names")
	e.upload("K1", other)

	anon := browser(t)
	for _, p := range []string{"/office/", "/office/submissions/" + sub.UUID, "/office/kiosks"} {
		if code, _, h := get(t, anon, e.http.URL+p); code != http.StatusSeeOther || h.Get("Location") != "/login" {
			t.Errorf("anonymous GET %s = %d -> %s", p, code, h.Get("Location"))
		}
	}
	if code, _, _ := get(t, anon, e.http.URL+"/office/submissions/"+sub.UUID+"/blobs/"+shaHex(scan)); code != http.StatusUnauthorized {
		t.Errorf("anonymous scan = %d", code)
	}
	if code, _, _ := post(t, anon, e.http.URL+"/office/submissions/"+sub.UUID+"/decide", url.Values{"status": {"approved"}}); code != http.StatusUnauthorized {
		t.Errorf("anonymous decide = %d", code)
	}

	c := browser(t)
	if code := login(t, e, c, "clerk", "wrong password!"); code != http.StatusUnauthorized {
		t.Fatalf("wrong password = %d", code)
	}
	if code := login(t, e, c, "nobody", staffPassword); code != http.StatusUnauthorized {
		t.Fatalf("unknown user = %d", code)
	}
	// Login without the page's CSRF token.
	if code, _, _ := post(t, browser(t), e.http.URL+"/login", url.Values{"user": {"clerk"}, "password": {staffPassword}}); code != http.StatusForbidden {
		t.Fatalf("login without CSRF = %d", code)
	}
	if code := login(t, e, c, "clerk", staffPassword); code != http.StatusSeeOther {
		t.Fatalf("login = %d", code)
	}
	u, _ := url.Parse(e.http.URL)
	if len(c.Jar.Cookies(u)) == 0 {
		t.Fatal("no session cookie")
	}

	code, page, h := get(t, c, e.http.URL+"/office/")
	if code != http.StatusOK || !strings.Contains(page, sub.Receipt) || h.Get("Content-Security-Policy") == "" {
		t.Fatalf("list = %d\n%s", code, page)
	}
	if strings.Contains(page, testID) || !strings.Contains(page, pii.MaskID(testID)) {
		t.Fatalf("list does not mask the ID number:\n%s", page)
	}
	if code, page, _ := get(t, c, e.http.URL+"/office/?status=approved"); code != http.StatusOK || strings.Contains(page, sub.Receipt) {
		t.Fatalf("filter by status did not filter")
	}
	if code, page, _ := get(t, c, e.http.URL+"/office/?q="+url.QueryEscape(sub.Receipt)); code != http.StatusOK || !strings.Contains(page, sub.Receipt) {
		t.Fatalf("search by receipt failed")
	}

	if code, page, _ := get(t, c, e.http.URL+"/office/kiosks"); code != http.StatusOK || !strings.Contains(page, "<td>K1</td>") {
		t.Fatalf("kiosks page = %d\n%s", code, page)
	}

	code, body, h := get(t, c, e.http.URL+"/office/submissions/"+sub.UUID+"/blobs/"+shaHex(scan))
	if code != http.StatusOK || h.Get("Content-Type") != "image/png" || body != string(scan) {
		t.Fatalf("scan = %d %s", code, h.Get("Content-Type"))
	}
	if code, _, _ := get(t, c, e.http.URL+"/office/submissions/"+sub.UUID+"/blobs/"+shaHex(other)); code != http.StatusNotFound {
		t.Fatalf("blob outside any submission = %d", code)
	}

	// Decisions need the session's CSRF token.
	_, detail, _ := get(t, c, e.http.URL+"/office/submissions/"+sub.UUID)
	m := csrfRe.FindStringSubmatch(detail)
	decide := e.http.URL + "/office/submissions/" + sub.UUID + "/decide"
	if code, _, _ := post(t, c, decide, url.Values{"status": {"approved"}, "csrf": {"00"}}); code != http.StatusForbidden {
		t.Fatalf("decide with a wrong CSRF token = %d", code)
	}
	if code, _, _ := post(t, c, decide, url.Values{"status": {"rejected"}, "csrf": {m[1]}}); code != http.StatusUnprocessableEntity {
		t.Fatalf("reject without a reason = %d", code)
	}
	// A final decision is asked for confirmation and not taken yet.
	if code, page, _ := post(t, c, decide, url.Values{"status": {"returned"}, "note": {"请补充户口本首页"}, "csrf": {m[1]}}); code != http.StatusOK || !strings.Contains(page, `id="confirm-go"`) {
		t.Fatalf("return without confirmation = %d\n%s", code, page)
	}
	if s := statuses(t, e, "K1", ""); len(s.Updates) != 1 {
		t.Fatalf("decided before confirmation: %+v", s)
	}
	if code, _, h := post(t, c, decide, url.Values{"status": {"returned"}, "note": {"请补充户口本首页"}, "csrf": {m[1]}, "confirm": {"yes"}}); code != http.StatusSeeOther {
		t.Fatalf("return = %d %v", code, h)
	}
	if code, _, _ := post(t, c, decide, url.Values{"status": {"approved"}, "csrf": {m[1]}, "confirm": {"yes"}}); code != http.StatusConflict {
		t.Fatalf("approve a returned case = %d", code)
	}
	s := statuses(t, e, "K1", "")
	if n := len(s.Updates); n != 2 || s.Updates[1].Status != api.StatusReturned || s.Updates[1].Note != "请补充户口本首页" {
		t.Fatalf("feed = %+v", s)
	}

	// Logout ends the session for good.
	_, list, _ := get(t, c, e.http.URL+"/office/")
	m = csrfRe.FindStringSubmatch(list)
	if code, _, _ := post(t, c, e.http.URL+"/logout", url.Values{"csrf": {m[1]}}); code != http.StatusSeeOther {
		t.Fatalf("logout = %d", code)
	}
	if code, _, _ := get(t, c, e.http.URL+"/office/"); code != http.StatusSeeOther {
		t.Fatalf("after logout = %d", code)
	}
}

func TestLoginRateLimited(t *testing.T) {
	e := newEnv(t, t.TempDir())
	e.addStaff("clerk")
	c := browser(t)
	for i := 0; i < 5; i++ {
		if code := login(t, e, c, "clerk", "guess number "+strings.Repeat("x", i)); code != http.StatusUnauthorized {
			t.Fatalf("guess %d = %d", i, code)
		}
	}
	// Even the right password is refused while the user is locked out.
	if code := login(t, e, c, "clerk", staffPassword); code != http.StatusTooManyRequests {
		t.Fatalf("login after 5 failures = %d", code)
	}
}
