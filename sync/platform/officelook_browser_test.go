package platform_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"onedoor/sync/platform/platformtest"
)

// contrastJS is the WCAG contrast ratio of an element's text colour against
// the first opaque background behind it.
const contrastJS = `(() => {
	const el = document.getElementById(%q);
	if (!el) return -1;
	const rgb = s => s.match(/[\d.]+/g).map(Number);
	let bg = el;
	while (bg && rgb(getComputedStyle(bg).backgroundColor)[3] === 0) bg = bg.parentElement;
	const lum = c => { const [r, g, b] = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
	const a = lum(rgb(getComputedStyle(el).color)), b = lum(bg ? rgb(getComputedStyle(bg).backgroundColor) : [255, 255, 255]);
	return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
})()`

// TestLogoutButtonReadable: the 退出 button in the header of both page
// families is legible (it was white text on the browser's light grey
// button face).
func TestLogoutButtonReadable(t *testing.T) {
	ctx := platformtest.NewChromium(t)
	e := newSupEnv(t)
	if err := platformtest.Login(ctx, e.http.URL, "clerk1", staffPassword); err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{"/office/", "/office/cases"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(e.http.URL+page), chromedp.WaitVisible(chromedp.ID("logout"))); err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		ratio, err := chromedp.Run(ctx, chromedp.Evaluate[float64](fmt.Sprintf(contrastJS, "logout")))
		if err != nil {
			t.Fatal(err)
		}
		if ratio < 4.5 {
			t.Errorf("%s: the logout button's text has contrast %.2f:1 against its background, want at least 4.5:1", page, ratio)
		}
	}
}
