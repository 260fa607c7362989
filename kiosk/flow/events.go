package flow

import "time"

// Event is something that happened: a resident's tap, a device report or
// the result of an Effect. Events are plain data; the UI and kiosk/app
// create them and pass them to Machine.Handle.
type Event interface{ isEvent() }

// Resident navigation.
type (
	// Start leaves Home for the catalog ("我要办事").
	Start struct{}
	// OpenLookup leaves Home for the progress lookup ("办件查询").
	OpenLookup struct{}
	// ChooseTheme filters the catalog by a theme id; "" shows every item.
	ChooseTheme struct{ Theme string }
	// SearchCatalog filters the catalog by words typed on the keypad.
	SearchCatalog struct{ Query string }
	// SelectItem opens an item's guide, from the catalog or from a Home shortcut.
	SelectItem struct{ ItemID string }
	// Next is the "下一步" button: Guide→Identify, Form→Materials,
	// Materials→Review, Receipt→Rating. It validates the current step first.
	Next struct{}
	// Back goes one step back. Leaving Form for Identify discards the
	// applicant, so it asks for confirmation first.
	Back struct{}
	// Cancel ends the session; once personal data is entered it asks for
	// confirmation first (State.Confirm).
	Cancel struct{}
	// ConfirmYes accepts the pending confirmation (State.Confirm).
	ConfirmYes struct{}
	// ConfirmNo dismisses the pending confirmation and keeps the session.
	ConfirmNo struct{}
	// Continue is the large "继续办理" button of the idle countdown.
	Continue struct{}
	// Touch reports any other resident activity the flow does not model
	// (keypad presses, paging, language switch) so the idle timer restarts.
	Touch struct{}
	// SetElderMode switches elder mode (长辈模式), which also lengthens the
	// idle timeout.
	SetElderMode struct{ On bool }
)

// Identify step.
type (
	// CardRead reports an ID card on the reader. In Identify it
	// identifies the applicant (or the 代办 agent); in Lookup it looks up
	// their applications. Problem is what the reader found wrong with the
	// card; the identity may be partial then.
	CardRead struct {
		Identity Identity
		Problem  CardProblem
	}
	// SetAgentMode switches Identify to 代办 (applying for someone else)
	// and back, where the item allows it.
	SetAgentMode struct{ On bool }
	// EnterPrincipal names the person a card-verified agent applies for.
	EnterPrincipal struct{ Name, IDNumber string }
	// ConfirmCondition answers a condition the kiosk cannot check (the
	// Index-th of State.Eligibility).
	ConfirmCondition struct {
		Index int
		Yes   bool
	}
	// CardRemoved reports the card left the reader; informational.
	CardRemoved struct{}
	// EnterIDNumber is an ID number typed in Identify. It is refused: a
	// typed number may look up progress but never start an application.
	EnterIDNumber struct{ Number string }
)

// Form step.
type (
	// SetField sets a form field's value as typed or chosen.
	SetField struct{ Name, Value string }
)

// Materials step.
type (
	// Scan asks for one more page of a material (or, with Retake, to
	// replace page Page).
	Scan struct {
		MaterialID string
		Retake     bool
		Page       int // 0-based page to replace when Retake
	}
	// ScanDone is the result of a ScanPage effect. Ref identifies the image
	// for kiosk/app (a temp file or blob id); BlankScore and BlurScore are
	// in [0,1], higher meaning blanker or blurrier.
	ScanDone struct {
		MaterialID string
		Page       int
		Seq        uint64 // ScanPage.Seq; 0 from apps that do not echo it
		Ref        string
		BlankScore float64
		BlurScore  float64
	}
	// ScanFailed is a ScanPage effect that produced no image.
	ScanFailed struct {
		MaterialID string
		Seq        uint64 // ScanPage.Seq; 0 from apps that do not echo it
		NoPaper    bool   // nothing on the glass / in the feeder
		Reason     string
	}
	// RemovePage deletes a scanned page.
	RemovePage struct {
		MaterialID string
		Page       int
	}
	// UseECert lets the platform fetch the material as an electronic
	// licence (免提交), where the material allows it.
	UseECert struct{ MaterialID string }
	// UsePromise replaces the material with a written promise (告知承诺),
	// where the material allows it.
	UsePromise struct{ MaterialID string }
	// AcceptPromise accepts the promise text of a material the resident
	// chose to replace with a promise; until then it is not provided.
	AcceptPromise struct{ MaterialID string }
	// UseScan goes back to scanning the material.
	UseScan struct{ MaterialID string }
)

// Review, submit, receipt.
type (
	// NoticeShown: the last page of the personal-information notice has
	// been on screen.
	NoticeShown struct{}
	// PrinterStatus is the receipt printer's state, sent by kiosk/app at
	// start and whenever it changes.
	PrinterStatus struct{ Ready, PaperOut, CoverOpen bool }
	// SetConsent ticks or unticks the personal-information consent.
	SetConsent struct{ Agreed bool }
	// Submit asks for the application to be stored (SubmitApplication effect).
	Submit struct{}
	// SubmitDone: the outbox stored the application durably.
	SubmitDone struct {
		ReceiptNo  string
		AcceptedAt time.Time
		// LookupCode is printed on the receipt beside the number; the
		// outbox made it (outbox.Receipt.LookupCode).
		LookupCode string
	}
	// SubmitFailed: the outbox could not store it; nothing was kept.
	SubmitFailed struct {
		DiskFull bool
		Reason   string
	}
	// PrintDone: the receipt printed.
	PrintDone struct{}
	// PrintFailed: the receipt did not print.
	PrintFailed struct {
		PaperOut bool
		Reason   string
	}
	// Reprint asks for the receipt again, e.g. after paper was refilled.
	Reprint struct{}
)

// Rating (好差评).
type (
	// Rate picks one of the five levels (VeryDissatisfied … VerySatisfied).
	Rate struct{ Level int }
	// SetRatingReason sets the reason: one of RatingReasons or free text.
	SetRatingReason struct{ Reason string }
	// SendRating sends the rating and ends the session.
	SendRating struct{}
	// SkipRating ends the session without rating.
	SkipRating struct{}
)

// Progress lookup.
type (
	// EnterReceiptNo looks up an application by its receipt number and
	// the lookup code printed under it: the code proves to the platform
	// that the receipt is the resident's (a number alone is guessable).
	EnterReceiptNo struct{ Number, Code string }
	// LookupDone carries the answer to a LookupProgress effect.
	LookupDone struct {
		Results []LookupResult
		Offline bool   // answered from the local cache
		Seq     uint64 // LookupProgress.Seq; 0 from apps that do not echo it
	}
	// LookupFailed: neither the cache nor the platform could answer.
	LookupFailed struct {
		Reason string
		Seq    uint64 // LookupProgress.Seq; 0 from apps that do not echo it
	}
)

// Tick is the injected clock: kiosk/app sends one every second or so.
type Tick struct{ Now time.Time }

func (Start) isEvent()            {}
func (OpenLookup) isEvent()       {}
func (ChooseTheme) isEvent()      {}
func (SearchCatalog) isEvent()    {}
func (SelectItem) isEvent()       {}
func (Next) isEvent()             {}
func (Back) isEvent()             {}
func (Cancel) isEvent()           {}
func (ConfirmYes) isEvent()       {}
func (ConfirmNo) isEvent()        {}
func (Continue) isEvent()         {}
func (Touch) isEvent()            {}
func (SetElderMode) isEvent()     {}
func (CardRead) isEvent()         {}
func (CardRemoved) isEvent()      {}
func (EnterIDNumber) isEvent()    {}
func (SetField) isEvent()         {}
func (Scan) isEvent()             {}
func (ScanDone) isEvent()         {}
func (ScanFailed) isEvent()       {}
func (RemovePage) isEvent()       {}
func (UseECert) isEvent()         {}
func (UsePromise) isEvent()       {}
func (UseScan) isEvent()          {}
func (SetConsent) isEvent()       {}
func (Submit) isEvent()           {}
func (SubmitDone) isEvent()       {}
func (SubmitFailed) isEvent()     {}
func (PrintDone) isEvent()        {}
func (PrintFailed) isEvent()      {}
func (Reprint) isEvent()          {}
func (Rate) isEvent()             {}
func (SetRatingReason) isEvent()  {}
func (SendRating) isEvent()       {}
func (SkipRating) isEvent()       {}
func (EnterReceiptNo) isEvent()   {}
func (LookupDone) isEvent()       {}
func (LookupFailed) isEvent()     {}
func (Tick) isEvent()             {}
func (SetAgentMode) isEvent()     {}
func (EnterPrincipal) isEvent()   {}
func (ConfirmCondition) isEvent() {}
func (AcceptPromise) isEvent()    {}
func (NoticeShown) isEvent()      {}
func (PrinterStatus) isEvent()    {}

// CardProblem is what the card reader found wrong with a card.
type CardProblem string

// Card problems. Each sends the resident to the window.
const (
	CardOK          CardProblem = ""
	CardExpired     CardProblem = "expired"     // the driver's ErrExpired
	CardUnsupported CardProblem = "unsupported" // not a card the kiosk handles
	CardUnreadable  CardProblem = "unreadable"  // read failed or data invalid
)
