package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"onedoor/sync/client"
	"onedoor/sync/engine"
	"onedoor/sync/outbox"
)

// Settings are what the stack needs to open the real parts. kiosk/config
// fills them from the TOML file; demo mode from the simulators it starts.
type Settings struct {
	DataDir string // outbox directory
	KeyFile string // data key, outside DataDir; default next to it
	KioskID string // prefix of receipt numbers

	PlatformURL string
	Token       string

	Site    string // service point name on receipts
	Version string // reported in heartbeats
	// SyncPoll is how often the engine pulls statuses while idle, which is
	// also how soon it notices a dead link; the engine's default when zero.
	SyncPoll time.Duration
	// Retention is how long personal data stays after the platform
	// acknowledged it; the outbox's default when zero.
	Retention time.Duration
	// PurgeEvery is how often the outbox drops personal data older than
	// Retention; hourly when zero. Retention is counted in days, so an
	// hour late costs nothing, and each run is one short transaction.
	PurgeEvery time.Duration
	// HeartbeatEvery is how often the engine reports health to the
	// platform; the engine's default (5 min) when zero.
	HeartbeatEvery time.Duration
	// Clock is the outbox's clock (receipt dates, retention); time.Now
	// when nil. Tests inject one to age submissions without sleeping.
	Clock func() time.Time
	// Location is the kiosk's zone (config time_zone): receipt numbers are
	// dated in it, as every time on screen and on the receipt is shown in
	// it. Without it a kiosk whose system clock runs in UTC numbered a
	// receipt accepted at 03:20 on the 8th as one of the 7th. The clock's
	// own zone when nil.
	Location *time.Location
}

// clock is s.Clock read in s.Location.
func (s Settings) clock() func() time.Time {
	now := s.Clock
	if now == nil {
		now = time.Now
	}
	if s.Location == nil {
		return now
	}
	return func() time.Time { return now().In(s.Location) }
}

// DefaultPurgeEvery is how often a running kiosk purges expired personal
// data.
const DefaultPurgeEvery = time.Hour

// Stack is the opened parts: outbox, platform client and sync engine. The
// serial devices are kiosk/devices' (one owner, reopened on a settings
// change); the stack only reports their health in heartbeats.
type Stack struct {
	Store  *outbox.Store
	Client *client.Client
	Engine *engine.Engine

	site   string
	cancel context.CancelFunc
	done   <-chan struct{}
	// stopPurge ends the retention purge and waits for it.
	stopPurge func()
	// health feeds the heartbeat's device states and paper sensor.
	health *deviceHealth
}

// OpenStack opens everything in s and starts the sync engine.
func OpenStack(ctx context.Context, s Settings, log *slog.Logger) (_ *Stack, err error) {
	if log == nil {
		log = slog.Default()
	}
	st := &Stack{health: &deviceHealth{}}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	key := s.KeyFile
	if key == "" {
		key = outbox.DefaultKeyFile(s.DataDir)
	}
	if err := os.MkdirAll(filepath.Dir(key), 0o700); err != nil {
		return nil, fmt.Errorf("key directory: %w", err)
	}
	st.Store, err = outbox.Open(ctx, outbox.Options{Dir: s.DataDir, KeyFile: key, KioskID: s.KioskID, Retention: s.Retention, Clock: s.clock(), Logger: log.With("part", "outbox")})
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	st.startPurge(s.PurgeEvery)
	if s.PlatformURL != "" {
		st.Client, err = client.New(client.Config{BaseURL: s.PlatformURL, KioskID: s.KioskID, Token: s.Token, Logger: log.With("part", "client")})
		if err != nil {
			return nil, fmt.Errorf("platform client: %w", err)
		}
		st.Engine, err = engine.New(engine.Config{Store: st.Store, Platform: st.Client, KioskID: s.KioskID, Version: s.Version, PollInterval: s.SyncPoll,
			HeartbeatInterval: s.HeartbeatEvery, Devices: st.health.Devices, PaperNearEnd: st.health.PaperNearEnd,
			Logger: log.With("part", "engine")})
		if err != nil {
			return nil, fmt.Errorf("sync engine: %w", err)
		}
		ectx, cancel := context.WithCancel(context.Background())
		st.cancel = cancel
		st.done = st.Engine.Start(ectx)
	}
	return st, nil
}

// WatchDevices makes the heartbeat report the states devs lists and the
// paper of prn (which may be nil): kiosk/devices' manager, which opens the
// devices after the stack has started the engine.
func (st *Stack) WatchDevices(devs DeviceLister, prn PrinterStatus) {
	st.health.set(devs, prn)
}

// startPurge runs the outbox's retention purge in the background, once now
// and then every interval, at the store clock's time, until Close.
func (st *Stack) startPurge(every time.Duration) {
	if every <= 0 {
		every = DefaultPurgeEvery
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	store := st.Store
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		// It returns only when ctx ends; failures are logged inside.
		_ = store.PurgeEvery(ctx, t.C)
	}()
	st.stopPurge = func() {
		cancel()
		<-done
	}
}

// Online is the engine's view of the link: false while it probes a dead
// platform or is refused. Without a platform configured it is false.
func (st *Stack) Online() bool {
	if st.Engine == nil {
		return false
	}
	switch st.Engine.Progress().State {
	case engine.StateOffline, engine.StateAuthError, engine.StateStopped:
		return false
	}
	return true
}

// Fill puts the stack's parts into d.
func (st *Stack) Fill(d *Deps) {
	d.Store = st.Store
	if st.Client != nil {
		d.Tracker = st.Client
		d.ECerts = st.Client
		d.Online = st.Online
	}
}

// Nudge tells the engine something new is queued.
func (st *Stack) Nudge() {
	if st.Engine != nil {
		st.Engine.Nudge()
	}
}

// Close stops the engine and closes the outbox.
func (st *Stack) Close() error {
	if st.cancel != nil {
		st.cancel()
		<-st.done
	}
	if st.stopPurge != nil {
		st.stopPurge()
	}
	var errs []error
	if st.Store != nil {
		errs = append(errs, st.Store.Close())
	}
	return errors.Join(errs...)
}
