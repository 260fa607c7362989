package flow

import (
	"fmt"
	"log/slog"
	"time"

	"onedoor/kiosk/catalog"
	"onedoor/pii"
)

// Default tunables; Options overrides them.
const (
	DefaultIdleTimeout      = 60 * time.Second
	DefaultElderIdleTimeout = 120 * time.Second
	DefaultWarning          = 15 * time.Second
	// A page whose blank score reaches DefaultBlankThreshold is taken for an
	// empty page (wrong side up, nothing on the glass).
	DefaultBlankThreshold = 0.97
	// A page whose blur score reaches DefaultBlurThreshold is too blurred
	// for a clerk to read.
	DefaultBlurThreshold = 0.6
)

// Options configure a Machine. Zero values take the defaults.
type Options struct {
	// Now is the clock for user events; Tick events carry their own time.
	Now              func() time.Time
	IdleTimeout      time.Duration
	ElderIdleTimeout time.Duration
	Warning          time.Duration
	BlankThreshold   float64
	BlurThreshold    float64
	// Calendar computes the promised completion date; without it, or for
	// dates it does not cover, the receipt shows no date.
	Calendar *catalog.Calendar
	// ReceiptQR turns a receipt number into the QR code's content, e.g. a
	// lookup URL; by default the QR holds the number itself.
	ReceiptQR func(receiptNo string) string
	// Logger receives step changes and session ends, never personal data.
	Logger *slog.Logger
	// ElderDefault starts every session in elder mode (config
	// session.elder_default), for service points whose visitors are mostly
	// elderly; a resident can still switch it off for their session.
	ElderDefault bool
	// Location is the zone of the dates the flow decides on (ages on the
	// application date); default China Standard Time.
	Location *time.Location
}

// ChinaStandardTime is UTC+8 with no daylight saving, the default zone of
// every time a resident or clerk sees, whatever the machine's zone.
var ChinaStandardTime = time.FixedZone("CST", 8*3600)

// Machine is one kiosk's resident session state machine. It is not safe for
// concurrent use: kiosk/app feeds it events from a single goroutine.
type Machine struct {
	cat  *catalog.Catalog
	opts Options
	s    session

	// scanSeq numbers ScanPage effects across sessions; orphans are the
	// scans still outstanding when a session ended. Their results belong to
	// a previous resident and must never reach the next one's application.
	scanSeq uint64
	orphans orphans
	// The same for progress lookups.
	lookupSeq     uint64
	lookupOrphans orphans
	// ecertSeq numbers QueryECerts effects across sessions; an answer is
	// taken only by the session whose query it echoes.
	ecertSeq uint64
	// cardIn is whether a card lies on the reader (CardRead until
	// CardRemoved); it outlives sessions: the thank-you screen waits for
	// the card of the session that just ended.
	cardIn bool
	// printer is the receipt printer's last report; a device's state, not
	// the resident's.
	printer PrinterState
}

// session holds everything that is wiped at the end of a session.
type session struct {
	step         Step
	guideFrom    Step
	elder        bool
	pristine     bool // nothing happened since the last wipe
	lastActivity time.Time
	countdown    int
	confirm      Confirm
	err          Message
	busy         bool

	theme string
	query string
	item  *catalog.Item

	identity   *Identity
	agentMode  bool      // 代办 chosen on Identify
	agent      *Identity // the 代办 agent, from their card
	rules      []RuleResult
	startedAt  time.Time
	fields     []FieldState
	materials  []MaterialState
	consent    bool
	consentAt  time.Time
	noticeSeen bool

	receipt    *Receipt
	printed    bool
	paperOut   bool
	canReprint bool

	ratingLevel  int
	ratingReason string

	lookup    LookupState
	lookupSeq uint64 // Seq of the outstanding LookupProgress

	// The e-certificates the platform returned for this applicant in
	// this session, and the Seq of the query that asked.
	ecert    ECertLookup
	ecertSeq uint64
}

// New returns a machine at Home. The catalog must have been validated
// (catalog.Parse does so).
func New(cat *catalog.Catalog, opts Options) *Machine {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.ElderIdleTimeout <= 0 {
		opts.ElderIdleTimeout = DefaultElderIdleTimeout
	}
	if opts.Warning <= 0 {
		opts.Warning = DefaultWarning
	}
	if opts.BlankThreshold <= 0 {
		opts.BlankThreshold = DefaultBlankThreshold
	}
	if opts.BlurThreshold <= 0 {
		opts.BlurThreshold = DefaultBlurThreshold
	}
	if opts.ReceiptQR == nil {
		opts.ReceiptQR = func(no string) string { return no }
	}
	if opts.Location == nil {
		opts.Location = ChinaStandardTime
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Machine{cat: cat, opts: opts}
	m.s = m.fresh()
	return m
}

// fresh is the session a resident finds at Home.
func (m *Machine) fresh() session {
	return session{step: StepHome, pristine: true, lastActivity: m.opts.Now(), elder: m.opts.ElderDefault}
}

// SetCatalog replaces the catalog (after a platform update). A session in
// progress keeps the item it started with; only Home and Catalog lists
// change.
func (m *Machine) SetCatalog(cat *catalog.Catalog) { m.cat = cat }

// SetCalendar replaces the working-day calendar (the bundled one merged
// with the platform's); the next receipt's promised date uses it.
func (m *Machine) SetCalendar(cal *catalog.Calendar) { m.opts.Calendar = cal }

// Handle applies one event and returns the new state and the effects kiosk/app
// must execute, in order.
func (m *Machine) Handle(ev Event) (State, []Effect) {
	var fx []Effect
	before := m.s.step
	switch e := ev.(type) {
	case Tick:
		fx = m.tick(e.Now)
	case CardRemoved, ScanDone, ScanFailed, SubmitDone, SubmitFailed, PrintDone, PrintFailed, LookupDone, LookupFailed, PrinterStatus, ECertsFound, ECertsUnavailable:
		// Device and effect results are not the resident acting: a late
		// answer must not hold off the timeout of an abandoned session.
		fx = m.dispatch(ev)
	default:
		m.s.lastActivity = m.opts.Now()
		m.s.countdown = 0
		m.s.pristine = false
		fx = m.dispatch(ev)
	}
	if m.s.step != before {
		m.opts.Logger.Debug("flow step", "from", before.String(), "to", m.s.step.String())
	}
	return m.State(), fx
}

func (m *Machine) dispatch(ev Event) []Effect {
	s := &m.s
	// A pending confirmation takes the next answer; anything else dismisses
	// it without acting, so a stray tap cannot wipe a session.
	if s.confirm != ConfirmNone {
		switch ev.(type) {
		case ConfirmYes:
			c := s.confirm
			s.confirm = ConfirmNone
			if c == ConfirmCancel {
				return m.end(EndCancel)
			}
			return m.discardApplicant()
		case ConfirmNo, Continue, Touch:
			s.confirm = ConfirmNone
			return nil
		}
		// Device results must still be handled while the question is shown.
		switch ev.(type) {
		case ScanDone, ScanFailed, SubmitDone, SubmitFailed, PrintDone, PrintFailed, LookupDone, LookupFailed, CardRead, CardRemoved, PrinterStatus, ECertsFound, ECertsUnavailable:
		default:
			s.confirm = ConfirmNone
			return nil
		}
	}

	switch e := ev.(type) {
	case Continue, Touch, ConfirmYes, ConfirmNo:
		return nil
	case SetElderMode:
		return m.setElderMode(e.On)
	case Cancel:
		return m.cancel()
	case Back:
		return m.back()
	case Next:
		return m.next()
	case Start:
		return m.start()
	case OpenLookup:
		return m.openLookup()
	case ChooseTheme:
		return m.chooseTheme(e.Theme)
	case SearchCatalog:
		return m.searchCatalog(e.Query)
	case SelectItem:
		return m.selectItem(e.ItemID)
	case CardRead:
		return m.cardRead(e)
	case CardRemoved:
		return m.cardRemoved()
	case SetAgentMode:
		return m.setAgentMode(e.On)
	case EnterPrincipal:
		return m.enterPrincipal(e)
	case ConfirmCondition:
		return m.confirmCondition(e)
	case AcceptPromise:
		return m.acceptPromise(e.MaterialID)
	case NoticeShown:
		return m.noticeShown()
	case PrinterStatus:
		return m.printerStatus(e)
	case EnterIDNumber:
		return m.enterIDNumber(e.Number)
	case SetField:
		return m.setField(e.Name, e.Value)
	case Scan:
		return m.scan(e)
	case ScanDone:
		return m.scanDone(e)
	case ScanFailed:
		return m.scanFailed(e)
	case RemovePage:
		return m.removePage(e)
	case UseECert:
		return m.choose(e.MaterialID, ProvidedECert)
	case ECertsFound:
		return m.ecertsFound(e)
	case ECertsUnavailable:
		return m.ecertsUnavailable(e)
	case UsePromise:
		return m.choose(e.MaterialID, ProvidedPromise)
	case UseScan:
		return m.choose(e.MaterialID, ProvidedScan)
	case SetConsent:
		return m.setConsent(e.Agreed)
	case Submit:
		return m.submit()
	case SubmitDone:
		return m.submitDone(e)
	case SubmitFailed:
		return m.submitFailed(e)
	case PrintDone:
		return m.printDone()
	case PrintFailed:
		return m.printFailed(e)
	case Reprint:
		return m.reprint()
	case Rate:
		return m.rate(e.Level)
	case SetRatingReason:
		return m.setRatingReason(e.Reason)
	case SendRating:
		return m.sendRating()
	case SkipRating:
		return m.skipRating()
	case EnterReceiptNo:
		return m.enterReceiptNo(e.Number, e.Code)
	case LookupDone:
		return m.lookupDone(e)
	case LookupFailed:
		return m.lookupFailed(e)
	}
	return nil
}

// State returns the current state without changing it.
func (m *Machine) State() State {
	s := &m.s
	st := State{
		Step:              s.step,
		Progress:          progressOf(s.step),
		ElderMode:         s.elder,
		Countdown:         s.countdown,
		Confirm:           s.confirm,
		Error:             s.err,
		Busy:              s.busy,
		Themes:            m.cat.Themes,
		Theme:             s.theme,
		Query:             s.query,
		Item:              s.item,
		CanApply:          canApply(s.item),
		Fields:            s.fields,
		Materials:         s.materials,
		Consent:           s.consent,
		NoticeShown:       s.noticeSeen,
		Printer:           m.printer,
		AgentMode:         s.agentMode,
		AgentRead:         s.agent != nil,
		AgentAllowed:      s.item != nil && s.item.AgentAllowed,
		Eligibility:       s.rules,
		Ineligible:        ineligible(s.rules),
		Receipt:           s.receipt,
		Printed:           s.printed,
		PaperOut:          s.paperOut,
		CanReprint:        s.canReprint,
		RatingLevel:       s.ratingLevel,
		RatingReason:      s.ratingReason,
		RatingNeedsReason: s.ratingLevel != 0 && s.ratingLevel <= Dissatisfied,
		Lookup:            s.lookup,
		ECerts:            s.ecert,
		HasPersonalData:   m.hasPersonalData(),
	}
	switch s.step {
	case StepHome:
		st.Popular = m.cat.Popular()
	case StepCatalog:
		if s.theme != "" {
			st.Items = m.cat.ByTheme(s.theme)
		} else {
			st.Items = m.cat.Search(s.query)
		}
	}
	if s.identity != nil || s.agent != nil {
		st.Applicant = &Applicant{}
		if s.identity != nil {
			st.Applicant.MaskedName = pii.MaskName(m.applicant().Name)
			st.Applicant.MaskedID = pii.MaskID(m.applicant().IDNumber)
			st.Applicant.FromCard = s.identity.FromCard
		}
		if s.agent != nil {
			st.Applicant.ByAgent = true
			st.Applicant.AgentMaskedName = pii.MaskName(s.agent.Name)
			st.Applicant.AgentMaskedID = pii.MaskID(s.agent.IDNumber)
		}
	}
	return st
}

// String describes the machine without personal data, for debugging.
func (m *Machine) String() string {
	return fmt.Sprintf("flow.Machine{step=%s personal=%t}", m.s.step, m.hasPersonalData())
}
