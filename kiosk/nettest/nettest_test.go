package nettest

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"onedoor/kiosk/internal/testnet"
	"onedoor/sync/platform"
	"onedoor/sync/platform/local"
)

// platformServer runs the real reference platform with one kiosk and
// returns its handler and the kiosk's token.
func platformServer(t *testing.T) (http.Handler, string) {
	t.Helper()
	ctx := context.Background()
	p, err := local.Open(ctx, t.TempDir(), platform.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	tok, err := p.AddKiosk(ctx, "K7")
	if err != nil {
		t.Fatal(err)
	}
	return p.Server, tok
}

func closedPort(t *testing.T) string { return testnet.RefusingAddr(t) }

// deadResolver sends DNS queries to a loopback port where nothing listens.
func deadResolver(t *testing.T) *net.Resolver {
	addr := closedPort(t)
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}}
}

func outcomes(r Report) string {
	var b []string
	for _, s := range r.Steps {
		b = append(b, s.Name+"="+string(s.Outcome))
	}
	return strings.Join(b, " ")
}

func TestConnectionLayers(t *testing.T) {
	h, token := platformServer(t)
	tlsSrv := httptest.NewTLSServer(h)
	defer tlsSrv.Close()
	plainSrv := httptest.NewServer(h)
	defer plainSrv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(tlsSrv.Certificate())
	_, tlsPort, _ := net.SplitHostPort(strings.TrimPrefix(tlsSrv.URL, "https://"))
	refused := closedPort(t)
	_, refusedPort, _ := net.SplitHostPort(refused)

	tests := []struct {
		name     string
		opts     Options
		want     string // outcomes of dns tcp tls http
		sentinel error
		detail   string // in the failed step's detail
		status   int
	}{
		{"all good over TLS", Options{URL: tlsSrv.URL, KioskID: "K7", Token: token, RootCAs: pool},
			"dns=ok tcp=ok tls=ok http=ok", nil, "", 200},
		{"all good over http via a name", Options{URL: strings.Replace(plainSrv.URL, "127.0.0.1", "localhost", 1), KioskID: "K7", Token: token},
			"dns=ok tcp=ok tls=skipped http=ok", nil, "", 200},
		{"refused TCP", Options{URL: "https://localhost:" + refusedPort, KioskID: "K7", Token: token, RootCAs: pool},
			"dns=ok tcp=failed tls=skipped http=skipped", ErrTCP, "connection refused", 0},
		{"untrusted certificate", Options{URL: tlsSrv.URL, KioskID: "K7", Token: token},
			"dns=ok tcp=ok tls=failed http=skipped", ErrTLS, "unknown authority", 0},
		{"certificate for another name", Options{URL: "https://localhost:" + tlsPort, KioskID: "K7", Token: token, RootCAs: pool},
			"dns=ok tcp=ok tls=failed http=skipped", ErrTLS, "another name", 0},
		{"https to a plain http port", Options{URL: strings.Replace(plainSrv.URL, "http://", "https://", 1), KioskID: "K7", Token: token},
			"dns=ok tcp=ok tls=failed http=skipped", ErrTLS, "did not speak TLS", 0},
		{"wrong token", Options{URL: tlsSrv.URL, KioskID: "K7", Token: strings.Repeat("0", 64), RootCAs: pool},
			"dns=ok tcp=ok tls=ok http=failed", ErrUnauthorized, "platform refused this kiosk (401)", 401},
		{"no token", Options{URL: tlsSrv.URL, KioskID: "K7", RootCAs: pool},
			"dns=ok tcp=ok tls=ok http=failed", ErrUnauthorized, "set platform.token", 401},
		{"wrong base path", Options{URL: tlsSrv.URL + "/other", KioskID: "K7", Token: token, RootCAs: pool},
			"dns=ok tcp=ok tls=ok http=failed", ErrHTTP, "base URL", 404},
		{"name does not resolve", Options{URL: "https://platform.invalid", KioskID: "K7", Token: token, Resolver: deadResolver(t), Timeout: 2 * time.Second},
			"dns=failed tcp=skipped tls=skipped http=skipped", ErrDNS, "platform.invalid", 0},
		{"not a URL", Options{URL: "platform.example:443"},
			"dns=failed tcp=skipped tls=skipped http=skipped", ErrConfig, "not an http", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := Run(context.Background(), tc.opts)
			if got := outcomes(rep); got != tc.want {
				t.Fatalf("steps %s, want %s\n%+v", got, tc.want, rep.Steps)
			}
			err := rep.Err()
			if tc.sentinel == nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
			} else if !errors.Is(err, tc.sentinel) {
				t.Fatalf("err = %v, want %v", err, tc.sentinel)
			}
			if tc.detail != "" {
				var failed Step
				for _, s := range rep.Steps {
					if s.Outcome == Failed {
						failed = s
					}
				}
				if !strings.Contains(failed.Detail, tc.detail) {
					t.Errorf("detail %q does not say %q", failed.Detail, tc.detail)
				}
			}
			if rep.HTTPStatus != tc.status {
				t.Errorf("HTTP status %d, want %d", rep.HTTPStatus, tc.status)
			}
			// A refused connection is not a TLS problem is not a 401.
			for _, other := range []error{ErrDNS, ErrTCP, ErrTLS, ErrUnauthorized} {
				if tc.sentinel != nil && other != tc.sentinel && !errors.Is(tc.sentinel, other) && errors.Is(err, other) {
					t.Errorf("err %v also matches %v", err, other)
				}
			}
		})
	}
}

func TestClockOffsetAndCertExpiry(t *testing.T) {
	h, token := platformServer(t)
	srv := httptest.NewTLSServer(h)
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())

	tests := []struct {
		name   string
		skew   time.Duration // kiosk clock minus real time
		status int
	}{
		{"clock right", 0, 200},
		{"kiosk 40 s slow, within the signature window", -40 * time.Second, 200},
		{"kiosk two hours fast", 2 * time.Hour, 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := func() time.Time { return time.Now().Add(tc.skew) }
			rep := Run(context.Background(), Options{URL: srv.URL, KioskID: "K7", Token: token, RootCAs: pool, Clock: clock})
			if rep.HTTPStatus != tc.status {
				t.Fatalf("status %d, want %d: %+v", rep.HTTPStatus, tc.status, rep.Steps)
			}
			if !rep.HaveClock {
				t.Fatal("no clock offset from the Date header")
			}
			// Date has one-second resolution; allow two for scheduling.
			if diff := rep.ClockOffset + tc.skew; diff < -2*time.Second || diff > 2*time.Second {
				t.Errorf("clock offset %v, want about %v", rep.ClockOffset, -tc.skew)
			}
			if !rep.CertNotAfter.Equal(srv.Certificate().NotAfter) {
				t.Errorf("cert expiry %v, want %v", rep.CertNotAfter, srv.Certificate().NotAfter)
			}
		})
	}
}

func TestTCPTimeoutIsNotRefused(t *testing.T) {
	// A listener whose backlog is full and never accepted: TLS then times
	// out waiting for the server's hello, which must read as "no answer".
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rep := Run(context.Background(), Options{URL: "https://" + l.Addr().String(), Timeout: 300 * time.Millisecond})
	if got := outcomes(rep); got != "dns=ok tcp=ok tls=failed http=skipped" {
		t.Fatalf("steps %s", got)
	}
	if d := rep.Step("tls").Detail; !strings.Contains(d, "no answer in time") {
		t.Fatalf("detail %q", d)
	}
}
