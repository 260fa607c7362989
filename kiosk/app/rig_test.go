package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"onedoor/assets"
	"onedoor/kiosk/catalog"
	"onedoor/kiosk/config"
	"onedoor/kiosk/devices"
	"onedoor/kiosk/flow"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/ui"
	"onedoor/kiosk/ui/uitest"
	"onedoor/sync/outbox"
	"onedoor/sync/platform"
)

// queue stands in for fyne.Do: background goroutines post UI work into it
// and the test goroutine runs it, so the machine and the widgets are only
// touched from one goroutine, as in the kiosk.
type queue struct {
	mu sync.Mutex
	fs []func()
	// after, when set, runs on the test goroutine after each posted
	// function, to observe every intermediate state of the screen.
	after func()
}

func (q *queue) post(f func()) {
	q.mu.Lock()
	q.fs = append(q.fs, f)
	q.mu.Unlock()
}

func (q *queue) drain() int {
	n := 0
	for {
		q.mu.Lock()
		fs := q.fs
		q.fs = nil
		q.mu.Unlock()
		if len(fs) == 0 {
			return n
		}
		for _, f := range fs {
			f()
			if q.after != nil {
				q.after()
			}
			n++
		}
	}
}

// rig is the whole kiosk on Fyne's test driver: simulated devices on real
// ptys, the real outbox on a temp dir, the sync engine, and the reference
// platform on loopback behind the fault proxy.
type rig struct {
	t     *testing.T
	demo  *Demo
	stack *Stack
	app   *App
	q     *queue
	win   fyne.Window
	res   *uitest.Resident
	tr    *i18n.Translator
	clock *uitest.Clock
	// cat is the catalog the kiosk runs with; tune may change it.
	cat *catalog.Catalog
	// stored sees every submission the kiosk commits to its real outbox.
	stored *recordingStore
}

// recordingStore is the outbox as the app uses it, keeping a copy of each
// submission it committed.
type recordingStore struct {
	Store
	mu   sync.Mutex
	subs map[string]outbox.NewSubmission // by receipt number
}

func (s *recordingStore) Submit(ctx context.Context, sub outbox.NewSubmission) (outbox.Receipt, error) {
	rec, err := s.Store.Submit(ctx, sub)
	if err == nil {
		s.mu.Lock()
		if s.subs == nil {
			s.subs = map[string]outbox.NewSubmission{}
		}
		s.subs[rec.Number] = sub
		s.mu.Unlock()
	}
	return rec, err
}

// submission is what the outbox committed under receipt.
func (s *recordingStore) submission(receipt string) (outbox.NewSubmission, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, ok := s.subs[receipt]
	return sub, ok
}

// quietLog discards logs unless ONEDOOR_TEST_LOG is set, for debugging.
var quietLog = func() *slog.Logger {
	if os.Getenv("ONEDOOR_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}()

func newRig(t *testing.T) *rig { return newRigWith(t, nil) }

// newRigWith is newRig with the stack's settings adjusted by tune (which
// may be nil) before it opens; the rig's clock is already made, so tune
// can hand it to the stack.
func newRigWith(t *testing.T, tune func(r *rig, s *Settings)) *rig {
	t.Helper()
	if testing.Short() {
		t.Skip("starts simulators, platform and engine")
	}
	ctx := context.Background()
	demo, err := StartDemo(ctx, t.TempDir(), startDemoPlatform, quietLog)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Parse(assets.SampleCatalog)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, demo: demo, q: &queue{}, tr: i18n.New(), clock: uitest.NewClock(time.Now()), cat: cat}
	settings := demo.Settings
	if tune != nil {
		tune(r, &settings)
	}
	stack, err := OpenStack(ctx, settings, quietLog)
	if err != nil {
		demo.Close()
		t.Fatal(err)
	}
	cal, err := catalog.ParseCalendar(assets.Holidays)
	if err != nil {
		t.Fatal(err)
	}
	a := test.NewApp()
	a.Settings().SetTheme(ui.NewTheme(false))
	r.stack = stack
	devs, err := devices.Open(ctx, config.Config{Devices: demo.Devices}, devices.Options{Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	d := Deps{Catalog: r.cat, Calendar: cal, Tr: r.tr, Dict: uitest.SharedDict(), Post: r.q.post,
		Now: r.clock.Now, TickEvery: -1, Site: demo.Settings.Site, Logger: quietLog,
		Cards: devs.Cards(), Printer: devs.Printer(), Scanner: devs.Scanner()}
	stack.Fill(&d)
	r.stored = &recordingStore{Store: d.Store}
	d.Store = r.stored
	stack.WatchDevices(devs, devs.Printer())
	r.app, err = New(d)
	if err != nil {
		t.Fatal(err)
	}
	r.win = test.NewWindow(r.app.View().Object())
	r.win.Resize(uitest.Screen())
	r.res = &uitest.Resident{Win: r.win}
	r.app.Start()
	t.Cleanup(func() {
		r.app.Stop()
		r.win.Close()
		devs.Close()
		if err := stack.Close(); err != nil {
			t.Errorf("stack close: %v", err)
		}
		if err := demo.Close(); err != nil {
			t.Errorf("demo: %v", err)
		}
	})
	return r
}

// slow stretches a wait that bounds real work (a page through the
// simulated scanner, a round trip to the platform) under the race
// detector, which makes that work several times slower on a shared
// machine; the waits stay failure detectors, not delays.
func slow(d time.Duration) time.Duration {
	if raceDetector {
		return 5 * d
	}
	return d
}

// settle runs posted UI work until cond holds, failing after timeout
// (stretched by slow).
func (r *rig) settle(what string, timeout time.Duration, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(slow(timeout))
	for {
		r.q.drain()
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out waiting for %s; state %s; screen:\n%s", what, r.app.Machine(), uitest.Joined(r.win.Content()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (r *rig) state() flow.State { return r.app.View().State() }

func (r *rig) waitStep(s flow.Step) {
	r.t.Helper()
	r.settle("step "+s.String(), 20*time.Second, func() bool { return r.state().Step == s && !r.app.Busy() })
}

func (r *rig) tap(label string) {
	r.t.Helper()
	r.q.drain()
	if err := r.res.Tap(label); err != nil {
		r.t.Fatal(err)
	}
	r.q.drain()
}

func (r *rig) tapContaining(part string) {
	r.t.Helper()
	r.q.drain()
	if err := r.res.TapContaining(part); err != nil {
		r.t.Fatal(err)
	}
	r.q.drain()
}

func (r *rig) typeKeys(s string) {
	r.t.Helper()
	if err := r.res.Type(s); err != nil {
		r.t.Fatal(err)
	}
	r.q.drain()
}

// placeCard puts a fictional card on the simulated reader and waits until
// the flow has it.
func (r *rig) placeCard(key string, next flow.Step) {
	r.t.Helper()
	r.removeCard()
	if err := r.demo.Card.Place(key); err != nil {
		r.t.Fatal(err)
	}
	if next != flow.StepForm {
		r.waitStep(next)
		return
	}
	r.passEligibility()
}

// passEligibility waits for the card read to reach the form: on the way
// the item's conditions are checked, and a resident who meets those the
// kiosk cannot check says so with one tap, as the tap budget counts it.
func (r *rig) passEligibility() {
	r.t.Helper()
	r.settle("eligibility or form", 20*time.Second, func() bool {
		st := r.state().Step
		return (st == flow.StepEligibility || st == flow.StepForm) && !r.app.Busy()
	})
	if r.state().Step == flow.StepEligibility {
		r.tap("我符合以上条件")
	}
	r.waitStep(flow.StepForm)
}

func (r *rig) screen() string { return uitest.Joined(r.win.Content()) }

// export returns the platform's export rows.
func (r *rig) export() []platform.ExportRow {
	var rows []platform.ExportRow
	if err := demoPlatformOf(r.demo).Store.Export(context.Background(), func(row platform.ExportRow) error {
		rows = append(rows, row)
		return nil
	}); err != nil {
		r.t.Fatal(err)
	}
	return rows
}

// waitExported waits for the engine to deliver receipt to the platform.
func (r *rig) waitExported(receipt string) platform.ExportRow {
	r.t.Helper()
	var found platform.ExportRow
	r.stack.Nudge()
	r.settle("platform to hold "+receipt, 30*time.Second, func() bool {
		for _, row := range r.export() {
			if row.Receipt == receipt {
				found = row
				return true
			}
		}
		return false
	})
	return found
}

func contains(t *testing.T, what, text string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Errorf("%s lacks %q:\n%s", what, p, text)
		}
	}
}

// tapField taps the form field named name, making it the keypad's target.
// fillResidencePermit fills the residence permit's form, from its first
// empty field (phone, which has the keypad) to the date moved in, the
// current address typed in pinyin (it is never taken from the card), and
// goes on to the materials.
func (r *rig) fillResidencePermit() {
	r.t.Helper()
	r.typeKeys(phone)
	r.onField("address")
	r.tap("拼音")
	r.typeHan("dong", '东') // 东1: a fictional house number
	r.tap("数字")
	r.typeKeys("1")
	r.onField("move_in")
	r.typeKeys("20250301")
	r.tap("下一步")
	r.waitStep(flow.StepMaterials)
}

// onField taps the form field name, turning pages forward until it shows.
func (r *rig) onField(name string) {
	r.t.Helper()
	for range 5 {
		r.q.drain()
		for _, f := range uitest.Fields(r.win.Content()) {
			if f.Name == name {
				r.tapField(name)
				return
			}
		}
		r.tap("下一页")
	}
	r.t.Fatalf("no field %q on any page:\n%s", name, r.screen())
}

func (r *rig) tapField(name string) {
	r.t.Helper()
	r.q.drain()
	for _, f := range uitest.Fields(r.win.Content()) {
		if f.Name == name {
			r.res.TapButton(f)
			r.q.drain()
			return
		}
	}
	r.t.Fatalf("no field %q on screen:\n%s", name, r.screen())
}

// removeCard takes the card off the reader and waits until the kiosk saw it
// go, so that the next placement is a new card to the driver.
func (r *rig) removeCard() {
	r.t.Helper()
	r.demo.Card.Remove()
	r.settle("card removal noticed", 10*time.Second, func() bool { return !r.app.CardPresent() })
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// decideInBackOffice logs in to the platform's back office over HTTP as the
// demo clerk and records a decision on a submission, as staff would with a
// browser: login form with its CSRF token, then the decision form.
func (r *rig) decideInBackOffice(uuid, status, note string) {
	r.t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		r.t.Fatal(err)
	}
	c := &http.Client{Jar: jar, Timeout: slow(10 * time.Second)}
	base := strings.TrimSuffix(r.demo.BackOfficeURL(), "/")
	csrf := func(path string) string {
		r.t.Helper()
		resp, err := c.Get(base + path)
		if err != nil {
			r.t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		m := csrfField.FindSubmatch(body)
		if m == nil {
			r.t.Fatalf("GET %s: no CSRF token (status %d)", path, resp.StatusCode)
		}
		return string(m[1])
	}
	post := func(path string, form url.Values) {
		r.t.Helper()
		resp, err := c.PostForm(base+path, form)
		if err != nil {
			r.t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 400 {
			r.t.Fatalf("POST %s: %s\n%s", path, resp.Status, body)
		}
	}
	post("/login", url.Values{"csrf": {csrf("/login")}, "user": {DemoStaffUser}, "password": {DemoStaffPassword}})
	page := "/office/submissions/" + uuid
	// confirm=yes is the second press a final decision asks for.
	post(page+"/decide", url.Values{"csrf": {csrf(page)}, "status": {status}, "note": {note}, "confirm": {"yes"}})
}

// startPensionCert opens the pension eligibility check (城乡居民养老保险待遇
// 领取资格认证) from Home and starts it: the kiosk then asks for the card.
func (r *rig) startPensionCert() {
	r.t.Helper()
	r.tap("我要办事")
	r.tap("城乡居民养老保险待遇领取资格认证")
	r.tap("开始办理")
}

// startResidencePermit opens the residence permit (居住证申领) from Home,
// reads card, fills the form and waits on the materials screen.
func (r *rig) startResidencePermit(card string) {
	r.t.Helper()
	r.tap("我要办事")
	r.tap("户籍与居住")
	r.tap("居住证申领")
	r.tap("开始办理")
	r.placeCard(card, flow.StepForm)
	r.fillResidencePermit()
}

// scanMaterial feeds a page of kind to the simulated scanner, taps 扫描 on
// the materials screen and waits (at most wait, stretched by slow) until
// material id is satisfied.
func (r *rig) scanMaterial(id, kind string, wait time.Duration) {
	r.t.Helper()
	if err := r.demo.Scanner.Feed(kind, 1); err != nil {
		r.t.Fatal(err)
	}
	r.tap("扫描")
	r.settle(id+" scanned", wait, func() bool { return !r.app.Busy() && satisfied(r.state(), id) })
}

// submit goes from the materials screen through review (the notice read)
// to the receipt screen and returns the receipt number.
func (r *rig) submit() string {
	r.t.Helper()
	r.tap("下一步")
	r.waitStep(flow.StepReview)
	r.tapContaining("我已阅读")
	r.tap("确认提交")
	r.waitStep(flow.StepReceipt)
	return r.state().Receipt.Number
}

// demoStack starts the demo (simulators and platform under dir/demo) and
// the kiosk's stack on its settings, adjusted by tune (which may be nil),
// both closed when the test ends. It skips in -short.
func demoStack(t *testing.T, dir string, tune func(*Settings)) (*Demo, *Stack) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts simulators, platform and engine")
	}
	ctx := context.Background()
	demo, err := StartDemo(ctx, filepath.Join(dir, "demo"), startDemoPlatform, quietLog)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { demo.Close() })
	settings := demo.Settings
	if tune != nil {
		tune(&settings)
	}
	stack, err := OpenStack(ctx, settings, quietLog)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stack.Close() })
	return demo, stack
}
