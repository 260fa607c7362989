package platform_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"onedoor/sync/api"
	"onedoor/sync/platform"
)

const chromiumPath = "/usr/bin/chromium"

// newChromium starts Debian's chromium headless with a fresh profile.
func newChromium(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("skipping: %s not found (build/setup installs the chromium package)", chromiumPath)
	}
	if testing.Short() {
		t.Skip("skipping the browser test in -short mode")
	}
	profile, err := os.MkdirTemp("", "onedoor-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Chromium's helpers can still write there for a moment after exit.
		for range 50 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(profile),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancelBrowser)
	return bctx
}

// clickAndLoad clicks and waits for the page the click leads to.
func clickAndLoad(ctx context.Context, sel string) error {
	_, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel))))
	return err
}

// TestBackOfficeInChromium drives the back office in a real browser: log in,
// open a submission, see its scan, approve it; then the kiosk's statuses
// feed carries the approval.
func TestBackOfficeInChromium(t *testing.T) {
	ctx := newChromium(t)
	e := newEnv(t, t.TempDir(), "K1")
	e.addStaff("clerk")
	scan := scanPNG(t, 320, 200)
	e.upload("K1", scan)
	sub := newSubmission("K1", 7, scan)
	if r := e.submit("K1", sub); r.code != http.StatusCreated {
		t.Fatalf("submit = %d %s", r.code, r.body)
	}
	before := statuses(t, e, "K1", "")

	// No open access: the office sends a stranger to the login page.
	if err := chromedp.Do(ctx, chromedp.Navigate(e.http.URL+"/office/")); err != nil {
		t.Fatalf("navigate: %v", err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.HasSuffix(loc, "/login") {
		t.Fatalf("anonymous browser at %q (%v)", loc, err)
	}

	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.SendKeys(chromedp.ID("user"), "clerk"),
		chromedp.SendKeys(chromedp.ID("password"), staffPassword),
	); err != nil {
		t.Fatalf("login form: %v", err)
	}
	if err := clickAndLoad(ctx, "#login"); err != nil {
		t.Fatalf("log in: %v", err)
	}
	list, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("submissions")))
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if !strings.Contains(list, sub.Receipt) || strings.Contains(list, testID) || !strings.Contains(list, platform.MaskIDNumber(testID)) {
		t.Fatalf("list page shows %q", list)
	}

	if err := clickAndLoad(ctx, "a.open"); err != nil {
		t.Fatalf("open submission: %v", err)
	}
	receipt, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("receipt")))
	if err != nil || receipt != sub.Receipt {
		t.Fatalf("detail shows receipt %q (%v)", receipt, err)
	}
	// The scan really rendered: the browser decoded the PNG it was served.
	width, err := chromedp.Run(ctx, chromedp.Poll[int](`(() => { const i = document.querySelector('img.scan'); return i && i.complete && i.naturalWidth > 0 ? i.naturalWidth : 0 })()`))
	if err != nil || width != 320 {
		t.Fatalf("scan width in the browser = %d (%v)", width, err)
	}

	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("decision"), api.StatusApproved),
		chromedp.SendKeys(chromedp.ID("note"), "材料齐全，准予办理"),
	); err != nil {
		t.Fatalf("decision form: %v", err)
	}
	if err := clickAndLoad(ctx, "#decide-go"); err != nil {
		t.Fatalf("approve: %v", err)
	}
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("status")))
	if err != nil || status != "准予办结" {
		t.Fatalf("status after approval = %q (%v)", status, err)
	}

	after := statuses(t, e, "K1", before.Cursor)
	if len(after.Updates) != 1 {
		t.Fatalf("feed after approval = %+v", after)
	}
	u := after.Updates[0]
	if u.UUID != sub.UUID || u.Receipt != sub.Receipt || u.Status != api.StatusApproved || u.Note != "材料齐全，准予办理" || u.CaseNumber == "" {
		t.Fatalf("approval update = %+v", u)
	}
}
