package platform

import (
	"context"
	"log/slog"
	"regexp"
)

// idShaped matches anything that looks like an 18-character ID number.
var idShaped = regexp.MustCompile(`\b\d{17}[\dXx]\b`)

func maskText(s string) string {
	return idShaped.ReplaceAllStringFunc(s, MaskIDNumber)
}

// maskingHandler masks ID-number-shaped text in log messages and string
// attributes. The platform never logs applicant fields on purpose; this is
// defence in depth against an error message that quotes one.
type maskingHandler struct{ next slog.Handler }

// NewMaskingHandler wraps h so ID numbers never reach the log in clear.
func NewMaskingHandler(h slog.Handler) slog.Handler { return maskingHandler{next: h} }

func (m maskingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return m.next.Enabled(ctx, l)
}

func maskAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, maskText(v.String()))
	case slog.KindGroup:
		g := v.Group()
		out := make([]any, len(g))
		for i, x := range g {
			out[i] = maskAttr(x)
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, maskText(err.Error()))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

func (m maskingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, maskText(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(maskAttr(a))
		return true
	})
	return m.next.Handle(ctx, out)
}

func (m maskingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		masked[i] = maskAttr(a)
	}
	return maskingHandler{next: m.next.WithAttrs(masked)}
}

func (m maskingHandler) WithGroup(name string) slog.Handler {
	return maskingHandler{next: m.next.WithGroup(name)}
}
