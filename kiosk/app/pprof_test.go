package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func TestServeProfilesLoopbackOnly(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		addr    string
		wantErr error // nil: must serve
	}{
		{addr: "127.0.0.1:0"},
		{addr: "localhost:0"},
		{addr: "0.0.0.0:0", wantErr: ErrNotLoopback},
		{addr: ":0", wantErr: ErrNotLoopback},
		{addr: "192.0.2.1:6060", wantErr: ErrNotLoopback},
		{addr: "no-port"},
	}
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			got, err := ServeProfiles(ctx, tc.addr, log)
			switch {
			case tc.addr == "no-port":
				if err == nil {
					t.Fatalf("ServeProfiles(%q) served on %s, want an error", tc.addr, got)
				}
				return
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("ServeProfiles(%q) = %q, %v; want %v", tc.addr, got, err, tc.wantErr)
				}
				return
			case err != nil:
				t.Fatalf("ServeProfiles(%q): %v", tc.addr, err)
			}
			for path, want := range map[string]string{
				"/debug/memory?gc=1":        "go heap in use",
				"/debug/pprof/":             "heap",
				"/debug/pprof/heap?debug=1": "heap profile",
			} {
				resp, err := http.Get("http://" + got + path)
				if err != nil {
					t.Fatalf("GET %s: %v", path, err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
					t.Errorf("GET %s: %s, body lacks %q:\n%.300s", path, resp.Status, want, body)
				}
			}
			cancel()
		})
	}
}

func TestMemoryReportHasRSS(t *testing.T) {
	r := string(MemoryReport())
	for _, want := range []string{"go heap in use", "go total from OS", "VmRSS"} {
		if !strings.Contains(r, want) {
			t.Errorf("report lacks %q:\n%s", want, r)
		}
	}
}
