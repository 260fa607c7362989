package platform_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"onedoor/pii"
	"onedoor/sync/api"
	"onedoor/sync/platform/platformtest"
)

// TestBackOfficeInChromium drives the back office in a real browser: log in,
// open a submission, see its scan, approve it; then the kiosk's statuses
// feed carries the approval.
func TestBackOfficeInChromium(t *testing.T) {
	ctx := platformtest.NewChromium(t)
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
	if err := platformtest.Login(ctx, e.http.URL, "clerk", "wrong password!"); err == nil {
		t.Fatal("logged in with a wrong password")
	}
	if err := platformtest.Login(ctx, e.http.URL, "clerk", staffPassword); err != nil {
		t.Fatal(err)
	}
	list, err := platformtest.OpenByReceipt(ctx, e.http.URL, sub.Receipt)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(list, testID) || !strings.Contains(list, pii.MaskID(testID)) {
		t.Fatalf("list page shows %q", list)
	}
	// The scan really rendered: the browser decoded the PNG it was served.
	widths, err := platformtest.ScanWidths(ctx)
	if err != nil || len(widths) != 1 || widths[0] != 320 {
		t.Fatalf("scan widths in the browser = %v (%v)", widths, err)
	}
	status, err := platformtest.Decide(ctx, api.StatusApproved, "材料齐全，准予办理")
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
