package techui

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"onedoor/kiosk/nettest"
	"onedoor/kiosk/ui"
)

// connTestTimeout bounds each layer of the connection test.
const connTestTimeout = 10 * time.Second

func (m *Mode) networkPage() fyne.CanvasObject {
	url := m.cfg.Platform.URL
	if url == "" {
		url = m.tr.T("tech.net.url_unset")
	}
	token := m.tr.T("tech.net.token_unset")
	if n := len(m.cfg.Platform.Token); n > 0 {
		// Never on screen: the token is a credential.
		token = m.tr.T("tech.net.token_set", n)
	}
	editURL := ui.NewButton(m.tr.T("tech.net.edit_url"), func() {
		m.startEdit("platform.url", "tech.field.url", m.cfg.Platform.URL, false, ":/_", ui.KeypadLatin)
	})
	editToken := ui.NewButton(m.tr.T("tech.net.edit_token"), func() {
		e := m.startEdit("platform.token", "tech.field.token", "", false, "_", ui.KeypadLatin)
		e.secret = true
	})
	test := ui.NewStyledButton(m.tr.T("tech.net.test"), ui.StylePrimary, m.connTest)
	test.Disabled = m.busy > 0
	rows := []fyne.CanvasObject{
		container.NewBorder(nil, nil, nil, editURL, ui.Para(m.tr.T("tech.net.url", url))),
		container.NewBorder(nil, nil, nil, editToken, ui.Para(m.tr.T("tech.net.token", token))),
		test,
	}
	if r := m.report; r != nil {
		rows = append(rows, m.reportView(*r)...)
	}
	return container.NewVBox(rows...)
}

func (m *Mode) reportView(r nettest.Report) []fyne.CanvasObject {
	var out []fyne.CanvasObject
	// A form layout sizes each row to its own text, so a long detail does
	// not stretch every row.
	grid := container.New(layout.NewFormLayout())
	for _, st := range r.Steps {
		name := widget.NewLabel(m.tr.T("tech.net.step_line", m.tr.T("tech.net.step_"+st.Name), m.tr.T("tech.net."+string(st.Outcome))))
		switch st.Outcome {
		case nettest.OK:
			name.Importance = widget.SuccessImportance
		case nettest.Failed:
			name.Importance = widget.DangerImportance
		}
		grid.Add(name)
		grid.Add(ui.Para(st.Detail))
	}
	out = append(out, grid)
	verdict := ui.Para(m.verdict(r))
	out = append(out, verdict)
	if r.HaveClock {
		out = append(out, ui.Para(m.tr.T("tech.net.clock", fmtDuration(r.ClockOffset))))
	} else {
		out = append(out, ui.Para(m.tr.T("tech.net.clock_unknown")))
	}
	if !r.CertNotAfter.IsZero() {
		out = append(out, ui.Para(m.tr.T("tech.net.cert", r.CertNotAfter.Local().Format("2006-01-02"))))
	}
	return out
}

// verdict says in one sentence which layer failed and what to check.
func (m *Mode) verdict(r nettest.Report) string {
	err := r.Err()
	switch {
	case err == nil:
		return m.tr.T("tech.net.verdict_ok")
	case errors.Is(err, nettest.ErrConfig):
		return m.tr.T("tech.net.verdict_config")
	case errors.Is(err, nettest.ErrDNS):
		return m.tr.T("tech.net.verdict_dns")
	case errors.Is(err, nettest.ErrTCP):
		return m.tr.T("tech.net.verdict_tcp")
	case errors.Is(err, nettest.ErrTLS):
		return m.tr.T("tech.net.verdict_tls")
	case errors.Is(err, nettest.ErrUnauthorized):
		return m.tr.T("tech.net.verdict_401")
	}
	return m.tr.T("tech.net.verdict_http", err.Error())
}

// Report is the last connection test's result, for tests.
func (m *Mode) Report() *nettest.Report { return m.report }

func (m *Mode) connTest() {
	if m.busy > 0 {
		return
	}
	o := nettest.Options{URL: m.cfg.Platform.URL, KioskID: m.cfg.Kiosk.ID, Token: m.cfg.Platform.Token,
		Timeout: connTestTimeout, Clock: m.d.Now}
	if f := m.cfg.Platform.CAFile; f != "" {
		pem, err := os.ReadFile(f)
		if err != nil {
			m.say(m.tr.T("tech.failed", fmt.Sprintf("platform.ca_file: %v", err)), true)
			m.redraw()
			return
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			m.say(m.tr.T("tech.failed", "platform.ca_file: no PEM certificate"), true)
			m.redraw()
			return
		}
		o.RootCAs = pool
	}
	m.report = nil
	m.say(m.tr.T("tech.net.testing"), false)
	m.redraw()
	m.run(func(ctx context.Context) func() {
		rep := m.d.ConnTest(ctx, o)
		return func() {
			m.report = &rep
			m.msg = ""
			if m.state == opened {
				m.redraw()
			}
		}
	})
}
