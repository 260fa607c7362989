package platform_test

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"onedoor/internal/testdate"
	"onedoor/sync/api"
	"onedoor/sync/platform"
	"onedoor/sync/platform/blobdir"
	"onedoor/sync/platform/blobseal"
	"onedoor/sync/platform/platformtest"
	"onedoor/sync/platform/sqlitestore"
	"onedoor/sync/platform/supervise"
)

var cstZone = time.FixedZone("CST", 8*3600)

// testClock is the platform's injected clock, moved by the test.
type supClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *supClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *supClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// workCal is the test's own working-day arithmetic over civil dates,
// written apart from the platform's so the numbers are checked, not
// copied: off and on list holidays and make-up working days.
type workCal struct{ off, on map[string]bool }

func (c workCal) work(d time.Time) bool {
	s := d.Format(time.DateOnly)
	if c.on[s] {
		return true
	}
	if c.off[s] {
		return false
	}
	return d.Weekday() != time.Saturday && d.Weekday() != time.Sunday
}

func (c workCal) add(d time.Time, n int) time.Time {
	for n > 0 {
		d = d.AddDate(0, 0, 1)
		if c.work(d) {
			n--
		}
	}
	return d
}

func (c workCal) between(a, b time.Time) int {
	n := 0
	for d := a.AddDate(0, 0, 1); !d.After(b); d = d.AddDate(0, 0, 1) {
		if c.work(d) {
			n++
		}
	}
	return n
}

func civil(t time.Time) time.Time {
	y, m, d := t.In(cstZone).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// supEnv is a platform with supervision on a real SQLite file, an injected
// clock, a four-item catalog and a holiday calendar, seeded with a month
// of cases.
type supEnv struct {
	t      *testing.T
	clock  *supClock
	store  testStore
	blobs  platform.BlobStore
	http   *httptest.Server
	cal    workCal
	cases  []seedCase
	limits map[string]int
}

type seedCase struct {
	uuid, receipt, town, kiosk, item, clerk string
	received, start, decided                time.Time // civil dates; decided zero while open
	status                                  string
	returned                                bool
	rating                                  int
	ratedOn                                 time.Time
}

var supItems = []struct {
	id, name string
	limit    int
}{{"it-permit", "居住证申领", 10}, {"it-pension", "养老保险参保登记", 5}, {"it-medical", "医疗保险参保登记", 3}, {"it-senior", "高龄津贴申领", 5}}

var supTowns = []string{"石龙镇", "虎门镇", "长安镇"}

func newSupEnv(t *testing.T) *supEnv {
	t.Helper()
	ctx := context.Background()
	// The seeded month: November of the tests' year; a fictional holiday
	// on its second Thursday and a make-up working Saturday after it.
	hol := testdate.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC)
	mk := testdate.Date(2026, 11, 14, 0, 0, 0, 0, time.UTC)
	e := &supEnv{t: t, clock: &supClock{}, cal: workCal{off: map[string]bool{hol.Format(time.DateOnly): true}, on: map[string]bool{mk.Format(time.DateOnly): true}},
		limits: map[string]int{}}
	calJSON, _ := json.Marshal(map[string]any{"years": []int{hol.Year()},
		"holidays": []map[string]string{{"name": "测试假日", "from": hol.Format(time.DateOnly), "to": hol.Format(time.DateOnly)}},
		"workdays": []map[string]string{{"date": mk.Format(time.DateOnly), "for": "测试假日"}}})
	var items []map[string]any
	for _, it := range supItems {
		e.limits[it.id] = it.limit
		items = append(items, map[string]any{"id": it.id, "name": it.name, "time_limit": map[string]any{"promised": map[string]any{"value": it.limit, "unit": "workday"}},
			"places": []map[string]string{{"address": "示例镇政务服务中心", "address_en": "Sample Town Service Centre", "window": "综合窗口 3 号", "window_en": "window 3", "hours": "工作日 9:00-17:30", "hours_en": "working days 9:00-17:30"}}})
	}
	catJSON, _ := json.Marshal(map[string]any{"items": items})
	dir := t.TempDir()
	st := openTestStore(t, dir, sqlitestore.Options{})
	// A fixed test data key: blobs are sealed at rest (blobseal).
	blobKey, _ := blobseal.NewKey(make([]byte, 32))
	blobs, err := blobdir.Open(filepath.Join(dir, "blobs"), blobKey)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Set(testdate.Date(2026, 11, 30, 10, 0, 0, 0, cstZone))
	srv, err := platform.New(platform.Config{Store: st, Blobs: blobs, Clock: e.clock.Now, Catalog: catJSON, Calendar: calJSON,
		SessionTTL: 120 * 24 * time.Hour, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	e.store, e.blobs = st, blobs
	e.http = httptest.NewServer(srv)
	t.Cleanup(func() { e.http.Close(); srv.Close(); st.Close(); blobs.Close() })

	pw, err := platform.HashPassword(staffPassword)
	if err != nil {
		t.Fatal(err)
	}
	at := e.clock.Now().AddDate(0, -1, 0)
	addStaff := func(user string, role supervise.Role, town string) {
		if err := st.AddStaff(ctx, user, pw, at); err != nil {
			t.Fatal(err)
		}
		if err := st.SetStaffRole(ctx, supervise.Account{User: user, Role: role, Town: town, SetBy: "setup", SetAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	for i, town := range supTowns {
		addStaff(fmt.Sprintf("clerk%d", i+1), supervise.RoleClerk, town)
		for k := range 2 {
			kid := fmt.Sprintf("K%d%d", i+1, k+1)
			if err := st.AddKiosk(ctx, kid, "tok-"+kid, at); err != nil {
				t.Fatal(err)
			}
			if err := st.SetKioskTown(ctx, kid, town); err != nil {
				t.Fatal(err)
			}
		}
	}
	addStaff("approver", supervise.RoleApprover, "")
	addStaff("super", supervise.RoleSupervisor, "")
	addStaff("admin", supervise.RoleAdmin, "")
	return e
}

// seed makes n cases received on the working days of the month up to the
// 27th, with fates drawn from a fixed seed: left waiting, accepted and
// open, returned, or accepted and decided some working days later (only
// decisions on or before "now" happen); some decided cases are rated.
func (e *supEnv) seed(n int) {
	e.t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(14, 2026))
	now := civil(e.clock.Now())
	var days []time.Time
	for d := testdate.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC); d.Day() <= 27; d = d.AddDate(0, 0, 1) {
		if e.cal.work(d) {
			days = append(days, d)
		}
	}
	render := func(sr api.SubmissionResponse) (platform.StoredResponse, error) {
		return platform.StoredResponse{Status: 201, Body: []byte(sr.CaseNumber)}, nil
	}
	at := func(d time.Time, hour int) time.Time {
		return time.Date(d.Year(), d.Month(), d.Day(), hour, rng.IntN(60), 0, 0, cstZone)
	}
	decide := func(c *seedCase, status, note, actor string, on time.Time) {
		if _, err := e.store.Decide(ctx, c.uuid, status, note, actor, at(on, 14)); err != nil {
			e.t.Fatal(err)
		}
	}
	for i := range n {
		town := rng.IntN(len(supTowns))
		kiosk := fmt.Sprintf("K%d%d", town+1, rng.IntN(2)+1)
		item := supItems[rng.IntN(len(supItems))].id
		recv := days[rng.IntN(len(days))]
		c := seedCase{uuid: uuid.NewString(), receipt: fmt.Sprintf("%s-%s-%04d", kiosk, recv.Format("20060102"), i), town: supTowns[town], kiosk: kiosk,
			item: item, clerk: fmt.Sprintf("clerk%d", town+1), received: recv, start: recv, status: api.StatusReceived}
		req := api.SubmissionRequest{UUID: c.uuid, Receipt: c.receipt, KioskID: kiosk, ItemID: item, ItemVersion: "1", CreatedAt: at(recv, 9),
			Applicant: api.ApplicantData{Name: fmt.Sprintf("居民%03d", i), IDNumber: testID, Phone: "13800000000"}}
		if _, _, err := e.store.CreateSubmission(ctx, platform.IntakeRecord{KioskID: kiosk, IdemKey: c.uuid, BodyHash: c.uuid, Req: req, ReceivedAt: at(recv, 9), CasePrefix: "DG"}, render); err != nil {
			e.t.Fatal(err)
		}
		switch fate := rng.IntN(100); {
		case fate < 12: // waiting for the window
		case fate < 24: // returned for correction after 0-2 working days
			on := e.cal.add(recv, rng.IntN(3))
			if on.After(now) {
				break
			}
			decide(&c, api.StatusReturned, []string{"缺少户口簿复印件", "照片不合格", "表单信息不全"}[rng.IntN(3)], c.clerk, on)
			c.status, c.returned, c.decided = api.StatusReturned, true, on
		default: // accepted after 0-1 working days, decided 0-12 working days later
			acc := e.cal.add(recv, rng.IntN(2))
			if acc.After(now) {
				break
			}
			decide(&c, api.StatusAccepted, "", c.clerk, acc)
			c.status, c.start = api.StatusAccepted, acc
			on := e.cal.add(acc, rng.IntN(13))
			if on.After(now) {
				break
			}
			st := api.StatusApproved
			if rng.IntN(10) == 0 {
				st = api.StatusRejected
			}
			decide(&c, st, "依法办理", "approver", on)
			c.status, c.decided = st, on
		}
		if !c.decided.IsZero() && rng.IntN(10) < 4 {
			c.rating = rng.IntN(5) + 1
			c.ratedOn = c.decided
			reason := ""
			if c.rating <= 2 {
				reason = []string{"等待时间太长", "窗口态度不好"}[rng.IntN(2)]
			}
			rt := api.Rating{UUID: uuid.NewString(), Receipt: c.receipt, Level: c.rating, Reason: reason, At: at(c.ratedOn, 16)}
			if _, _, err := e.store.AddRating(ctx, platform.RatingRecord{KioskID: kiosk, IdemKey: rt.UUID, BodyHash: rt.UUID, Rating: rt, ReceivedAt: at(c.ratedOn, 16)},
				func(r api.RatingResponse) (platform.StoredResponse, error) {
					return platform.StoredResponse{Status: 201, Body: []byte(r.UUID)}, nil
				}); err != nil {
				e.t.Fatal(err)
			}
		}
		e.cases = append(e.cases, c)
	}
}

// expected is the test's own count of a group.
type expected struct {
	received, decided, firstTime, returned, onTime, ratings, bad int
	days                                                         []int
}

func nearestRank(days []int, p float64) int {
	if len(days) == 0 {
		return -1
	}
	s := slices.Clone(days)
	slices.Sort(s)
	r := int(float64(len(s))*p + 0.999999999)
	return s[max(r, 1)-1]
}

func (x expected) cells(key string) []string {
	rate := func(a, b int) string {
		if b == 0 {
			return "0.0000"
		}
		return fmt.Sprintf("%.4f", float64(a)/float64(b))
	}
	return []string{key, strconv.Itoa(x.received), strconv.Itoa(x.decided), strconv.Itoa(x.firstTime), strconv.Itoa(x.returned),
		rate(x.firstTime, x.decided), strconv.Itoa(nearestRank(x.days, 0.5)), strconv.Itoa(nearestRank(x.days, 0.9)),
		rate(x.onTime, x.decided), strconv.Itoa(x.ratings), strconv.Itoa(x.bad)}
}

// expect computes the numbers of the period from..to by town from the seed.
func (e *supEnv) expect(from, to time.Time, key func(seedCase) string) map[string]*expected {
	out := map[string]*expected{}
	in := func(d time.Time) bool { return !d.IsZero() && !d.Before(from) && !d.After(to) }
	for _, c := range e.cases {
		k := key(c)
		if out[k] == nil {
			out[k] = &expected{}
		}
		x := out[k]
		if in(c.received) {
			x.received++
		}
		if in(c.decided) {
			x.decided++
			if c.returned {
				x.returned++
			} else {
				x.firstTime++
			}
			if !c.decided.After(e.cal.add(c.start, e.limits[c.item])) {
				x.onTime++
			}
			x.days = append(x.days, e.cal.between(c.start, c.decided))
		}
		if in(c.ratedOn) {
			x.ratings++
			if c.rating <= 2 {
				x.bad++
			}
		}
	}
	return out
}

func (e *supEnv) overdueCount(today time.Time) int {
	n := 0
	for _, c := range e.cases {
		if c.decided.IsZero() && today.After(e.cal.add(c.start, e.limits[c.item])) {
			n++
		}
	}
	return n
}

func fetchText(ctx context.Context, path string) (string, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(`+strconv.Quote(path)+`).then(r => r.ok ? r.text() : "HTTP " + r.status)`, chromedp.EvalAwaitPromise))
}

func fetchBase64(ctx context.Context, path string) ([]byte, error) {
	b64, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(`+strconv.Quote(path)+`).then(r => r.arrayBuffer()).then(b => {
		let s = ""; const u = new Uint8Array(b); for (let i = 0; i < u.length; i++) s += String.fromCharCode(u[i]); return btoa(s); })`, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(b64)
}

// tableRows reads a table's body rows as cell texts.
func tableRows(ctx context.Context, id string) ([][]string, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[[][]string](`[...document.querySelectorAll("#`+id+` tbody tr")].map(tr => [...tr.cells].map(td => td.innerText.trim()))`))
}

// shot saves a screenshot of the page when ONEDOOR_SCREENSHOTS names a
// directory (docs/screenshots is made this way).
func shot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("ONEDOOR_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func pct(a, b int) string {
	if b == 0 {
		return "0.0%"
	}
	return fmt.Sprintf("%.1f%%", float64(a)*100/float64(b))
}

// TestSupervisionInChromium: a month of cases across 3 towns and 4 items;
// the dashboard, the CSV and the .xlsx show the numbers this test counts
// from the seed; moving the clock makes a case overdue and flags it; a
// 非常不满意 rating opens a follow-up that becomes overdue after 15
// working days and closes with a revisit; a clerk cannot approve.
func TestSupervisionInChromium(t *testing.T) {
	e := newSupEnv(t)
	e.seed(150)
	ctx := platformtest.NewChromium(t)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	base := e.http.URL
	if err := platformtest.Login(ctx, base, "super", staffPassword); err != nil {
		t.Fatal(err)
	}
	from := testdate.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	to := testdate.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	period := "from=" + from.Format(time.DateOnly) + "&to=" + to.Format(time.DateOnly)
	want := e.expect(from, to, func(c seedCase) string { return c.town })
	if len(want) != 3 {
		t.Fatalf("seed covers %d towns", len(want))
	}

	// The dashboard by town.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/office/dashboard?by=town&"+period)); err != nil {
		t.Fatal(err)
	}
	if h, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`)); !strings.Contains(h, "分组明细") {
		t.Fatalf("dashboard page: %.500s", h)
	}
	rows, err := tableRows(ctx, "stats")
	if err != nil || len(rows) != 3 {
		t.Fatalf("dashboard rows = %v (%v)", rows, err)
	}
	var total expected
	for _, r := range rows {
		x := want[r[0]]
		if x == nil {
			t.Fatalf("dashboard row for %q", r[0])
		}
		c := x.cells(r[0])
		wantRow := []string{r[0], c[1], c[2], c[3], c[4], pct(x.firstTime, x.decided), strings.ReplaceAll(c[6], "-1", "—"), strings.ReplaceAll(c[7], "-1", "—"), pct(x.onTime, x.decided), c[9], c[10]}
		if !slices.Equal(r, wantRow) {
			t.Errorf("dashboard row\n got  %v\n want %v", r, wantRow)
		}
		total.received += x.received
		total.decided += x.decided
		total.ratings += x.ratings
		total.bad += x.bad
	}
	cards, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`["t-received","t-decided","t-ratings","t-overdue"].map(id => document.getElementById(id).innerText.trim())`))
	if err != nil {
		t.Fatal(err)
	}
	today := civil(e.clock.Now())
	if wantCards := []string{strconv.Itoa(total.received), strconv.Itoa(total.decided), fmt.Sprintf("%d / %d", total.ratings, total.bad), strconv.Itoa(e.overdueCount(today))}; !slices.Equal(cards, wantCards) {
		t.Errorf("dashboard cards = %v, want %v", cards, wantCards)
	}
	charts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("figure.chart svg rect").length`))
	if err != nil || charts < 10 {
		t.Errorf("chart bars drawn = %d (%v)", charts, err)
	}
	shot(t, ctx, "supervision-dashboard.png")

	// The CSV and the .xlsx hold the same numbers, by town and by item.
	for _, by := range []string{"town", "item"} {
		key := func(c seedCase) string { return c.town }
		if by == "item" {
			key = func(c seedCase) string { return c.item }
		}
		want := e.expect(from, to, key)
		text, err := fetchText(ctx, "/office/stats.csv?by="+by+"&"+period)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
		if err != nil {
			t.Fatalf("csv %q: %v", text, err)
		}
		if got := strings.Join(recs[0][:11], ","); got != by+",received,decided,accepted_first_time,returned,first_time_rate,median_days,p90_days,on_time_rate,rating_count,rating_bad" {
			t.Fatalf("csv header %s", got)
		}
		body := recs[1 : len(recs)-1]
		if len(body) != len(want) {
			t.Fatalf("csv by %s has %d groups, want %d", by, len(body), len(want))
		}
		for _, r := range body {
			if x := want[r[0]]; x == nil || !slices.Equal(r[:11], x.cells(r[0])) {
				t.Errorf("csv by %s row %v, want %v", by, r[:11], x.cells(r[0]))
			}
		}
		xb, err := fetchBase64(ctx, "/office/stats.xlsx?by="+by+"&"+period)
		if err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(strings.NewReader(string(xb)))
		if err != nil {
			t.Fatalf("xlsx: %v", err)
		}
		xrows, err := f.GetRows("stats", excelize.Options{RawCellValue: true})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(xrows) != len(recs) {
			t.Fatalf("xlsx has %d rows, csv %d", len(xrows), len(recs))
		}
		for i := range recs {
			for j := range recs[i] {
				cv, xv := recs[i][j], xrows[i][j]
				if a, err1 := strconv.ParseFloat(cv, 64); err1 == nil {
					if b, err2 := strconv.ParseFloat(xv, 64); err2 != nil || a != b {
						t.Errorf("xlsx[%d][%d] = %q, csv %q", i, j, xv, cv)
					}
				} else if cv != xv {
					t.Errorf("xlsx[%d][%d] = %q, csv %q", i, j, xv, cv)
				}
			}
		}
	}

	// Advancing the clock makes an open case overdue and flags it.
	var open *seedCase
	for i := range e.cases {
		c := &e.cases[i]
		if c.decided.IsZero() && !today.After(e.cal.add(c.start, e.limits[c.item])) && (open == nil || e.cal.add(c.start, e.limits[c.item]).Before(e.cal.add(open.start, e.limits[open.item]))) {
			open = c
		}
	}
	if open == nil {
		t.Fatal("the seed has no open case within its limit")
	}
	due := e.cal.add(open.start, e.limits[open.item])
	flags := func() (string, string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/office/cases?open=1"), chromedp.WaitVisible(chromedp.CSS(`#cases`))); err != nil {
			t.Fatal(err)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => { const tr = document.querySelector('#cases tr[data-receipt="`+open.receipt+`"]'); return tr ? [tr.className, tr.querySelector(".flags").innerText.trim(), tr.querySelector(".due").innerText.trim()] : ["", "", ""]; })()`))
		if err != nil {
			t.Fatal(err)
		}
		if got[2] != due.Format(time.DateOnly) {
			t.Errorf("due date shown %q, want %s", got[2], due.Format(time.DateOnly))
		}
		return got[0], got[1]
	}
	if cls, flag := flags(); cls == "overdue" || flag == "逾期" {
		t.Fatalf("case flagged %q %q before its due date", cls, flag)
	}
	e.clock.Set(time.Date(due.Year(), due.Month(), due.Day(), 10, 0, 0, 0, cstZone))
	if cls, flag := flags(); cls != "due-soon" || flag != "即将到期" {
		t.Errorf("on its due day the case is %q %q, want due-soon", cls, flag)
	}
	late := due.AddDate(0, 0, 1)
	e.clock.Set(time.Date(late.Year(), late.Month(), late.Day(), 10, 0, 0, 0, cstZone))
	if cls, flag := flags(); cls != "overdue" || flag != "逾期" {
		t.Errorf("the day after its due day the case is %q %q, want overdue", cls, flag)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/office/dashboard?"+period), chromedp.WaitVisible(chromedp.CSS(`#t-overdue`))); err != nil {
		t.Fatal(err)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#t-overdue`))); n != strconv.Itoa(e.overdueCount(late)) || n == "0" {
		t.Errorf("overdue on the dashboard = %s, want %d", n, e.overdueCount(late))
	}

	// A 非常不满意 rating opens a follow-up task due 15 working days later.
	var bad *seedCase
	for i := range e.cases {
		if e.cases[i].rating == 1 {
			bad = &e.cases[i]
			break
		}
	}
	if bad == nil {
		t.Fatal("the seed has no 非常不满意 rating")
	}
	taskDue := e.cal.add(bad.ratedOn, 15)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/office/followups"), chromedp.WaitVisible(chromedp.CSS(`#followups`))); err != nil {
		t.Fatal(err)
	}
	if err := platformtest.ClickAndLoad(ctx, `#followups tr[data-receipt="`+bad.receipt+`"] a.open-task`); err != nil {
		t.Fatal(err)
	}
	taskURL, _ := chromedp.Run(ctx, chromedp.Location())
	taskState := func() (string, string) {
		if err := chromedp.Do(ctx, chromedp.Navigate(taskURL), chromedp.WaitVisible(chromedp.CSS(`#task-state`))); err != nil {
			t.Fatal(err)
		}
		st, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#task-state`)))
		d, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#task-due`)))
		return st, d
	}
	e.clock.Set(time.Date(taskDue.Year(), taskDue.Month(), taskDue.Day(), 17, 0, 0, 0, cstZone))
	if st, d := taskState(); st != "在办" || !strings.HasPrefix(d, taskDue.Format(time.DateOnly)) {
		t.Errorf("task on its due day: %q due %q, want 在办 due %s", st, d, taskDue.Format(time.DateOnly))
	}
	after := e.cal.add(taskDue, 1)
	e.clock.Set(time.Date(after.Year(), after.Month(), after.Day(), 9, 0, 0, 0, cstZone))
	if st, _ := taskState(); st != "逾期" {
		t.Errorf("task a working day after its due day: %q, want 逾期", st)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/office/dashboard?"+period), chromedp.WaitVisible(chromedp.CSS(`#t-followups`))); err != nil {
		t.Fatal(err)
	}
	overdueTasks := 0
	for _, c := range e.cases {
		if c.rating > 0 && c.rating <= 2 && after.After(e.cal.add(c.ratedOn, 15)) {
			overdueTasks++
		}
	}
	if s, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#t-followups`))); s != fmt.Sprintf("%d / %d", countBad(e.cases), overdueTasks) || overdueTasks == 0 {
		t.Errorf("follow-ups on the dashboard = %q, want %d / %d", s, countBad(e.cases), overdueTasks)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(taskURL), chromedp.WaitVisible(chromedp.CSS(`#step-form`))); err != nil {
		t.Fatal(err)
	}
	steps := []struct{ kind, text string }{{"assign", bad.town + "便民服务中心"}, {"verify", "已电话联系评价人，情况属实"}, {"rectify", "增设取号提醒，窗口高峰增派人员"},
		{"reply", "已增派窗口人员，感谢您的监督"}, {"revisit", "回访评价人，表示满意"}}
	for _, s := range steps {
		if k, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`#step-form input[name=kind]`), "value")); err != nil || k.Value != s.kind {
			t.Fatalf("next step = %q (%v), want %s", k.Value, err, s.kind)
		}
		if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`#step-text`), s.text)); err != nil {
			t.Fatal(err)
		}
		if s.kind == "reply" {
			shot(t, ctx, "supervision-followup.png")
		}
		if err := platformtest.ClickAndLoad(ctx, `#step-go`); err != nil {
			t.Fatal(err)
		}
	}
	if st, _ := taskState(); st != "已回访办结" {
		t.Errorf("task after the revisit: %q", st)
	}
	actors, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#steps .actor")].map(a => a.innerText)`))
	if len(actors) != 5 || actors[4] != "super" {
		t.Errorf("steps recorded by %v", actors)
	}

	// A clerk cannot approve; the approver can.
	if err := platformtest.ClickAndLoad(ctx, "#logout"); err != nil {
		t.Fatal(err)
	}
	var acc *seedCase
	for i := range e.cases {
		if e.cases[i].status == api.StatusAccepted && e.cases[i].town == supTowns[0] {
			acc = &e.cases[i]
			break
		}
	}
	if acc == nil {
		t.Fatal("no accepted case in the first town")
	}
	for _, who := range []struct {
		user, want string
	}{{"clerk1", "已受理"}, {"approver", "准予办结"}} {
		if err := platformtest.Login(ctx, base, who.user, staffPassword); err != nil {
			t.Fatal(err)
		}
		if err := platformtest.OpenDetail(ctx, base, acc.uuid); err != nil {
			t.Fatal(err)
		}
		offered, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#decision option")].map(o => o.value)`))
		if err != nil {
			t.Fatal(err)
		}
		if who.user == "clerk1" {
			// The form does not offer it; a hand-made request is refused.
			if slices.Contains(offered, api.StatusApproved) {
				t.Errorf("the clerk is offered %v", offered)
			}
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const o = document.createElement("option"); o.value = "approved"; document.getElementById("decision").appendChild(o); return true; })()`)); err != nil {
				t.Fatal(err)
			}
		} else if !slices.Contains(offered, api.StatusApproved) {
			t.Errorf("the approver is offered %v", offered)
		}
		status, err := platformtest.Decide(ctx, api.StatusApproved, "准予")
		if err != nil || status != who.want {
			t.Errorf("%s approving: status %q (%v), want %s", who.user, status, err, who.want)
		}
		if who.user == "clerk1" {
			if msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#decide-error`))); !strings.Contains(msg, "窗口受理") {
				t.Errorf("clerk's refusal reads %q", msg)
			}
			// Nor may a clerk see the dashboard.
			if code := getCode(ctx, "/office/dashboard"); code != http.StatusForbidden {
				t.Errorf("clerk's dashboard = %d", code)
			}
		}
		if err := platformtest.ClickAndLoad(ctx, "#logout"); err != nil {
			t.Fatal(err)
		}
	}
	d, err := e.store.Get(context.Background(), acc.uuid)
	if err != nil || len(d.Actors) == 0 || d.Actors[len(d.Actors)-1] != "approver" || d.Status != api.StatusApproved {
		t.Errorf("after the approver: %s by %v (%v)", d.Status, d.Actors, err)
	}
}

func countBad(cs []seedCase) int {
	n := 0
	for _, c := range cs {
		if c.rating > 0 && c.rating <= 2 {
			n++
		}
	}
	return n
}

func getCode(ctx context.Context, path string) int {
	n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch(`+strconv.Quote(path)+`).then(r => r.status)`, chromedp.EvalAwaitPromise))
	return n
}

// TestPhonePageInChromium: the resident's phone page at 390x844 shows
// nothing personal before the code, the status and the reply to a rating
// after it, in Chinese and English, without JavaScript; wrong codes are
// limited.
func TestPhonePageInChromium(t *testing.T) {
	e := newSupEnv(t)
	e.seed(40)
	ctx := context.Background()
	var c *seedCase
	for i := range e.cases {
		if e.cases[i].status == api.StatusAccepted {
			c = &e.cases[i]
			break
		}
	}
	if c == nil {
		t.Fatal("no open accepted case")
	}
	// A lookup code for another case, as the kiosk prints it.
	code, err := api.NewLookupCode()
	if err != nil {
		t.Fatal(err)
	}
	req := api.SubmissionRequest{UUID: uuid.NewString(), Receipt: "K11-20261130-9999", KioskID: "K11", ItemID: "it-permit", ItemVersion: "1", CreatedAt: e.clock.Now(),
		Applicant: api.ApplicantData{Name: "王小明", IDNumber: "44190019850505123X", Phone: "13900000000"}, LookupCodeSHA256: api.LookupCodeSHA256(code)}
	if _, _, err := e.store.CreateSubmission(ctx, platform.IntakeRecord{KioskID: "K11", IdemKey: req.UUID, BodyHash: "x", Req: req, ReceivedAt: e.clock.Now(), CasePrefix: "DG"},
		func(sr api.SubmissionResponse) (platform.StoredResponse, error) {
			return platform.StoredResponse{Status: 201, Body: []byte("x")}, nil
		}); err != nil {
		t.Fatal(err)
	}

	b := platformtest.NewChromium(t)
	if err := chromedp.Do(b, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		})); err != nil {
		t.Fatal(err)
	}
	page := func(path string) string {
		t.Helper()
		if err := chromedp.Do(b, chromedp.Navigate(e.http.URL+path), chromedp.WaitVisible(chromedp.CSS(`main`))); err != nil {
			t.Fatal(err)
		}
		html, err := chromedp.Run(b, chromedp.OuterHTML(chromedp.CSS(`html`)))
		if err != nil {
			t.Fatal(err)
		}
		return html
	}
	personal := []string{"居民", "王小明", testID, testID[12:], "123X", "13800000000", "居住证", "养老", "医疗", "高龄", "已受理", "Accepted", "DG-"}
	before := page("/m/" + url.PathEscape(c.receipt))
	for _, p := range personal {
		if strings.Contains(before, p) {
			t.Errorf("before the code the page holds %q", p)
		}
	}
	width, _ := chromedp.Run(b, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if width > 390 {
		t.Errorf("page is %d px wide on a 390 px phone", width)
	}
	shot(t, b, "phone-before-code.png")
	submit := func(code string) string {
		t.Helper()
		if err := chromedp.Do(b, chromedp.SetValue(chromedp.CSS(`#code`), code)); err != nil {
			t.Fatal(err)
		}
		if err := platformtest.ClickAndLoad(b, `#go`); err != nil {
			t.Fatal(err)
		}
		html, _ := chromedp.Run(b, chromedp.OuterHTML(chromedp.CSS(`html`)))
		return html
	}
	wrong := submit("000000")
	if !strings.Contains(wrong, `id="error"`) || strings.Contains(wrong, `id="status"`) {
		t.Fatal("a wrong code did not answer with an error")
	}
	for _, p := range personal {
		if strings.Contains(wrong, p) {
			t.Errorf("after a wrong code the page holds %q", p)
		}
	}
	got := submit(testID[12:])
	status, _ := chromedp.Run(b, chromedp.Text(chromedp.CSS(`#status`)))
	due, _ := chromedp.Run(b, chromedp.Text(chromedp.CSS(`#due`)))
	if status != "已受理" || due != e.cal.add(c.start, e.limits[c.item]).Format(time.DateOnly) || strings.Contains(got, testID) {
		t.Errorf("after the ID's last 6: status %q due %q", status, due)
	}
	shot(t, b, "phone-status.png")

	// An approved case says where to collect the result.
	for i := range e.cases {
		if e.cases[i].status == api.StatusApproved {
			page("/m/" + e.cases[i].receipt)
			submit(testID[12:])
			if next, _ := chromedp.Run(b, chromedp.Text(chromedp.CSS(`#next`))); !strings.Contains(next, "示例镇政务服务中心 综合窗口 3 号") {
				t.Errorf("approved case's next step: %q", next)
			}
			break
		}
	}

	// The lookup code works too, in English.
	page("/m/" + req.Receipt + "?lang=en")
	submit(api.FormatLookupCode(code))
	if s, _ := chromedp.Run(b, chromedp.Text(chromedp.CSS(`#status`))); s != "Received" {
		t.Errorf("English status by lookup code = %q", s)
	}
	if strings.Contains(func() string { h, _ := chromedp.Run(b, chromedp.OuterHTML(chromedp.CSS(`html`))); return h }(), "王小明") {
		t.Error("the name is shown")
	}

	// The reply to a bad rating shows once the office has given it.
	var bad *seedCase
	for i := range e.cases {
		if e.cases[i].rating > 0 && e.cases[i].rating <= 2 {
			bad = &e.cases[i]
			break
		}
	}
	if bad != nil {
		sup, _ := any(e.store).(supervise.Store)
		// Opening the page refreshes the facts and so opens the task.
		page("/m/" + bad.receipt)
		submit(testID[12:])
		ts, err := sup.FollowUps(ctx, supervise.FollowUpQuery{Receipt: bad.receipt})
		if err != nil || len(ts) != 1 {
			t.Fatalf("task of %s = %v %v", bad.receipt, ts, err)
		}
		for _, k := range []string{"assign", "verify", "rectify", "reply"} {
			if err := sup.AddStep(ctx, ts[0].ID, supervise.Step{Kind: k, Text: "已整改：增派窗口人员，感谢监督", Actor: "super", At: e.clock.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		page("/m/" + bad.receipt)
		submit(testID[12:])
		if r, _ := chromedp.Run(b, chromedp.Text(chromedp.CSS(`#reply`))); r != "已整改：增派窗口人员，感谢监督" {
			t.Errorf("reply shown %q", r)
		}
		shot(t, b, "phone-reply.png")
	}

	// Wrong codes are limited per receipt: the sixth in the window is
	// refused even with the right code.
	page("/m/" + c.receipt)
	for range 5 {
		submit("999999")
	}
	limited := submit(testID[12:])
	if strings.Contains(limited, `id="status"`) || !strings.Contains(limited, "15 分钟") {
		t.Error("the right code after 5 wrong ones was answered")
	}
}
