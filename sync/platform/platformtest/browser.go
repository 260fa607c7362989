// Package platformtest drives the reference platform's back office in a real
// headless Chromium, for this package's tests and for end-to-end tests of
// other packages (kiosk outbox -> engine -> platform -> staff decision ->
// statuses back to the kiosk).
package platformtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package (installed by build/setup)
// puts the browser.
const ChromiumPath = "/usr/bin/chromium"

// NewChromium starts headless Chromium with a fresh profile and returns a
// context for chromedp actions; everything is torn down when the test ends.
// The test is skipped, with a message saying why, when Chromium is absent
// or in -short mode.
func NewChromium(t testing.TB) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping the browser test in -short mode")
	}
	return StartChromium(t)
}

// StartChromium is NewChromium for tests that run in -short mode too (a
// browser test of a few seconds that is the only proof of a requirement);
// it skips only when Chromium is absent.
func StartChromium(t testing.TB) context.Context {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		t.Skipf("skipping: %s not found (build/setup installs the chromium package)", ChromiumPath)
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
		chromedp.ExecPath(ChromiumPath),
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

// ClickAndLoad clicks the element and waits for the page it leads to.
func ClickAndLoad(ctx context.Context, css string) error {
	_, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(css))))
	return err
}

// Login opens base/login and logs in as a staff member.
func Login(ctx context.Context, base, user, password string) error {
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.SendKeys(chromedp.ID("user"), user),
		chromedp.SendKeys(chromedp.ID("password"), password),
	); err != nil {
		return fmt.Errorf("login form: %w", err)
	}
	if err := ClickAndLoad(ctx, "#login"); err != nil {
		return fmt.Errorf("log in: %w", err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return err
	}
	if !strings.Contains(loc, "/office/") {
		return fmt.Errorf("login did not reach the office (at %s)", loc)
	}
	return nil
}

// OpenByReceipt searches the list for a receipt number and opens that
// submission; it returns the text of the list table it clicked in.
func OpenByReceipt(ctx context.Context, base, receipt string) (string, error) {
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/office/?q="+url.QueryEscape(receipt)), chromedp.WaitVisible(chromedp.ID("submissions"))); err != nil {
		return "", fmt.Errorf("list: %w", err)
	}
	list, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("submissions")))
	if err != nil {
		return "", fmt.Errorf("list: %w", err)
	}
	if !strings.Contains(list, receipt) {
		return list, fmt.Errorf("receipt %s not in the list", receipt)
	}
	if err := ClickAndLoad(ctx, "a.open"); err != nil {
		return list, fmt.Errorf("open submission: %w", err)
	}
	got, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("receipt")))
	if err != nil || got != receipt {
		return list, fmt.Errorf("detail page shows receipt %q (%v)", got, err)
	}
	return list, nil
}

// OpenDetail opens a submission's detail page by UUID.
func OpenDetail(ctx context.Context, base, uuid string) error {
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/office/submissions/"+uuid), chromedp.WaitVisible(chromedp.ID("receipt"))); err != nil {
		return fmt.Errorf("detail page: %w", err)
	}
	return nil
}

// ScanWidths returns the natural width of every scan image on the open
// detail page once the browser has decoded them (0 for one that failed).
func ScanWidths(ctx context.Context) ([]int, error) {
	const js = `(() => { const imgs = [...document.querySelectorAll('img.scan')];
		if (!imgs.every(i => i.complete)) return null;
		return imgs.map(i => i.naturalWidth); })()`
	return chromedp.Run(ctx, chromedp.Poll[[]int](js))
}

// Decide submits a decision (api.StatusAccepted, …) with a note on the open
// detail page, confirms it when the office asks (final decisions), and
// returns the status label the page shows afterwards.
func Decide(ctx context.Context, status, note string) (string, error) {
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("decision"), status),
		chromedp.SendKeys(chromedp.ID("note"), note),
	); err != nil {
		return "", fmt.Errorf("decision form: %w", err)
	}
	if err := ClickAndLoad(ctx, "#decide-go"); err != nil {
		return "", fmt.Errorf("submit decision: %w", err)
	}
	// A final decision is asked for confirmation first.
	if confirm, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.getElementById("confirm-go")`)); err != nil {
		return "", fmt.Errorf("decision answer: %w", err)
	} else if confirm {
		if err := ClickAndLoad(ctx, "#confirm-go"); err != nil {
			return "", fmt.Errorf("confirm decision: %w", err)
		}
	}
	return chromedp.Run(ctx, chromedp.Text(chromedp.ID("status")))
}
