package techui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"onedoor/drivers/probe"
	"onedoor/drivers/probe/probers"
	"onedoor/kiosk/config"
	"onedoor/kiosk/devices"
	"onedoor/kiosk/ui"
)

// DefaultProbe probes ports for the three device kinds in the one probe
// order of drivers/probe/probers (printers first).
func DefaultProbe(ctx context.Context, ports []string) []probe.Result {
	return probe.Run(ctx, ports, probers.All())
}

// standardBauds are the rates the "next baud" button cycles through.
func standardBauds() []int { return []int{9600, 19200, 38400, 57600, 115200, 921600} }

// deviceTestTimeout bounds a test read, print or scan.
const deviceTestTimeout = 60 * time.Second

func (m *Mode) status(kind string) devices.DeviceStatus {
	if m.d.Devices != nil {
		for _, s := range m.d.Devices.Status() {
			if s.Kind == kind {
				return s
			}
		}
	}
	d := m.device(kind)
	return devices.DeviceStatus{Kind: kind, Enabled: d.Enabled, Port: d.Port, Baud: d.Baud, State: "off"}
}

// device is kind's section of the configuration (printer's profile aside).
func (m *Mode) device(kind string) config.Device {
	switch kind {
	case devices.KindCard:
		return m.cfg.Devices.IDCard
	case devices.KindPrinter:
		p := m.cfg.Devices.Printer
		return config.Device{Enabled: p.Enabled, Port: p.Port, Baud: p.Baud}
	}
	return m.cfg.Devices.Scanner
}

// setDevice changes kind's port, baud and enablement in c.
func setDevice(c *config.Config, kind string, f func(d *config.Device)) {
	switch kind {
	case devices.KindCard:
		f(&c.Devices.IDCard)
	case devices.KindPrinter:
		d := config.Device{Enabled: c.Devices.Printer.Enabled, Port: c.Devices.Printer.Port, Baud: c.Devices.Printer.Baud}
		f(&d)
		c.Devices.Printer.Enabled, c.Devices.Printer.Port, c.Devices.Printer.Baud = d.Enabled, d.Port, d.Baud
	case devices.KindScanner:
		f(&c.Devices.Scanner)
	}
}

func (m *Mode) stateText(s string) string {
	switch {
	case s == "ok":
		return m.tr.T("tech.dev.state_ok")
	case s == "absent":
		return m.tr.T("tech.dev.state_absent")
	case s == "off":
		return m.tr.T("tech.dev.state_off")
	case s == "closed":
		return m.tr.T("tech.dev.state_closed")
	}
	return m.tr.T("tech.dev.state_error", strings.TrimPrefix(s, "error: "))
}

func (m *Mode) devicesPage() fyne.CanvasObject {
	detect := ui.NewStyledButton(m.tr.T("tech.dev.autodetect"), ui.StylePrimary, m.autodetect)
	detect.Disabled = m.busy > 0
	refresh := ui.NewButton(m.tr.T("tech.refresh"), func() { m.enterPage(PageDevices) })
	rows := []fyne.CanvasObject{container.NewHBox(detect, refresh)}
	for _, kind := range devices.Kinds() {
		rows = append(rows, m.deviceRow(kind))
	}
	// Choosing a port or reading a trace concerns one device: its row
	// stays on top, the list or trace takes the rest of the screen.
	switch {
	case m.portFor != "":
		return container.NewBorder(m.deviceRow(m.portFor), nil, nil, nil, m.portChooser())
	case m.traceKind != "":
		return container.NewBorder(m.deviceRow(m.traceKind), nil, nil, nil, m.traceView())
	}
	return container.NewVBox(rows...)
}

func (m *Mode) deviceRow(kind string) fyne.CanvasObject {
	st := m.status(kind)
	name := m.tr.T("tech.dev." + kind)
	port := st.Port
	if port == "" {
		port = m.tr.T("tech.dev.no_port")
	}
	head := ui.Subheading(name)
	info := ui.Para(m.tr.T("tech.dev.port", port) + "    " + m.tr.T("tech.dev.baud", st.Baud) + "    " +
		m.tr.T("tech.dev.state", m.stateText(st.State)))
	// Each button names its device on a second line: the three rows have
	// the same actions, and a technician (or a test) must tell them apart.
	btn := func(key string, f func()) *ui.Button {
		b := ui.NewButton(m.tr.T(key)+"\n"+name, f)
		b.Disabled = m.busy > 0
		return b
	}
	enableKey := "tech.dev.disable"
	if !m.device(kind).Enabled {
		enableKey = "tech.dev.enable"
	}
	testKey := map[string]string{devices.KindCard: "tech.dev.test_card", devices.KindPrinter: "tech.dev.test_print", devices.KindScanner: "tech.dev.test_scan"}[kind]
	buttons := container.NewHBox(
		btn("tech.dev.change_port", func() {
			m.portFor, m.traceKind, m.chooserPage = kind, "", 0
			m.candidates = m.d.Ports(m.configuredPorts())
			m.redraw()
		}),
		btn("tech.dev.baud_next", func() { m.nextBaud(kind) }),
		btn(enableKey, func() { m.toggleDevice(kind) }),
		btn(testKey, func() { m.testDevice(kind) }),
		btn("tech.dev.trace", func() {
			m.traceKind, m.portFor = kind, ""
			m.redraw()
		}),
	)
	return ui.Card(head, info, buttons)
}

func (m *Mode) nextBaud(kind string) {
	cur := m.status(kind).Baud
	bauds := standardBauds()
	next := bauds[0]
	if i := slices.Index(bauds, cur); i >= 0 {
		next = bauds[(i+1)%len(bauds)]
	}
	m.change(fmt.Sprintf("devices.%s.baud=%d", kind, next), func(c *config.Config) error {
		setDevice(c, kind, func(d *config.Device) { d.Baud = next })
		return nil
	})
}

func (m *Mode) toggleDevice(kind string) {
	on := !m.device(kind).Enabled
	m.change(fmt.Sprintf("devices.%s.enabled=%t", kind, on), func(c *config.Config) error {
		setDevice(c, kind, func(d *config.Device) { d.Enabled = on })
		return nil
	})
}

// assignPort makes path kind's port (and enables the device).
func (m *Mode) assignPort(kind, path string) {
	baud := 0
	if r, ok := m.found[path]; ok && r.Kind == kind {
		baud = r.Baud
	}
	if m.change(fmt.Sprintf("devices.%s.port=%s", kind, path), func(c *config.Config) error {
		setDevice(c, kind, func(d *config.Device) {
			d.Port, d.Enabled = path, true
			if baud != 0 {
				d.Baud = baud
			}
		})
		return nil
	}) {
		m.portFor = ""
		m.redraw()
	}
}

func (m *Mode) portChooser() fyne.CanvasObject {
	kind := m.portFor
	title := ui.Para(m.tr.T("tech.dev.candidates", m.tr.T("tech.dev."+kind)))
	var items []fyne.CanvasObject
	for _, c := range m.candidates {
		text := c.Path
		if c.Target != "" {
			text += " → " + c.Target
		}
		if !c.Exists {
			text += m.tr.T("tech.dev.absent")
		}
		if r, ok := m.found[c.Path]; ok {
			if r.Kind != "" {
				text += "\n" + m.tr.T("tech.dev.found", m.tr.T("tech.dev."+r.Kind), r.Baud)
			} else {
				text += "\n" + m.tr.T("tech.dev.not_found")
			}
		}
		path := c.Path
		b := ui.NewButton(text, func() { m.assignPort(kind, path) })
		b.Disabled = m.busy > 0
		items = append(items, b)
	}
	cancel := ui.NewButton(m.tr.T("tech.cancel"), func() {
		m.portFor = ""
		m.redraw()
	})
	var list fyne.CanvasObject = ui.Para(m.tr.T("tech.dev.no_candidates"))
	if len(items) > 0 {
		pl := ui.NewPagedList(m.tr, items, 6, 1, m.chooserPage)
		pl.OnPage = func(n int) { m.chooserPage = n }
		list = pl
	}
	return container.NewBorder(title, cancel, nil, nil, list)
}

func (m *Mode) traceView() fyne.CanvasObject {
	kind := m.traceKind
	title := ui.Para(m.tr.T("tech.dev.trace_title", m.tr.T("tech.dev."+kind)))
	body := m.tr.T("tech.dev.trace_none")
	if m.d.Devices != nil {
		if recs := m.d.Devices.Trace(kind); recs != nil || kind != devices.KindPrinter {
			body = m.tr.T("tech.dev.trace_empty")
			if len(recs) > 0 {
				// The newest records that fit the panel.
				recs = recs[max(0, len(recs)-8):]
				var b strings.Builder
				for _, r := range recs {
					b.WriteString(r.String())
				}
				body = b.String()
			}
		}
	}
	text := widget.NewLabel(body)
	text.TextStyle = fyne.TextStyle{Monospace: true}
	text.Wrapping = fyne.TextWrapBreak
	closeB := ui.NewButton(m.tr.T("tech.dev.close"), func() {
		m.traceKind = ""
		m.redraw()
	})
	return container.NewBorder(title, closeB, nil, nil, text)
}

// autodetect releases the devices, probes every candidate port, assigns
// the first port each kind answered on, saves and reopens.
func (m *Mode) autodetect() {
	if m.busy > 0 {
		return
	}
	var ports []string
	m.candidates = m.d.Ports(m.configuredPorts())
	for _, c := range m.candidates {
		if c.Exists {
			ports = append(ports, c.Path)
		}
	}
	m.say(m.tr.T("tech.dev.detecting"), false)
	m.portFor, m.traceKind = "", ""
	m.redraw()
	m.run(func(ctx context.Context) func() {
		if m.d.Devices != nil {
			if err := m.d.Devices.Release(ctx); err != nil {
				m.log.Warn("releasing devices before probing", "err", err)
			}
		}
		results := m.d.Probe(ctx, ports)
		return func() { m.detected(results) }
	})
}

func (m *Mode) detected(results []probe.Result) {
	m.found = map[string]probe.Result{}
	chosen := map[string]probe.Result{}
	for _, r := range results {
		m.found[r.Port] = r
		if r.Kind != "" {
			if _, dup := chosen[r.Kind]; !dup {
				chosen[r.Kind] = r
			}
		}
	}
	if len(chosen) == 0 {
		m.say(m.tr.T("tech.dev.none_found"), true)
		m.apply() // reopen what was released
		m.redraw()
		return
	}
	var detail []string
	for _, kind := range devices.Kinds() {
		if r, ok := chosen[kind]; ok {
			detail = append(detail, fmt.Sprintf("%s=%s@%d", kind, r.Port, r.Baud))
		}
	}
	ok := m.change(strings.Join(detail, " "), func(c *config.Config) error {
		for kind, r := range chosen {
			setDevice(c, kind, func(d *config.Device) { d.Port, d.Baud, d.Enabled = r.Port, r.Baud, true })
		}
		return nil
	})
	if ok {
		m.audit(EventAutodetect, strings.Join(detail, " "))
		m.say(m.tr.T("tech.dev.detected", len(chosen)), false)
	} else {
		m.apply()
	}
	m.redraw()
}

func (m *Mode) testDevice(kind string) {
	if m.d.Devices == nil || m.busy > 0 {
		return
	}
	wait := map[string]string{devices.KindCard: "tech.dev.card_wait", devices.KindScanner: "tech.dev.scan_wait"}[kind]
	if wait != "" {
		m.say(m.tr.T(wait), false)
	} else {
		m.say(m.tr.T("tech.busy"), false)
	}
	m.redraw()
	m.run(func(ctx context.Context) func() {
		ctx, cancel := context.WithTimeout(ctx, deviceTestTimeout)
		defer cancel()
		var msg string
		var err error
		switch kind {
		case devices.KindCard:
			var r devices.CardResult
			if r, err = m.d.Devices.ReadCard(ctx); err == nil {
				exp := ""
				if r.Expired {
					exp = m.tr.T("tech.dev.card_expired")
				}
				msg = m.tr.T("tech.dev.card_ok", m.tr.T("tech.card_type."+r.Type), r.Name, r.IDNumber) + exp
			}
		case devices.KindPrinter:
			var r devices.PrintResult
			if r, err = m.d.Devices.PrintTest(ctx); err == nil {
				msg = m.tr.T("tech.dev.print_ok", r.Bytes, r.Took.Seconds())
			}
		case devices.KindScanner:
			var r devices.ScanResult
			if r, err = m.d.Devices.ScanTest(ctx); err == nil {
				msg = m.tr.T("tech.dev.scan_ok", r.Width, r.Height, r.DPI, r.Bytes/1024)
				if r.Blank {
					msg += m.tr.T("tech.dev.scan_blank")
				}
			}
		}
		return func() {
			outcome := "ok"
			switch {
			case errors.Is(err, devices.ErrNoDevice):
				m.say(m.tr.T("tech.dev.not_configured"), true)
				outcome = "not configured"
			case err != nil:
				m.say(m.tr.T("tech.failed", maskLine(err.Error())), true)
				outcome = "failed"
			default:
				m.say(msg, false)
			}
			m.audit(EventDeviceTest, kind+" "+outcome)
			m.redraw()
		}
	})
}
