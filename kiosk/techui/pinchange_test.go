package techui_test

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"onedoor/kiosk/config"
	"onedoor/kiosk/techpin"
	"onedoor/kiosk/ui/uitest"
)

// TestChangePIN: the PIN is changed on the Kiosk page with the keypad;
// mismatched or short PINs are refused before anything is hashed; the new
// hash is saved, the change audited, and the next entry takes the new PIN.
func TestChangePIN(t *testing.T) {
	r := kioskPage(t)

	fill := func(cur, next, again string) {
		t.Helper()
		r.tap(r.tr("tech.pinc.title"))
		for i, v := range []string{cur, next, again} {
			key := []string{"tech.pinc.current", "tech.pinc.next", "tech.pinc.again"}[i]
			found := false
			for _, f := range uitest.Fields(r.win.Content()) {
				if f.Name == key {
					test.Tap(f)
					found = true
				}
			}
			if !found {
				t.Fatalf("no field %s", key)
			}
			if err := r.r.Type(v); err != nil {
				t.Fatal(err)
			}
		}
		if s := r.screen(); strings.Contains(s, next) || strings.Contains(s, cur) {
			t.Fatal("a PIN shows on screen")
		}
		r.tap(r.tr("tech.save"))
		r.settle()
	}
	const newPIN = "135790"
	fill(rightPIN, newPIN, "135791")
	if !strings.Contains(r.screen(), r.tr("tech.pinc.mismatch")) {
		t.Fatalf("mismatch not reported:\n%s", r.screen())
	}
	r.tap(r.tr("tech.cancel"))
	fill(rightPIN, "123", "123")
	if !strings.Contains(r.screen(), r.tr("tech.pinc.rules")) {
		t.Fatalf("short PIN not refused:\n%s", r.screen())
	}
	r.tap(r.tr("tech.cancel"))
	fill("999999", newPIN, newPIN)
	if !strings.Contains(r.screen(), r.tr("tech.pinc.wrong")) {
		t.Fatalf("wrong current PIN not reported:\n%s", r.screen())
	}
	r.tap(r.tr("tech.cancel"))
	fill(rightPIN, newPIN, newPIN)
	if r.mode.Message() != r.tr("tech.pinc.done") {
		t.Fatalf("message %q", r.mode.Message())
	}
	saved, err := config.Load(r.store.Path)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := techpin.Matches(saved.Technician.PINHash, newPIN); !ok || err != nil {
		t.Fatalf("saved hash does not match the new PIN: %v %v", ok, err)
	}
	if !strings.Contains(r.audits.joined(), techpin.EventPINChanged) {
		t.Error("PIN change not audited")
	}

	r.tap(r.tr("tech.tab.exit"))
	r.tap(r.tr("tech.exit.leave"))
	r.longPress()
	r.enterPIN(rightPIN)
	if r.mode.IsOpen() {
		t.Fatal("the old PIN still opens technician mode")
	}
	r.enterPIN(newPIN)
	if !r.mode.IsOpen() {
		t.Fatal("the new PIN does not open technician mode")
	}
}
