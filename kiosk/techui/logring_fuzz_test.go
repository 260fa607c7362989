package techui_test

import (
	"log/slog"
	"regexp"
	"testing"

	"onedoor/kiosk/techui"
)

var idShaped = regexp.MustCompile(`\d{17}[\dXx]`)

// FuzzLogRingMask: whatever text a log line carries, in the message or in
// an attribute, the ring never keeps anything shaped like an ID number.
func FuzzLogRingMask(f *testing.F) {
	for _, s := range []string{
		"440305199006120240", "身份证 11010119800101051X 已读", "x4403051990061202401234y",
		"13800138000 and 650102195201080134", "id=110101198001010512&phone=13912345678",
	} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, msg, attr string) {
		ring := techui.NewLogRing(4, slog.LevelInfo, nil)
		slog.New(ring).Info(msg, "detail", attr, slog.Group("g", "v", attr))
		for _, l := range ring.Lines() {
			if m := idShaped.FindString(l); m != "" {
				t.Fatalf("ring line %q keeps ID-shaped %q", l, m)
			}
		}
	})
}
