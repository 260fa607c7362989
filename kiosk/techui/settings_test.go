package techui_test

import (
	"strings"
	"testing"
	"time"

	"onedoor/kiosk/config"
)

// TestKioskSettings: each Kiosk-page setting is typed or chosen on screen,
// validated, saved atomically and shown; a value the configuration refuses
// is reported with the key and leaves the file as it was.
func TestKioskSettings(t *testing.T) {
	r := kioskPage(t)

	type step struct {
		name   string
		do     func()
		errKey string // config key named in the error, or "" for success
		check  func(c config.Config) bool
	}
	typed := func(button, text string) func() {
		return func() {
			r.tap(r.tr(button))
			r.tap(r.tr("kb.clear")) // start from an empty field
			if err := r.r.Type(text); err != nil {
				t.Fatal(err)
			}
			r.tap(r.tr("tech.save"))
			r.settle()
		}
	}
	steps := []step{
		// Any id the platform issues is accepted (letters of either case,
		// digits, '-', '_', '.'); an empty one is refused.
		{"kiosk id empty", func() {
			r.tap(r.tr("tech.kiosk.edit_id"))
			r.tap(r.tr("kb.clear"))
			r.tap(r.tr("tech.save"))
			r.settle()
		}, "kiosk.id", nil},
		{"kiosk id typed in capitals", typed("tech.kiosk.edit_id", "dg0042"), "", func(c config.Config) bool { return c.Kiosk.ID == "DG0042" }},
		{"idle timeout", typed("tech.kiosk.edit_idle", "90"), "", func(c config.Config) bool { return c.Session.IdleTimeout == 90*time.Second }},
		{"idle timeout too short", typed("tech.kiosk.edit_idle", "5"), "session.idle_timeout", nil},
		{"retention", typed("tech.kiosk.edit_retention", "30"), "", func(c config.Config) bool { return c.Storage.RetentionDays == 30 }},
		{"retention zero", typed("tech.kiosk.edit_retention", "0"), "storage.retention_days", nil},
		{"language", func() { r.tap("English") }, "", func(c config.Config) bool { return c.Kiosk.Language == "en" }},
		{"elder default", func() { r.tap(r.tr("tech.on")) }, "", func(c config.Config) bool { return c.Session.ElderDefault }},
		{"printer profile", func() { r.tap("generic-58") }, "", func(c config.Config) bool { return c.Devices.Printer.Profile == "generic-58" }},
	}
	for _, s := range steps {
		before, err := config.Load(r.store.Path)
		if err != nil {
			t.Fatal(err)
		}
		s.do()
		after, err := config.Load(r.store.Path)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if s.errKey != "" {
			if !strings.Contains(r.mode.Message(), s.errKey) {
				t.Errorf("%s: message %q does not name %s", s.name, r.mode.Message(), s.errKey)
			}
			if after != before {
				t.Errorf("%s: a refused value changed the file", s.name)
			}
			r.tap(r.tr("tech.cancel"))
			continue
		}
		if r.mode.Message() != r.tr("tech.saved") {
			t.Errorf("%s: message %q", s.name, r.mode.Message())
		}
		if !s.check(after) {
			t.Errorf("%s: not saved: %+v", s.name, after)
		}
	}
	if !strings.Contains(r.screen(), r.tr("tech.kiosk.id", "DG0042")) {
		t.Error("the page does not show the new kiosk ID")
	}
}
