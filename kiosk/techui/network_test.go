package techui_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"onedoor/kiosk/config"
	"onedoor/kiosk/internal/testnet"
	"onedoor/kiosk/nettest"
)

// TestConnectionTestTellsLayersApart is done-means: the Network page's
// connection test tells a refused TCP connection from a TLS failure from
// an HTTP 401, against real loopback servers.
func TestConnectionTestTellsLayersApart(t *testing.T) {
	refused := "http://" + testnet.RefusingAddr(t)
	// TLS with a certificate no system root vouches for.
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer tlsSrv.Close()
	// A platform that refuses this kiosk's token.
	unauth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer unauth.Close()

	tests := []struct {
		name    string
		url     string
		failed  string // the step that must fail
		passed  []string
		verdict string
	}{
		{"refused", refused, "tcp", []string{"dns"}, "tech.net.verdict_tcp"},
		{"untrusted certificate", tlsSrv.URL, "tls", []string{"dns", "tcp"}, "tech.net.verdict_tls"},
		{"401", unauth.URL, "http", []string{"dns", "tcp"}, "tech.net.verdict_401"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := baseConfig(dir)
			cfg.Platform.URL, cfg.Platform.Token = tc.url, "kiosk-token-for-tests"
			r := newRig(t, rigOptions{dir: dir, cfg: &cfg})
			r.open()
			r.tap(r.tr("tech.tab.network"))
			if s := r.screen(); strings.Contains(s, cfg.Platform.Token) {
				t.Fatal("the Network page shows the token")
			}
			r.tap(r.tr("tech.net.test"))
			r.settle()
			rep := r.mode.Report()
			if rep == nil {
				t.Fatal("no report")
			}
			if st := rep.Step(tc.failed); st.Outcome != nettest.Failed {
				t.Errorf("step %s: %s (%s), want failed", tc.failed, st.Outcome, st.Detail)
			}
			for _, p := range tc.passed {
				if st := rep.Step(p); st.Outcome != nettest.OK {
					t.Errorf("step %s: %s (%s), want ok", p, st.Outcome, st.Detail)
				}
			}
			s := r.screen()
			if !strings.Contains(s, r.tr(tc.verdict)) {
				t.Errorf("screen lacks the verdict %q:\n%s", r.tr(tc.verdict), s)
			}
			// Each layer's line is on screen with its outcome.
			for _, step := range []string{"dns", "tcp", "tls", "http"} {
				if !strings.Contains(s, r.tr("tech.net.step_"+step)) {
					t.Errorf("screen lacks the %s line", step)
				}
			}
			if !strings.Contains(s, r.tr("tech.net.failed")) {
				t.Error("screen shows no failed step")
			}
		})
	}
}

// TestNetworkSettingsTyped: the platform URL is typed on the on-screen
// keypad (with the extra URL keys), validated, saved and shown; a URL the
// config refuses is reported and leaves the file as it was.
func TestNetworkSettingsTyped(t *testing.T) {
	dir := t.TempDir()
	cfg := baseConfig(dir)
	r := newRig(t, rigOptions{dir: dir, cfg: &cfg})
	r.open()
	r.tap(r.tr("tech.tab.network"))

	r.tap(r.tr("tech.net.edit_url"))
	if err := r.r.Type("ftp"); err != nil {
		t.Fatal(err)
	}
	r.tap(r.tr("tech.save"))
	if !strings.Contains(r.mode.Message(), "platform.url") {
		t.Fatalf("bad URL message %q, want one naming platform.url", r.mode.Message())
	}
	if c, _ := config.Load(r.store.Path); c.Platform.URL != "" {
		t.Fatalf("a refused URL was saved: %q", c.Platform.URL)
	}
	r.tap(r.tr("tech.cancel"))

	r.tap(r.tr("tech.net.edit_url"))
	if err := r.r.Type("http://platform.example.cn:8080"); err != nil {
		t.Fatal(err)
	}
	r.tap(r.tr("tech.save"))
	if r.mode.Message() != r.tr("tech.saved") {
		t.Fatalf("message %q", r.mode.Message())
	}
	c, err := config.Load(r.store.Path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Platform.URL != "http://platform.example.cn:8080" {
		t.Fatalf("saved URL %q", c.Platform.URL)
	}
	if !strings.Contains(r.screen(), r.tr("tech.net.url", c.Platform.URL)) {
		t.Error("the page does not show the new URL")
	}
	if !strings.Contains(r.audits.joined(), "platform.url=http://platform.example.cn:8080") {
		t.Errorf("URL change not audited: %q", r.audits.joined())
	}
}
