package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"onedoor/sync/outbox"
	"onedoor/sync/platform"
	"onedoor/sync/platform/blobdir"
	"onedoor/sync/platform/blobseal"
	"onedoor/sync/platform/sqlitestore"
)

func TestSyncNowAndRun(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	st, srv := startPlatform(t, filepath.Join(tmp, "platform"))
	token := fmt.Sprintf("%064x", sha256.Sum256([]byte("S01")))
	if err := st.AddKiosk(ctx, "S01", token, time.Now()); err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(tmp, "token")
	os.WriteFile(tokenFile, []byte(token+"\n"), 0o600)
	data := filepath.Join(tmp, "data")
	exported := func() int {
		n := 0
		st.Export(ctx, func(platform.ExportRow) error { n++; return nil })
		return n
	}
	runIn := func(ctx context.Context, args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(ctx, args, &out, &errb)
		return code, out.String(), errb.String()
	}
	common := []string{"--data", data, "--kiosk", "S01", "--token-file", tokenFile}

	if code, _, stderr := runIn(ctx, "dev", "enqueue", "--data", data, "--count", "3", "--attach-bytes", "5000", "--kiosk", "S01"); code != exitOK {
		t.Fatalf("dev enqueue: %d %s", code, stderr)
	}
	// backOff puts every queued submission an hour into a backoff, as
	// after failed attempts, and returns their receipts.
	backOff := func(t *testing.T) []string {
		t.Helper()
		ob, err := outbox.Open(ctx, outbox.Options{Dir: data, KeyFile: outbox.DefaultKeyFile(data), KioskID: "S01"})
		if err != nil {
			t.Fatal(err)
		}
		defer ob.Close()
		var receipts []string
		for {
			p, err := ob.NextDue(ctx, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if p == nil {
				return receipts
			}
			if err := ob.MarkRetry(ctx, p.UUID, "POST /api/v1/submissions: 503", time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			receipts = append(receipts, p.Receipt)
		}
	}
	tests := []struct {
		name     string
		before   func(t *testing.T) []string // receipts the output must name
		args     []string
		want     int
		out      []string // all of them in the output
		exported int
	}{
		{"no mode", nil, []string{"sync"}, exitUsage, nil, 0},
		{"missing flags", nil, []string{"sync", "now", "--data", data}, exitUsage, nil, 0},
		{"platform down", nil, append([]string{"sync", "now", "--platform", "http://127.0.0.1:1"}, common...), exitFailure, []string{"3 still queued"}, 0},
		// The link is fixed: what waits out a backoff is sent at once.
		{"drains what waited", backOff, append([]string{"sync", "now", "--platform", srv.URL}, common...), exitOK,
			[]string{"made 3 waiting submission(s) due now: ", "sent 3, rejected 0, retried 0, 0 still queued"}, 3},
		{"nothing left", nil, append([]string{"sync", "now", "--platform", srv.URL}, common...), exitOK, []string{"sent 0"}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var named []string
			if tc.before != nil {
				named = tc.before(t)
			}
			code, out, stderr := runIn(ctx, tc.args...)
			if code != tc.want {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tc.want, out, stderr)
			}
			for _, want := range append(named, tc.out...) {
				if !strings.Contains(out, want) {
					t.Fatalf("stdout lacks %q\nstdout: %s\nstderr: %s", want, out, stderr)
				}
			}
			if n := exported(); n != tc.exported {
				t.Fatalf("platform holds %d, want %d", n, tc.exported)
			}
			if strings.Contains(stderr, token) {
				t.Fatal("the token was printed")
			}
		})
	}

	// sync run: runs until interrupted, sending what arrives meanwhile.
	runIn(ctx, "dev", "enqueue", "--data", data, "--count", "2", "--attach-bytes", "100", "--kiosk", "S01")
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan int)
	var out bytes.Buffer
	go func() {
		var errb bytes.Buffer
		done <- run(rctx, append([]string{"sync", "run", "--platform", srv.URL}, common...), &out, &errb)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for exported() != 5 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != exitOK || exported() != 5 {
		t.Fatalf("sync run: exit %d, exported %d, %s", code, exported(), out.String())
	}

	// A token file others can read is refused.
	os.Chmod(tokenFile, 0o644)
	if code, _, stderr := runIn(ctx, append([]string{"sync", "now", "--platform", srv.URL}, common...)...); code != exitFailure || !strings.Contains(stderr, "chmod 600") {
		t.Fatalf("world-readable token: exit %d %s", code, stderr)
	}
}

// startPlatform serves a reference platform (SQLite and a blob folder in
// dir) on loopback until the test ends.
func startPlatform(t *testing.T, dir string) (*sqlitestore.Store, *httptest.Server) {
	t.Helper()
	os.MkdirAll(dir, 0o700)
	st, err := sqlitestore.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// A fixed test data key: blobs are sealed at rest (blobseal).
	blobKey, _ := blobseal.NewKey(make([]byte, 32))
	blobs, err := blobdir.Open(filepath.Join(dir, "blobs"), blobKey)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	h, err := platform.New(platform.Config{Store: st, Blobs: blobs, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return st, srv
}
