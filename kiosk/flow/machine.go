package flow

import (
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

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
}

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
	orphans []uint64
	// The same for progress lookups.
	lookupSeq     uint64
	lookupOrphans []uint64
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

	identity  *Identity
	startedAt time.Time
	fields    []FieldState
	materials []MaterialState
	consent   bool
	consentAt time.Time

	receipt    *Receipt
	printed    bool
	paperOut   bool
	canReprint bool

	ratingLevel  int
	ratingReason string

	lookup    LookupState
	lookupSeq uint64 // Seq of the outstanding LookupProgress
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

// Handle applies one event and returns the new state and the effects kiosk/app
// must execute, in order.
func (m *Machine) Handle(ev Event) (State, []Effect) {
	var fx []Effect
	before := m.s.step
	switch e := ev.(type) {
	case Tick:
		fx = m.tick(e.Now)
	case CardRemoved, ScanDone, ScanFailed, SubmitDone, SubmitFailed, PrintDone, PrintFailed, LookupDone, LookupFailed:
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
		case ScanDone, ScanFailed, SubmitDone, SubmitFailed, PrintDone, PrintFailed, LookupDone, LookupFailed, CardRead, CardRemoved:
		default:
			s.confirm = ConfirmNone
			return nil
		}
	}

	switch e := ev.(type) {
	case Continue, Touch, CardRemoved, ConfirmYes, ConfirmNo:
		return nil
	case SetElderMode:
		s.elder = e.On
		return nil
	case Cancel:
		return m.cancel()
	case Back:
		return m.back()
	case Next:
		return m.next()
	case Start:
		if s.step == StepHome {
			s.step = StepCatalog
			s.err = Message{}
		}
		return nil
	case OpenLookup:
		if s.step == StepHome {
			s.step = StepLookup
			s.err = Message{}
			s.lookup = LookupState{}
		}
		return nil
	case ChooseTheme:
		if s.step == StepCatalog {
			if e.Theme != "" {
				if _, ok := m.cat.Theme(e.Theme); !ok {
					s.err = Message{Key: "err.unknown_theme"}
					return nil
				}
			}
			s.theme, s.query, s.err = e.Theme, "", Message{}
		}
		return nil
	case SearchCatalog:
		if s.step == StepCatalog {
			s.query, s.theme, s.err = strings.TrimSpace(e.Query), "", Message{}
		}
		return nil
	case SelectItem:
		return m.selectItem(e.ItemID)
	case CardRead:
		return m.cardRead(e.Identity)
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
	case UsePromise:
		return m.choose(e.MaterialID, ProvidedPromise)
	case UseScan:
		return m.choose(e.MaterialID, ProvidedScan)
	case SetConsent:
		if s.step == StepReview {
			s.consent = e.Agreed
			if e.Agreed {
				s.consentAt = m.opts.Now()
				s.err = Message{}
			}
		}
		return nil
	case Submit:
		return m.submit()
	case SubmitDone:
		return m.submitDone(e)
	case SubmitFailed:
		return m.submitFailed(e)
	case PrintDone:
		if s.step == StepReceipt || s.step == StepRating {
			s.busy, s.printed, s.paperOut, s.canReprint = false, true, false, false
			if s.err.Key == "err.paper_out" || s.err.Key == "err.print_failed" {
				s.err = Message{}
			}
		}
		return nil
	case PrintFailed:
		if s.step == StepReceipt || s.step == StepRating {
			s.busy, s.canReprint = false, true
			s.paperOut = e.PaperOut
			if e.PaperOut {
				s.err = Message{Key: "err.paper_out"}
			} else {
				s.err = Message{Key: "err.print_failed"}
			}
			return []Effect{Beep{Kind: BeepError}}
		}
		return nil
	case Reprint:
		if (s.step == StepReceipt || s.step == StepRating) && s.receipt != nil && !s.busy {
			s.busy, s.err = true, Message{}
			return []Effect{PrintReceipt{Receipt: *s.receipt}}
		}
		return nil
	case Rate:
		if s.step == StepRating {
			if e.Level < VeryDissatisfied || e.Level > VerySatisfied {
				s.err = Message{Key: "err.rating_choose"}
				return nil
			}
			s.ratingLevel, s.err = e.Level, Message{}
		}
		return nil
	case SetRatingReason:
		if s.step == StepRating {
			s.ratingReason = strings.TrimSpace(e.Reason)
			if s.ratingReason != "" && s.err.Key == "err.rating_reason_required" {
				s.err = Message{}
			}
		}
		return nil
	case SendRating:
		return m.sendRating()
	case SkipRating:
		if s.step == StepRating {
			return m.end(EndDone)
		}
		return nil
	case EnterReceiptNo:
		return m.enterReceiptNo(e.Number)
	case LookupDone:
		if m.lookupOrphan(e.Seq) {
			return nil
		}
		if s.step == StepLookup && s.lookup.Pending && (e.Seq == 0 || e.Seq == s.lookupSeq) {
			s.lookup.Pending, s.busy = false, false
			s.lookup.Done, s.lookup.Offline = true, e.Offline
			s.lookup.Results = slices.Clone(e.Results)
			for i := range s.lookup.Results {
				m.nameLookupResult(&s.lookup.Results[i])
			}
			if len(e.Results) == 0 {
				s.err = Message{Key: "err.lookup_none"}
			}
		}
		return nil
	case LookupFailed:
		if m.lookupOrphan(e.Seq) {
			return nil
		}
		if s.step == StepLookup && s.lookup.Pending && (e.Seq == 0 || e.Seq == s.lookupSeq) {
			s.lookup.Pending, s.busy = false, false
			s.err = Message{Key: "err.lookup_failed"}
		}
		return nil
	}
	return nil
}

// tick advances the idle timer. Home with nothing entered never times out;
// while the outbox is storing a submission the timer is held, since
// wiping then would lose the receipt number.
func (m *Machine) tick(now time.Time) []Effect {
	s := &m.s
	if s.pristine && s.step == StepHome {
		s.lastActivity = now
		return nil
	}
	if s.step == StepSubmitting {
		s.lastActivity = now
		s.countdown = 0
		return nil
	}
	limit := m.opts.IdleTimeout
	if s.elder {
		limit = m.opts.ElderIdleTimeout
	}
	idle := now.Sub(s.lastActivity)
	if idle >= limit {
		return m.end(EndTimeout)
	}
	left := limit - idle
	if left <= m.opts.Warning {
		was := s.countdown
		s.countdown = int(math.Ceil(left.Seconds()))
		if was == 0 {
			return []Effect{Beep{Kind: BeepWarn}}
		}
		return nil
	}
	s.countdown = 0
	return nil
}

// end wipes the session and returns to Home.
func (m *Machine) end(reason EndReason) []Effect {
	var refs []string
	for _, ms := range m.s.materials {
		for _, p := range ms.Pages {
			refs = append(refs, p.Ref)
		}
	}
	m.orphanOutstanding()
	var fx []Effect
	if len(refs) > 0 {
		fx = append(fx, DiscardScans{Refs: refs})
	}
	fx = append(fx, SessionEnded{Reason: reason})
	m.opts.Logger.Info("session ended", "reason", string(reason), "step", m.s.step.String())
	m.s = m.fresh()
	return fx
}

// orphanOutstanding remembers the scans in flight for materials about to be
// dropped.
func (m *Machine) orphanOutstanding() {
	for _, ms := range m.s.materials {
		if ms.Scanning {
			m.orphans = append(m.orphans, ms.scanSeq)
		}
	}
	if m.s.lookup.Pending {
		m.lookupOrphans = append(m.lookupOrphans, m.s.lookupSeq)
		m.s.lookup.Pending = false
	}
}

func (m *Machine) cancel() []Effect {
	s := &m.s
	if s.step == StepSubmitting {
		// The outbox is committing; the answer will come as an event.
		return nil
	}
	if m.hasPersonalData() {
		s.confirm = ConfirmCancel
		return nil
	}
	return m.end(EndCancel)
}

func (m *Machine) back() []Effect {
	s := &m.s
	s.err = Message{}
	switch s.step {
	case StepCatalog:
		s.step, s.theme, s.query = StepHome, "", ""
	case StepGuide:
		s.step, s.item = s.guideFrom, nil
	case StepIdentify:
		s.step = StepGuide
	case StepForm:
		if m.hasPersonalData() {
			s.confirm = ConfirmDiscard
			return nil
		}
		return m.discardApplicant()
	case StepMaterials:
		s.step = StepForm
	case StepReview:
		s.step = StepMaterials
	case StepRating:
		s.step = StepReceipt
	case StepLookup:
		if s.lookup.Pending {
			return nil
		}
		s.lookup = LookupState{}
		s.step = StepHome
	}
	return nil
}

// discardApplicant drops the applicant and everything entered for them and
// returns to Identify.
func (m *Machine) discardApplicant() []Effect {
	s := &m.s
	var refs []string
	for _, ms := range s.materials {
		for _, p := range ms.Pages {
			refs = append(refs, p.Ref)
		}
	}
	m.orphanOutstanding()
	s.identity, s.fields, s.materials, s.consent = nil, nil, nil, false
	s.consentAt = time.Time{}
	s.step = StepIdentify
	if len(refs) > 0 {
		return []Effect{DiscardScans{Refs: refs}}
	}
	return nil
}

func (m *Machine) selectItem(id string) []Effect {
	s := &m.s
	if s.step != StepHome && s.step != StepCatalog {
		return nil
	}
	it, ok := m.cat.Item(id)
	if !ok || it.Status != "active" {
		s.err = Message{Key: "err.unknown_item"}
		return []Effect{Beep{Kind: BeepError}}
	}
	s.guideFrom = s.step
	s.item, s.err = it, Message{}
	s.step = StepGuide
	return nil
}

func canApply(it *catalog.Item) bool {
	return it != nil && it.Kiosk.Supported && it.Kiosk.Mode == "full_apply"
}

func (m *Machine) next() []Effect {
	s := &m.s
	switch s.step {
	case StepGuide:
		if !canApply(s.item) {
			s.err = Message{Key: "err.not_at_kiosk"}
			return []Effect{Beep{Kind: BeepError}}
		}
		s.step, s.err = StepIdentify, Message{}
		if s.identity != nil {
			// Coming forward again after Back: keep what was entered.
			s.step = StepForm
		}
	case StepIdentify:
		if s.identity == nil {
			s.err = Message{Key: "err.identify_first"}
			return []Effect{Beep{Kind: BeepError}}
		}
		s.step = StepForm
	case StepForm:
		if !m.validateFields() {
			s.err = Message{Key: "err.form_incomplete"}
			return []Effect{Beep{Kind: BeepError}}
		}
		s.err = Message{}
		s.step = StepMaterials
	case StepMaterials:
		if missing := m.missingMaterials(); len(missing) > 0 {
			for i := range s.materials {
				if slices.Contains(missing, s.materials[i].Material.ID) {
					s.materials[i].Error = Message{Key: "err.material_missing"}
				}
			}
			s.err = Message{Key: "err.materials_incomplete", Args: []any{len(missing)}}
			return []Effect{Beep{Kind: BeepError}}
		}
		for i := range s.materials {
			if s.materials[i].Scanning {
				s.err = Message{Key: "err.scan_in_progress"}
				return nil
			}
		}
		s.err = Message{}
		s.step = StepReview
	case StepReview:
		return m.submit()
	case StepReceipt:
		s.err = Message{}
		s.step = StepRating
	}
	return nil
}

func (m *Machine) cardRead(id Identity) []Effect {
	s := &m.s
	switch s.step {
	case StepIdentify:
		if msg := m.checkCard(id); !msg.IsZero() {
			s.err = msg
			return []Effect{Beep{Kind: BeepError}}
		}
		id.FromCard = true
		m.identify(id)
		return []Effect{Beep{Kind: BeepOK}}
	case StepHome:
		// On Home a card can only mean "what became of my applications?":
		// it opens the progress lookup by ID card, as choosing 办件查询 and
		// then placing the card would. Back (or the idle timeout) returns
		// Home and drops the lookup, as after any lookup.
		s.step = StepLookup
		s.lookup = LookupState{}
		s.err = Message{}
		return m.lookupByCard(id)
	case StepLookup:
		if s.lookup.Pending {
			return nil
		}
		return m.lookupByCard(id)
	}
	// A card placed elsewhere is ignored: it must not replace the applicant
	// halfway through an application.
	return nil
}

// lookupByCard starts the progress lookup for the card's ID number, or
// says why the card cannot be used.
func (m *Machine) lookupByCard(id Identity) []Effect {
	s := &m.s
	num, err := ValidateIDNumber(id.IDNumber, m.opts.Now())
	if err != nil {
		s.err = Message{Key: "err.card_not_supported"}
		if strings.TrimSpace(id.IDNumber) == "" {
			s.err = Message{Key: "err.card_unreadable"}
		}
		return []Effect{Beep{Kind: BeepError}}
	}
	s.lookup = LookupState{MaskedID: pii.MaskID(num), Pending: true}
	s.busy, s.err = true, Message{}
	return []Effect{Beep{Kind: BeepOK}, LookupProgress{IDNumber: num, Seq: m.nextLookup()}}
}

// checkCard decides whether a card read can identify an applicant. A card
// with no number was misread; one whose number is not an 18-character
// resident number (e.g. a 2017 foreigner's permanent residence card) is a
// document the kiosk cannot handle; an expired card is refused as the
// window would refuse it. A card without a Chinese name is accepted: the
// resident types the name into the form.
func (m *Machine) checkCard(id Identity) Message {
	if strings.TrimSpace(id.IDNumber) == "" {
		return Message{Key: "err.card_unreadable"}
	}
	if _, err := ValidateIDNumber(id.IDNumber, m.opts.Now()); err != nil {
		return Message{Key: "err.card_not_supported"}
	}
	if to, ok := normaliseDate(id.ValidTo); ok {
		y, mo, d := m.opts.Now().Date()
		if to < fmt.Sprintf("%04d-%02d-%02d", y, mo, d) {
			return Message{Key: "err.card_expired"}
		}
	}
	return Message{}
}

func (m *Machine) enterIDNumber(number string) []Effect {
	s := &m.s
	if s.step != StepIdentify {
		return nil
	}
	num, err := ValidateIDNumber(number, m.opts.Now())
	if err != nil {
		s.err = Message{Key: "err.id_invalid"}
		return []Effect{Beep{Kind: BeepError}}
	}
	birth := num[6:10] + "-" + num[10:12] + "-" + num[12:14]
	m.identify(Identity{IDNumber: num, Birth: birth, Gender: genderFromID(num)})
	return nil
}

// identify records the applicant, builds the item's form pre-filled from
// the identity and its materials list, and moves on to Form.
func (m *Machine) identify(id Identity) {
	s := &m.s
	if b, ok := normaliseDate(id.Birth); ok {
		id.Birth = b
	}
	s.identity = &id
	s.startedAt = m.opts.Now()
	s.err = Message{}
	s.fields = make([]FieldState, len(s.item.Form))
	for i, f := range s.item.Form {
		fs := FieldState{Field: f}
		if v := prefillValue(f, id); v != "" {
			fs.Value = v
			// Card data is authoritative, and so is what was derived from a
			// checked ID number (the number, birth date, sex): changing it
			// means identifying again.
			fs.Locked = true
		}
		s.fields[i] = fs
	}
	s.materials = make([]MaterialState, len(s.item.Materials))
	for i, mat := range s.item.Materials {
		ms := MaterialState{Material: mat, How: ProvidedScan}
		if mat.SharedVerification {
			ms.How = ProvidedShared
		}
		s.materials[i] = ms
	}
	s.step = StepForm
}

func prefillValue(f catalog.Field, id Identity) string {
	var v string
	switch f.Prefill {
	case "name":
		v = id.Name
	case "id_number":
		v = id.IDNumber
	case "gender":
		v = id.Gender
	case "birth":
		v = id.Birth
	case "address":
		v = id.Address
	case "nation":
		v = id.Nation
	}
	if f.Kind == "select" && v != "" {
		for _, o := range f.Options {
			if o.Value == v || o.Label == v {
				return o.Value
			}
		}
		return ""
	}
	return v
}

// applicant is the identity completed from the form: a resident who typed
// the ID number types the name (and address) into the fields that a card
// would have filled.
func (m *Machine) applicant() Identity {
	id := *m.s.identity
	for _, f := range m.s.fields {
		v := strings.TrimSpace(f.Value)
		if v == "" {
			continue
		}
		var dst *string
		switch f.Field.Prefill {
		case "name":
			dst = &id.Name
		case "address":
			dst = &id.Address
		case "nation":
			dst = &id.Nation
		case "gender":
			dst = &id.Gender
		case "birth":
			dst = &id.Birth
		}
		if dst != nil && *dst == "" {
			*dst = v
		}
	}
	return id
}

func (m *Machine) setField(name, value string) []Effect {
	s := &m.s
	if s.step != StepForm {
		return nil
	}
	for i := range s.fields {
		f := &s.fields[i]
		if f.Field.Name != name {
			continue
		}
		if f.Locked {
			f.Error = Message{Key: "err.field_locked"}
			return nil
		}
		f.Value = value
		f.Error = Message{}
		if s.err.Key == "err.form_incomplete" && m.allFieldErrorsClear() {
			s.err = Message{}
		}
		return nil
	}
	s.err = Message{Key: "err.unknown_field"}
	return nil
}

func (m *Machine) allFieldErrorsClear() bool {
	for _, f := range m.s.fields {
		if !f.Error.IsZero() {
			return false
		}
	}
	return true
}

// validateFields checks every field and records per-field errors.
func (m *Machine) validateFields() bool {
	ok := true
	for i := range m.s.fields {
		f := &m.s.fields[i]
		v, msg := m.checkField(f.Field, f.Value)
		f.Error = msg
		if msg.IsZero() {
			f.Value = v
		} else {
			ok = false
		}
	}
	return ok
}

// checkField validates one value and returns it normalised.
func (m *Machine) checkField(f catalog.Field, v string) (string, Message) {
	v = strings.TrimSpace(v)
	if v == "" {
		if f.Required {
			return v, Message{Key: "err.field_required"}
		}
		return v, Message{}
	}
	if f.MaxLen > 0 && utf8.RuneCountInString(v) > f.MaxLen {
		return v, Message{Key: "err.field_too_long", Args: []any{f.MaxLen}}
	}
	switch f.Kind {
	case "phone":
		if !validMobile(v) {
			return v, Message{Key: "err.phone_invalid"}
		}
	case "date":
		d, ok := normaliseDate(v)
		if !ok {
			return v, Message{Key: "err.date_invalid"}
		}
		v = d
	case "id_number":
		n, err := ValidateIDNumber(v, m.opts.Now())
		if err != nil {
			return v, Message{Key: "err.id_invalid"}
		}
		v = n
	case "number":
		if strings.Trim(v, "0123456789") != "" {
			return v, Message{Key: "err.number_invalid"}
		}
	case "select":
		found := false
		for _, o := range f.Options {
			if o.Value == v {
				found = true
				break
			}
		}
		if !found {
			return v, Message{Key: "err.option_invalid"}
		}
	}
	return v, Message{}
}

func (m *Machine) material(id string) *MaterialState {
	for i := range m.s.materials {
		if m.s.materials[i].Material.ID == id {
			return &m.s.materials[i]
		}
	}
	return nil
}

// missingMaterials lists the required materials not yet provided.
func (m *Machine) missingMaterials() []string {
	var out []string
	for _, ms := range m.s.materials {
		if ms.Material.IsRequired() && !ms.Satisfied() {
			out = append(out, ms.Material.ID)
		}
	}
	return out
}

func (m *Machine) scan(e Scan) []Effect {
	s := &m.s
	if s.step != StepMaterials {
		return nil
	}
	ms := m.material(e.MaterialID)
	if ms == nil {
		s.err = Message{Key: "err.unknown_material"}
		return nil
	}
	if ms.Scanning {
		return nil
	}
	page := len(ms.Pages)
	if e.Retake {
		if e.Page < 0 || e.Page >= len(ms.Pages) {
			ms.Error = Message{Key: "err.no_such_page"}
			return nil
		}
		page = e.Page
	} else if len(ms.Pages) >= ms.Material.PageLimit() {
		ms.Error = Message{Key: "err.too_many_pages", Args: []any{ms.Material.PageLimit()}}
		return []Effect{Beep{Kind: BeepError}}
	}
	ms.How = ProvidedScan
	ms.Scanning = true
	m.scanSeq++
	ms.scanPage, ms.retake, ms.scanSeq = page, e.Retake, m.scanSeq
	ms.Error = Message{}
	s.err = Message{}
	return []Effect{ScanPage{MaterialID: ms.Material.ID, Page: page, Seq: m.scanSeq}}
}

// orphan reports whether a scan result answers a ScanPage of an ended
// session, and forgets that scan. Results echoing Seq are matched exactly;
// for results without it (Seq 0) the oldest orphan is assumed, since the
// single scanner answers in order.
func (m *Machine) orphan(seq uint64) bool {
	if len(m.orphans) == 0 {
		return false
	}
	if seq == 0 {
		m.orphans = m.orphans[1:]
		return true
	}
	if i := slices.Index(m.orphans, seq); i >= 0 {
		m.orphans = slices.Delete(m.orphans, i, i+1)
		return true
	}
	return false
}

func (m *Machine) scanDone(e ScanDone) []Effect {
	s := &m.s
	discard := []Effect{DiscardScans{Refs: []string{e.Ref}}}
	if m.orphan(e.Seq) || s.step != StepMaterials {
		return discard
	}
	ms := m.material(e.MaterialID)
	// A result that does not answer the outstanding ScanPage (late, or for
	// another page) must not slip into the application.
	if ms == nil || !ms.Scanning || e.Page != ms.scanPage || e.Page > len(ms.Pages) || (e.Seq != 0 && e.Seq != ms.scanSeq) {
		return discard
	}
	ms.Scanning = false
	if e.BlankScore >= m.opts.BlankThreshold {
		ms.Error = Message{Key: "err.page_blank"}
		return append(discard, Beep{Kind: BeepError})
	}
	if e.BlurScore >= m.opts.BlurThreshold {
		ms.Error = Message{Key: "err.page_blurred"}
		return append(discard, Beep{Kind: BeepError})
	}
	p := Page{Ref: e.Ref, BlankScore: e.BlankScore, BlurScore: e.BlurScore}
	ms.Error = Message{}
	if ms.retake && e.Page < len(ms.Pages) {
		old := ms.Pages[e.Page].Ref
		ms.Pages[e.Page] = p
		return []Effect{DiscardScans{Refs: []string{old}}, Beep{Kind: BeepOK}}
	}
	ms.Pages = append(ms.Pages, p)
	if s.err.Key == "err.materials_incomplete" && len(m.missingMaterials()) == 0 {
		s.err = Message{}
	}
	return []Effect{Beep{Kind: BeepOK}}
}

func (m *Machine) scanFailed(e ScanFailed) []Effect {
	if m.orphan(e.Seq) || m.s.step != StepMaterials {
		return nil
	}
	ms := m.material(e.MaterialID)
	if ms == nil || !ms.Scanning || (e.Seq != 0 && e.Seq != ms.scanSeq) {
		return nil
	}
	ms.Scanning = false
	if e.NoPaper {
		ms.Error = Message{Key: "err.scan_no_paper"}
	} else {
		ms.Error = Message{Key: "err.scan_failed"}
	}
	return []Effect{Beep{Kind: BeepError}}
}

func (m *Machine) removePage(e RemovePage) []Effect {
	if m.s.step != StepMaterials {
		return nil
	}
	ms := m.material(e.MaterialID)
	if ms == nil || ms.Scanning || e.Page < 0 || e.Page >= len(ms.Pages) {
		return nil
	}
	ref := ms.Pages[e.Page].Ref
	ms.Pages = slices.Delete(ms.Pages, e.Page, e.Page+1)
	return []Effect{DiscardScans{Refs: []string{ref}}}
}

func (m *Machine) choose(id string, how Provision) []Effect {
	s := &m.s
	if s.step != StepMaterials {
		return nil
	}
	ms := m.material(id)
	if ms == nil {
		s.err = Message{Key: "err.unknown_material"}
		return nil
	}
	if ms.Scanning {
		return nil
	}
	switch how {
	case ProvidedECert:
		if !ms.Material.ECertAllowed() {
			ms.Error = Message{Key: "err.ecert_not_allowed"}
			return []Effect{Beep{Kind: BeepError}}
		}
	case ProvidedPromise:
		if !ms.Material.PromiseAllowed {
			ms.Error = Message{Key: "err.promise_not_allowed"}
			return []Effect{Beep{Kind: BeepError}}
		}
	}
	var fx []Effect
	if how != ProvidedScan && len(ms.Pages) > 0 {
		// Pages scanned before choosing another way are not needed any more.
		refs := make([]string, len(ms.Pages))
		for i, p := range ms.Pages {
			refs[i] = p.Ref
		}
		ms.Pages = nil
		fx = append(fx, DiscardScans{Refs: refs})
	}
	ms.How = how
	ms.Error = Message{}
	if s.err.Key == "err.materials_incomplete" && len(m.missingMaterials()) == 0 {
		s.err = Message{}
	}
	return fx
}

// submit checks everything once more: the review screen is the last gate
// before data leaves the session.
func (m *Machine) submit() []Effect {
	s := &m.s
	if s.step != StepReview || s.busy {
		return nil
	}
	if !s.consent {
		s.err = Message{Key: "err.consent_required"}
		return []Effect{Beep{Kind: BeepError}}
	}
	if !m.validateFields() {
		s.step = StepForm
		s.err = Message{Key: "err.form_incomplete"}
		return []Effect{Beep{Kind: BeepError}}
	}
	if len(m.missingMaterials()) > 0 {
		s.step = StepMaterials
		s.err = Message{Key: "err.materials_incomplete", Args: []any{len(m.missingMaterials())}}
		return []Effect{Beep{Kind: BeepError}}
	}
	app := Application{
		ItemID:      s.item.ID,
		ItemCode:    s.item.Codes.Task,
		ItemVersion: s.item.Version,
		ItemName:    s.item.Name,
		Applicant:   m.applicant(),
		ConsentAt:   s.consentAt,
		StartedAt:   s.startedAt,
	}
	for _, f := range s.fields {
		app.Fields = append(app.Fields, FieldValue{Name: f.Field.Name, Value: f.Value})
	}
	for _, ms := range s.materials {
		if !ms.Satisfied() {
			continue // optional material left out
		}
		sub := MaterialSubmission{MaterialID: ms.Material.ID, Name: ms.Material.Name, How: ms.How}
		for _, p := range ms.Pages {
			sub.PageRefs = append(sub.PageRefs, p.Ref)
		}
		app.Materials = append(app.Materials, sub)
	}
	s.step, s.busy, s.err = StepSubmitting, true, Message{}
	return []Effect{SubmitApplication{Application: app}}
}

func (m *Machine) submitDone(e SubmitDone) []Effect {
	s := &m.s
	if s.step != StepSubmitting {
		return nil
	}
	r := m.buildReceipt(e)
	s.receipt = &r
	s.step, s.busy = StepReceipt, true
	// The timer was held while the outbox worked; the resident gets the
	// full time to read the receipt.
	s.lastActivity, s.countdown = m.opts.Now(), 0
	s.err = Message{}
	m.opts.Logger.Info("application stored", "item", s.item.ID)
	return []Effect{Beep{Kind: BeepOK}, PrintReceipt{Receipt: r}}
}

func (m *Machine) submitFailed(e SubmitFailed) []Effect {
	s := &m.s
	if s.step != StepSubmitting {
		return nil
	}
	s.step, s.busy = StepReview, false
	if e.DiskFull {
		s.err = Message{Key: "err.submit_disk_full"}
	} else {
		s.err = Message{Key: "err.submit_failed"}
	}
	return []Effect{Beep{Kind: BeepError}}
}

// nameLookupResult completes a lookup result's item names from the
// catalog, so an English-mode resident reads the item's English name. The
// records and the platform name items by ID, but a result may carry only
// the Chinese name, which identifies the item as well.
func (m *Machine) nameLookupResult(r *LookupResult) {
	if m.cat == nil || r.ItemNameEN != "" {
		return
	}
	it, ok := m.cat.Item(r.ItemID)
	if !ok && r.ItemName != "" {
		for i := range m.cat.Items {
			if m.cat.Items[i].Name == r.ItemName {
				it, ok = &m.cat.Items[i], true
				break
			}
		}
	}
	if !ok {
		return
	}
	if r.ItemName == "" {
		r.ItemName = it.Name
	}
	r.ItemNameEN = it.NameEN
}

func (m *Machine) buildReceipt(e SubmitDone) Receipt {
	s := &m.s
	it := s.item
	at := e.AcceptedAt
	if at.IsZero() {
		at = m.opts.Now()
	}
	r := Receipt{
		Number:     e.ReceiptNo,
		QR:         m.opts.ReceiptQR(e.ReceiptNo),
		ItemName:   it.Name,
		ItemCode:   it.Codes.Task,
		Agency:     it.Agency.Name,
		MaskedName: pii.MaskName(m.applicant().Name),
		MaskedID:   pii.MaskID(s.identity.IDNumber),
		AcceptedAt: at,
		Instant:    it.CaseKind == "instant",
	}
	if len(it.Places) > 0 {
		r.Place, r.Hours = it.Places[0].Address+" "+it.Places[0].Window, it.Places[0].Hours
		r.Place = strings.TrimSpace(r.Place)
	}
	if len(it.Consult) > 0 {
		r.Consult = it.Consult[0].Value
	}
	for _, ms := range s.materials {
		if ms.Satisfied() {
			r.Materials = append(r.Materials, ReceiptMaterial{Name: ms.Material.Name, How: ms.How, Pages: len(ms.Pages)})
		}
	}
	if m.opts.Calendar != nil {
		due, err := m.opts.Calendar.DueDate(at, it.TimeLimit.Promised)
		if err == nil {
			r.PromisedDate = due
		} else {
			m.opts.Logger.Warn("no promised date on receipt", "item", it.ID, "err", err)
		}
	}
	return r
}

func (m *Machine) sendRating() []Effect {
	s := &m.s
	if s.step != StepRating {
		return nil
	}
	if s.ratingLevel == 0 {
		s.err = Message{Key: "err.rating_choose"}
		return []Effect{Beep{Kind: BeepError}}
	}
	if s.ratingLevel <= Dissatisfied && s.ratingReason == "" {
		s.err = Message{Key: "err.rating_reason_required"}
		return []Effect{Beep{Kind: BeepError}}
	}
	r := Rating{Level: s.ratingLevel, Reason: s.ratingReason, At: m.opts.Now(), ItemCode: s.item.Codes.Task}
	if s.receipt != nil {
		r.ReceiptNo = s.receipt.Number
	}
	return append([]Effect{RecordRating{Rating: r}}, m.end(EndDone)...)
}

func (m *Machine) enterReceiptNo(no string) []Effect {
	s := &m.s
	if s.step != StepLookup || s.lookup.Pending {
		return nil
	}
	no = strings.ToUpper(strings.TrimSpace(no))
	if !plausibleReceiptNo(no) {
		s.err = Message{Key: "err.receipt_no_invalid"}
		return []Effect{Beep{Kind: BeepError}}
	}
	s.lookup = LookupState{ReceiptNo: no, Pending: true}
	s.busy, s.err = true, Message{}
	return []Effect{LookupProgress{ReceiptNo: no, Seq: m.nextLookup()}}
}

// nextLookup numbers a LookupProgress effect.
func (m *Machine) nextLookup() uint64 {
	m.lookupSeq++
	m.s.lookupSeq = m.lookupSeq
	return m.lookupSeq
}

// lookupOrphan reports whether a lookup answer belongs to a lookup of an
// ended session (which would show one resident's applications to the
// next), and forgets it. As with scans, answers without Seq are matched
// in order.
func (m *Machine) lookupOrphan(seq uint64) bool {
	if len(m.lookupOrphans) == 0 {
		return false
	}
	if seq == 0 {
		m.lookupOrphans = m.lookupOrphans[1:]
		return true
	}
	if i := slices.Index(m.lookupOrphans, seq); i >= 0 {
		m.lookupOrphans = slices.Delete(m.lookupOrphans, i, i+1)
		return true
	}
	return false
}

// plausibleReceiptNo accepts the local {kiosk}-{yyyymmdd}-{seq} numbers and
// platform numbers: 6 to 64 letters, digits and hyphens.
func plausibleReceiptNo(s string) bool {
	if len(s) < 6 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}

func (m *Machine) hasPersonalData() bool {
	s := &m.s
	if s.identity != nil || s.receipt != nil || s.lookup.ReceiptNo != "" || s.lookup.MaskedID != "" || len(s.lookup.Results) > 0 {
		return true
	}
	for _, f := range s.fields {
		if f.Value != "" {
			return true
		}
	}
	for _, ms := range s.materials {
		if len(ms.Pages) > 0 {
			return true
		}
	}
	return false
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
		Receipt:           s.receipt,
		Printed:           s.printed,
		PaperOut:          s.paperOut,
		CanReprint:        s.canReprint,
		RatingLevel:       s.ratingLevel,
		RatingReason:      s.ratingReason,
		RatingNeedsReason: s.ratingLevel != 0 && s.ratingLevel <= Dissatisfied,
		Lookup:            s.lookup,
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
	if s.identity != nil {
		st.Applicant = &Applicant{
			MaskedName: pii.MaskName(m.applicant().Name),
			MaskedID:   pii.MaskID(s.identity.IDNumber),
			FromCard:   s.identity.FromCard,
		}
	}
	return st
}

// String describes the machine without personal data, for debugging.
func (m *Machine) String() string {
	return fmt.Sprintf("flow.Machine{step=%s personal=%t}", m.s.step, m.hasPersonalData())
}
