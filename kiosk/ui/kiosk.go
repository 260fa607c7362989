package ui

import (
	"image"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"onedoor/kiosk/flow"
	"onedoor/kiosk/i18n"
)

// Translator is what the kiosk needs from kiosk/i18n.
type Translator interface {
	Texts
	Lang() string
	SetLang(lang string) error
	Pick(zh, en string) string
}

// Options configure a Kiosk.
type Options struct {
	// Dispatch receives every event the resident causes. kiosk/app runs it
	// through the flow and calls Render with the new state.
	Dispatch func(flow.Event)
	// Dict is the pinyin dictionary; nil disables the pinyin keypad.
	Dict *PinyinDict
	// Preview returns a scanned page image for a flow page Ref, nil if
	// unknown. Optional.
	Preview func(ref string) image.Image
	// OnTechnician is called after the hidden long press on the title.
	OnTechnician func()
	// LongPress is the hold time of the technician entrance (default 3 s).
	LongPress time.Duration
	// Timer runs the long-press timer; nil uses RealTimer.
	Timer Timer
	// SampleCatalog shows the "sample data" notice on Home.
	SampleCatalog bool
	// RetentionDays (config storage.retention_days) and PlatformName (who
	// receives the data) go into the personal-information notice.
	RetentionDays int
	PlatformName  string
	// Location is the zone of every time shown; default China Standard
	// Time, whatever the machine's zone.
	Location *time.Location
	// Voice speaks the screens' prompts and backs the speaker, 重听 and
	// 普通话/粤语 buttons (kiosk/voice, issue 17); nil for a mute kiosk.
	// CallHelp sends 呼叫工作人员; nil: help is always offline. See
	// voicebar.go.
	Voice    Voice
	CallHelp CallHelp
}

// Kiosk draws a flow.State into one canvas object, one screen type per
// step (screen_*.go). It keeps only what the flow does not model: each
// screen's unfinished keypad input, list pages, and how far the page being
// scanned has come in (SetScanProgress). All of it is dropped whenever the
// state returns Home, so no personal datum outlives the session in the
// widget tree.
//
// Render and every method must run on Fyne's goroutine (use fyne.Do from
// elsewhere).
type Kiosk struct {
	tr     Translator
	opts   Options
	root   *fyne.Container
	state  flow.State
	online bool
	elder  bool
	// scale is the theme's size factor for the window (SetWindowSize).
	scale float32

	// screens draw the steps and own their scratch input; pages are the
	// list pages by screen and list, wiped with the session.
	screens map[flow.Step]screen
	pages   map[string]int

	// keypad is the keypad on screen and target the field it writes into
	// (nil when there is none); keypadSlot names that input (newKeypad).
	// prevKeypad and prevSlot are the previous drawing's, during Render.
	keypad     *Keypad
	keypadSlot string
	target     *Field
	prevKeypad *Keypad
	prevSlot   string
	// focused is the field this view last gave the canvas focus, so that
	// focus it gave is taken back when a screen has no field.
	focused *Field
	// scanProgress is how much of the page being scanned has arrived, in
	// [0,1]; scanBar draws it while a material is scanning. The app feeds
	// it from the scanner's callback with SetScanProgress: the flow does
	// not model it, because a redraw of the whole screen per chunk would
	// be wasted work and progress is not resident activity.
	scanProgress float64
	scanBar      *widget.ProgressBar
	// noticeList is the review screen's list holding the personal-
	// information notice; once its last page has been laid out on screen,
	// Render tells the flow (NoticeShown).
	noticeList *PagedList
	// rulesList is the eligibility screen's list of conditions; the
	// forward button confirms them only from its last page (confirmAll).
	rulesList *PagedList
	// lastRender is how long the most recent Render took, for benchmarks.
	lastRender time.Duration
	// bar is the voice and help strip under the header (voicebar.go).
	bar *VoiceBar
}

// New returns a kiosk view showing an empty Home; call Render with the
// flow's state.
func New(tr Translator, opts Options) *Kiosk {
	if opts.Dispatch == nil {
		opts.Dispatch = func(flow.Event) {}
	}
	if opts.Location == nil {
		opts.Location = flow.ChinaStandardTime
	}
	if opts.LongPress <= 0 {
		opts.LongPress = 3 * time.Second
	}
	k := &Kiosk{tr: tr, opts: opts, root: container.NewStack(), online: true, pages: map[string]int{}}
	k.screens = newScreens(k)
	k.bar = NewVoiceBar(tr, opts.Voice, opts.CallHelp, k.touch, k.Refresh)
	return k
}

// SetWindowSize fits the kiosk's sizes to a window of w×h pixels (see
// ScaleFor) and redraws: kiosk/app calls it with the configured window
// size, before the first Render.
func (k *Kiosk) SetWindowSize(w, h float32) {
	k.scale = ScaleFor(w, h)
	fyne.CurrentApp().Settings().SetTheme(NewScaledTheme(k.elder, k.scale))
	if k.root.Objects != nil {
		k.Render(k.state)
	}
}

// Object is the kiosk's root canvas object, to put in a window.
func (k *Kiosk) Object() fyne.CanvasObject { return k.root }

// State is the state last rendered.
func (k *Kiosk) State() flow.State { return k.state }

// LastRender is how long the most recent Render took.
func (k *Kiosk) LastRender() time.Duration { return k.lastRender }

// SetOnline shows or hides the offline badge.
func (k *Kiosk) SetOnline(online bool) {
	if k.online == online {
		return
	}
	k.online = online
	k.Render(k.state)
}

// Online reports what the badge shows.
func (k *Kiosk) Online() bool { return k.online }

// Refresh redraws the current state, e.g. after a language switch.
func (k *Kiosk) Refresh() { k.Render(k.state) }

func (k *Kiosk) dispatch(ev flow.Event) { k.opts.Dispatch(ev) }

func (k *Kiosk) touch() { k.dispatch(flow.Touch{}) }

// Render draws s, replacing whatever was shown.
func (k *Kiosk) Render(s flow.State) {
	start := time.Now()
	entering := s.Step != k.state.Step
	if entering {
		k.leaving(k.state.Step)
	}
	k.state = s
	if s.ElderMode != k.elder {
		k.elder = s.ElderMode
		fyne.CurrentApp().Settings().SetTheme(NewScaledTheme(k.elder, k.scale))
	}
	if s.Step == flow.StepHome && entering {
		// Only on arrival: a redraw of Home (paging its list) keeps its page.
		k.wipe()
	}
	k.scanBar = nil
	if !scanning(s) {
		k.scanProgress = 0
	}
	k.prevKeypad, k.prevSlot = k.keypad, k.keypadSlot
	k.keypad, k.keypadSlot, k.target = nil, "", nil
	k.noticeList, k.rulesList = nil, nil
	body := k.body(s)
	k.prevKeypad = nil
	k.bar.Show(s)
	var top []fyne.CanvasObject
	top = append(top, k.header(s))
	top = append(top, k.bar.Objects(s, NewStepProgress(k.tr, s.Progress.N, s.Progress.M))...)
	if !k.online {
		top = append(top, NewOfflineBadge(k.tr))
	}
	if s.Countdown > 0 {
		top = append(top, NewCountdownBanner(k.tr, s.Countdown, func() { k.dispatch(flow.Continue{}) }))
	}
	if c := k.confirmBar(s); c != nil {
		top = append(top, c)
	}
	if !s.Error.IsZero() {
		top = append(top, k.errorBar(s.Error))
	}
	bottom := k.nav(s)
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameBackground))
	page := container.NewBorder(container.NewVBox(top...), bottom, nil, nil, body)
	k.root.Objects = []fyne.CanvasObject{bg, container.NewPadded(page)}
	k.root.Refresh()
	k.keepFocus()
	k.lastRender = time.Since(start)
	k.noticeRead()
}

// noticeRead tells the flow once the last page of the personal-information
// notice is on screen (laid out with a size: the whole notice has been
// shown, page by page).
func (k *Kiosk) noticeRead() {
	l := k.noticeList
	if k.state.Step != flow.StepReview || k.state.NoticeShown || l == nil || l.Size().Height <= 0 {
		return
	}
	if l.Page() == l.Pages()-1 {
		k.dispatch(flow.NoticeShown{})
	}
}

// at is t in the kiosk's zone, as a resident or clerk reads it.
func (k *Kiosk) at(t time.Time, layout string) string { return t.In(k.opts.Location).Format(layout) }

// keepFocus gives the canvas focus to the field the keypad writes into.
// Every redraw replaces the screen's widgets, so a field focused before is
// no longer on screen, and a USB keyboard or keyboard-wedge scanner would
// type into nothing (or into the discarded widget); focusing the keypad's
// target after each redraw keeps hardware typing and the keypad writing
// into the same box. A screen without a field takes back the focus this
// view gave.
func (k *Kiosk) keepFocus() {
	c := fyne.CurrentApp().Driver().CanvasForObject(k.root)
	if c == nil {
		return
	}
	switch {
	case k.target != nil && !k.target.ReadOnly:
		// While the technician screens replace the kiosk in the window,
		// the driver may still name its old canvas; focusing there would
		// fail (and log) on every redraw.
		if c.Focused() != fyne.Focusable(k.target) && holds(c.Content(), k.root) {
			c.Focus(k.target)
		}
		k.focused = k.target
	case k.focused != nil:
		if c.Focused() == fyne.Focusable(k.focused) {
			c.Unfocus()
		}
		k.focused = nil
	}
}

// leaving drops the scratch input that belongs to the screen being left.
func (k *Kiosk) leaving(from flow.Step) {
	if sc := k.screens[from]; sc != nil {
		sc.leave()
	}
	// List pages are kept: back from a guide returns to the catalog page
	// the resident was on. They go with the rest at Home.
	k.keypad = nil
}

// wipe forgets everything typed in the session.
func (k *Kiosk) wipe() {
	for _, sc := range k.screens {
		sc.wipe()
	}
	k.pages = map[string]int{}
	k.keypad = nil
}

func (k *Kiosk) header(s flow.State) fyne.CanvasObject {
	title := canvas.NewText(k.tr.T("app.title"), theme.Color(theme.ColorNameForeground))
	title.TextSize = theme.Size(theme.SizeNameSubHeadingText)
	entrance := NewLongPress(container.NewPadded(title), k.opts.LongPress, k.opts.Timer, func() {
		if k.opts.OnTechnician != nil {
			k.opts.OnTechnician()
		}
	})
	stepTitle := canvas.NewText(k.tr.T(s.Step.TitleKey()), theme.Color(theme.ColorNamePrimary))
	stepTitle.TextSize = theme.Size(theme.SizeNameSubHeadingText)

	elderKey := "elder.on"
	elderStyle := StyleNormal
	if s.ElderMode {
		elderKey, elderStyle = "elder.off", StyleChosen
	}
	elder := NewStyledButton(k.tr.T(elderKey), elderStyle, func() {
		k.dispatch(flow.SetElderMode{On: !k.state.ElderMode})
	})
	lang := NewButton(k.tr.T("lang.switch_to"), func() {
		next := i18n.EN
		if k.tr.Lang() == i18n.EN {
			next = i18n.ZhCN
		}
		_ = k.tr.SetLang(next) // both languages always exist
		k.touch()
		k.Refresh()
	})
	right := container.NewHBox(elder, lang)
	left := container.NewHBox(entrance, layout.NewSpacer())
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameHeaderBackground))
	row := container.NewBorder(nil, nil, left, right, container.NewCenter(stepTitle))
	return container.NewStack(bg, row)
}

func (k *Kiosk) errorBar(m flow.Message) fyne.CanvasObject {
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameError))
	l := widget.NewLabel(k.msg(m))
	l.Wrapping = fyne.TextWrapWord
	l.Importance = widget.DangerImportance
	fg := canvas.NewRectangle(theme.Color(theme.ColorNameBackground))
	return container.NewStack(bg, container.New(layout.NewCustomPaddedLayout(0, 0, 8, 0), container.NewStack(fg, l)))
}

func (k *Kiosk) msg(m flow.Message) string {
	if m.IsZero() {
		return ""
	}
	return k.tr.T(m.Key, m.Args...)
}

func (k *Kiosk) confirmBar(s flow.State) fyne.CanvasObject {
	if s.Confirm == flow.ConfirmNone {
		return nil
	}
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameWarning))
	q := widget.NewLabel(k.tr.T("confirm." + string(s.Confirm)))
	q.Wrapping = fyne.TextWrapWord
	yes := NewStyledButton(k.tr.T("btn.confirm_yes"), StyleDanger, func() { k.dispatch(flow.ConfirmYes{}) })
	no := NewStyledButton(k.tr.T("btn.confirm_no"), StylePrimary, func() { k.dispatch(flow.ConfirmNo{}) })
	return container.NewStack(bg, container.NewPadded(container.NewBorder(nil, nil, nil, container.NewHBox(no, yes), q)))
}

// nav is the bottom row: back and cancel on the left, the step's forward
// action on the right.
func (k *Kiosk) nav(s flow.State) fyne.CanvasObject {
	var left, right []fyne.CanvasObject
	back := func() { k.dispatch(flow.Back{}) }
	cancel := NewStyledButton(k.tr.T("btn.cancel"), StyleDanger, func() { k.dispatch(flow.Cancel{}) })
	next := func(key string) *Button {
		b := NewStyledButton(k.tr.T(key), StylePrimary, func() { k.dispatch(flow.Next{}) })
		b.Big = true
		b.MinWidth = 3 * currentTarget()
		b.Disabled = s.Busy
		return b
	}
	switch s.Step {
	case flow.StepHome, flow.StepSubmitting:
		return nil
	case flow.StepCatalog, flow.StepLookup:
		left = append(left, NewButton(k.tr.T("btn.back"), back))
		right = append(right, NewButton(k.tr.T("btn.home"), func() { k.dispatch(flow.Cancel{}) }))
	case flow.StepGuide:
		left = append(left, NewButton(k.tr.T("btn.back"), back), cancel)
		if s.CanApply {
			right = append(right, next("btn.apply"))
		}
	case flow.StepIdentify:
		left = append(left, NewButton(k.tr.T("btn.back"), back), cancel)
	case flow.StepEligibility:
		left = append(left, NewButton(k.tr.T("btn.back"), back), cancel)
		switch {
		case s.Ineligible:
		case toConfirm(s):
			b := next("btn.conditions_ok")
			b.OnTapped = k.confirmAll
			right = append(right, b)
		default:
			right = append(right, next("btn.next"))
		}
	case flow.StepThanks:
		right = append(right, NewButton(k.tr.T("btn.home"), back))
	case flow.StepForm, flow.StepMaterials:
		left = append(left, NewButton(k.tr.T("btn.back"), back), cancel)
		right = append(right, next("btn.next"))
	case flow.StepReview:
		left = append(left, NewButton(k.tr.T("btn.back"), back), cancel)
		sub := NewStyledButton(k.tr.T("btn.submit"), StylePrimary, func() { k.dispatch(flow.Submit{}) })
		sub.Big = true
		sub.MinWidth = 3 * currentTarget()
		sub.Disabled = s.Busy || !s.Consent
		right = append(right, sub)
	case flow.StepReceipt:
		if s.CanReprint {
			rp := NewButton(k.tr.T("btn.reprint"), func() { k.dispatch(flow.Reprint{}) })
			rp.Disabled = s.Busy
			left = append(left, rp)
		}
		n := next("btn.next")
		n.Disabled = false // the resident may rate while the receipt prints
		right = append(right, n)
	case flow.StepRating:
		left = append(left, NewButton(k.tr.T("btn.back"), back))
		if s.CanReprint {
			rp := NewButton(k.tr.T("btn.reprint"), func() { k.dispatch(flow.Reprint{}) })
			rp.Disabled = s.Busy
			left = append(left, rp)
		}
		right = append(right, NewButton(k.tr.T("btn.skip"), func() { k.dispatch(flow.SkipRating{}) }))
		send := NewStyledButton(k.tr.T("btn.rate_send"), StylePrimary, func() { k.dispatch(flow.SendRating{}) })
		send.Big = true
		send.MinWidth = 3 * currentTarget()
		send.Disabled = s.RatingLevel == 0
		right = append(right, send)
	}
	return container.NewBorder(nil, nil, container.NewHBox(left...), container.NewHBox(right...))
}

func (k *Kiosk) body(s flow.State) fyne.CanvasObject {
	if sc := k.screens[s.Step]; sc != nil {
		return sc.draw(s)
	}
	return widget.NewLabel(s.Step.String())
}

func (k *Kiosk) paged(name string, items []fyne.CanvasObject, perPage, cols int) *PagedList {
	key := k.state.Step.String() + "/" + name
	p := NewPagedList(k.tr, items, perPage, cols, k.pages[key])
	p.OnPage = func(n int) {
		k.pages[key] = n
		k.touch()
	}
	return p
}

// card is a bordered panel.
func card(content ...fyne.CanvasObject) fyne.CanvasObject {
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameButton))
	bg.StrokeColor = theme.Color(theme.ColorNameInputBorder)
	bg.StrokeWidth = 1
	bg.CornerRadius = theme.Size(theme.SizeNameInputRadius)
	return container.NewStack(bg, container.NewPadded(container.NewVBox(content...)))
}

// holds reports whether o is tree or inside it through containers, which
// is how the kiosk's root is placed in a window (directly, in technician
// mode's stack, beside the demo panel).
func holds(tree, o fyne.CanvasObject) bool {
	if tree == o {
		return true
	}
	if c, ok := tree.(*fyne.Container); ok {
		for _, child := range c.Objects {
			if holds(child, o) {
				return true
			}
		}
	}
	return false
}
