package city

import (
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"onedoor/sync/api"
	"onedoor/sync/client"
	"onedoor/sync/platform"
)

// TestEnrolOnSharedStore: a kiosk enrols with its one-time code through one
// instance and then signs with its new key on another.
func TestEnrolOnSharedStore(t *testing.T) {
	ctx := t.Context()
	o := Options{DB: cluster(t).DB(t), Blobs: gw.Bucket(t), DataKey: filepath.Join(t.TempDir(), "data.key")}
	var urls []string
	var first *Platform
	for range 2 {
		p, err := Open(ctx, o, platform.Config{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(p.Server)
		t.Cleanup(func() { hs.Close(); p.Close() })
		urls = append(urls, hs.URL)
		if first == nil {
			first = p
		}
	}
	code, err := first.AddEnrolment(ctx, "DG-0042", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	cred, _, err := client.Enrol(ctx, urls[0], "DG-0042", code, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(client.Config{BaseURL: urls[1], KioskID: "DG-0042", Token: cred})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Heartbeat(ctx, &api.Heartbeat{KioskID: "DG-0042", Version: "test"}); err != nil {
		t.Fatalf("signed with the enrolled key on the other instance: %v", err)
	}
	if _, _, err := client.Enrol(ctx, urls[1], "DG-0042", code, nil); err == nil {
		t.Fatal("the code enrolled a second key on the other instance")
	}
}
