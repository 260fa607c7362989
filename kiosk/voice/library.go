package voice

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Voice is a spoken language, named as espeak-ng names its voices.
type Voice string

// The voices the kiosk speaks. Mandarin and Cantonese read the Chinese
// catalog (zh-CN); English reads the English one.
const (
	Mandarin  Voice = "cmn"
	Cantonese Voice = "yue"
	English   Voice = "en"
)

// Voices lists every voice, Mandarin first.
func Voices() []Voice { return []Voice{Mandarin, Cantonese, English} }

// Chinese reports whether v is one of the voices for the Chinese UI.
func (v Voice) Chinese() bool { return v == Mandarin || v == Cantonese }

// CatalogLang is the kiosk/i18n language whose texts v speaks.
func (v Voice) CatalogLang() string {
	if v == English {
		return "en"
	}
	return "zh-CN"
}

// ParseVoice accepts a voice name (cmn, yue, en).
func ParseVoice(s string) (Voice, error) {
	for _, v := range Voices() {
		if string(v) == s {
			return v, nil
		}
	}
	return "", fmt.Errorf("voice: unknown voice %q (want cmn, yue or en)", s)
}

// Prefix starts every prompt key in the translation catalogs.
const Prefix = "voice."

// ErrNoAudio: a prompt has no audio in a voice.
var ErrNoAudio = errors.New("voice: no audio")

// keyPattern is what a prompt key may contain; it doubles as the guard
// that keeps a key from naming a file outside the voice folders.
var keyPattern = regexp.MustCompile(`^voice\.[a-z0-9_]+(\.[a-z0-9_]+)*$`)

// FileName is the audio file of prompt key ("voice.err.card_expired" →
// "err.card_expired.wav"), in each voice's folder.
func FileName(key string) string { return strings.TrimPrefix(key, Prefix) + ".wav" }

// Clip is one prompt's audio, ready to play.
type Clip struct {
	Voice Voice
	Key   string
	// Path is where the audio came from: the override file, or
	// "builtin:<voice>/<file>".
	Path string
	Data []byte
}

// Library finds prompt audio: the override folder first, then the files
// built into the program.
type Library struct {
	builtin  fs.FS
	override string
}

// NewLibrary looks in override (may be empty: none), in a folder per voice
// (override/yue/home.wav), before builtin (assets.Voice, laid out the same
// way).
func NewLibrary(builtin fs.FS, override string) *Library {
	return &Library{builtin: builtin, override: override}
}

// Clip returns the audio of key in v. An override file that is not a
// playable WAV is skipped for the built-in one and reported by Overrides.
func (l *Library) Clip(v Voice, key string) (Clip, error) {
	if !keyPattern.MatchString(key) {
		return Clip{}, fmt.Errorf("%w: bad prompt key %q", ErrNoAudio, key)
	}
	name := FileName(key)
	if l.override != "" {
		p := filepath.Join(l.override, string(v), name)
		if b, err := os.ReadFile(p); err == nil {
			if _, perr := ParseWAV(b); perr == nil {
				return Clip{Voice: v, Key: key, Path: p, Data: b}, nil
			}
		}
	}
	if l.builtin == nil {
		return Clip{}, fmt.Errorf("%w: %s in %s", ErrNoAudio, key, v)
	}
	b, err := fs.ReadFile(l.builtin, string(v)+"/"+name)
	if err != nil {
		return Clip{}, fmt.Errorf("%w: %s in %s: %w", ErrNoAudio, key, v, err)
	}
	return Clip{Voice: v, Key: key, Path: "builtin:" + string(v) + "/" + name, Data: b}, nil
}

// Has reports whether key has audio in v.
func (l *Library) Has(v Voice, key string) bool {
	_, err := l.Clip(v, key)
	return err == nil
}

// OverrideReport is what the override folder holds.
type OverrideReport struct {
	Used    int      // playable files that replace a built-in prompt
	Unknown []string // files that match no prompt (a typo in the name)
	Broken  []string // files that are not playable WAV: "path: reason"
}

// Overrides checks the override folder against the prompt keys, so the
// technician learns of a recording that will never play. A missing folder
// is no problem: nothing is replaced.
func (l *Library) Overrides(keys []string) (OverrideReport, error) {
	var r OverrideReport
	if l.override == "" {
		return r, nil
	}
	known := map[string]bool{}
	for _, k := range keys {
		known[FileName(k)] = true
	}
	for _, v := range Voices() {
		dir := filepath.Join(l.override, string(v))
		ents, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return r, fmt.Errorf("voice overrides: %w", err)
		}
		for _, e := range ents {
			if e.IsDir() {
				continue
			}
			p := filepath.Join(dir, e.Name())
			if !known[e.Name()] {
				r.Unknown = append(r.Unknown, p)
				continue
			}
			b, err := os.ReadFile(p)
			if err == nil {
				_, err = ParseWAV(b)
			}
			if err != nil {
				r.Broken = append(r.Broken, p+": "+err.Error())
				continue
			}
			r.Used++
		}
	}
	return r, nil
}

// Chime returns the chime, from the override folder (chime.wav) or built
// in.
func (l *Library) Chime() (Clip, error) {
	name := ChimeKey + ".wav"
	if l.override != "" {
		p := filepath.Join(l.override, name)
		if b, err := os.ReadFile(p); err == nil {
			if _, perr := ParseWAV(b); perr == nil {
				return Clip{Key: ChimeKey, Path: p, Data: b}, nil
			}
		}
	}
	if l.builtin == nil {
		return Clip{}, fmt.Errorf("%w: %s", ErrNoAudio, ChimeKey)
	}
	b, err := fs.ReadFile(l.builtin, name)
	if err != nil {
		return Clip{}, fmt.Errorf("%w: %s: %w", ErrNoAudio, ChimeKey, err)
	}
	return Clip{Key: ChimeKey, Path: "builtin:" + name, Data: b}, nil
}
