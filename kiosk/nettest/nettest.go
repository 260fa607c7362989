// Package nettest is the technician's connection test to the platform. It
// runs the four layers one after another and reports each on its own, so a
// technician in a village office can tell "the name does not resolve" (DNS)
// from "nothing listens or a firewall refuses" (TCP) from "a proxy or a
// wrong CA is in the way" (TLS) from "the platform answered but refuses
// this kiosk's token" (HTTP 401). It also reads the platform's Date header
// to show how far the kiosk's clock is off, since request signatures fail
// beyond api.MaxSkew.
//
// The HTTP step is a signed GET of the statuses feed: read-only, and
// authenticated, so a wrong token or a skewed clock shows up here rather
// than at the first submission.
package nettest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"onedoor/sync/api"
	syncclient "onedoor/sync/client"
)

// Sentinel errors, one per layer; Report.Err wraps the first that failed.
var (
	ErrDNS  = errors.New("nettest: name does not resolve")
	ErrTCP  = errors.New("nettest: TCP connection failed")
	ErrTLS  = errors.New("nettest: TLS handshake failed")
	ErrHTTP = errors.New("nettest: HTTP request failed")
	// ErrUnauthorized: the platform answered 401 (wrong kiosk ID or
	// token, or the clock too far off). It wraps ErrHTTP.
	ErrUnauthorized = fmt.Errorf("%w: platform refused the kiosk (401)", ErrHTTP)
	// ErrConfig: the URL is missing or not http(s).
	ErrConfig = errors.New("nettest: bad platform URL")
)

// Outcome of one step.
type Outcome string

// Step outcomes.
const (
	OK      Outcome = "ok"
	Failed  Outcome = "failed"
	Skipped Outcome = "skipped" // an earlier step failed, or not applicable (TLS on http://)
)

// Step is the result of one layer.
type Step struct {
	Name     string        `json:"name"` // dns, tcp, tls, http
	Outcome  Outcome       `json:"outcome"`
	Detail   string        `json:"detail"`
	Duration time.Duration `json:"duration_ns"`
	err      error
}

// Report is the whole test.
type Report struct {
	URL   string `json:"url"`
	Steps []Step `json:"steps"` // always dns, tcp, tls, http in that order
	// HTTPStatus is the platform's answer, 0 when the HTTP step did not run.
	HTTPStatus int `json:"http_status,omitempty"`
	// ClockOffset is the platform's Date minus the kiosk's clock at the
	// middle of the request (one-second resolution); valid when HaveClock.
	ClockOffset time.Duration `json:"clock_offset_ns"`
	HaveClock   bool          `json:"have_clock"`
	// CertNotAfter is the expiry of the platform's certificate (https only).
	CertNotAfter time.Time `json:"cert_not_after,omitzero"`
}

// Err is nil when every step that applies passed, or the first failure.
func (r Report) Err() error {
	for _, s := range r.Steps {
		if s.Outcome == Failed {
			return s.err
		}
	}
	return nil
}

// Step returns the named step.
func (r Report) Step(name string) Step {
	for _, s := range r.Steps {
		if s.Name == name {
			return s
		}
	}
	return Step{Name: name, Outcome: Skipped}
}

// Options configure Run.
type Options struct {
	URL     string // platform base URL, as in config platform.url
	KioskID string
	Token   string
	// RootCAs verifies the platform's certificate; the system pool when nil.
	RootCAs *x509.CertPool
	// Resolver looks names up; net.DefaultResolver when nil.
	Resolver *net.Resolver
	// Timeout bounds each step; 10 s when zero.
	Timeout time.Duration
	Clock   func() time.Time // time.Now when nil
}

// Run tests the connection. It never returns an error itself: every
// failure is in the report, step by step.
func Run(ctx context.Context, o Options) (rep Report) {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	rep = Report{URL: o.URL}
	names := []string{"dns", "tcp", "tls", "http"}
	steps := map[string]*Step{}
	for _, n := range names {
		steps[n] = &Step{Name: n, Outcome: Skipped}
	}
	defer func() {
		for _, n := range names {
			rep.Steps = append(rep.Steps, *steps[n])
		}
	}()
	fail := func(s *Step, sentinel error, start time.Time, err error) {
		s.Outcome, s.Duration = Failed, time.Since(start)
		s.err = fmt.Errorf("%w: %w", sentinel, err)
		s.Detail = explain(s.Name, err)
	}

	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		s := steps["dns"]
		s.Outcome, s.err = Failed, fmt.Errorf("%w: %q", ErrConfig, o.URL)
		s.Detail = fmt.Sprintf("platform URL %q is not an http:// or https:// URL (config platform.url)", o.URL)
		return rep
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}

	// DNS.
	s := steps["dns"]
	start := time.Now()
	var addrs []string
	if ip := net.ParseIP(host); ip != nil {
		addrs = []string{ip.String()}
		s.Outcome, s.Detail = OK, host+" is an address; no lookup needed"
	} else {
		dctx, cancel := context.WithTimeout(ctx, o.Timeout)
		addrs, err = o.Resolver.LookupHost(dctx, host)
		cancel()
		if err != nil || len(addrs) == 0 {
			if err == nil {
				err = errors.New("no addresses")
			}
			fail(s, ErrDNS, start, err)
			return rep
		}
		s.Outcome, s.Duration = OK, time.Since(start)
		s.Detail = fmt.Sprintf("%s → %s", host, strings.Join(addrs, ", "))
	}

	// TCP: every address in turn, as a browser would; the last error counts.
	s = steps["tcp"]
	start = time.Now()
	var conn net.Conn
	var dialer net.Dialer
	for _, a := range addrs {
		dctx, cancel := context.WithTimeout(ctx, o.Timeout)
		conn, err = dialer.DialContext(dctx, "tcp", net.JoinHostPort(a, port))
		cancel()
		if err == nil {
			break
		}
	}
	if conn == nil {
		fail(s, ErrTCP, start, err)
		return rep
	}
	s.Outcome, s.Duration, s.Detail = OK, time.Since(start), "connected to "+conn.RemoteAddr().String()
	var closeOnce = conn
	defer func() {
		if closeOnce != nil {
			closeOnce.Close()
		}
	}()

	// TLS.
	if u.Scheme == "https" {
		s = steps["tls"]
		start = time.Now()
		tc := tls.Client(conn, &tls.Config{ServerName: host, RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12})
		hctx, cancel := context.WithTimeout(ctx, o.Timeout)
		err = tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			fail(s, ErrTLS, start, err)
			return rep
		}
		cs := tc.ConnectionState()
		if len(cs.PeerCertificates) > 0 {
			rep.CertNotAfter = cs.PeerCertificates[0].NotAfter
		}
		s.Outcome, s.Duration = OK, time.Since(start)
		s.Detail = fmt.Sprintf("%s, certificate valid until %s", tls.VersionName(cs.Version), rep.CertNotAfter.UTC().Format("2006-01-02"))
		conn, closeOnce = tc, tc
	} else {
		steps["tls"].Detail = "plain http: no TLS (use https:// outside a test network)"
	}

	// HTTP, over the connection already made, so this step tests only HTTP.
	s = steps["http"]
	start = time.Now()
	used := false
	tr := &http.Transport{
		DialContext: func(context.Context, string, string) (net.Conn, error) {
			if used {
				return nil, errors.New("connection already used")
			}
			used = true
			return conn, nil
		},
		DisableKeepAlives: true,
	}
	if u.Scheme == "https" {
		tr.DialTLSContext, tr.DialContext = tr.DialContext, nil
	}
	client := &http.Client{Transport: tr, Timeout: o.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	target := strings.TrimSuffix(o.URL, "/") + api.PathStatuses
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		fail(s, ErrHTTP, start, err)
		return rep
	}
	if o.KioskID != "" && o.Token != "" {
		nonce, err := api.NewNonce()
		if err == nil {
			// The credential may be a legacy token or an enrolled key
			// ("ed25519:…", "sm2:…"): sign as the sync client does.
			var sg api.Signer
			if sg, err = syncclient.ParseCredential(o.Token); err == nil {
				err = api.SignWith(req, o.KioskID, sg, api.EmptySHA256, o.Clock(), nonce)
			}
		}
		if err != nil {
			fail(s, ErrHTTP, start, err)
			return rep
		}
	}
	t0 := o.Clock()
	resp, err := client.Do(req)
	t1 := o.Clock()
	if err != nil {
		fail(s, ErrHTTP, start, err)
		return rep
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	closeOnce = nil // the transport owns the connection now
	rep.HTTPStatus = resp.StatusCode
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		mid := t0.Add(t1.Sub(t0) / 2)
		rep.ClockOffset, rep.HaveClock = d.Sub(mid.Truncate(time.Second)), true
	}
	s.Duration = time.Since(start)
	var apiErr api.ErrorResponse
	_ = json.Unmarshal(body, &apiErr)
	switch {
	case resp.StatusCode == http.StatusOK:
		s.Outcome, s.Detail = OK, "platform accepted the kiosk's signed request (200)"
	case resp.StatusCode == http.StatusUnauthorized:
		s.Outcome = Failed
		s.err = fmt.Errorf("%w: %s", ErrUnauthorized, apiErr.Message)
		s.Detail = "platform refused this kiosk (401): check kiosk.id and platform.token"
		if apiErr.Message != "" {
			s.Detail += "; platform says: " + apiErr.Message
		}
		if o.Token == "" {
			s.Detail = "platform requires a token (401): set platform.token"
		}
	default:
		s.Outcome = Failed
		s.err = fmt.Errorf("%w: status %d", ErrHTTP, resp.StatusCode)
		s.Detail = fmt.Sprintf("unexpected answer %s from %s: is platform.url the platform's base URL?", resp.Status, target)
	}
	return rep
}

// explain turns a low-level error into a sentence for a technician.
func explain(step string, err error) string {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var recErr tls.RecordHeaderError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return step + ": no answer in time (link down, or a firewall dropping packets)"
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return fmt.Sprintf("the name %s does not exist (check platform.url)", dnsErr.Name)
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("cannot look up %s: %s (no DNS server reachable?)", dnsErr.Name, dnsErr.Err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused: the host is up but nothing listens on that port (platform down, or wrong port)"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to the platform: check the network cable, Wi-Fi or 4G link"
	case errors.As(err, &unknownCA):
		return "the platform's certificate is signed by an unknown authority (a proxy intercepting TLS, or set platform.ca_file)"
	case errors.As(err, &hostErr):
		return "the certificate is for another name: " + hostErr.Error()
	case errors.As(err, &invalid):
		return "the certificate is not valid (expired, or the kiosk's clock is far off): " + invalid.Error()
	case errors.As(err, &certErr):
		return "certificate not accepted: " + certErr.Error()
	case errors.As(err, &recErr):
		return "the server did not speak TLS (plain http on that port?)"
	}
	return step + ": " + err.Error()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
