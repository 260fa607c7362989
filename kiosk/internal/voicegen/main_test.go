package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"onedoor/kiosk/voice"
)

const assetsDir = "../../../assets/voice"

// TestAudioIsCurrent fails when a prompt's text changed in the catalogs, or
// a prompt was added, without the audio being rendered again.
func TestAudioIsCurrent(t *testing.T) {
	if err := run(assetsDir, false, true); err != nil {
		t.Fatal(err)
	}
}

// TestRender renders one prompt in each voice with espeak-ng and sox (as
// build/setup installs them) into a scratch folder.
func TestRender(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		v    voice.Voice
		text string
	}{
		{voice.Mandarin, "请把身份证放在感应区。"},
		{voice.Cantonese, "请把身份证放在感应区。"},
		{voice.English, "Please place your ID card on the reader."},
	} {
		out := filepath.Join(dir, string(tc.v)+".wav")
		n, secs, err := render(tc.v, tc.text, out)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		f, err := voice.ParseWAV(b)
		if err != nil {
			t.Fatal(err)
		}
		if f.SampleRate != sampleRate || f.BitsPerSample != 8 || f.Channels != 1 || n != len(b) {
			t.Errorf("%s: format %+v, %d bytes reported for %d", tc.v, f, n, len(b))
		}
		if secs < 0.8 || secs > 8 {
			t.Errorf("%s: %.2f s for a short sentence", tc.v, secs)
		}
	}
}

func TestChime(t *testing.T) {
	f, err := voice.ParseWAV(Chime())
	if err != nil {
		t.Fatal(err)
	}
	if d := f.Duration(); d < time.Second || d > 2*time.Second {
		t.Errorf("chime lasts %v", d)
	}
	b, err := os.ReadFile(filepath.Join(assetsDir, voice.ChimeKey+".wav"))
	if err != nil || string(b) != string(Chime()) {
		t.Errorf("assets' chime.wav is not the current chime (run voicegen): %v", err)
	}
}

func TestHashChangesWithTextAndVoice(t *testing.T) {
	a := Hash(voice.Mandarin, "你好")
	for _, b := range []string{Hash(voice.Cantonese, "你好"), Hash(voice.Mandarin, "您好")} {
		if a == b {
			t.Errorf("hash %s does not tell prompts apart", a)
		}
	}
	if a != Hash(voice.Mandarin, "你好") {
		t.Error("hash is not stable")
	}
}
