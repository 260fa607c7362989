package voice_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"onedoor/assets"
	"onedoor/kiosk/flow"
	"onedoor/kiosk/voice"
)

// TestNoSoundDevice: a kiosk without a sound device speaks to nobody but
// serves on: every screen change returns at once, and the device reads
// "absent" for the heartbeat and the technician.
func TestNoSoundDevice(t *testing.T) {
	sys := voice.Open(voice.Settings{Enabled: true, Default: voice.DefaultOn, Volume: 80, Device: "onedoor_no_such_pcm"}, assets.Voice(), nil, nil)
	defer sys.Close()
	start := time.Now()
	for i := range 40 {
		sys.Show(flow.State{Step: voice.Steps()[i%len(voice.Steps())], ElderMode: true})
	}
	sys.Repeat()
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("40 screens took %v with no sound device", d)
	}
	sys.Guide().Wait()
	if st := sys.DeviceState(); st != "absent" {
		t.Errorf("device state %q, want absent", st)
	}
	r := voice.Diagnose(context.Background(), voice.Settings{Device: "onedoor_no_such_pcm"}, assets.Voice(), nil)
	if r.OK || !strings.Contains(r.Detail, "absent") {
		t.Errorf("diagnosis %+v", r)
	}
}

// TestOverrideFolder: a service hall's recording replaces the built-in
// prompt of the same name; a broken or misnamed file is reported and the
// built-in prompt plays instead.
func TestOverrideFolder(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "yue"), 0o755); err != nil {
		t.Fatal(err)
	}
	human := voice.WAV(22050, 16, 1, make([]byte, 22050*2))
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, "yue", name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("identify.wav", human)
	write("thanks.wav", []byte("ID3 an mp3, not a wav"))
	write("identfy.wav", human)

	lib := voice.NewLibrary(assets.Voice(), dir)
	c, err := lib.Clip(voice.Cantonese, "voice.identify")
	if err != nil || c.Path != filepath.Join(dir, "yue", "identify.wav") {
		t.Fatalf("override not used: %s %v", c.Path, err)
	}
	if c, err := lib.Clip(voice.Mandarin, "voice.identify"); err != nil || !strings.HasPrefix(c.Path, "builtin:") {
		t.Fatalf("Mandarin took the Cantonese override: %s %v", c.Path, err)
	}
	if c, err := lib.Clip(voice.Cantonese, "voice.thanks"); err != nil || !strings.HasPrefix(c.Path, "builtin:") {
		t.Fatalf("broken override played: %s %v", c.Path, err)
	}
	if _, err := lib.Clip(voice.Cantonese, "voice.../../etc/passwd"); err == nil {
		t.Fatal("a key named a file outside the voice folders")
	}
	keys := voice.RequiredKeys(nil)
	r := voice.Diagnose(context.Background(), voice.Settings{Device: "null", Dir: dir}, assets.Voice(), keys)
	for _, want := range []string{"plays", "1 recordings", "thanks.wav", "identfy.wav"} {
		if !strings.Contains(r.Detail, want) {
			t.Errorf("diagnosis lacks %q: %s", want, r.Detail)
		}
	}
	if r.OK {
		t.Error("a broken recording passed the diagnosis")
	}
}
