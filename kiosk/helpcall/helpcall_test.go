package helpcall_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"onedoor/kiosk/helpcall"
	"onedoor/sync/client"
	"onedoor/sync/platform"
	"onedoor/sync/platform/local"
)

// TestCallReachesPlatform: a call through the real client to a real
// platform over loopback lands among the open calls, with the kiosk, site
// and screen and nothing else; with the link down, or no platform, it is
// offline at once.
func TestCallReachesPlatform(t *testing.T) {
	ctx := context.Background()
	p, err := local.Open(ctx, t.TempDir(), platform.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	tok, err := p.AddKiosk(ctx, "DG-0001")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p.Server)
	defer srv.Close()
	cl, err := client.New(client.Config{BaseURL: srv.URL, KioskID: "DG-0001", Token: tok})
	if err != nil {
		t.Fatal(err)
	}
	online := true
	c := &helpcall.Caller{Sender: cl, Online: func() bool { return online }, KioskID: "DG-0001", Site: "东城便民服务站"}
	if err := c.Call(ctx, "materials"); err != nil {
		t.Fatal(err)
	}
	calls, err := p.Store.OpenHelp(ctx)
	if err != nil || len(calls) != 1 {
		t.Fatalf("open calls %+v %v", calls, err)
	}
	if got := calls[0]; got.KioskID != "DG-0001" || got.Site != "东城便民服务站" || got.Screen != "materials" {
		t.Errorf("call %+v", got)
	}

	online = false
	if err := c.Call(ctx, "form"); !errors.Is(err, helpcall.ErrOffline) {
		t.Errorf("link down: %v", err)
	}
	none := &helpcall.Caller{KioskID: "DG-0001"}
	if err := none.Call(ctx, "form"); !errors.Is(err, helpcall.ErrOffline) {
		t.Errorf("no platform: %v", err)
	}

	// A platform that does not answer: offline within the timeout.
	srv.Close()
	online = true
	c.Timeout = 2 * time.Second
	start := time.Now()
	if err := c.Call(ctx, "form"); !errors.Is(err, helpcall.ErrOffline) {
		t.Errorf("platform gone: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("offline answer took %v", d)
	}
}
