// Package pii masks the personal data a resident ID card carries (ID
// numbers, names) and the phone numbers residents type, for screens, paper,
// stored error texts and logs. Every part of OneDoor that shows or logs such
// data uses this one implementation, so that a receipt, a technician screen
// and the platform's back office agree on what is hidden. It imports only the
// standard library, so the drivers, the kiosk, the outbox and the platform can
// all depend on it.
//
// Masking rules (GB/T 35273 asks for de-identified display but fixes no
// pattern; these follow common practice):
//
//	ID number  first 4 + asterisks + last 4   4419**********123X
//	name       first (+ last from 3 chars)    张*  张*明  欧阳**华
//	phone      first 3 + **** + last 4        138****1234
package pii

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"unicode/utf8"
)

// MaskID shows an ID number as its first 4 and last 4 characters with
// asterisks between. Eight characters or fewer are masked entirely, since
// four plus four would reveal them whole.
func MaskID(s string) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) <= 8 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:4]) + strings.Repeat("*", len(r)-8) + string(r[len(r)-4:])
}

// MaskName keeps the first character of a name and, for names of three or
// more characters, the last.
func MaskName(s string) string {
	r := []rune(strings.TrimSpace(s))
	switch len(r) {
	case 0:
		return ""
	case 1:
		return "*"
	case 2:
		return string(r[0]) + "*"
	default:
		return string(r[0]) + strings.Repeat("*", len(r)-2) + string(r[len(r)-1])
	}
}

// MaskPhone shows an 11-digit mobile number as 138****1234; anything else is
// masked entirely.
func MaskPhone(s string) string {
	s = strings.TrimSpace(s)
	if len(s) != 11 {
		return strings.Repeat("*", utf8.RuneCountInString(s))
	}
	return s[:3] + "****" + s[7:]
}

var (
	// idRun is a run of digits long enough to hold an ID number. The whole
	// run is masked: masking one 18-character window of a longer run would
	// leave another ID-shaped window in clear.
	idRun = regexp.MustCompile(`\d{17,}[\dXx]`)
	// phoneShaped is an 11-digit mainland mobile number not inside a longer
	// run of digits.
	phoneShaped = regexp.MustCompile(`(^|\D)(1[3-9]\d)\d{4}(\d{4})($|\D)`)
)

// MaskText masks anything shaped like an ID number or a mobile number in
// free text: error reasons, log lines, audit details. It is defence in depth;
// code should not put personal data in such text in the first place.
func MaskText(s string) string {
	s = idRun.ReplaceAllStringFunc(s, MaskID)
	// Two passes: adjacent numbers share the separator the pattern consumes.
	for range 2 {
		s = phoneShaped.ReplaceAllString(s, "${1}${2}****${3}${4}")
	}
	return s
}

// NewMaskingHandler wraps h so that log messages and string, error and
// group attribute values pass through MaskText before they are written.
func NewMaskingHandler(h slog.Handler) slog.Handler { return maskingHandler{next: h} }

type maskingHandler struct{ next slog.Handler }

func (m maskingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return m.next.Enabled(ctx, l)
}

func (m maskingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, MaskText(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(maskAttr(a))
		return true
	})
	return m.next.Handle(ctx, out)
}

func (m maskingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(as))
	for i, a := range as {
		masked[i] = maskAttr(a)
	}
	return maskingHandler{next: m.next.WithAttrs(masked)}
}

func (m maskingHandler) WithGroup(name string) slog.Handler {
	return maskingHandler{next: m.next.WithGroup(name)}
}

func maskAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, MaskText(v.String()))
	case slog.KindGroup:
		g := v.Group()
		out := make([]any, len(g))
		for i, x := range g {
			out[i] = maskAttr(x)
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, MaskText(x.Error()))
		case interface{ String() string }:
			return slog.String(a.Key, MaskText(x.String()))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
