package techui

import (
	"context"
	"time"

	"onedoor/drivers/probe"
	"onedoor/drivers/serialport"
	"onedoor/kiosk/config"
	"onedoor/kiosk/devices"
	"onedoor/kiosk/nettest"
	"onedoor/kiosk/techpin"
	"onedoor/sync/engine"
	"onedoor/sync/outbox"
)

// Devices is the app's set of open devices. kiosk/devices implements it
// over the real drivers.
type Devices interface {
	Status() []devices.DeviceStatus
	// Release closes every port so that auto-detect can probe them; the
	// next Apply reopens what the configuration names.
	Release(ctx context.Context) error
	ReadCard(ctx context.Context) (devices.CardResult, error)
	PrintTest(ctx context.Context) (devices.PrintResult, error)
	ScanTest(ctx context.Context) (devices.ScanResult, error)
	// Trace is the recent bytes on a device's port, oldest first; nil when
	// the driver keeps none.
	Trace(kind string) []serialport.Record
}

// Applier puts a saved configuration into effect without a restart:
// devices reopen on their new ports, the sync engine takes the new
// platform settings. The app implements it.
type Applier interface {
	Apply(ctx context.Context, c config.Config) error
}

// ConfigStore loads and atomically saves the configuration file.
type ConfigStore interface {
	Load() (config.Config, error)
	Save(c config.Config) error
}

// Queue is what the Queue page needs from the outbox; *outbox.Store has it.
type Queue interface {
	Stats(ctx context.Context) (outbox.Stats, error)
	Requeue(ctx context.Context, id string) error
	// DueNow makes submissions waiting out a backoff due at once: a
	// technician who fixed the link expects "sync now" to mean now.
	DueNow(ctx context.Context, now time.Time) ([]string, error)
}

// Syncer is the sync engine; *engine.Engine has it.
type Syncer interface {
	Nudge()
	Progress() engine.Progress
}

// AuditLog records technician actions (setting changes, device tests,
// retries) without personal data; techpin.Auditor has the same shape, so
// one adapter serves both.
type AuditLog interface {
	Audit(ctx context.Context, event, detail string) error
}

// PINGate checks the technician PIN and keeps the lock; *techpin.Guard
// has it. It audits entries and failures itself.
type PINGate interface {
	Check(ctx context.Context, pin string) (techpin.Result, error)
	Locked() (bool, time.Time)
	HasPIN() bool
	// Change checks the current PIN and returns the hash of the next one,
	// to be saved as technician.pin_hash.
	Change(ctx context.Context, current, next string) (string, error)
}

// ConnTest runs the connection test; nettest.Run by default.
type ConnTest func(ctx context.Context, o nettest.Options) nettest.Report

// ProbeFunc probes ports for devices; probe.Run with the three drivers'
// probers by default.
type ProbeFunc func(ctx context.Context, ports []string) []probe.Result

// PortLister lists candidate serial ports plus the configured ones;
// serialport.ListCandidates by default.
type PortLister func(configured []string) []serialport.Candidate
