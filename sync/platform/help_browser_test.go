package platform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"onedoor/sync/api"
	"onedoor/sync/client"
	"onedoor/sync/platform/platformtest"
)

// helpCall is what a kiosk sends when a resident presses 呼叫工作人员.
func helpCall(kiosk, id, screen string) *api.HelpRequest {
	return &api.HelpRequest{ID: id, KioskID: kiosk, Site: "东城街道便民服务站", Screen: screen, At: time.Now().UTC()}
}

// TestHelpCallOnFleetPage (issue 17): a kiosk's call for staff, sent by the
// kiosk's own sync client, appears on the fleet page already open in
// headless Chromium (about a second: the time is logged), with the sound on until a member of staff
// acknowledges it; then it clears, and the kiosk's retry of the same call
// does not bring it back.
func TestHelpCallOnFleetPage(t *testing.T) {
	ctx := platformtest.NewChromium(t)
	e := newFleetEnv(t, "DG-VILLAGE7")
	e.beat("DG-VILLAGE7", healthyBeat())
	if err := platformtest.Login(ctx, e.srv.URL, "clerk", staffPassword); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/office/kiosks"), chromedp.WaitVisible(chromedp.ID("fleet")),
		chromedp.WaitReady(chromedp.CSS(`#help-calls[data-open="0"][data-sound="off"]`))); err != nil {
		t.Fatalf("fleet page: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitNotVisible(chromedp.ID("help-calls"))); err != nil {
		t.Fatalf("help box shown with no call: %v", err)
	}

	kiosk, err := client.New(client.Config{BaseURL: e.srv.URL, KioskID: "DG-VILLAGE7", Token: e.tokens["DG-VILLAGE7"]})
	if err != nil {
		t.Fatal(err)
	}
	call := helpCall("DG-VILLAGE7", "0b7c6a3e-1f2d-4c5b-8a9e-0123456789ab", "identify")
	start := time.Now()
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := kiosk.Help(cctx, call); err != nil {
		t.Fatalf("kiosk's help call: %v", err)
	}
	// The page polls every 500 ms, so the call shows within about a
	// second; that is logged, not asserted (a loaded CI machine took
	// longer than 2 s). 30 s only bounds a call that never shows.
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	err = chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(`#help-calls[data-open="1"] li.help-call[data-kiosk="DG-VILLAGE7"]`)))
	wcancel()
	if err != nil {
		t.Fatalf("help call not on the fleet page: %v", err)
	}
	t.Logf("help call on the fleet page %v after the kiosk sent it", time.Since(start).Round(time.Millisecond))
	// A poll may redraw the list between the wait and a read: read until
	// the item's text is there (or 30 s pass).
	var text string
	want := []string{"DG-VILLAGE7", "东城街道便民服务站", "身份确认", "呼叫工作人员"}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		text, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("li.help-call")))
		if err != nil {
			t.Fatal(err)
		}
		missing := ""
		for _, w := range want {
			if !strings.Contains(text, w) {
				missing = w
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("help call %q lacks %q", text, missing)
		}
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#kiosk-DG-VILLAGE7 .alert-help"))); err != nil {
		t.Fatalf("the kiosk's row does not show the call: %v", err)
	}
	// …and no longer says 正常 beside it.
	if okShown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const ok = document.querySelector("#kiosk-DG-VILLAGE7 .ok"); return !!ok && ok.offsetParent !== null; })()`)); err != nil || okShown {
		t.Fatalf("the kiosk's row says 正常 beside its open call (%v)", err)
	}

	// The page rings until someone answers. The browser may hold sound
	// back until a click on the page; the page then asks for one.
	sound, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("help-calls"), "data-sound"))
	if err != nil {
		t.Fatal(err)
	}
	if sound.Value == "blocked" {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("help-sound-enable"))); err != nil {
			t.Fatal(err)
		}
	}
	sctx, scancel := context.WithTimeout(ctx, 3*time.Second)
	err = chromedp.Do(sctx, chromedp.WaitReady(chromedp.CSS(`#help-calls[data-sound="on"]`)))
	scancel()
	if err != nil {
		s, _ := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("help-calls"), "data-sound"))
		t.Fatalf("no sound while a call is open (data-sound %q): %v", s.Value, err)
	}

	// 我去处理: the call clears and the sound stops.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("li.help-call button"))); err != nil {
		t.Fatal(err)
	}
	actx, acancel := context.WithTimeout(ctx, 2*time.Second)
	err = chromedp.Do(actx, chromedp.WaitReady(chromedp.CSS(`#help-calls[data-open="0"][data-sound="off"]`)), chromedp.WaitNotVisible(chromedp.ID("help-calls")))
	acancel()
	if err != nil {
		t.Fatalf("acknowledged call did not clear: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitNotPresent(chromedp.CSS("#kiosk-DG-VILLAGE7 .alert-help")), chromedp.WaitVisible(chromedp.CSS("#kiosk-DG-VILLAGE7 .ok"))); err != nil {
		t.Fatal(err)
	}

	// The kiosk lost the answer and retries the same call: answered
	// already, it stays off the page; a new press is a new call.
	if _, err := kiosk.Help(cctx, call); err != nil {
		t.Fatalf("retry: %v", err)
	}
	time.Sleep(1500 * time.Millisecond) // more than one poll of the page
	if open, _ := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("help-calls"), "data-open")); open.Value != "0" {
		t.Fatalf("retry of an answered call reopened it: %d open", len(open.Value))
	}
	if _, err := kiosk.Help(cctx, helpCall("DG-VILLAGE7", "0b7c6a3e-1f2d-4c5b-8a9e-0123456789ac", "materials")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`li.help-call[data-kiosk="DG-VILLAGE7"]`))); err != nil {
		t.Fatal(err)
	}
}

// TestHelpAPI: the help endpoint takes only signed, valid calls from the
// signing kiosk and answers a repeat with the first answer.
func TestHelpAPI(t *testing.T) {
	e := newFleetEnv(t, "DG-VILLAGE7", "DG-TOWNHALL")
	post := func(kiosk string, body any, sign bool) int {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+api.PathHelp, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if sign {
			nonce, _ := api.NewNonce()
			if err := api.Sign(req, kiosk, e.tokens[kiosk], api.BodySHA256(b), e.clock.Now(), nonce); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	good := helpCall("DG-VILLAGE7", "0b7c6a3e-1f2d-4c5b-8a9e-0123456789ab", "form")
	badScreen := *good
	badScreen.Screen = "<script>"
	other := *good
	other.KioskID = "DG-TOWNHALL"
	withName := map[string]any{"id": good.ID, "screen": "form", "at": good.At, "applicant_name": "张三"}
	tests := []struct {
		name  string
		kiosk string
		body  any
		sign  bool
		want  int
	}{
		{"unsigned", "DG-VILLAGE7", good, false, http.StatusUnauthorized},
		{"first", "DG-VILLAGE7", good, true, http.StatusCreated},
		{"repeat", "DG-VILLAGE7", good, true, http.StatusOK},
		{"bad screen", "DG-VILLAGE7", &badScreen, true, http.StatusUnprocessableEntity},
		{"for another kiosk", "DG-VILLAGE7", &other, true, http.StatusUnprocessableEntity},
		{"personal data field refused", "DG-VILLAGE7", withName, true, http.StatusUnprocessableEntity},
	}
	for _, tc := range tests {
		if got := post(tc.kiosk, tc.body, tc.sign); got != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, got, tc.want)
		}
	}
}
