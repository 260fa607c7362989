package api

import (
	"time"
)

// PathHelp takes a resident's call for staff (POST, signed like every kiosk
// request): the 呼叫工作人员 button on the kiosk's screens.
const PathHelp = Base + "/help"

// Limits of a help request.
const (
	MaxHelpSiteBytes   = 128
	MaxHelpScreenBytes = 32
)

// HelpRequest is the body of POST /api/v1/help. It names where help is
// needed and nothing about the resident: no name, no ID number, no form
// content, so it may be shown to any member of staff at once.
type HelpRequest struct {
	// ID is a UUID the kiosk makes per press of the button; sending it
	// again (a lost answer) is the same call, also sent as
	// Idempotency-Key.
	ID      string `json:"id"`
	KioskID string `json:"kiosk_id"`
	// Site is the service point's name (kiosk.name), so staff know where
	// to go without looking the kiosk up.
	Site string `json:"site"`
	// Screen is the step the resident was on (kiosk/flow's step name:
	// "identify", "materials", …).
	Screen string `json:"screen"`
	// At is when the button was pressed, by the kiosk's clock.
	At time.Time `json:"at"`
}

// HelpResponse is the 201 body of POST /api/v1/help (200 for a repeat).
type HelpResponse struct {
	ID         string    `json:"id"`
	ReceivedAt time.Time `json:"received_at"`
}

// Validate checks a help request's fields.
func (h *HelpRequest) Validate() error {
	if !IsUUID(h.ID) {
		return invalid("id", "must be a lowercase UUID")
	}
	if err := checkText("kiosk_id", h.KioskID, false, 64); err != nil {
		return err
	}
	if err := checkText("site", h.Site, false, MaxHelpSiteBytes); err != nil {
		return err
	}
	if err := checkText("screen", h.Screen, true, MaxHelpScreenBytes); err != nil {
		return err
	}
	for i := 0; i < len(h.Screen); i++ {
		if c := h.Screen[i]; !(c >= 'a' && c <= 'z' || c == '_') {
			return invalid("screen", "must be a step name (a-z, _)")
		}
	}
	if h.At.IsZero() {
		return invalid("at", "is required")
	}
	return nil
}
