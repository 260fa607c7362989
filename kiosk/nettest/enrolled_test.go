package nettest

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"onedoor/sync/client"
	"onedoor/sync/platform"
	"onedoor/sync/platform/local"
)

// TestEnrolledKioskPasses: a kiosk whose credential is an enrolled key
// ("ed25519:…") passes the network test; it must not be told its
// credentials are wrong.
func TestEnrolledKioskPasses(t *testing.T) {
	ctx := context.Background()
	p, err := local.Open(ctx, t.TempDir(), platform.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	srv := httptest.NewServer(p.Server)
	defer srv.Close()
	code, err := p.AddEnrolment(ctx, "K8", time.Hour, false)
	if err != nil {
		t.Fatal(err)
	}
	cred, _, err := client.Enrol(ctx, srv.URL, "K8", code, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep := Run(ctx, Options{URL: srv.URL, KioskID: "K8", Token: cred, Timeout: 5 * time.Second})
	if got := outcomes(rep); got != "dns=skipped tcp=ok tls=skipped http=ok" && got != "dns=ok tcp=ok tls=skipped http=ok" {
		t.Fatalf("network test of an enrolled kiosk: %s %+v", got, rep)
	}
}
