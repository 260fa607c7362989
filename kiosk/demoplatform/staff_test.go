package demoplatform

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"testing"
)

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// login logs user in to p's back office over HTTP and returns the client.
func login(t *testing.T, p *Platform, user, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	base := p.BackOfficeURL()
	res, err := c.Get(base + "login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfField.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf field on the login page:\n%s", body)
	}
	res, err = c.PostForm(base+"login", url.Values{"csrf": {string(m[1])}, "user": {user}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return c
}

// TestDemoStaffLogins: the demo's staff login decides cases and may not
// open the dashboard; its supervisor login (same password) opens it, so a
// visitor sees both sides of the back office.
func TestDemoStaffLogins(t *testing.T) {
	p, err := Start(context.Background(), t.TempDir(), "DEMO-01", "demo", "demo password 123", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, c := range []struct {
		user string
		want int
	}{{"demo", http.StatusForbidden}, {p.SupervisorUser(), http.StatusOK}} {
		res, err := login(t, p, c.user, "demo password 123").Get(p.BackOfficeURL() + "office/dashboard")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		// A failed login ends on the login page (200 after the redirect).
		if res.StatusCode != c.want || res.Request.URL.Path != "/office/dashboard" {
			t.Errorf("%s opening the dashboard: %d at %s, want %d there", c.user, res.StatusCode, res.Request.URL.Path, c.want)
		}
	}
}

// TestKeptDemoStartsAgain: build/demo --demo-dir keeps the demo's data; a
// second start on it finds the kiosk and the logins there and carries on
// with the kiosk's token. It failed with "kiosk already exists".
func TestKeptDemoStartsAgain(t *testing.T) {
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	first, err := Start(context.Background(), dir, "DEMO-01", "demo", "demo password 123", quiet)
	if err != nil {
		t.Fatal(err)
	}
	tok := first.Token()
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Start(context.Background(), dir, "DEMO-01", "demo", "demo password 123", quiet)
	if err != nil {
		t.Fatalf("second start on the kept directory: %v", err)
	}
	defer again.Close()
	if again.Token() != tok {
		t.Fatal("the kept demo kiosk got another token than the one the platform holds")
	}
	res, err := login(t, again, again.SupervisorUser(), "demo password 123").Get(again.BackOfficeURL() + "office/dashboard")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/office/dashboard" {
		t.Fatalf("supervisor on the kept demo: %d at %s", res.StatusCode, res.Request.URL.Path)
	}
}
