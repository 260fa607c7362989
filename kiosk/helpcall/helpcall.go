// Package helpcall sends a resident's 呼叫工作人员 from the kiosk to the
// platform, where it rings on the back office's fleet page until a member
// of staff answers. The call says which kiosk, which service point, which
// screen and when; nothing about the resident.
//
// A resident is standing at the screen, so the call is tried once with a
// short timeout and never queued: help that arrives in an hour is no help.
// When it cannot go out (no platform configured, the link down, no answer)
// the caller says so and the kiosk tells the resident to go to the counter
// and plays its own chime (kiosk/voice).
package helpcall

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"onedoor/sync/api"
)

// Sender delivers a call; *client.Client has it.
type Sender interface {
	Help(ctx context.Context, h *api.HelpRequest) (*api.HelpResponse, error)
}

// ErrOffline: the call did not reach the platform.
var ErrOffline = errors.New("helpcall: platform not reachable")

// DefaultTimeout bounds one call: long enough for a slow village link,
// short enough that a resident is not left waiting for nothing.
const DefaultTimeout = 5 * time.Second

// Caller sends calls for one kiosk.
type Caller struct {
	// Sender is the platform client; nil when no platform is configured
	// (every call is then offline).
	Sender Sender
	// Online is the sync engine's view of the link; when it says the link
	// is down the call is not tried. Nil means try.
	Online  func() bool
	KioskID string
	Site    string
	Clock   func() time.Time
	Timeout time.Duration
	Logger  *slog.Logger
}

// Call sends a call from screen (a flow step name). It returns nil once the
// platform has the call, or an error wrapping ErrOffline. It blocks for up
// to Timeout: run it off the UI goroutine.
func (c *Caller) Call(ctx context.Context, screen string) error {
	log := c.Logger
	if log == nil {
		log = slog.Default()
	}
	if c.Sender == nil {
		return fmt.Errorf("%w: no platform configured", ErrOffline)
	}
	if c.Online != nil && !c.Online() {
		return fmt.Errorf("%w: the link is down", ErrOffline)
	}
	now := time.Now
	if c.Clock != nil {
		now = c.Clock
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	h := &api.HelpRequest{ID: uuid.NewString(), KioskID: c.KioskID, Site: c.Site, Screen: screen, At: now().UTC()}
	if _, err := c.Sender.Help(ctx, h); err != nil {
		log.Warn("help call not delivered", "screen", screen, "err", err)
		return fmt.Errorf("%w: %w", ErrOffline, err)
	}
	log.Info("help call delivered", "screen", screen, "id", h.ID)
	return nil
}
