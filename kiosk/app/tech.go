package app

// Technician mode wired into the kiosk window: the hidden long press on the
// resident screen opens kiosk/techui's PIN pad; the devices are opened
// through kiosk/devices so a technician's port change reopens them
// without a restart; technician events go to the outbox's audit log.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"fyne.io/fyne/v2"

	"onedoor/kiosk/config"
	"onedoor/kiosk/devices"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/techpin"
	"onedoor/kiosk/techui"
	"onedoor/sync/outbox"
)

// DemoTechnicianPIN opens technician mode in demo mode (only there).
const DemoTechnicianPIN = "246810"

// technician is technician mode in the running kiosk.
type technician struct {
	mode    *techui.Mode
	log     *slog.Logger
	app     *App
	tr      *i18n.Translator
	fa      fyne.App
	path    string
	devs    *devices.Manager
	audit   *lateAudit
	post    func(func())
	tmp     string // demo directory made here, removed at close
	restart bool   // set on Fyne's goroutine, read after the loop ends
}

// withLogRing tees log into a masked ring buffer for the Logs page.
func withLogRing(log *slog.Logger) (*slog.Logger, *techui.LogRing) {
	ring := techui.NewLogRing(500, slog.LevelInfo, log.Handler())
	return slog.New(ring), ring
}

// techConfigPath is where the technician's changes are saved: the file
// the kiosk was started with, or in demo mode a file in the demo directory
// (seeded with the demo PIN) so the demo never touches a real config.
// A temp directory it had to make is returned as tmp, for removal.
func techConfigPath(o RunOptions) (path, tmp string, err error) {
	if !o.Demo {
		return o.ConfigPath, "", nil
	}
	dir := o.DemoDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "onedoor-demo-technician-"); err != nil {
			return "", "", fmt.Errorf("demo technician directory: %w", err)
		}
		tmp = dir
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("demo technician directory: %w", err)
	}
	return filepath.Join(dir, "technician.toml"), tmp, nil
}

// newTechnician builds technician mode before the window exists; the
// parts that open later arrive through attach. post is fyne.Do in the
// kiosk.
func newTechnician(fa fyne.App, o RunOptions, tr *i18n.Translator, ring *techui.LogRing, post func(func()), log *slog.Logger) (*technician, error) {
	path, tmp, err := techConfigPath(o)
	if err != nil {
		return nil, err
	}
	t := &technician{log: log, tr: tr, fa: fa, path: path, tmp: tmp, post: post, audit: &lateAudit{log: log},
		devs: devices.New(devices.Options{Logger: log})}
	if t.path == "" {
		t.path = config.DefaultPath()
	}
	store := techui.FileStore{Path: t.path}
	cfg, err := store.Load()
	if err != nil {
		return nil, fmt.Errorf("technician config: %w", err)
	}
	stateDir := cfg.Storage.DataDir
	if o.Demo {
		stateDir = filepath.Dir(t.path)
		if cfg.Technician.PINHash == "" {
			// The demo PIN is printed in the log and the docs, so a costly
			// KDF protects nothing here; the default's 64 MiB and three
			// passes took seconds off a loaded two-core start-up.
			demoParams := techpin.Params{Time: 1, Memory: 8 * 1024, Threads: 1}
			if cfg.Technician.PINHash, err = techpin.Hash(DemoTechnicianPIN, demoParams); err != nil {
				return nil, err
			}
			if err := store.Save(cfg); err != nil {
				return nil, fmt.Errorf("demo technician config: %w", err)
			}
			log.Info("demo: technician mode opens with a long press on the title and PIN " + DemoTechnicianPIN)
		}
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("technician state directory: %w", err)
	}
	gate, err := techpin.Open(context.Background(), techpin.Options{
		StatePath: filepath.Join(stateDir, "techpin.json"), Hash: cfg.Technician.PINHash, Auditor: t.audit, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("technician PIN: %w", err)
	}
	t.mode, err = techui.New(techui.Deps{
		Lang: tr.Lang(), Gate: gate, Store: store, Audit: t.audit, Logs: ring, Post: post, Logger: log,
		OnOpen: func() { t.devs.Hold(true) },
		OnClose: func() {
			t.devs.Hold(false)
			if t.app != nil {
				t.app.View().Refresh()
			}
		},
		Restart: func() {
			t.restart = true
			fa.Quit()
		},
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// wrap puts technician mode around the resident screen.
func (t *technician) wrap(a *App) fyne.CanvasObject {
	t.app = a
	return t.mode.Wrap(a.View().Object())
}

// open is the hidden long press's action.
func (t *technician) open() { t.mode.Open() }

// devicesConfig is the device section the manager opens: the file's, or
// in demo mode the simulators'.
func devicesConfig(o RunOptions, demo *Demo) config.Config {
	c := o.Config
	if demo == nil {
		return c
	}
	c.Devices = demo.Devices
	return c
}

// attach opens the configured devices in the manager, puts its fronts into
// d for the resident flow, and hands the parts to technician mode. It runs
// on the goroutine that opened the stack.
func (t *technician) attach(ctx context.Context, o RunOptions, demo *Demo, stack *Stack, d *Deps) error {
	cfg := devicesConfig(o, demo)
	if demo != nil {
		// The technician's file starts from the simulators' ports.
		store := techui.FileStore{Path: t.path}
		if saved, err := store.Load(); err == nil {
			seed := saved.Devices.Printer.Port == ""
			if seed {
				saved.Devices, saved.Kiosk.ID = cfg.Devices, demo.Settings.KioskID
			}
			// The demo's platform listens on a new port at each start;
			// without it here the Network page said "not set" while the
			// kiosk was sending to it, and its connection test was off.
			if saved.Platform.URL != demo.Settings.PlatformURL || saved.Platform.Token != demo.Settings.Token {
				saved.Platform.URL, saved.Platform.Token = demo.Settings.PlatformURL, demo.Settings.Token
				seed = true
			}
			if seed {
				if err := store.Save(saved); err != nil {
					t.log.Warn("demo technician config not seeded", "err", err)
				}
			}
		}
	}
	devs := t.devs
	if err := devs.Apply(ctx, cfg); err != nil {
		// The kiosk still runs (the device is shown as off), so the
		// technician can fix the port on the Devices page.
		t.log.Error("device not opened", "err", err)
	}
	d.Cards, d.Printer, d.Scanner = devs.Cards(), devs.Printer(), devs.Scanner()
	stack.WatchDevices(devs, devs.Printer())
	t.audit.set(stack.Store)
	parts := techui.Parts{Devices: devs, Applier: &techApplier{t: t, last: cfg}, Queue: stack.Store}
	if stack.Engine != nil {
		parts.Syncer = stack.Engine
	}
	t.post(func() { t.mode.Attach(parts) })
	return nil
}

// close stops technician mode and closes the devices.
func (t *technician) close() error {
	t.mode.Stop()
	if t.tmp != "" {
		os.RemoveAll(t.tmp)
	}
	return t.devs.Close()
}

// finish restarts the process in place when the technician asked for it,
// after everything was closed.
func (t *technician) finish(err error) error {
	if !t.restart || err != nil {
		return err
	}
	exe, xerr := os.Executable()
	if xerr != nil {
		return fmt.Errorf("restart: %w", xerr)
	}
	t.log.Info("technician restart")
	return fmt.Errorf("restart: %w", syscall.Exec(exe, os.Args, os.Environ()))
}

// techApplier puts a saved configuration into effect: devices reopen, the
// site name and default language change at once; the platform link and
// session timing are fixed when the stack and flow are built, so those
// report ErrNeedsRestart.
type techApplier struct {
	t    *technician
	mu   sync.Mutex
	last config.Config
}

func (ap *techApplier) Apply(ctx context.Context, c config.Config) error {
	ap.mu.Lock()
	prev := ap.last
	ap.last = c
	ap.mu.Unlock()
	t := ap.t
	err := t.devs.Apply(ctx, c)
	t.post(func() {
		if t.app != nil {
			t.app.SetSite(c.Kiosk.Name)
		}
		if c.Kiosk.Language != prev.Kiosk.Language {
			if err := t.tr.SetLang(c.Kiosk.Language); err != nil {
				t.log.Warn("default language not applied", "err", err)
			}
		}
	})
	var later []string
	if c.Platform != prev.Platform {
		later = append(later, "platform")
	}
	if c.Session != prev.Session {
		later = append(later, "session")
	}
	if c.Voice != prev.Voice {
		later = append(later, "voice")
	}
	if c.Storage != prev.Storage || c.Kiosk.ID != prev.Kiosk.ID {
		later = append(later, "storage/kiosk id")
	}
	if err == nil && len(later) > 0 {
		return fmt.Errorf("%v: %w", later, techui.ErrNeedsRestart)
	}
	return err
}

// lateAudit writes technician events to the outbox's audit log once the
// outbox is open; before that (the first second of a start) it can only
// say so in the log.
type lateAudit struct {
	log *slog.Logger
	mu  sync.Mutex
	st  *outbox.Store
}

func (a *lateAudit) set(st *outbox.Store) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.st = st
}

func (a *lateAudit) Audit(ctx context.Context, event, detail string) error {
	a.mu.Lock()
	st := a.st
	a.mu.Unlock()
	if st == nil {
		a.log.Warn("audit log not open yet", "event", event)
		return errors.New("audit log not open yet")
	}
	return st.RecordAudit(ctx, event, detail)
}
