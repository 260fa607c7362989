package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"onedoor/sync/outbox"
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
	// DemoPlatform starts demo mode's platform; without it (the production
	// build) Demo fails with ErrNoDemo.
	DemoPlatform StartDemoPlatform
	// DemoDir holds the demo's data; a fresh temp dir when empty.
	DemoDir string
	Config  config.Config
	// ConfigPath is the file Config came from; technician mode saves its
	// changes there (config.DefaultPath when empty).
	ConfigPath string
	Logger     *slog.Logger
	// OnFirstFrame is called once the window has shown its first frame,
	// for start-up measurements.
	OnFirstFrame func()
}

// SettingsFromConfig maps the TOML configuration onto the stack. The
// devices are kiosk/devices', opened from the config's device section.
func SettingsFromConfig(c config.Config) Settings {
	return Settings{
		DataDir: c.Storage.DataDir, KeyFile: c.Storage.KeyFile, KioskID: c.Kiosk.ID,
		PlatformURL: c.Platform.URL, Token: c.Platform.Token,
		Site: c.Kiosk.Name, SyncPoll: c.Platform.SyncInterval, Version: "onedoor",
		Retention: time.Duration(c.Storage.RetentionDays) * 24 * time.Hour,
		Location:  zoneOf(c),
	}
}

// zoneOf is the kiosk's configured zone, nil when it is not valid
// (applyConfig reports that, and the kiosk does not start).
func zoneOf(c config.Config) *time.Location {
	loc, err := c.Kiosk.Location()
	if err != nil {
		return nil
	}
	return loc
}

// Run builds the kiosk in a window of fa and runs Fyne's event loop until
// the window closes or ctx ends. The stack (and in demo mode the simulators
// and the platform) opens in the background while the window shows Home;
// effects wait for it (see Late). Run must be called on the main goroutine,
// as Fyne requires.
func Run(ctx context.Context, fa fyne.App, o RunOptions) (err error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	log, ring := withLogRing(log)
	t0 := time.Now()
	phase := func(name string) {
		log.Debug("start-up", "phase", name, "at", time.Since(t0).Round(time.Millisecond).String())
	}
	fa.Settings().SetTheme(ui.NewTheme(false))
	cat, err := catalog.Parse(assets.SampleCatalog)
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
	late := NewLate()
	dict := ui.NewPinyinDict()
	go dict.Build() // ready long before anyone types pinyin
	d := Deps{
		Catalog: cat, Calendar: cal, Tr: tr, Dict: dict,
		Post: fyne.Do, Logger: log,
		TrackingURL: func(r string) string { return lookupURL + r },
	}
	if err := d.applyConfig(o.Config); err != nil {
		return err
	}
	late.Fill(&d)
	tech, err := newTechnician(fa, o, tr, ring, fyne.Do, log)
	if err != nil {
		return err
	}
	d.OnTechnician = tech.open
	vs := openVoice(o.Config.Voice, tr, log)
	help := &lateHelp{}
	d.Help = help
	if vs != nil {
		d.Voice = vs
		defer vs.Close()
	}
	// The device fronts work before the devices open (attach), as an
	// unplugged device would: nothing needs to wait for them.
	d.Cards, d.Printer, d.Scanner = tech.devs.Cards(), tech.devs.Printer(), tech.devs.Scanner()
	a, err := New(d)
	if err != nil {
		return err
	}
	phase("app built")

	w := fa.NewWindow("OneDoor 一门通")
	content := tech.wrap(a)
	// The window has the configured fixed size (kiosk.window_size); the
	// screens are laid out for each of config.WindowSizes.
	ww, wh := o.Config.Kiosk.Window()
	size := fyne.NewSize(float32(ww), float32(wh))
	a.View().SetWindowSize(size.Width, size.Height)
	panelBox := container.NewStack()
	if o.Demo {
		// The demo panel is a window of its own, so the kiosk window has
		// exactly the size a real kiosk screen has.
		pw := fa.NewWindow("OneDoor demo panel 演示面板")
		pw.SetContent(panelBox)
		pw.Resize(fyne.NewSize(360, float32(wh)))
		pw.SetCloseIntercept(func() { log.Info("demo panel stays open while the kiosk runs") })
		pw.Show()
	} else {
		w.SetCloseIntercept(func() { log.Info("window close ignored; the kiosk keeps running") })
		if o.Config.Kiosk.Fullscreen {
			w.SetFullScreen(true)
		}
	}
	w.SetContent(content)
	w.Resize(size)
	w.SetFixedSize(true)
	w.SetPadded(false)

	octx, stopOpening := context.WithCancel(ctx)
	defer stopOpening()
	var (
		demo  *Demo
		stack *Stack
	)
	opened := make(chan struct{})
	// Parts open while Fyne creates the window and draws Home.
	go func() {
		defer close(opened)
		demo, stack, err = openParts(octx, o, log, phase)
		var pd Deps
		if stack != nil {
			stack.Fill(&pd)
			pd.Site = stack.site
			if err == nil {
				err = tech.attach(octx, o, demo, stack, &pd)
			}
		}
		late.Resolve(pd, err)
		if stack != nil {
			help.set(stack.helpCaller(log))
			if vs != nil {
				stack.WatchSound(vs.DeviceState)
			}
		}
		if err != nil {
			log.Error("kiosk cannot start", "err", err)
			fyne.Do(fa.Quit)
			return
		}
		cached := cachedCatalog(octx, stack, log)
		published := publishedCalendar(octx, stack, log)
		fyne.Do(func() {
			a.SetSite(pd.Site)
			if cached != nil {
				a.SetCatalog(cached)
			}
			if published != nil {
				a.SetCalendar(cal.Merge(published))
			}
			if demo != nil {
				fmt.Fprint(os.Stderr, demo.Where(os.Getenv("DISPLAY"), ww, wh))
				panel := NewDemoPanel(demo)
				panelBox.Objects = []fyne.CanvasObject{panel.Object()}
				panelBox.Refresh()
				go panel.Watch(octx, fyne.Do)
			}
		})
	}()
	fa.Lifecycle().SetOnStarted(func() {
		phase("window started")
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
	log.Info("kiosk starting", "demo", o.Demo, "items", len(cat.Items))
	w.ShowAndRun()
	a.Stop()
	stopOpening()
	<-opened
	err = errors.Join(err, tech.close())
	if stack != nil {
		err = errors.Join(err, stack.Close())
	}
	if demo != nil {
		err = errors.Join(err, demo.Close())
		if o.DemoDir == "" {
			os.RemoveAll(demo.Dir)
		}
	}
	log.Info("kiosk stopped", "ran", time.Since(t0).Round(time.Second).String())
	return tech.finish(err)
}

// applyConfig puts the settings the resident's session depends on into d:
// the [session] ones, and what the personal-information notice and every
// shown time are made from (retention, the platform's name, the zone).
func (d *Deps) applyConfig(c config.Config) error {
	d.applySession(c.Session)
	d.RetentionDays, d.PlatformName = c.Storage.RetentionDays, c.Platform.Name
	loc, err := c.Kiosk.Location()
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	d.Location = loc
	return nil
}

// applySession puts the [session] settings of the config into d.
func (d *Deps) applySession(s config.Session) {
	d.IdleTimeout, d.ElderIdleTimeout, d.Warning = s.IdleTimeout, s.ElderIdleTimeout, s.Warning
	d.ElderDefault = s.ElderDefault
	d.BlankThreshold, d.BlurThreshold = s.BlankThreshold, s.BlurThreshold
}

// openParts starts the demo (if asked) and opens the stack.
func openParts(ctx context.Context, o RunOptions, log *slog.Logger, phase func(string)) (*Demo, *Stack, error) {
	settings := SettingsFromConfig(o.Config)
	var demo *Demo
	if o.Demo {
		dir := o.DemoDir
		if dir == "" {
			var err error
			if dir, err = os.MkdirTemp("", "onedoor-demo-"); err != nil {
				return nil, nil, fmt.Errorf("demo directory: %w", err)
			}
		}
		var err error
		if demo, err = StartDemo(ctx, filepath.Clean(dir), o.DemoPlatform, log); err != nil {
			return nil, nil, err
		}
		settings = demo.Settings
		settings.Location = zoneOf(o.Config)
		phase("demo started")
	}
	stack, err := OpenStack(ctx, settings, log)
	if err != nil {
		if demo != nil {
			demo.Close()
		}
		return nil, nil, err
	}
	stack.site = settings.Site
	phase("stack opened")
	return demo, stack, nil
}

// publishedCalendar is the working-day calendar the engine last pulled
// from the platform, or nil. It is merged over the bundled one, so years the
// platform published after this build still get promised dates; until one
// covers a year, receipts of that year print no promised date. (A calendar
// pulled while the kiosk runs takes effect at its next start, as a catalog
// does.)
func publishedCalendar(ctx context.Context, st *Stack, log *slog.Logger) *catalog.Calendar {
	body, _, err := st.Store.Document(ctx, outbox.DocCalendar)
	if err != nil || len(body) == 0 {
		return nil
	}
	c, err := catalog.ParseCalendar(body)
	if err != nil {
		log.Warn("published holiday calendar unusable; keeping the bundled one", "err", err)
		return nil
	}
	return c
}

// cachedCatalog is the catalog the engine last pulled from the platform, or
// nil to keep the embedded sample.
func cachedCatalog(ctx context.Context, st *Stack, log *slog.Logger) *catalog.Catalog {
	body, _, err := st.Store.Document(ctx, outbox.DocCatalog)
	if err != nil || len(body) == 0 {
		return nil
	}
	c, err := catalog.Parse(body)
	if err != nil {
		log.Warn("cached catalog unusable; keeping the sample", "err", err)
		return nil
	}
	return c
}
