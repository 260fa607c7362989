package platform

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestMaskingHandler(t *testing.T) {
	const id = "441900199001011231"
	tests := []struct {
		name string
		log  func(l *slog.Logger)
	}{
		{"message", func(l *slog.Logger) { l.Info("lookup " + id + " failed") }},
		{"string attr", func(l *slog.Logger) { l.Info("x", "q", "身份证"+id+"。") }},
		{"error attr", func(l *slog.Logger) { l.Warn("x", "err", errors.New("bad id "+id)) }},
		{"group", func(l *slog.Logger) { l.Info("x", slog.Group("g", "id", id)) }},
		{"with attrs", func(l *slog.Logger) { l.With("id", id).Info("x") }},
		{"lowercase x", func(l *slog.Logger) { l.Info("11010519491231002x") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			tc.log(slog.New(NewMaskingHandler(slog.NewTextHandler(&b, nil))))
			out := b.String()
			if strings.Contains(out, id) || strings.Contains(out, "11010519491231002x") || strings.Contains(out, "0101123") {
				t.Fatalf("ID number in log: %s", out)
			}
			if !strings.Contains(out, "**********") {
				t.Fatalf("no masked number in log: %s", out)
			}
		})
	}
	var b bytes.Buffer
	slog.New(NewMaskingHandler(slog.NewTextHandler(&b, nil))).Info("receipt K1-20260101-0001 case DG-2026-000001 size 1234567890123")
	if !strings.Contains(b.String(), "K1-20260101-0001") || !strings.Contains(b.String(), "1234567890123") {
		t.Fatalf("masked things that are not ID numbers: %s", b.String())
	}
}
