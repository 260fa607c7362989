package platform_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"onedoor/pii"
	"onedoor/sync/api"
	"onedoor/sync/platform/platformtest"
)

const office10Catalog = `{"items":[{"id":"hh-residence-permit","name":"居住证申领",
 "form":[{"name":"id_number","label":"身份证号码","kind":"id_number"},
  {"name":"grade","label":"缴费档次","kind":"select","options":[{"value":"360","label":"每年 360 元"}]},
  {"name":"address","label":"现居住地址","kind":"text"}],
 "materials":[{"id":"rental","name":"房屋租赁合同"},{"id":"promise-residence","name":"居住情况承诺"}]}]}`

// agentID is a fictional agent's number (the GB 11643 worked example).
const agentID = "11010519491231002X"

// TestDetailPageShowsWhatStaffNeed (issue 10, back office), in headless
// Chromium: the detail page of a submission with known ID numbers holds
// them nowhere in its HTML (the applicant's, a 代办 agent's, one typed in a
// form field, one a colleague wrote in a note) until the audited reveal;
// items, fields, options and materials appear by name; the 代办 agent and
// the 告知承诺 text are shown; every decision names its staff member in the
// history; a final decision is confirmed before it is taken.
func TestDetailPageShowsWhatStaffNeed(t *testing.T) {
	ctx := platformtest.StartChromium(t)
	e := newEnv(t, t.TempDir(), "K1")
	e.stop()
	e.start([]byte(office10Catalog))
	e.addStaff("clerk")
	const promise = "本人承诺在本市连续居住满半年，所填信息真实有效，如有不实愿承担相应法律责任。"
	sub := newSubmission("K1", 1)
	sub.ItemID = "hh-residence-permit"
	sub.Form = map[string]string{"id_number": testID, "grade": "360", "address": "东莞市示例镇示例路 8 号"}
	sub.Agent = &api.ApplicantData{Name: "代办人", IDNumber: agentID}
	sub.Materials = []api.MaterialRef{{MaterialID: "promise-residence", Kind: api.KindPromise, PromiseText: promise}}
	if r := e.submit("K1", sub); r.code != http.StatusCreated {
		t.Fatalf("submit = %d %s", r.code, r.body)
	}
	if _, err := e.store.Decide(context.Background(), sub.UUID, api.StatusAccepted, "核对 "+agentID+" 的委托书", "clerk-wang", time.Now()); err != nil {
		t.Fatal(err)
	}

	if err := platformtest.Login(ctx, e.http.URL, "clerk", staffPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := platformtest.OpenByReceipt(ctx, e.http.URL, sub.Receipt); err != nil {
		t.Fatal(err)
	}
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{testID, agentID} {
		if strings.Contains(html, id) || strings.Contains(html, id[:14]) {
			t.Errorf("detail page holds ID number %s", pii.MaskID(id))
		}
	}
	for _, want := range []string{"居住证申领", "身份证号码", "每年 360 元", "现居住地址", "居住情况承诺", promise, "代办", "代办人", pii.MaskID(agentID), "clerk-wang"} {
		if !strings.Contains(html, want) {
			t.Errorf("detail page lacks %q", want)
		}
	}
	if strings.Contains(html, ">grade<") || strings.Contains(html, ">360<") {
		t.Error("detail page shows codes instead of names")
	}

	// The reveal shows the applicant's number, once.
	if err := platformtest.ClickAndLoad(ctx, "#reveal-id-go"); err != nil {
		t.Fatal(err)
	}
	shown, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("id-number")))
	if err != nil || shown != testID {
		t.Fatalf("revealed %q (%v)", shown, err)
	}

	// A final decision asks first, then records who made it.
	if err := platformtest.OpenDetail(ctx, e.http.URL, sub.UUID); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("decision"), api.StatusApproved), chromedp.SendKeys(chromedp.ID("note"), "准予")); err != nil {
		t.Fatal(err)
	}
	if err := platformtest.ClickAndLoad(ctx, "#decide-go"); err != nil {
		t.Fatal(err)
	}
	ask, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("confirm-text")))
	if err != nil || !strings.Contains(ask, "最终决定") || !strings.Contains(ask, "准予办结") {
		t.Fatalf("confirmation page = %q (%v)", ask, err)
	}
	if d, _ := e.store.Get(context.Background(), sub.UUID); d.Status != api.StatusAccepted {
		t.Fatalf("decided before confirmation: %s", d.Status)
	}
	if err := platformtest.ClickAndLoad(ctx, "#confirm-go"); err != nil {
		t.Fatal(err)
	}
	history, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("history")))
	if err != nil || !strings.Contains(history, "准予办结") || !strings.Contains(history, "clerk") {
		t.Fatalf("history after approval = %q (%v)", history, err)
	}
}
