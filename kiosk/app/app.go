// Package app wires the resident kiosk together: devices produce events, the
// flow (kiosk/flow) turns them into state, the view (kiosk/ui) draws it, the
// outbox keeps what was submitted and the sync side moves it out. It also
// runs the effects the flow asks for (scan, submit, print, look up, rate) on
// background goroutines and feeds their results back as events.
//
// Threading: the flow machine and the view live on Fyne's goroutine. Every
// background goroutine (card watch, idle ticker, effects, link monitor)
// hands its result over through Deps.Post, which is fyne.Do in the kiosk and
// a queue drained by the test goroutine in tests, so nothing touches the
// machine or a widget from two goroutines.
//
// The parts are consumed through small interfaces declared here, so the
// wiring is testable with any of them replaced.
package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"log/slog"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"golang.org/x/image/draw"

	"onedoor/drivers/idcard"
	"onedoor/drivers/printer"
	"onedoor/drivers/scanner"
	"onedoor/kiosk/catalog"
	"onedoor/kiosk/flow"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/ui"
	"onedoor/sync/api"
	"onedoor/sync/client"
	"onedoor/sync/outbox"
)

// CardWatcher reports ID cards placed on and taken off the reader;
// *idcard.Reader's Watch has this shape.
type CardWatcher interface {
	Watch(ctx context.Context, o idcard.WatchOptions) <-chan idcard.Event
}

// ReceiptPrinter prints a receipt; *printer.Printer has it. A paper-out
// failure wraps printer.ErrPaperOut.
type ReceiptPrinter interface {
	Print(ctx context.Context, r printer.Receipt) (printer.Progress, error)
}

// PageScanner scans one page; scanner.Scanner.
type PageScanner = scanner.Scanner

// Store is what the kiosk needs from the outbox; *outbox.Store has it.
type Store interface {
	Submit(ctx context.Context, sub outbox.NewSubmission) (outbox.Receipt, error)
	Lookup(ctx context.Context, receipt string) (outbox.Record, error)
	LookupByID(ctx context.Context, idNumber string) ([]outbox.Record, error)
	SaveRating(ctx context.Context, r api.Rating) error
}

// Tracker asks the platform for a submission's progress, with the proof
// that the resident owns the receipt (the lookup code they typed or the ID
// number of the card they placed); *client.Client has it. Optional: without
// it lookups answer from the local store only.
type Tracker interface {
	TrackProven(ctx context.Context, receipt string, p client.TrackProof) (*api.TrackResponse, error)
}

// Deps are the parts the app wires. Catalog, Translator, Store and Post are
// required; a missing device makes its effects fail the way an absent device
// would, so the kiosk still takes applications that do not need it.
type Deps struct {
	Catalog  *catalog.Catalog
	Calendar *catalog.Calendar
	Tr       *i18n.Translator
	Dict     *ui.PinyinDict
	Store    Store
	Tracker  Tracker
	// ECerts asks the platform for the applicant's e-certificates
	// (optional; ecert.go).
	ECerts  ECertQuerier
	Cards   CardWatcher
	Printer ReceiptPrinter
	Scanner PageScanner
	// Online reports whether the platform is reachable (the sync engine's
	// view); nil means always online.
	Online func() bool
	// Post runs f on the UI goroutine: fyne.Do in the kiosk.
	Post func(f func())
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// TickEvery is the idle-timer tick; 1 s when zero. Negative disables
	// the ticker (tests send Tick events themselves).
	TickEvery time.Duration
	// IdleTimeout and ElderIdleTimeout override the flow's defaults.
	IdleTimeout, ElderIdleTimeout time.Duration
	// ElderDefault starts every session in elder mode (config
	// session.elder_default).
	ElderDefault bool
	// Warning is how long before the idle timeout the countdown shows;
	// BlankThreshold and BlurThreshold reject pages whose scores reach
	// them. The flow's defaults when zero (config session.warning,
	// session.blank_threshold, session.blur_threshold).
	Warning                       time.Duration
	BlankThreshold, BlurThreshold float64
	// Site names the service point on receipts.
	Site string
	// RetentionDays (config storage.retention_days) and PlatformName
	// (config platform.name) make the personal-information notice tell
	// what the kiosk keeps, how long, and who receives the data.
	RetentionDays int
	PlatformName  string
	// Location is the zone of every time shown and of the dates the flow
	// decides on (config kiosk.time_zone); China Standard Time when nil.
	Location *time.Location
	// TrackingURL turns a receipt number into the receipt's QR content.
	TrackingURL func(receipt string) string
	// OnTechnician opens the technician screens after the hidden long press.
	OnTechnician func()
	Logger       *slog.Logger
	// Voice speaks the prompts (kiosk/voice); nil for a mute kiosk. Help
	// sends 呼叫工作人员 to the platform; nil: always offline. voice.go.
	Voice ui.Voice
	Help  Helper
}

// App is one running kiosk.
type App struct {
	d       Deps
	m       *flow.Machine
	view    *ui.Kiosk
	log     *slog.Logger
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	pages   map[string]scanner.Page // scanned pages by ref; UI goroutine only
	thumbs  map[string]image.Image  // their previews; UI goroutine only
	nextRef int
	// scanSeq is the Seq of the latest ScanPage started; progress of an
	// older scan is not drawn. UI goroutine only.
	scanSeq uint64
	// cardPresent is whether the reader last reported a card; UI goroutine.
	cardPresent bool
	// inflight counts effects running in the background, for tests that
	// wait until the kiosk settles.
	inflight atomic.Int64
}

// New builds the app; call Run to start its background work.
func New(d Deps) (*App, error) {
	if d.Catalog == nil || d.Tr == nil || d.Store == nil || d.Post == nil {
		return nil, errors.New("app: Catalog, Tr, Store and Post are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.TickEvery == 0 {
		d.TickEvery = time.Second
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.TrackingURL == nil {
		d.TrackingURL = func(r string) string { return r }
	}
	a := &App{d: d, log: d.Logger, pages: map[string]scanner.Page{}, thumbs: map[string]image.Image{}}
	a.m = flow.New(d.Catalog, flow.Options{
		Now: d.Now, Calendar: d.Calendar, IdleTimeout: d.IdleTimeout, ElderIdleTimeout: d.ElderIdleTimeout,
		ReceiptQR: d.TrackingURL, Logger: d.Logger, ElderDefault: d.ElderDefault,
		Warning: d.Warning, BlankThreshold: d.BlankThreshold, BlurThreshold: d.BlurThreshold,
		Location: d.Location,
	})
	a.view = ui.New(d.Tr, ui.Options{
		Dispatch: a.Dispatch, Dict: d.Dict, Preview: a.preview, OnTechnician: d.OnTechnician,
		SampleCatalog: d.Catalog.Sample,
		RetentionDays: d.RetentionDays, PlatformName: d.PlatformName, Location: d.Location,
		Voice: d.Voice, CallHelp: a.callHelp,
	})
	a.ctx, a.cancel = context.WithCancel(context.Background())
	return a, nil
}

// SetCatalog replaces the catalog, e.g. with the platform's once the
// outbox has opened; a session in progress keeps its item. UI goroutine.
func (a *App) SetCatalog(c *catalog.Catalog) {
	a.d.Catalog = c
	a.m.SetCatalog(c)
	if a.m.State().Step == flow.StepHome {
		a.view.Render(a.m.State())
	}
}

// SetCalendar replaces the working-day calendar promised dates are
// counted with. UI goroutine.
func (a *App) SetCalendar(c *catalog.Calendar) {
	a.d.Calendar = c
	a.m.SetCalendar(c)
}

// SetSite names the service point printed on receipts. UI goroutine.
func (a *App) SetSite(site string) { a.d.Site = site }

// View is the kiosk screen.
func (a *App) View() *ui.Kiosk { return a.view }

// Machine is the flow, for tests.
func (a *App) Machine() *flow.Machine { return a.m }

// CardPresent reports whether a card lies on the reader, as last reported.
// Call it on the UI goroutine.
func (a *App) CardPresent() bool { return a.cardPresent }

// Busy reports whether effects are still running in the background.
func (a *App) Busy() bool { return a.inflight.Load() > 0 }

// Start draws Home and starts the background goroutines: the card watch,
// the idle ticker and the link monitor. Call it on the UI goroutine.
func (a *App) Start() {
	st, _ := a.m.Handle(flow.Touch{})
	a.view.Render(st)
	if a.d.Cards != nil {
		a.wg.Add(1)
		go a.watchCards()
	}
	if a.d.TickEvery > 0 {
		a.wg.Add(1)
		go a.tick()
	}
	if a.d.Online != nil {
		a.wg.Add(1)
		go a.monitorLink()
	}
}

// Stop cancels the background work and waits for it; effects in flight see
// their context cancelled. A submission already committed stays committed.
func (a *App) Stop() {
	a.cancel()
	a.wg.Wait()
}

// Dispatch feeds one event to the flow, redraws, and starts the effects.
// It must run on the UI goroutine.
func (a *App) Dispatch(ev flow.Event) {
	before := a.m.State().Step
	st, fx := a.m.Handle(ev)
	// The idle tick comes every second; redrawing for it when nothing on
	// screen changed replaced every widget under the resident's finger, and
	// a tap whose press and release straddled it was lost (seen tapping
	// through ./build/demo: a slow tap on a keypad key did nothing).
	if _, tick := ev.(flow.Tick); !tick || !reflect.DeepEqual(st, a.view.State()) {
		a.view.Render(st)
	}
	for _, f := range fx {
		a.execute(f)
	}
	if st.Step == flow.StepGuide && before != flow.StepGuide {
		a.checkPrinter()
	}
}

// checkPrinter asks the printer, as a resident opens an item's guide,
// whether it can print, so the guide says before the application starts
// if no receipt will come out and what happens instead. A printer busy
// beyond printerStatusTimeout is left as it was last reported.
func (a *App) checkPrinter() {
	ps, ok := a.d.Printer.(PrinterStatus)
	if !ok {
		return
	}
	a.background(func(ctx context.Context) flow.Event {
		ctx, cancel := context.WithTimeout(ctx, printerStatusTimeout)
		defer cancel()
		st, err := ps.Status(ctx)
		switch {
		case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
			return nil
		case err != nil:
			a.log.Info("printer status unknown before an application", "err", err)
			return flow.PrinterStatus{Ready: false}
		}
		paperOut := st.PaperEnd || st.PaperStop
		return flow.PrinterStatus{Ready: printerState(st) == "ok", PaperOut: paperOut, CoverOpen: st.CoverOpen}
	})
}

// post hands f to the UI goroutine unless the app is stopping.
func (a *App) post(f func()) {
	if a.ctx.Err() != nil {
		return
	}
	a.d.Post(f)
}

// background runs work off the UI goroutine and posts its event back.
func (a *App) background(work func(ctx context.Context) flow.Event) {
	a.inflight.Add(1)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		// Decrement after posting, so that once nothing is in flight every
		// result is already queued for the UI goroutine.
		defer a.inflight.Add(-1)
		ev := work(a.ctx)
		if ev != nil {
			a.post(func() { a.Dispatch(ev) })
		}
	}()
}

func (a *App) execute(f flow.Effect) {
	switch e := f.(type) {
	case flow.ScanPage:
		a.scanPage(e)
	case flow.DiscardScans:
		for _, r := range e.Refs {
			delete(a.pages, r)
			delete(a.thumbs, r)
		}
	case flow.SubmitApplication:
		a.submit(e.Application)
	case flow.PrintReceipt:
		a.print(e.Receipt)
	case flow.LookupProgress:
		a.lookup(e)
	case flow.QueryECerts:
		a.queryECerts(e)
	case flow.RecordRating:
		a.rate(e.Rating)
	case flow.Beep:
		a.log.Debug("beep", "kind", string(e.Kind))
	case flow.SessionEnded:
		// Every session starts in Chinese and in normal mode; the flow has
		// already wiped its state and the view its scratch input.
		clear(a.pages)
		clear(a.thumbs)
		if err := a.d.Tr.SetLang(i18n.ZhCN); err != nil {
			a.log.Error("reset language", "err", err)
		}
		a.view.Refresh()
	}
}

func (a *App) scanPage(e flow.ScanPage) {
	if a.d.Scanner == nil {
		a.Dispatch(flow.ScanFailed{MaterialID: e.MaterialID, Seq: e.Seq, Reason: "no scanner"})
		return
	}
	a.nextRef++
	ref := "scan-" + strconv.Itoa(a.nextRef)
	sc := a.d.Scanner
	a.scanSeq = e.Seq
	a.inflight.Add(1)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer a.inflight.Add(-1)
		p, err := sc.Scan(a.ctx, scanner.Options{}, a.scanProgress(e.Seq))
		a.post(func() {
			if err != nil {
				a.log.Warn("scan failed", "err", err)
				a.Dispatch(flow.ScanFailed{MaterialID: e.MaterialID, Seq: e.Seq, NoPaper: errors.Is(err, scanner.ErrNoDocument), Reason: err.Error()})
				return
			}
			a.pages[ref] = p
			a.Dispatch(ScanResult(e, ref, p))
		})
	}()
}

// scanProgress returns the scanner's progress callback for the scan seq:
// it hands the fraction received to the view, once per whole percent so
// that a page arriving in hundreds of chunks costs at most a hundred
// redraws of one bar.
func (a *App) scanProgress(seq uint64) func(done, total int64) {
	last := int64(-1)
	return func(done, total int64) {
		if total <= 0 {
			return
		}
		pct := done * 100 / total
		if pct == last {
			return
		}
		last = pct
		v := float64(done) / float64(total)
		a.post(func() {
			if a.scanSeq == seq {
				a.view.SetScanProgress(v)
			}
		})
	}
}

// ScanResult turns a normalised page into the flow's ScanDone. The scanner
// package decides blank and blurred with its calibrated thresholds; the
// flow's scores are in [0,1] with its own thresholds near 1, so a page the
// scanner calls blank or blurred scores 1 and any other 0.
func ScanResult(e flow.ScanPage, ref string, p scanner.Page) flow.ScanDone {
	d := flow.ScanDone{MaterialID: e.MaterialID, Page: e.Page, Seq: e.Seq, Ref: ref}
	if p.Blank {
		d.BlankScore = 1
	}
	if p.Blurred {
		d.BlurScore = 1
	}
	return d
}

// preview is a thumbnail of a scanned page, decoded and scaled once: the
// screen is redrawn on every event and a full A4 JPEG decode each time
// would be felt.
func (a *App) preview(ref string) image.Image {
	if img, ok := a.thumbs[ref]; ok {
		return img
	}
	p, ok := a.pages[ref]
	if !ok {
		return nil
	}
	img, err := jpeg.Decode(bytes.NewReader(p.JPEG))
	if err != nil {
		a.log.Warn("page preview", "err", err)
		return nil
	}
	a.thumbs[ref] = thumbnail(img, 240)
	return a.thumbs[ref]
}

// thumbnail scales img to width w (keeping its aspect), never up.
func thumbnail(img image.Image, w int) image.Image {
	b := img.Bounds()
	if b.Dx() <= w {
		return img
	}
	h := b.Dy() * w / b.Dx()
	dst := image.NewRGBA(image.Rect(0, 0, w, max(h, 1)))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst
}

func (a *App) submit(app flow.Application) {
	sub, err := Submission(app, a.pages)
	if err != nil {
		a.log.Error("submission incomplete", "err", err)
		a.Dispatch(flow.SubmitFailed{Reason: err.Error()})
		return
	}
	store := a.d.Store
	a.background(func(ctx context.Context) flow.Event {
		// The outbox commits durably before it answers; a cancelled context
		// at shutdown must not cut that short.
		rec, err := store.Submit(context.WithoutCancel(ctx), sub)
		if err != nil {
			a.log.Error("submit failed", "err", err)
			return flow.SubmitFailed{DiskFull: errors.Is(err, outbox.ErrDiskFull), Reason: err.Error()}
		}
		return flow.SubmitDone{ReceiptNo: rec.Number, AcceptedAt: a.d.Now(), LookupCode: rec.LookupCode}
	})
}

func (a *App) print(r flow.Receipt) {
	if a.d.Printer == nil {
		a.Dispatch(flow.PrintFailed{Reason: "no printer"})
		return
	}
	p := a.d.Printer
	pr := PrinterReceipt(r, a.d.Site, a.d.Tr.Lang() == i18n.EN, a.d.Location)
	a.background(func(ctx context.Context) flow.Event {
		if _, err := p.Print(ctx, pr); err != nil {
			a.log.Warn("receipt not printed", "err", err)
			return flow.PrintFailed{PaperOut: errors.Is(err, printer.ErrPaperOut), Reason: err.Error()}
		}
		return flow.PrintDone{}
	})
}

func (a *App) lookup(e flow.LookupProgress) {
	store, tracker := a.d.Store, a.d.Tracker
	online := a.d.Online == nil || a.d.Online()
	cat := a.d.Catalog
	a.background(func(ctx context.Context) flow.Event {
		res, offline, err := Lookup(ctx, store, tracker, online, cat, e)
		if err != nil {
			a.log.Warn("lookup failed", "err", err)
			return flow.LookupFailed{Reason: err.Error(), Seq: e.Seq}
		}
		return flow.LookupDone{Results: res, Offline: offline, Seq: e.Seq}
	})
}

func (a *App) rate(r flow.Rating) {
	store := a.d.Store
	a.background(func(ctx context.Context) flow.Event {
		err := store.SaveRating(ctx, api.Rating{UUID: uuid.NewString(), Receipt: r.ReceiptNo, Level: r.Level, Reason: r.Reason, At: r.At})
		if err != nil {
			// The session has ended; a lost rating is logged, not shown.
			a.log.Error("rating not saved", "err", err)
		}
		return nil
	})
}

func (a *App) watchCards() {
	defer a.wg.Done()
	for ev := range a.d.Cards.Watch(a.ctx, idcard.WatchOptions{}) {
		present := ev.Kind == idcard.CardPlaced || ev.Kind == idcard.IdentityRead || ev.Kind == idcard.ReadFailed
		fe := CardEvent(ev)
		if ev.Kind == idcard.DeviceError {
			a.log.Warn("card reader", "err", ev.Err)
		}
		a.post(func() {
			a.cardPresent = present
			if fe != nil {
				a.Dispatch(fe)
			}
		})
	}
}

func (a *App) tick() {
	defer a.wg.Done()
	t := time.NewTicker(a.d.TickEvery)
	defer t.Stop()
	for {
		select {
		case <-a.ctx.Done():
			return
		case <-t.C:
			now := a.d.Now()
			a.post(func() { a.Dispatch(flow.Tick{Now: now}) })
		}
	}
}

// linkPoll is how often the offline banner follows the engine's state: a
// read of a snapshot under a mutex, so cheap enough to do often, and the
// banner goes as soon as the platform answers, not up to a second later.
const linkPoll = 200 * time.Millisecond

func (a *App) monitorLink() {
	defer a.wg.Done()
	t := time.NewTicker(linkPoll)
	defer t.Stop()
	last := true
	for {
		on := a.d.Online()
		if on != last {
			last = on
			a.post(func() { a.view.SetOnline(on) })
		}
		select {
		case <-a.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// String describes the app for logs without personal data.
func (a *App) String() string { return fmt.Sprintf("kiosk app (%d pages cached)", len(a.pages)) }
