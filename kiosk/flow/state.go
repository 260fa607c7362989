package flow

import (
	"slices"

	"onedoor/kiosk/catalog"
)

// Step is a screen of the resident session.
type Step int

// Steps of a session. The application path is Guide … Rating; Lookup is the
// progress lookup reached from Home.
const (
	StepHome Step = iota
	StepCatalog
	StepGuide
	StepIdentify
	StepForm
	StepMaterials
	StepReview
	StepSubmitting
	StepReceipt
	StepRating
	StepLookup
	// StepEligibility follows Identify when an eligibility rule fails (the
	// resident is told which and where to go) or needs the resident's
	// confirmation; with every rule met the flow goes straight to Form.
	StepEligibility
	// StepThanks ends an application: 请取走身份证和回执 until the card
	// reader reports the card removed, then Home. The session is already
	// wiped when it shows.
	StepThanks
)

var stepNames = [...]string{"home", "catalog", "guide", "identify", "form", "materials", "review", "submitting", "receipt", "rating", "lookup", "eligibility", "thanks"}

// String is the step's stable name, also the suffix of its i18n title key
// ("step.<name>").
func (s Step) String() string {
	if int(s) >= 0 && int(s) < len(stepNames) {
		return stepNames[s]
	}
	return "unknown"
}

// TitleKey is the i18n key of the step's title.
func (s Step) TitleKey() string { return "step." + s.String() }

// Progress is "step N of M"; N is 0 outside the application path.
type Progress struct{ N, M int }

// progressSteps is M: Guide, Identify, Form, Materials, Review (and
// Submitting), Receipt, Rating.
const progressSteps = 7

func progressOf(s Step) Progress {
	switch s {
	case StepGuide, StepIdentify, StepForm, StepMaterials, StepReview:
		return Progress{N: int(s-StepGuide) + 1, M: progressSteps}
	case StepSubmitting:
		return Progress{N: int(StepReview-StepGuide) + 1, M: progressSteps}
	case StepEligibility:
		return Progress{N: int(StepIdentify-StepGuide) + 1, M: progressSteps}
	case StepReceipt, StepRating:
		return Progress{N: int(s - StepGuide), M: progressSteps}
	}
	return Progress{}
}

// Message is an i18n key with its format arguments. Keys for errors say what
// to do next in plain words.
type Message struct {
	Key  string
	Args []any
}

// IsZero reports whether there is no message.
func (m Message) IsZero() bool { return m.Key == "" }

// Confirm is a pending confirmation the UI shows inline (no pop-ups in
// elder mode): ConfirmYes performs it, ConfirmNo dismisses it.
type Confirm string

// Pending confirmations.
const (
	ConfirmNone    Confirm = ""
	ConfirmCancel  Confirm = "cancel"  // end the session and wipe what was entered
	ConfirmDiscard Confirm = "discard" // go back to Identify, discarding the applicant
)

// Identity is a person as read from the ID card, or a 代办 principal as
// the agent typed them (FromCard false).
type Identity struct {
	Name      string
	Gender    string // 男 | 女
	Nation    string
	Birth     Date
	Address   string // on the card: the registered (户籍) address
	IDNumber  string
	Authority string
	ValidFrom Date
	ValidTo   Date // zero when LongTerm
	LongTerm  bool // valid 长期
	FromCard  bool
}

// Applicant is what the UI may show about the identified applicant, and
// on the 代办 path about the agent.
type Applicant struct {
	MaskedName string
	MaskedID   string
	FromCard   bool
	// ByAgent marks a 代办 application; Agent* are the agent, whose card
	// was read.
	ByAgent         bool
	AgentMaskedName string
	AgentMaskedID   string
}

// FieldState is one form field with its current value and error.
type FieldState struct {
	Field  catalog.Field
	Value  string
	Locked bool // filled from the ID card; not editable
	Error  Message
}

// MaterialState is one material of the item with what has been provided.
type MaterialState struct {
	Material catalog.Material
	How      Provision
	Pages    []Page
	Scanning bool // a ScanPage effect is outstanding
	// PromiseAccepted: the resident read and accepted the promise text
	// (How is ProvidedPromise).
	PromiseAccepted bool
	// Cert is the e-certificate used (How is ProvidedECert): one the
	// platform returned for this applicant in this session.
	Cert  *ECertOffer
	Error Message

	scanPage int    // page index of the outstanding ScanPage
	scanSeq  uint64 // its sequence number
	retake   bool   // the outstanding scan replaces page scanPage
}

// Satisfied reports whether the material counts as provided.
func (m MaterialState) Satisfied() bool {
	switch m.How {
	case ProvidedECert:
		return m.Cert != nil && m.Cert.Number != ""
	case ProvidedShared:
		return true
	case ProvidedPromise:
		return m.PromiseAccepted
	case ProvidedScan:
		return len(m.Pages) > 0
	}
	return false
}

// Page is one accepted scanned page.
type Page struct {
	Ref        string
	BlankScore float64
	BlurScore  float64
}

// LookupState is the progress lookup screen.
type LookupState struct {
	ReceiptNo string // as typed
	MaskedID  string // when looked up by ID card
	Pending   bool
	Done      bool
	Offline   bool
	Results   []LookupResult
}

// State is everything the UI must draw. It is a snapshot: slices and
// pointers are shared with the machine, so the UI must treat it as
// read-only.
type State struct {
	Step      Step
	Progress  Progress
	ElderMode bool
	// Countdown is the number of seconds before the idle timeout; it is
	// non-zero only in the warning window (the last 15 s by default), when
	// the UI shows it with a large "continue" button.
	Countdown int
	Confirm   Confirm
	// Error is the latest problem for the current screen, "" when none.
	Error Message
	// Busy is true while an effect's answer is awaited (submit, print,
	// lookup); the UI disables the buttons that would start another.
	Busy bool

	// Home shortcuts and the catalog list.
	Popular []*catalog.Item
	Themes  []catalog.Theme
	Theme   string
	Query   string
	Items   []*catalog.Item

	// The chosen item; CanApply is false for guide-only items.
	Item     *catalog.Item
	CanApply bool

	Applicant *Applicant
	// AgentMode is the 代办 path on Identify; AgentRead says the agent's
	// card was read and the principal is to be typed. AgentAllowed says
	// the item offers the path.
	AgentMode    bool
	AgentRead    bool
	AgentAllowed bool
	// Eligibility is the item's rules as evaluated for the applicant;
	// Ineligible is true when one failed.
	Eligibility []RuleResult
	Ineligible  bool
	Fields      []FieldState
	Materials   []MaterialState
	Consent     bool
	// NoticeShown says the whole personal-information notice has been on
	// screen (NoticeShown event); consent is refused before.
	NoticeShown bool
	// Printer is what the receipt printer last reported (PrinterStatus);
	// the UI warns before an application starts when it cannot print.
	Printer PrinterState

	Receipt    *Receipt
	Printed    bool
	PaperOut   bool
	CanReprint bool

	RatingLevel       int
	RatingReason      string
	RatingNeedsReason bool
	Lookup            LookupState
	HasPersonalData   bool
	// ECerts is the session's e-certificate query and what the platform
	// returned for the applicant (issue 13).
	ECerts ECertLookup
}

// RatingLevel is one level of the rating scale with its i18n key.
type RatingLevel struct {
	Level int
	Key   string
}

// RatingLevels lists the five levels from best to worst, in the order the
// rating screen shows them.
func RatingLevels() []RatingLevel {
	return []RatingLevel{
		{VerySatisfied, "rating.level.5"},
		{Satisfied, "rating.level.4"},
		{Neutral, "rating.level.3"},
		{Dissatisfied, "rating.level.2"},
		{VeryDissatisfied, "rating.level.1"},
	}
}

// RatingReasons are the preset reasons offered for a 差评, as i18n keys; a
// reason may also be free text.
func RatingReasons() []string {
	return []string{
		"rating.reason.slow",
		"rating.reason.unclear",
		"rating.reason.materials",
		"rating.reason.device",
		"rating.reason.attitude",
		"rating.reason.other",
	}
}

// Status is where an application stands, as a progress lookup shows it.
type Status string

// Lookup statuses.
const (
	StatusReceived  Status = "received"  // stored on this kiosk
	StatusSent      Status = "sent"      // the platform has it
	StatusAccepted  Status = "accepted"  // 受理
	StatusInReview  Status = "in_review" // 审核中
	StatusNeedMore  Status = "need_more" // 补正: the resident must add something
	StatusApproved  Status = "approved"
	StatusRejected  Status = "rejected"
	StatusCompleted Status = "completed"
)

// Statuses lists every lookup status.
var Statuses = []Status{StatusReceived, StatusSent, StatusAccepted, StatusInReview, StatusNeedMore, StatusApproved, StatusRejected, StatusCompleted}

// StatusKey is the i18n key of a lookup status.
func StatusKey(status Status) string {
	if slices.Contains(Statuses, status) {
		return "status." + string(status)
	}
	return "status.unknown"
}

// PrinterState is the receipt printer's last report.
type PrinterState struct {
	Known     bool // a report has come
	Ready     bool
	PaperOut  bool
	CoverOpen bool
}

// CannotPrint reports whether the printer said it cannot print.
func (p PrinterState) CannotPrint() bool { return p.Known && !p.Ready }

// ProvisionKey is the i18n key naming how a material was provided.
func ProvisionKey(p Provision) string {
	if p == ProvidedNone {
		return "material.how.none"
	}
	return "material.how." + string(p)
}
