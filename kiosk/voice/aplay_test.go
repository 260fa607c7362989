package voice

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// needAplay returns aplay's path; build/setup installs alsa-utils.
func needAplay(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("aplay")
	if err != nil {
		t.Fatalf("aplay not found (alsa-utils; run build/setup): %v", err)
	}
	return p
}

// script writes an executable shell script standing in for aplay.
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "aplay")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAplay(t *testing.T) {
	needAplay(t)
	clip := Clip{Key: "voice.home", Data: WAV(16000, 8, 1, make([]byte, 1600))}
	tests := []struct {
		name      string
		player    *Aplay
		state     string
		noDevice  bool
		wantError bool
	}{
		{"null device decodes", &Aplay{Device: "null", Volume: func() int { return 40 }}, "ok", false, false},
		{"no such ALSA device", &Aplay{Device: "onedoor_no_such_pcm"}, "absent", true, true},
		{"aplay not installed", &Aplay{Device: "null", Command: filepath.Join(t.TempDir(), "aplay")}, "absent", true, true},
		{"device busy", &Aplay{Command: script(t, `echo "aplay: main:831: audio open error: Device or resource busy" >&2; exit 1`)},
			"error: audio open error: Device or resource busy", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.player.Play(context.Background(), clip)
			if (err != nil) != tc.wantError {
				t.Fatalf("Play: %v", err)
			}
			if got := errors.Is(err, ErrNoDevice); got != tc.noDevice {
				t.Errorf("ErrNoDevice %v, want %v (%v)", got, tc.noDevice, err)
			}
			if got := tc.player.State(); got != tc.state {
				t.Errorf("state %q, want %q", got, tc.state)
			}
			if err := tc.player.Check(context.Background()); (err != nil) != tc.wantError {
				t.Errorf("Check: %v", err)
			}
		})
	}
}

// TestAplayCutOff: cancelling Play kills aplay at once and leaves the
// device state alone (being cut off is not a fault).
func TestAplayCutOff(t *testing.T) {
	a := &Aplay{Command: script(t, "exec sleep 30")}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	err := a.Play(ctx, Clip{Data: Silence(time.Second)})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Play = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("cut off after %v", d)
	}
	if s := a.State(); s != "" {
		t.Errorf("state %q after a cut-off", s)
	}
}

// TestAplayRefusesBrokenClip: a clip that is not PCM WAV never reaches the
// device when a volume applies.
func TestAplayRefusesBrokenClip(t *testing.T) {
	a := &Aplay{Device: "null", Volume: func() int { return 50 }}
	err := a.Play(context.Background(), Clip{Path: "x.wav", Data: []byte("not a wav")})
	if !errors.Is(err, ErrNotWAV) || !strings.Contains(err.Error(), "x.wav") {
		t.Fatalf("Play = %v", err)
	}
}
