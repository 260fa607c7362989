package techui

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"onedoor/pii"
)

// LogRing is a slog.Handler that keeps the newest log lines in memory for
// the Logs page, and passes every record on to another handler. Lines are
// masked as they are stored: anything shaped like an ID number or a mobile
// number is cut to its ends, and attributes whose key names personal data
// lose their value. That is defence in depth: the drivers and the flow
// already keep personal data out of their logs, but a technician's screen
// is photographed and shared, so the ring must not be where one slips
// through.
type LogRing struct {
	ring   *ring
	next   slog.Handler
	level  slog.Leveler
	prefix string // rendered attrs from WithAttrs
	group  string
}

type ring struct {
	mu    sync.Mutex
	lines []string
	max   int
}

// maskLine masks ID-, name-field- and phone-shaped text with the one
// implementation every part of OneDoor uses.
func maskLine(s string) string { return pii.MaskText(s) }

// personalKey says whether an attribute key names data never shown.
func personalKey(k string) bool {
	switch strings.ToLower(k) {
	case "name", "id_number", "idnumber", "phone", "address", "token", "pin", "applicant":
		return true
	}
	return false
}

// NewLogRing keeps the newest n lines at level and above; next, if not
// nil, receives every record as well.
func NewLogRing(n int, level slog.Leveler, next slog.Handler) *LogRing {
	if level == nil {
		level = slog.LevelInfo
	}
	return &LogRing{ring: &ring{max: max(n, 1)}, next: next, level: level}
}

// Enabled implements slog.Handler.
func (h *LogRing) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level.Level() || (h.next != nil && h.next.Enabled(ctx, l))
}

// Handle implements slog.Handler.
func (h *LogRing) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= h.level.Level() {
		var b strings.Builder
		b.WriteString(r.Time.Format(time.TimeOnly))
		b.WriteByte(' ')
		b.WriteString(r.Level.String())
		b.WriteByte(' ')
		b.WriteString(r.Message)
		b.WriteString(h.prefix)
		r.Attrs(func(a slog.Attr) bool {
			writeAttr(&b, h.group, a)
			return true
		})
		h.ring.add(maskLine(b.String()))
	}
	if h.next != nil && h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func writeAttr(b *strings.Builder, group string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	key := a.Key
	if group != "" {
		key = group + "." + key
	}
	if a.Value.Kind() == slog.KindGroup {
		for _, g := range a.Value.Group() {
			writeAttr(b, key, g)
		}
		return
	}
	v := a.Value.String()
	if personalKey(a.Key) {
		v = "***"
	}
	fmt.Fprintf(b, " %s=%q", key, v)
}

// WithAttrs implements slog.Handler.
func (h *LogRing) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	var b strings.Builder
	for _, a := range attrs {
		writeAttr(&b, h.group, a)
	}
	c.prefix += b.String()
	if h.next != nil {
		c.next = h.next.WithAttrs(attrs)
	}
	return &c
}

// WithGroup implements slog.Handler.
func (h *LogRing) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	if c.group != "" {
		c.group += "."
	}
	c.group += name
	if h.next != nil {
		c.next = h.next.WithGroup(name)
	}
	return &c
}

// Lines returns the kept lines, oldest first.
func (h *LogRing) Lines() []string {
	h.ring.mu.Lock()
	defer h.ring.mu.Unlock()
	return slices.Clone(h.ring.lines)
}

func (r *ring) add(line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, line)
	if over := len(r.lines) - r.max; over > 0 {
		r.lines = append(r.lines[:0:0], r.lines[over:]...)
	}
}
