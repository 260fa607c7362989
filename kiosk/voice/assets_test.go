package voice_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"onedoor/assets"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/voice"
)

// TestEveryPromptHasAudio: every resident screen, resident-facing error,
// confirmation, the idle warning and the help call's answers have a prompt
// text in both UI languages, and audio in every voice that UI language
// speaks (zh-CN: Mandarin and Cantonese; en: English) among the built-in
// files. Adding a screen or an err.* message without its prompt fails here.
func TestEveryPromptHasAudio(t *testing.T) {
	cats, err := i18n.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	var zhKeys []string
	for k := range cats[i18n.ZhCN] {
		zhKeys = append(zhKeys, k)
	}
	required := voice.RequiredKeys(zhKeys)
	if len(required) < 50 {
		t.Fatalf("only %d required prompts: the key list is broken", len(required))
	}
	lib := voice.NewLibrary(assets.Voice(), "")
	voicesOf := map[string][]voice.Voice{i18n.ZhCN: {voice.Mandarin, voice.Cantonese}, i18n.EN: {voice.English}}
	for _, lang := range i18n.Languages() {
		for _, k := range required {
			text, ok := cats[lang][k]
			if !ok || strings.TrimSpace(text) == "" {
				t.Errorf("%s: prompt %q has no text", lang, k)
				continue
			}
			if strings.Contains(text, "%") {
				t.Errorf("%s: prompt %q has a format verb; prompts are recorded, so they cannot take arguments", lang, k)
			}
			for _, v := range voicesOf[lang] {
				c, err := lib.Clip(v, k)
				if err != nil {
					t.Errorf("%s: %v", lang, err)
					continue
				}
				if _, err := voice.ParseWAV(c.Data); err != nil {
					t.Errorf("%s %s: %v", v, k, err)
				}
			}
		}
	}
	if _, err := lib.Chime(); err != nil {
		t.Error(err)
	}
}

// TestBuiltinAudioDecodes plays every built-in file once through aplay on
// ALSA's null device (which decodes and discards, so it needs no sound
// card) and has sox report its duration, which must agree with the WAV
// header. It logs the set's count, size and length: the figures for the
// .deb.
func TestBuiltinAudioDecodes(t *testing.T) {
	for _, tool := range []string{"aplay", "soxi"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found (alsa-utils, sox; run build/setup): %v", tool, err)
		}
	}
	dir := t.TempDir()
	var files []string
	var total int
	var want []time.Duration
	err := fs.WalkDir(assets.Voice(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".wav") {
			return err
		}
		b, err := fs.ReadFile(assets.Voice(), p)
		if err != nil {
			return err
		}
		f, err := voice.ParseWAV(b)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		out := filepath.Join(dir, strings.ReplaceAll(p, "/", "_"))
		if err := os.WriteFile(out, b, 0o644); err != nil {
			return err
		}
		files = append(files, out)
		want = append(want, f.Duration())
		total += len(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 150 {
		t.Fatalf("only %d audio files built in", len(files))
	}
	play := exec.Command("aplay", append([]string{"-q", "-D", "null"}, files...)...)
	if out, err := play.CombinedOutput(); err != nil {
		t.Fatalf("aplay -D null: %v: %s", err, out)
	}
	out, err := exec.Command("soxi", append([]string{"-D"}, files...)...).Output()
	if err != nil {
		t.Fatalf("soxi -D: %v", err)
	}
	lines := strings.Fields(string(bytes.TrimSpace(out)))
	if len(lines) != len(files) {
		t.Fatalf("soxi reported %d durations for %d files", len(lines), len(files))
	}
	var seconds float64
	for i, l := range lines {
		s, err := strconv.ParseFloat(l, 64)
		if err != nil {
			t.Fatalf("soxi: %q", l)
		}
		seconds += s
		if d := time.Duration(s * float64(time.Second)); d-want[i] > 10*time.Millisecond || want[i]-d > 10*time.Millisecond {
			t.Errorf("%s: sox says %v, header says %v", filepath.Base(files[i]), d, want[i])
		}
		if s < 0.3 || s > 15 {
			t.Errorf("%s: %.2f s is not a short prompt", filepath.Base(files[i]), s)
		}
	}
	t.Logf("%d audio files, %d bytes (%.1f MB), %.1f s in all (sox)", len(files), total, float64(total)/1e6, seconds)
}
