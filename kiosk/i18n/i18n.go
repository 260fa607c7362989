// Package i18n is the kiosk's own message catalog: Simplified Chinese
// (zh-CN, the default) and English, switchable at run time on every screen.
//
// Fyne's lang package is not used because it picks the language once from
// the process locale and has no public call to change it afterwards (see
// reference/fyne.md §7); a resident must be able to switch with one tap.
//
// Messages live in embedded TOML files, messages/zh-CN.toml and
// messages/en.toml. Tables give dotted keys: [err] phone_invalid = "…" is the
// key "err.phone_invalid". Arguments use fmt verbs; use explicit indexes
// (%[2]s) where the languages order them differently. Every key must exist in
// both files with the same verbs (checked by the tests).
//
// Use:
//
//	tr := i18n.New()                  // zh-CN
//	label := tr.T("btn.next")         // "下一步"
//	stop := tr.OnChange(func(lang string) { fyne.Do(redraw) })
//	defer stop()
//	tr.SetLang(i18n.EN)               // listeners run, in registration order
//
// A Translator is safe for concurrent use. A missing key renders as the key
// itself in brackets, so the gap is visible on screen rather than blank.
package i18n

import (
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
)

// Supported languages.
const (
	ZhCN = "zh-CN"
	EN   = "en"
)

// ErrUnknownLanguage is returned by SetLang for a language without messages.
var ErrUnknownLanguage = errors.New("i18n: unknown language")

//go:embed messages/*.toml
var messageFS embed.FS

// Languages lists the supported languages, default first.
func Languages() []string { return []string{ZhCN, EN} }

// Translator renders message keys in the current language.
type Translator struct {
	mu        sync.RWMutex
	lang      string
	cats      map[string]map[string]string
	listeners []listener
	nextID    int
	log       *slog.Logger
}

type listener struct {
	id int
	fn func(lang string)
}

// New returns a translator for the embedded messages, set to zh-CN. The
// embedded files are checked by the tests, so a parse error here is a build
// defect and panics.
func New() *Translator {
	cats, err := LoadEmbedded()
	if err != nil {
		panic(err)
	}
	return &Translator{lang: ZhCN, cats: cats, log: slog.Default()}
}

// NewWith returns a translator for the given catalogs (language → key →
// message), e.g. for tests or messages supplied by the platform.
func NewWith(cats map[string]map[string]string, lang string) (*Translator, error) {
	if _, ok := cats[lang]; !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownLanguage, lang)
	}
	return &Translator{lang: lang, cats: cats, log: slog.Default()}, nil
}

// LoadEmbedded parses the embedded message files.
func LoadEmbedded() (map[string]map[string]string, error) {
	cats := map[string]map[string]string{}
	for _, lang := range Languages() {
		data, err := messageFS.ReadFile("messages/" + lang + ".toml")
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", lang, err)
		}
		cat, err := Parse(data)
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", lang, err)
		}
		cats[lang] = cat
	}
	return cats, nil
}

// Parse reads one TOML message file into flat dotted keys. Only strings are
// allowed as values.
func Parse(data []byte) (map[string]string, error) {
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		return nil, fmt.Errorf("parsing messages: %w", err)
	}
	out := map[string]string{}
	if err := flatten("", raw, out); err != nil {
		return nil, err
	}
	return out, nil
}

func flatten(prefix string, m map[string]any, out map[string]string) error {
	for k, v := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		switch v := v.(type) {
		case string:
			out[key] = v
		case map[string]any:
			if err := flatten(key, v, out); err != nil {
				return err
			}
		default:
			return fmt.Errorf("message %q: want a string, got %T", key, v)
		}
	}
	return nil
}

// Lang is the current language.
func (t *Translator) Lang() string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.lang
}

// SetLang switches the language and, if it changed, calls every listener
// synchronously with the new language (outside the lock, so a listener may
// call T). Fyne listeners should wrap their redraw in fyne.Do.
func (t *Translator) SetLang(lang string) error {
	t.mu.Lock()
	if _, ok := t.cats[lang]; !ok {
		t.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrUnknownLanguage, lang)
	}
	changed := t.lang != lang
	t.lang = lang
	ls := slices.Clone(t.listeners)
	t.mu.Unlock()
	if changed {
		for _, l := range ls {
			l.fn(lang)
		}
	}
	return nil
}

// OnChange registers fn to run after every language switch and returns a
// function that unregisters it.
func (t *Translator) OnChange(fn func(lang string)) (cancel func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.nextID++
	id := t.nextID
	t.listeners = append(t.listeners, listener{id: id, fn: fn})
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.listeners = slices.DeleteFunc(t.listeners, func(l listener) bool { return l.id == id })
	}
}

// T renders key in the current language with fmt-style args. A key missing
// in the current language falls back to zh-CN, then to "[key]".
func (t *Translator) T(key string, args ...any) string {
	return t.In(t.Lang(), key, args...)
}

// In renders key in the given language.
func (t *Translator) In(lang, key string, args ...any) string {
	t.mu.RLock()
	msg, ok := t.cats[lang][key]
	if !ok {
		msg, ok = t.cats[ZhCN][key]
	}
	t.mu.RUnlock()
	if !ok {
		t.log.Warn("i18n: missing message", "lang", lang, "key", key)
		return "[" + key + "]"
	}
	if len(args) == 0 {
		return msg
	}
	return fmt.Sprintf(msg, args...)
}

// Has reports whether key exists in lang.
func (t *Translator) Has(lang, key string) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	_, ok := t.cats[lang][key]
	return ok
}

// Keys lists the keys of lang, sorted.
func (t *Translator) Keys(lang string) []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	keys := make([]string, 0, len(t.cats[lang]))
	for k := range t.cats[lang] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Pick chooses between catalog text in Chinese and its optional English
// version (catalog items carry name and name_en): English when the current
// language is English and en is not empty, otherwise zh.
func (t *Translator) Pick(zh, en string) string {
	if t.Lang() == EN && strings.TrimSpace(en) != "" {
		return en
	}
	return zh
}
