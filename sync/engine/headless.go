package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"onedoor/sync/client"
	"onedoor/sync/outbox"
)

// HeadlessOptions wire an engine without a screen: `onedoor sync run|now`
// on a service point without a kiosk, and the crash test's child process.
type HeadlessOptions struct {
	DataDir     string
	KeyFile     string // default outbox.DefaultKeyFile(DataDir)
	PlatformURL string
	KioskID     string
	TokenFile   string // the kiosk token from `platformd kiosk add`, alone in a file
	// BandwidthBytesPerSec caps the uplink; 0 means no cap.
	BandwidthBytesPerSec int64
	Version              string
	Logger               *slog.Logger
	// Transport, if set, carries the HTTP requests (tests).
	Transport http.RoundTripper
	// Engine and Client let callers adjust the rest; applied last.
	Engine func(*Config)
	Client func(*client.Config)
}

// Headless is an opened outbox with an engine over it.
type Headless struct {
	Engine *Engine
	Store  *outbox.Store
	Client *client.Client
}

// ErrToken is returned when the token file is missing, empty or readable
// by others.
var ErrToken = errors.New("kiosk token file")

// ReadToken reads a token file. A token others can read is refused: it
// would let them submit as this kiosk.
func ReadToken(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrToken, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%w: %s is readable by group or others (mode %v); chmod 600 it", ErrToken, path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrToken, err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" || strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("%w: %s must hold the token alone on one line", ErrToken, path)
	}
	return tok, nil
}

// OpenHeadless opens the outbox and builds client and engine. Close it
// when done.
func OpenHeadless(ctx context.Context, o HeadlessOptions) (*Headless, error) {
	if o.DataDir == "" || o.PlatformURL == "" || o.KioskID == "" || o.TokenFile == "" {
		return nil, errors.New("engine: data dir, platform URL, kiosk id and token file are required")
	}
	token, err := ReadToken(o.TokenFile)
	if err != nil {
		return nil, err
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.KeyFile == "" {
		o.KeyFile = outbox.DefaultKeyFile(o.DataDir)
	}
	st, err := outbox.Open(ctx, outbox.Options{Dir: o.DataDir, KeyFile: o.KeyFile, KioskID: o.KioskID, Logger: log.With("component", "outbox")})
	if err != nil {
		return nil, err
	}
	ccfg := client.Config{BaseURL: o.PlatformURL, KioskID: o.KioskID, Token: token, Transport: o.Transport, Logger: log.With("component", "client")}
	if o.BandwidthBytesPerSec > 0 {
		ccfg.Throttle = client.NewThrottle(o.BandwidthBytesPerSec)
	}
	if o.Client != nil {
		o.Client(&ccfg)
	}
	cl, err := client.New(ccfg)
	if err != nil {
		st.Close()
		return nil, err
	}
	ecfg := Config{Store: st, Platform: cl, KioskID: o.KioskID, Version: o.Version, Logger: log.With("component", "engine")}
	if o.Engine != nil {
		o.Engine(&ecfg)
	}
	eng, err := New(ecfg)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &Headless{Engine: eng, Store: st, Client: cl}, nil
}

// Close closes the outbox.
func (h *Headless) Close() error { return h.Store.Close() }
