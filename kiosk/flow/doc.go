// Package flow is one resident session at the kiosk as a pure state
// machine: no Fyne, no devices, no SQL, no goroutines, no sleeping. The UI
// draws State; devices, the outbox and the platform are reached through
// Effects that kiosk/app executes and answers with Events.
//
//	m := flow.New(cat, flow.Options{Now: clock.Now, Calendar: cal})
//	st, fx := m.Handle(flow.Start{})           // Home → Catalog
//	st, fx = m.Handle(flow.SelectItem{ItemID: "ss-pension-enrol"})
//	st, fx = m.Handle(flow.CardRead{Identity: id}) // from drivers/idcard
//	for _, e := range fx { app.execute(e) }    // results come back as events
//
// # Steps
//
// Home → Catalog (themes, search) → Guide → Identify (ID card, or the number
// typed and checked with the GB 11643 check character) → Form (the item's
// fields, pre-filled and locked from the card; phone, date, ID and number
// validation) → Materials (scan pages, retake, remove; blank or blurred
// pages rejected with a reason; e-certificate or written promise where the
// material allows; materials verified by data sharing need nothing) →
// Review (personal-information notice and consent) → Submitting (the
// SubmitApplication effect; the outbox answers SubmitDone or SubmitFailed)
// → Receipt (PrintReceipt; on paper out the number and QR stay on screen and
// Reprint is offered) → Rating (five levels; a reason for the two lowest) →
// Home, with the session wiped. Lookup is reached from Home: by receipt
// number or by placing the ID card, either on the lookup screen or straight
// on Home (a card on Home opens the lookup by card; elsewhere outside
// Identify a card is ignored). Home items marked popular are shortcuts
// straight to their guide.
//
// State.Progress is "step N of M" for Guide … Rating. State.Step.TitleKey
// names the screen title.
//
// # Time
//
// Tick{Now} events from kiosk/app drive the idle timer; every other event
// counts as activity (send Touch for keypad presses and paging, which the
// flow does not model). After IdleTimeout (60 s; ElderIdleTimeout, 120 s, in
// elder mode) the session ends; in the last Warning (15 s) State.Countdown
// is the number of seconds left and Continue resets it. A pristine Home
// never times out; Submitting holds the timer, because wiping then would
// lose the receipt number of a stored application.
//
// # Ending a session
//
// Timeout, confirmed Cancel and the end of Rating wipe everything: the
// machine returns to a fresh session, emits DiscardScans for every scanned
// page (the outbox already holds its own copies of submitted ones) and
// SessionEnded, on which the app resets the language and drops anything it
// cached. Cancel and Back past Identify ask first (State.Confirm, answered
// with ConfirmYes or ConfirmNo) once personal data is entered; any other tap
// dismisses the question without acting.
//
// # Errors
//
// State.Error and the per-field and per-material Error are Messages: i18n
// keys (kiosk/i18n) whose text tells the resident what to do next, with
// fmt arguments. The flow never shows raw ID numbers: State.Applicant and
// Receipt carry MaskID (first 4 + asterisks + last 4) and MaskName values.
// Form fields do hold the typed values, which the resident sees while
// filling them in.
//
// # Guarantees (property-tested with pgregory.net/rapid)
//
// No event sequence produces SubmitApplication without consent, without
// every required field valid, and without every required material provided
// in a form its catalog entry allows; no scanned page is lost track of
// (kept, submitted or discarded); every end of a session leaves no
// personal data in the machine.
//
// A Machine is not safe for concurrent use: feed it from one goroutine.
package flow
