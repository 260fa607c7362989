package app

import (
	"strings"
	"testing"
)

type fakeDemoPlatform struct{ DemoPlatform }

func (fakeDemoPlatform) BackOfficeURL() string  { return "http://127.0.0.1:41234/office" }
func (fakeDemoPlatform) SupervisorUser() string { return "jiandu" }

// TestDemoWhere: the terminal is told where the kiosk and the panel are,
// the back office's address and the demo logins, and the data directory.
func TestDemoWhere(t *testing.T) {
	d := &Demo{Dir: "/tmp/onedoor-demo-x", Platform: fakeDemoPlatform{}}
	got := d.Where(":99", 1366, 768)
	for _, want := range []string{"1366x768", "display :99", "demo panel", "http://127.0.0.1:41234/office", DemoStaffUser, `"jiandu" to supervise`, DemoStaffPassword, "/tmp/onedoor-demo-x"} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q:\n%s", want, got)
		}
	}
	if !strings.Contains(d.Where("", 1280, 800), "set DISPLAY") {
		t.Error("no hint without a display")
	}
}
