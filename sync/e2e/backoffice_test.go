package e2e

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"onedoor/pii"
	"onedoor/sync/api"
	"onedoor/sync/client"
	"onedoor/sync/engine"
	"onedoor/sync/outbox"
	"onedoor/sync/outbox/devdata"
	"onedoor/sync/platform"
	"onedoor/sync/platform/local"
	"onedoor/sync/platform/platformtest"
)

const (
	kioskID       = "E2E01"
	staffUser     = "clerk"
	staffPassword = "correct horse battery"
	approvalNote  = "材料齐全，准予办理"
)

// lockedBuffer collects log output from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// scanPNG is a page the browser can decode, so the test can tell a scan that
// really rendered (its natural width) from a broken image (width 0).
func scanPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{R: uint8(x), G: 0x60, B: uint8(y), A: 0xff})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// waitFor polls cond until it holds or the deadline passes; what() says
// what was last seen, for the failure message.
func waitFor(t *testing.T, limit time.Duration, cond func() bool, what func() string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v: %s", limit, what())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestBackOfficeApprovalReachesKiosk is the whole loop a resident's
// application takes: the kiosk stores it with a scan, the engine delivers it
// to the platform, a clerk logs in to the back office in a real browser,
// opens it, sees the scan, approves it, and the engine's status pull brings
// the approval (and the clerk's note) back into the kiosk's outbox.
func TestBackOfficeApprovalReachesKiosk(t *testing.T) {
	bctx := platformtest.StartChromium(t) // skips, saying why, only without Chromium; a few seconds, so -short runs it too
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	// The platform, as platformd serves it, on loopback.
	plat, err := local.Open(ctx, filepath.Join(dir, "platform"), platform.Config{Logger: logger.With("side", "platform")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plat.Close() })
	srv := httptest.NewServer(plat.Server)
	t.Cleanup(srv.Close)
	token, err := plat.AddKiosk(ctx, kioskID)
	if err != nil {
		t.Fatal(err)
	}
	if err := plat.AddStaff(ctx, staffUser, staffPassword); err != nil {
		t.Fatal(err)
	}

	// The kiosk: outbox, client, engine.
	ob, err := outbox.Open(ctx, outbox.Options{Dir: filepath.Join(dir, "kiosk"), KeyFile: filepath.Join(dir, "kiosk.key"),
		KioskID: kioskID, Logger: logger.With("side", "kiosk")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ob.Close() })
	cl, err := client.New(client.Config{BaseURL: srv.URL, KioskID: kioskID, Token: token,
		RetryWaitMin: 10 * time.Millisecond, RetryWaitMax: 100 * time.Millisecond, Logger: logger.With("side", "client")})
	if err != nil {
		t.Fatal(err)
	}
	// A short poll interval stands in for the default minute: the test
	// waits for the engine's own status pull rather than calling it.
	eng, err := engine.New(engine.Config{Store: ob, Platform: cl, KioskID: kioskID, Version: "e2e",
		PollInterval: 200 * time.Millisecond, HeartbeatInterval: time.Hour, Logger: logger.With("side", "engine")})
	if err != nil {
		t.Fatal(err)
	}
	engCtx, stopEngine := context.WithCancel(ctx)
	engDone := eng.Start(engCtx)
	t.Cleanup(func() { stopEngine(); <-engDone })

	// A resident applies at the kiosk with one scanned page.
	const scanW, scanH = 240, 160
	idNumber := devdata.IDNumber(4242)
	rc, err := ob.Submit(ctx, outbox.NewSubmission{
		ItemID: "dev-residence-certificate", ItemVersion: "1",
		Applicant: outbox.Applicant{Name: "测试甲", IDNumber: idNumber, Phone: "19900004242"},
		Form:      map[string]string{"purpose": "测试用途", "copies": "1"},
		Materials: []outbox.Material{{MaterialID: "m1", Kind: api.KindScan,
			Pages: []outbox.Page{{Data: scanPNG(t, scanW, scanH), ContentType: "image/png"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}

	// The engine wakes on the new submission and delivers it.
	var rec outbox.Record
	lookup := func() outbox.Record {
		r, err := ob.Lookup(ctx, rc.Number)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	waitFor(t, 30*time.Second, func() bool { rec = lookup(); return rec.State == outbox.StateSent },
		func() string { return "kiosk record " + rec.State + " / " + rec.LastError })
	if rec.CaseNumber == "" || rec.PlatformStatus != api.StatusReceived {
		t.Fatalf("after delivery the kiosk shows case %q, status %q", rec.CaseNumber, rec.PlatformStatus)
	}

	// The clerk, in a real browser.
	if err := platformtest.Login(bctx, srv.URL, staffUser, staffPassword); err != nil {
		t.Fatal(err)
	}
	list, err := platformtest.OpenByReceipt(bctx, srv.URL, rc.Number)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(list, idNumber) || !strings.Contains(list, pii.MaskID(idNumber)) {
		t.Fatalf("the list shows the ID number unmasked or not at all: %q", list)
	}
	if !strings.Contains(list, rec.CaseNumber) {
		t.Errorf("the list does not show the case number %s the kiosk holds: %q", rec.CaseNumber, list)
	}
	widths, err := platformtest.ScanWidths(bctx)
	if err != nil || len(widths) != 1 || widths[0] != scanW {
		t.Fatalf("scan widths in the browser = %v (%v), want [%d]", widths, err, scanW)
	}
	shown, err := platformtest.Decide(bctx, api.StatusApproved, approvalNote)
	if err != nil || shown != "准予办结" {
		t.Fatalf("status after approval = %q (%v)", shown, err)
	}

	// The approval comes back to the kiosk through the engine's pull.
	waitFor(t, 30*time.Second, func() bool { rec = lookup(); return rec.PlatformStatus == api.StatusApproved },
		func() string { return "kiosk status " + rec.PlatformStatus })
	mine, err := ob.LookupByID(ctx, idNumber)
	if err != nil {
		t.Fatal(err)
	}
	if len(mine) != 1 || mine[0].Receipt != rc.Number || mine[0].PlatformStatus != api.StatusApproved || mine[0].StatusNote != approvalNote {
		t.Fatalf("the resident's lookup at the kiosk = %+v", mine)
	}
	hist, err := ob.History(ctx, rc.Number)
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, h := range hist {
		statuses = append(statuses, h.Status)
	}
	if !strings.Contains(strings.Join(statuses, ","), api.StatusApproved) {
		t.Errorf("status history at the kiosk = %v, want it to include %s", statuses, api.StatusApproved)
	}

	// Neither side logged the applicant's ID number or the kiosk's token.
	all := logs.String()
	for _, secret := range []string{idNumber, token} {
		if strings.Contains(all, secret) {
			t.Errorf("logs contain a secret (%.4s…)", secret)
		}
	}
}
