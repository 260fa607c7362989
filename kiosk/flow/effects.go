package flow

import "time"

// Effect is work the flow asks kiosk/app to do. Effects are plain data; the
// app executes them (devices, outbox, platform) and feeds the outcome back
// as an event, e.g. ScanPage → ScanDone/ScanFailed.
type Effect interface{ isEffect() }

// ScanPage asks the scanner for one page; answer with ScanDone or ScanFailed
// carrying the same MaterialID, Page and Seq. Every ScanPage must be
// answered, even after the session ended: the flow discards results of
// ended sessions so that one resident's page never reaches the next
// resident's application.
type ScanPage struct {
	MaterialID string
	Page       int
	Seq        uint64 // unique per machine; echo it in the answer
}

// DiscardScans asks the app to delete scanned images that the session no
// longer needs: rejected or removed pages, and at the end of a session every
// page, including submitted ones — by then the outbox holds its own durable
// copies (SubmitDone comes only after they are committed).
type DiscardScans struct{ Refs []string }

// SubmitApplication asks the app to store the application durably in the
// outbox; answer with SubmitDone or SubmitFailed.
type SubmitApplication struct{ Application Application }

// PrintReceipt asks for the receipt to be printed; answer with PrintDone or
// PrintFailed.
type PrintReceipt struct{ Receipt Receipt }

// LookupProgress asks the local cache and, when online, the platform for the
// status of applications, by receipt number or by ID number (exactly one is
// set); answer with LookupDone or LookupFailed carrying the same Seq. Every
// lookup must be answered, even after the session ended: the flow drops
// answers for ended sessions so that one resident's applications are never
// shown to the next.
type LookupProgress struct {
	ReceiptNo string
	// LookupCode goes with ReceiptNo: the code printed on the receipt, as
	// the proof the platform asks for (api.HeaderLookupCode). IDNumber was
	// read from the card, and is the proof itself (api.HolderProof).
	LookupCode string
	IDNumber   string
	Seq        uint64 // unique per machine; echo it in the answer
}

// RecordRating asks for the rating to be queued for the platform.
type RecordRating struct{ Rating Rating }

// Beep asks for a short sound: BeepError on rejected input, BeepOK on a
// successful step, BeepWarn when the idle countdown starts.
type Beep struct{ Kind BeepKind }

// BeepKind selects the sound of a Beep.
type BeepKind string

// Beep kinds.
const (
	BeepOK    BeepKind = "ok"
	BeepError BeepKind = "error"
	BeepWarn  BeepKind = "warn"
)

// SessionEnded tells the app the resident session is over and every personal
// datum has been wiped from the flow; the app resets the language and drops
// anything it cached for the session (card photo, previews).
type SessionEnded struct{ Reason EndReason }

// EndReason says why a session ended; it carries no personal data and may
// be logged.
type EndReason string

// End reasons.
const (
	EndTimeout EndReason = "timeout"
	EndCancel  EndReason = "cancel"
	EndDone    EndReason = "done"
)

func (ScanPage) isEffect()          {}
func (DiscardScans) isEffect()      {}
func (SubmitApplication) isEffect() {}
func (PrintReceipt) isEffect()      {}
func (LookupProgress) isEffect()    {}
func (RecordRating) isEffect()      {}
func (Beep) isEffect()              {}
func (SessionEnded) isEffect()      {}

// Application is what SubmitApplication hands to the outbox.
type Application struct {
	ItemID      string
	ItemCode    string // 实施编码
	ItemVersion int
	ItemName    string
	Applicant   Identity
	// Agent is the 代办 agent, whose card was read; nil when the
	// applicant applies in person.
	Agent     *Identity
	Fields    []FieldValue
	Materials []MaterialSubmission
	ConsentAt time.Time
	StartedAt time.Time
}

// FieldValue is one filled form field.
type FieldValue struct{ Name, Value string }

// MaterialSubmission says how one material was provided.
type MaterialSubmission struct {
	MaterialID string
	Name       string
	How        Provision
	PageRefs   []string // scanned pages in order, for ProvidedScan
	// PromiseText is the 告知承诺 accepted, in full, for ProvidedPromise.
	PromiseText string
	// CertNumber names the e-certificate used, for ProvidedECert: one the
	// platform returned for this applicant in this session.
	CertNumber string
}

// Provision is how a material is provided.
type Provision string

// Ways to provide a material.
const (
	ProvidedNone    Provision = ""
	ProvidedScan    Provision = "scan"
	ProvidedECert   Provision = "ecert"   // fetched by the platform as an e-licence
	ProvidedPromise Provision = "promise" // written promise (告知承诺)
	ProvidedShared  Provision = "shared"  // verified by data sharing (部门共享核验)
)

// Receipt is what the receipt shows and prints. Personal data in it is
// already masked.
type Receipt struct {
	Number     string
	LookupCode string // printed under the number (XXXXX-XXXXX)
	QR         string // content of the QR code: lookup URL or the number
	ItemName   string
	ItemNameEN string
	ItemCode   string
	Agency     string
	MaskedName string
	MaskedID   string
	// AgentMaskedName is set on a 代办 application.
	AgentMaskedName string
	AgentMaskedID   string
	Materials       []ReceiptMaterial
	AcceptedAt      time.Time
	PromisedDate    time.Time // zero when the calendar does not cover it
	Instant         bool      // 即办件
	Place           string
	Hours           string
	Consult         string
}

// ReceiptMaterial is one line of the material list on the receipt.
type ReceiptMaterial struct {
	Name   string
	NameEN string
	How    Provision
	Pages  int
	// Promise is the full 告知承诺 text for ProvidedPromise, printed on the
	// receipt.
	Promise   string
	PromiseEN string
	// CertMasked and CertAgency name the e-certificate used, for
	// ProvidedECert (masked number, issuing agency).
	CertMasked string
	CertAgency string
}

// Rating is one 好差评 evaluation.
type Rating struct {
	ReceiptNo string
	ItemCode  string
	Level     int
	Reason    string
	At        time.Time
}

// Rating levels (GB/T 39734 five-level scale); the two lowest are 差评 and
// need a reason.
const (
	VeryDissatisfied = 1 // 非常不满意
	Dissatisfied     = 2 // 不满意
	Neutral          = 3 // 基本满意
	Satisfied        = 4 // 满意
	VerySatisfied    = 5 // 非常满意
)

// LookupResult is one application found by a progress lookup.
type LookupResult struct {
	ReceiptNo string
	// ItemID is the catalog item, when kiosk/app knows it; ItemName is
	// its Chinese name as recorded.
	ItemID   string
	ItemName string
	// ItemNameEN is filled in by the machine from the catalog (by ItemID,
	// else by the Chinese name), for English mode.
	ItemNameEN string
	Status     Status
	Note       string // decision or what to do next, from the back office
	// NoteKey is an i18n key the kiosk adds itself, e.g. why the
	// platform refused the submission (lookup.ecert_invalid).
	NoteKey   string
	UpdatedAt time.Time
	// CertUses is "who used my certificates" (issue 13): when, which
	// kiosk, which item, which certificate (masked), newest first.
	CertUses []CertUse
}

// CertUse is one access to one of the applicant's e-certificates.
type CertUse struct {
	At           time.Time
	Action       string // query, use or issue
	KioskID      string
	ItemID       string
	TypeName     string
	NumberMasked string
}
