// Command voicegen renders the kiosk's voice prompts to audio files in
// assets/voice, at development time, with espeak-ng (Debian: espeak-ng) and
// sox (Debian: sox); build/setup installs both.
//
//	go run ./kiosk/internal/voicegen            render what changed
//	go run ./kiosk/internal/voicegen -force     render everything again
//	go run ./kiosk/internal/voicegen -check     exit 1 when audio is missing or stale
//
// Every key under [voice] in kiosk/i18n's catalogs is rendered in each
// voice: cmn (Mandarin) and yue (Cantonese) read the zh-CN text, en reads
// the English one. Files are 16 kHz mono 8-bit PCM WAV, silence trimmed
// and level normalised: aplay plays them as they are, and the three voices
// together stay a few megabytes (speech needs no more; A-law would halve
// nothing, since aplay cannot play A-law WAV). assets/voice/manifest.tsv
// records, per file, a hash of the text and of these settings, so that
// the tests in kiosk/voice find audio that no longer matches its text.
//
// A service hall replaces a prompt with a human recording by putting a
// file of the same name into the override folder (config voice.dir).
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"onedoor/kiosk/i18n"
	"onedoor/kiosk/voice"
)

// Render settings. A change here changes every hash, so everything is
// rendered again.
const (
	sampleRate = 16000
	// settings goes into each file's hash.
	settings = "espeak-ng|sox 16000/1/8u|silence 0.02 0.5%|gain -n -1|v1"
)

// speeds are espeak-ng's words per minute per voice. Its Mandarin is
// already unhurried at the default 175; Cantonese and English are slowed a
// little for residents not used to synthetic speech.
var speeds = map[voice.Voice]string{voice.Mandarin: "175", voice.Cantonese: "160", voice.English: "150"}

// espeakVoice is the espeak-ng voice name of each voice.
var espeakVoice = map[voice.Voice]string{voice.Mandarin: "cmn", voice.Cantonese: "yue", voice.English: "en-us"}

func main() {
	dir := flag.String("dir", "assets/voice", "output folder (run from the repository root)")
	force := flag.Bool("force", false, "render every prompt again")
	check := flag.Bool("check", false, "only check that every prompt has current audio")
	flag.Parse()
	if err := run(*dir, *force, *check); err != nil {
		fmt.Fprintln(os.Stderr, "voicegen:", err)
		os.Exit(1)
	}
}

// Entry is one manifest line.
type entry struct {
	voice    voice.Voice
	key      string
	hash     string
	bytes    int
	duration float64 // seconds
}

func run(dir string, force, check bool) error {
	cats, err := i18n.LoadEmbedded()
	if err != nil {
		return err
	}
	old, err := readManifest(filepath.Join(dir, "manifest.tsv"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	var out []entry
	var stale []string
	total, rendered := 0, 0
	var seconds float64
	for _, v := range voice.Voices() {
		texts := cats[v.CatalogLang()]
		var keys []string
		for k := range texts {
			if strings.HasPrefix(k, voice.Prefix) {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		if err := os.MkdirAll(filepath.Join(dir, string(v)), 0o755); err != nil {
			return err
		}
		for _, k := range keys {
			h := Hash(v, texts[k])
			path := filepath.Join(dir, string(v), voice.FileName(k))
			prev, ok := old[string(v)+"/"+k]
			current := ok && prev.hash == h && exists(path)
			if check {
				if !current {
					stale = append(stale, string(v)+"/"+k)
				}
				continue
			}
			e := entry{voice: v, key: k, hash: h}
			if current && !force {
				e.bytes, e.duration = prev.bytes, prev.duration
			} else {
				if e.bytes, e.duration, err = render(v, texts[k], path); err != nil {
					return fmt.Errorf("%s %s: %w", v, k, err)
				}
				rendered++
			}
			out = append(out, e)
			total += e.bytes
			seconds += e.duration
		}
	}
	if check {
		if len(stale) > 0 {
			return fmt.Errorf("%d prompts have no current audio (run go run ./kiosk/internal/voicegen): %s", len(stale), strings.Join(stale, ", "))
		}
		fmt.Println("voicegen: every prompt has current audio")
		return nil
	}
	if err := removeOrphans(dir, out); err != nil {
		return err
	}
	chime := filepath.Join(dir, voice.ChimeKey+".wav")
	if err := os.WriteFile(chime, Chime(), 0o644); err != nil {
		return err
	}
	if err := writeManifest(filepath.Join(dir, "manifest.tsv"), out); err != nil {
		return err
	}
	fmt.Printf("voicegen: %d prompts (%d rendered now), %d bytes, %.1f s of speech\n", len(out), rendered, total, seconds)
	return nil
}

// Hash identifies a prompt's text as rendered with the current settings.
func Hash(v voice.Voice, text string) string {
	sum := sha256.Sum256([]byte(settings + "|" + espeakVoice[v] + "|" + speeds[v] + "|" + text))
	return hex.EncodeToString(sum[:8])
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// render speaks text with espeak-ng and converts it with sox.
func render(v voice.Voice, text, out string) (int, float64, error) {
	tmp, err := os.CreateTemp("", "voicegen-*.wav")
	if err != nil {
		return 0, 0, err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	if err := runCmd("espeak-ng", "-v", espeakVoice[v], "-s", speeds[v], "-w", tmp.Name(), "--", text); err != nil {
		return 0, 0, err
	}
	// Trim silence at both ends (reverse, trim, reverse), normalise to
	// -1 dBFS so 8 bits keep the speech clear, then resample.
	if err := runCmd("sox", tmp.Name(), "-r", fmt.Sprint(sampleRate), "-c", "1", "-b", "8", "-e", "unsigned-integer", out,
		"silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse", "gain", "-n", "-1"); err != nil {
		return 0, 0, err
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return 0, 0, err
	}
	f, err := voice.ParseWAV(b)
	if err != nil {
		return 0, 0, fmt.Errorf("rendered file: %w", err)
	}
	return len(b), f.Duration().Seconds(), nil
}

func runCmd(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s (build/setup installs espeak-ng and sox)", name, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// removeOrphans deletes audio of prompts no longer in the catalogs.
func removeOrphans(dir string, keep []entry) error {
	want := map[string]bool{}
	for _, e := range keep {
		want[filepath.Join(dir, string(e.voice), voice.FileName(e.key))] = true
	}
	for _, v := range voice.Voices() {
		files, err := filepath.Glob(filepath.Join(dir, string(v), "*.wav"))
		if err != nil {
			return err
		}
		for _, f := range files {
			if !want[f] {
				if err := os.Remove(f); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func readManifest(path string) (map[string]entry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]entry{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var e entry
		var v string
		if _, err := fmt.Sscanf(line, "%s\t%s\t%s\t%d\t%g", &v, &e.key, &e.hash, &e.bytes, &e.duration); err != nil {
			return nil, fmt.Errorf("manifest line %q: %w", line, err)
		}
		e.voice = voice.Voice(v)
		out[v+"/"+e.key] = e
	}
	return out, nil
}

func writeManifest(path string, es []entry) error {
	var b strings.Builder
	b.WriteString("# voice\tkey\thash of text and render settings\tbytes\tseconds (written by kiosk/internal/voicegen)\n")
	for _, e := range es {
		fmt.Fprintf(&b, "%s\t%s\t%s\t%d\t%.3f\n", e.voice, e.key, e.hash, e.bytes, e.duration)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// Chime is two soft bell tones, falling (880 Hz then 660 Hz), made here
// rather than by a tool so that it is the same on every machine.
func Chime() []byte {
	var data []byte
	tone := func(freq, secs float64) {
		n := int(secs * sampleRate)
		for i := range n {
			t := float64(i) / sampleRate
			env := math.Exp(-4*t) * math.Min(1, t/0.01) // 10 ms attack, bell decay
			s := 0.7*math.Sin(2*math.Pi*freq*t) + 0.2*math.Sin(4*math.Pi*freq*t)
			data = append(data, byte(128+int(100*env*s)))
		}
	}
	tone(880, 0.6)
	tone(660, 0.9)
	return voice.WAV(sampleRate, 8, 1, data)
}
