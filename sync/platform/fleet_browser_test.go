package platform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"onedoor/sync/api"
	"onedoor/sync/platform"
	"onedoor/sync/platform/platformtest"
)

// fleetClock is the platform's clock in the fleet test, moved by hand so a
// kiosk "goes silent" without the test waiting twenty minutes.
type fleetClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fleetClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fleetClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fleetEnv struct {
	t      *testing.T
	clock  *fleetClock
	srv    *httptest.Server
	tokens map[string]string
}

func newFleetEnv(t *testing.T, kiosks ...string) *fleetEnv {
	ctx := context.Background()
	clk := &fleetClock{t: time.Now().UTC().Truncate(time.Second)}
	p, srv := openPlatform(t, t.TempDir(), platform.Config{Clock: clk.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MetricsToken: "fleet-metrics-token"})
	t.Cleanup(func() { p.Close() })
	var err error
	e := &fleetEnv{t: t, clock: clk, tokens: map[string]string{}}
	for _, k := range kiosks {
		if e.tokens[k], err = p.AddKiosk(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.AddStaff(ctx, "clerk", staffPassword); err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(srv)
	t.Cleanup(e.srv.Close)
	return e
}

// beat sends a signed heartbeat stamped with the platform's (moved) clock,
// as a kiosk whose clock agrees with the platform would.
func (e *fleetEnv) beat(kiosk string, hb api.Heartbeat) {
	e.t.Helper()
	hb.KioskID = kiosk
	body, _ := json.Marshal(hb)
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+api.PathHeartbeat, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	nonce, _ := api.NewNonce()
	if err := api.Sign(req, kiosk, e.tokens[kiosk], api.BodySHA256(body), e.clock.Now(), nonce); err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("heartbeat of %s: %s", kiosk, resp.Status)
	}
}

func healthyBeat() api.Heartbeat {
	return api.Heartbeat{Version: "1.4.0", Devices: map[string]string{"idcard": "ok", "printer": "ok", "scanner": "ok"},
		QueueDepth: 1, OldestAgeSeconds: 40, FreeDiskBytes: 12 << 30, LastSync: time.Now()}
}

// fleetRow reads one kiosk's row on the fleet page: its alert kinds and text.
func fleetRow(t *testing.T, ctx context.Context, base, kiosk string) (kinds, text string) {
	t.Helper()
	sel := "#kiosk-" + kiosk
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/office/kiosks"),
		chromedp.WaitVisible(chromedp.CSS(sel)),
	); err != nil {
		t.Fatalf("fleet page: %v", err)
	}
	attr, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), "data-alerts"))
	if err != nil {
		t.Fatal(err)
	}
	kinds = attr.Value
	text, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatal(err)
	}
	return kinds, text
}

// TestFleetPageInChromium: two kiosks report in; one goes silent and the
// other's printer runs out of paper; staff see both on the fleet page in a
// real browser, and see them clear when the kiosks recover.
func TestFleetPageInChromium(t *testing.T) {
	ctx := platformtest.NewChromium(t)
	e := newFleetEnv(t, "DG-TOWNHALL", "DG-VILLAGE7")
	e.beat("DG-TOWNHALL", healthyBeat())
	e.beat("DG-VILLAGE7", healthyBeat())
	if err := platformtest.Login(ctx, e.srv.URL, "clerk", staffPassword); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"DG-TOWNHALL", "DG-VILLAGE7"} {
		if kinds, text := fleetRow(t, ctx, e.srv.URL, k); kinds != "" || !strings.Contains(text, "正常") {
			t.Fatalf("%s at start: alerts %q, row %q", k, kinds, text)
		}
	}
	summary, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("fleet-summary")))
	if !strings.Contains(summary, "全部正常") {
		t.Fatalf("summary %q", summary)
	}

	// The village kiosk keeps beating every five minutes; its printer runs
	// out of paper on the second beat. The town-hall kiosk says nothing.
	e.clock.Advance(5 * time.Minute)
	e.beat("DG-VILLAGE7", healthyBeat())
	e.clock.Advance(5 * time.Minute)
	out := healthyBeat()
	out.Devices["printer"] = "error: printer: out of paper"
	out.PaperOut = true
	e.beat("DG-VILLAGE7", out)
	// Ten minutes after its last beat the town hall is not yet "silent".
	if kinds, _ := fleetRow(t, ctx, e.srv.URL, "DG-TOWNHALL"); kinds != "" {
		t.Fatalf("town hall after 10 min: alerts %q", kinds)
	}
	if kinds, text := fleetRow(t, ctx, e.srv.URL, "DG-VILLAGE7"); kinds != "paper_out" || !strings.Contains(text, "打印机缺纸") {
		t.Fatalf("village after paper out: alerts %q, row %q", kinds, text)
	}
	for range 3 {
		e.clock.Advance(5 * time.Minute)
		e.beat("DG-VILLAGE7", out)
	}
	kinds, text := fleetRow(t, ctx, e.srv.URL, "DG-TOWNHALL")
	if kinds != "silent" || !strings.Contains(text, "已失联 25 分钟") {
		t.Fatalf("town hall after 25 min: alerts %q, row %q", kinds, text)
	}
	if kinds, _ := fleetRow(t, ctx, e.srv.URL, "DG-VILLAGE7"); kinds != "paper_out" {
		t.Fatalf("village still out of paper: alerts %q", kinds)
	}
	summary, _ = chromedp.Run(ctx, chromedp.Text(chromedp.ID("fleet-summary")))
	if !strings.Contains(summary, "2 台需要处理") {
		t.Fatalf("summary %q", summary)
	}

	// The same alerts reach Prometheus.
	mreq, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/metrics", nil)
	mreq.Header.Set("Authorization", "Bearer fleet-metrics-token")
	resp, err := http.DefaultClient.Do(mreq)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`onedoor_platform_kiosk_alert{kind="silent",kiosk="DG-TOWNHALL"} 1`,
		`onedoor_platform_kiosk_alert{kind="paper_out",kiosk="DG-VILLAGE7"} 1`,
		`onedoor_platform_kiosk_alert{kind="silent",kiosk="DG-VILLAGE7"} 0`,
		`onedoor_platform_kiosk_seconds_since_heartbeat{kiosk="DG-TOWNHALL"} 1500`,
	} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// Paper refilled, town hall back online: both rows clear.
	e.beat("DG-VILLAGE7", healthyBeat())
	e.beat("DG-TOWNHALL", healthyBeat())
	for _, k := range []string{"DG-TOWNHALL", "DG-VILLAGE7"} {
		if kinds, _ := fleetRow(t, ctx, e.srv.URL, k); kinds != "" {
			t.Fatalf("%s after recovery: alerts %q", k, kinds)
		}
	}
}

// TestFleetUnknownDiskNotZero: a heartbeat without free_disk_bytes (all
// its fields are optional) shows the free disk as unknown, not as "0 MB"
// beside no disk alert.
func TestFleetUnknownDiskNotZero(t *testing.T) {
	ctx := platformtest.NewChromium(t)
	e := newFleetEnv(t, "DG-TOWNHALL")
	hb := healthyBeat()
	hb.FreeDiskBytes = 0
	e.beat("DG-TOWNHALL", hb)
	if err := platformtest.Login(ctx, e.srv.URL, "clerk", staffPassword); err != nil {
		t.Fatal(err)
	}
	_, text := fleetRow(t, ctx, e.srv.URL, "DG-TOWNHALL")
	disk, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#kiosk-DG-TOWNHALL td:nth-child(7)")))
	if err != nil || strings.TrimSpace(disk) != "—" {
		t.Fatalf("free disk of a kiosk that did not report it = %q (%v); row %q", disk, err, text)
	}
}
