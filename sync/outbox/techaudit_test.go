package outbox_test

import (
	"context"
	"strings"
	"testing"
)

// TestRecordAudit: technician events land in the audit log, newest first,
// with ID-shaped text masked.
func TestRecordAudit(t *testing.T) {
	e := newEnv(t)
	s := e.open(t)
	ctx := context.Background()
	tests := []struct{ event, detail, want string }{
		{"technician_entry", "", ""},
		{"technician_setting", "devices.printer.port=/dev/ttyUSB1", "devices.printer.port=/dev/ttyUSB1"},
		{"technician_device_test", "read 440305199006120240 ok", "read 4403**********0240 ok"},
		{"technician_setting", "x=44030519900612024065010219520108013", "x=4403" + strings.Repeat("*", 35-8) + "8013"},
	}
	for _, tc := range tests {
		if err := s.RecordAudit(ctx, tc.event, tc.detail); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Audit(ctx, len(tests))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(tests) {
		t.Fatalf("%d entries, want %d", len(got), len(tests))
	}
	for i, tc := range tests {
		g := got[len(tests)-1-i]
		if g.Event != tc.event || g.Detail != tc.want {
			t.Errorf("entry %d: %q %q, want %q %q", i, g.Event, g.Detail, tc.event, tc.want)
		}
		if strings.Contains(g.Detail, "199006120240") || strings.Contains(g.Detail, "195201080") {
			t.Errorf("entry %d holds an ID number in clear", i)
		}
	}
}
