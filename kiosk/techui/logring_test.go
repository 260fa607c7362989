package techui_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"onedoor/kiosk/techui"
)

// TestLogRingMasks: the ring keeps the newest lines, masks ID- and
// phone-shaped text and personal attributes, and still passes every
// record on to the next handler.
func TestLogRingMasks(t *testing.T) {
	var next bytes.Buffer
	ring := techui.NewLogRing(3, slog.LevelInfo, slog.NewTextHandler(&next, nil))
	log := slog.New(ring).With("part", "flow")
	tests := []struct {
		log  func()
		want string // in the ring's line
		not  string // never in the ring
	}{
		{func() { log.Info("card read", "detail", "number 440305199006120240") }, "4403**********0240", "199006120240"},
		{func() { log.Warn("callback", "msg", "call 13800138000") }, "138****8000", "13800138000"},
		{func() { log.Info("applicant", "name", "王晓梅", "id_number", "x") }, `name="***"`, "王晓梅"},
		{func() { log.WithGroup("g").Info("grouped", "token", "s3cret") }, `g.token="***"`, "s3cret"},
	}
	for i, tc := range tests {
		tc.log()
		lines := ring.Lines()
		last := lines[len(lines)-1]
		if !strings.Contains(last, tc.want) || strings.Contains(last, tc.not) {
			t.Errorf("line %d: %q; want %q and never %q", i, last, tc.want, tc.not)
		}
		if !strings.Contains(last, `part="flow"`) {
			t.Errorf("line %d lost the logger's attributes: %q", i, last)
		}
	}
	if n := len(ring.Lines()); n != 3 {
		t.Errorf("ring holds %d lines, want the newest 3", n)
	}
	if strings.Contains(ring.Lines()[0], "card read") {
		t.Error("the oldest line was not dropped")
	}
	log.Debug("below the ring's level")
	if strings.Contains(strings.Join(ring.Lines(), "\n"), "below") {
		t.Error("a debug line entered an info ring")
	}
	if c := strings.Count(next.String(), "\n"); c != len(tests) {
		t.Errorf("next handler got %d lines, want %d", c, len(tests))
	}
}

// TestLogsPageShowsMaskedLines: the Logs page lists the ring's lines,
// newest first, masked.
func TestLogsPageShowsMaskedLines(t *testing.T) {
	ring := techui.NewLogRing(50, slog.LevelInfo, nil)
	log := slog.New(ring)
	r := newRig(t, rigOptions{deps: func(d *techui.Deps) { d.Logs = ring }})
	log.Info("printer opened", "port", "/dev/ttyUSB1")
	log.Info("lookup", "q", "440305199006120240")
	r.open()
	r.tap(r.tr("tech.tab.logs"))
	s := r.screen()
	if !strings.Contains(s, "printer opened") || !strings.Contains(s, "4403**********0240") {
		t.Fatalf("Logs page:\n%s", s)
	}
	if strings.Contains(s, "440305199006120240") {
		t.Fatal("the Logs page shows an ID number in clear")
	}
	if strings.Index(s, "lookup") > strings.Index(s, "printer opened") {
		t.Error("lines are not newest first")
	}
}
