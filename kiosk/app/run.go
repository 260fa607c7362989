package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"

	"onedoor/assets"
	"onedoor/kiosk/catalog"
	"onedoor/kiosk/config"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/ui"
)

// RunOptions say how to run the kiosk window.
type RunOptions struct {
	// Demo starts the simulators and the in-process platform and shows the
	// demo panel; Config is then ignored except for session settings.
	Demo bool
	// DemoDir holds the demo's data; a fresh temp dir when empty.
	DemoDir string
	Config  config.Config
	Logger  *slog.Logger
	// OnFirstFrame is called once the window has shown its first frame,
	// for start-up measurements.
	OnFirstFrame func()
}

// SettingsFromConfig maps the TOML configuration onto the stack. A device
// without a port is left out (the technician's probe finds ports); a baud
// of 0 ("probe") takes the device's usual default.
func SettingsFromConfig(c config.Config) Settings {
	baud := func(b, def int) int {
		if b == 0 {
			return def
		}
		return b
	}
	s := Settings{
		DataDir: c.Storage.DataDir, KeyFile: c.Storage.KeyFile, KioskID: c.Kiosk.ID,
		PlatformURL: c.Platform.URL, Token: c.Platform.Token,
		Site: c.Kiosk.Name, SyncPoll: c.Platform.SyncInterval, Version: "onedoor",
	}
	if d := c.Devices.IDCard; d.Enabled && d.Port != "" {
		s.CardPath, s.CardBaud = d.Port, baud(d.Baud, 115200)
	}
	if d := c.Devices.Printer; d.Enabled && d.Port != "" {
		s.PrinterPath, s.PrinterBaud, s.PrinterProfile = d.Port, baud(d.Baud, 115200), d.Profile
	}
	if d := c.Devices.Scanner; d.Enabled && d.Port != "" {
		s.ScannerPath, s.ScannerBaud = d.Port, baud(d.Baud, 115200)
	}
	return s
}

// loadCatalog prefers the catalog the engine last pulled from the platform
// and falls back to the embedded sample.
func loadCatalog(ctx context.Context, st *Stack, log *slog.Logger) (*catalog.Catalog, error) {
	if body, _, err := st.Store.Catalog(ctx); err == nil && len(body) > 0 {
		if c, err := catalog.Parse(body); err == nil {
			return c, nil
		} else {
			log.Warn("cached catalog unusable; using the sample", "err", err)
		}
	}
	return catalog.Parse(assets.SampleCatalog)
}

// Run opens the stack (or the demo), builds the kiosk in a window of fa and
// runs Fyne's event loop until the window closes or ctx ends. It must be
// called on the main goroutine, as Fyne requires.
func Run(ctx context.Context, fa fyne.App, o RunOptions) (err error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	fa.Settings().SetTheme(ui.NewTheme(false))
	settings := SettingsFromConfig(o.Config)
	var demo *Demo
	if o.Demo {
		dir := o.DemoDir
		if dir == "" {
			if dir, err = os.MkdirTemp("", "onedoor-demo-"); err != nil {
				return fmt.Errorf("demo directory: %w", err)
			}
			defer os.RemoveAll(dir)
		}
		if demo, err = StartDemo(ctx, filepath.Clean(dir), log); err != nil {
			return err
		}
		defer func() { err = errors.Join(err, demo.Close()) }()
		settings = demo.Settings
	}
	stack, err := OpenStack(ctx, settings, log)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stack.Close()) }()
	cat, err := loadCatalog(ctx, stack, log)
	if err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	cal, err := catalog.ParseCalendar(assets.Holidays)
	if err != nil {
		return fmt.Errorf("holiday calendar: %w", err)
	}
	tr := i18n.New()
	if l := o.Config.Kiosk.Language; l != "" {
		if err := tr.SetLang(l); err != nil {
			log.Warn("configured language unknown; using zh-CN", "lang", l)
		}
	}
	lookupURL := o.Config.Session.LookupURL
	d := Deps{
		Catalog: cat, Calendar: cal, Tr: tr, Dict: ui.NewPinyinDict(),
		Post: fyne.Do, Site: settings.Site, Logger: log,
		IdleTimeout: o.Config.Session.IdleTimeout, ElderIdleTimeout: o.Config.Session.ElderIdleTimeout,
		TrackingURL: func(r string) string { return lookupURL + r },
	}
	stack.Fill(&d)
	a, err := New(d)
	if err != nil {
		return err
	}
	w := fa.NewWindow("OneDoor 一门通")
	content := a.View().Object()
	size := fyne.NewSize(1280, 800)
	pctx, stopPanel := context.WithCancel(ctx)
	defer stopPanel()
	if demo != nil {
		panel := NewDemoPanel(demo)
		go panel.Watch(pctx, fyne.Do)
		content = container.NewBorder(nil, nil, nil, panel.Object(), content)
		size.Width += 360
	} else {
		w.SetCloseIntercept(func() { log.Info("window close ignored; the kiosk keeps running") })
		if o.Config.Kiosk.Fullscreen {
			w.SetFullScreen(true)
		}
	}
	w.SetContent(content)
	w.Resize(size)
	w.SetPadded(false)
	fa.Lifecycle().SetOnStarted(func() {
		a.Start()
		if o.OnFirstFrame != nil {
			// The next frame after Start has drawn Home.
			fyne.Do(o.OnFirstFrame)
		}
	})
	go func() {
		<-ctx.Done()
		fyne.Do(fa.Quit)
	}()
	start := time.Now()
	log.Info("kiosk starting", "demo", o.Demo, "items", len(cat.Items))
	w.ShowAndRun()
	a.Stop()
	log.Info("kiosk stopped", "ran", time.Since(start).Round(time.Second).String())
	return nil
}
