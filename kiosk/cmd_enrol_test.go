package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"onedoor/kiosk/config"
	"onedoor/sync/api"
	"onedoor/sync/client"
	"onedoor/sync/platform"
)

// TestConfigEnrol: `onedoor config enrol --code` makes the kiosk's key pair
// on the kiosk, registers the public key, and keeps the key as
// platform.token; the kiosk then signs with it.
func TestConfigEnrol(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	st, srv := startPlatform(t, filepath.Join(tmp, "platform"))
	code, err := platform.AddEnrolment(ctx, st, "DG-0001", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(tmp, "config.toml")
	runIn := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		c := run(ctx, args, &out, &errb)
		return c, out.String(), errb.String()
	}
	if c, _, e := runIn("config", "set", "--config", path, "platform.url", srv.URL, "kiosk.id", "DG-0001"); c != exitOK {
		t.Fatalf("config set = %d %s", c, e)
	}
	if c, _, e := runIn("config", "enrol", "--config", path, "--code", "WRONG"); c != exitFailure || !strings.Contains(e, "unauthorized") {
		t.Fatalf("enrol with a wrong code = %d %s", c, e)
	}
	c, out, e := runIn("config", "enrol", "--config", path, "--code", code)
	if c != exitOK || !strings.Contains(out, "enrolled") {
		t.Fatalf("enrol = %d %s %s", c, out, e)
	}
	cfg, err := config.Load(path)
	if err != nil || !strings.HasPrefix(cfg.Platform.Token, "ed25519:") {
		t.Fatalf("config after enrolment: token %q %v", cfg.Platform.Token[:min(8, len(cfg.Platform.Token))], err)
	}
	cl, err := client.New(client.Config{BaseURL: srv.URL, KioskID: "DG-0001", Token: cfg.Platform.Token, RetryMax: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Heartbeat(ctx, &api.Heartbeat{KioskID: "DG-0001", Version: "t"}); err != nil {
		t.Fatalf("heartbeat with the enrolled key: %v", err)
	}
}
