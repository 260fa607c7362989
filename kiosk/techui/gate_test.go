package techui_test

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/driver/desktop"

	"onedoor/kiosk/techpin"
	"onedoor/kiosk/techui"
)

// TestGestureAndPINOpen is done-means: the hidden gesture plus the right
// PIN opens technician mode; a short press does nothing, and the PIN never
// appears on screen.
func TestGestureAndPINOpen(t *testing.T) {
	r := newRig(t, rigOptions{})

	// A tap on the corner (down and up before the hold) opens nothing.
	lp := r.longPressArea()
	lp.MouseDown(&desktop.MouseEvent{})
	lp.MouseUp(&desktop.MouseEvent{})
	if r.timer.Fire() || r.mode.Gating() {
		t.Fatal("a short press opened the PIN pad")
	}
	// Sliding off the corner cancels too.
	lp.MouseDown(&desktop.MouseEvent{})
	lp.MouseOut()
	if r.timer.Fire() || r.mode.Gating() {
		t.Fatal("a press that slid off opened the PIN pad")
	}
	if r.timer.held < 2*time.Second {
		t.Errorf("hold time %s; the gesture must take several seconds", r.timer.held)
	}

	r.longPress()
	if !r.mode.Gating() || !strings.Contains(r.screen(), r.tr("tech.pin.prompt")) {
		t.Fatalf("the long press did not show the PIN pad; screen:\n%s", r.screen())
	}
	if err := r.r.Type(rightPIN); err != nil {
		t.Fatal(err)
	}
	if s := r.screen(); strings.Contains(s, rightPIN) || !strings.Contains(s, "●●●●●●") {
		t.Fatalf("the PIN field shows %q; want dots only", s)
	}
	r.tap(r.tr("tech.pin.enter"))
	r.settle()
	if !r.mode.IsOpen() {
		t.Fatalf("right PIN did not open technician mode; screen:\n%s", r.screen())
	}
	s := r.screen()
	for _, key := range []string{"tech.title", "tech.tab.devices", "tech.tab.queue", "tech.tab.network", "tech.tab.kiosk", "tech.tab.logs", "tech.tab.exit"} {
		if !strings.Contains(s, r.tr(key)) {
			t.Errorf("technician screen lacks %q", r.tr(key))
		}
	}
	if !strings.Contains(r.audits.joined(), techpin.EventEntry) {
		t.Errorf("entry not audited: %q", r.audits.joined())
	}

	// Leaving shows the resident screen again.
	r.tap(r.tr("tech.tab.exit"))
	r.tap(r.tr("tech.exit.leave"))
	if r.mode.IsOpen() || strings.Contains(r.screen(), r.tr("tech.title")) {
		t.Fatal("still in technician mode after leaving")
	}
	r.longPressArea() // the resident screen, with its corner, is back
}

// TestWrongPINsLockAcrossRestart is done-means: five wrong PINs lock
// technician mode, and the lock survives an app restart; it lifts after
// five minutes.
func TestWrongPINsLockAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	clock := newClock()
	r := newRig(t, rigOptions{dir: dir, clock: clock})
	r.longPress()
	for i := 1; i <= techpin.MaxFailures; i++ {
		r.enterPIN("111111")
		if r.mode.IsOpen() {
			t.Fatalf("wrong PIN %d opened technician mode", i)
		}
		want := r.tr("tech.pin.wrong", techpin.MaxFailures-i)
		if i == techpin.MaxFailures {
			want = lockedPrefix(r)
		}
		if s := r.screen(); !strings.Contains(s, want) {
			t.Fatalf("after wrong PIN %d the screen lacks %q:\n%s", i, want, s)
		}
	}
	// Locked: even the right PIN is refused now.
	r.enterPIN(rightPIN)
	if r.mode.IsOpen() {
		t.Fatal("the right PIN opened a locked technician mode")
	}

	// Restart: a new guard and a new window over the same data directory.
	clock.Advance(time.Minute)
	r2 := newRig(t, rigOptions{dir: dir, clock: clock})
	r2.longPress()
	if s := r2.screen(); !strings.Contains(s, lockedPrefix(r2)) {
		t.Fatalf("after restart the PIN pad does not say locked:\n%s", s)
	}
	r2.enterPIN(rightPIN)
	if r2.mode.IsOpen() {
		t.Fatal("the lock did not survive the restart")
	}

	// Five minutes after the lock began, the right PIN works again.
	clock.Advance(techpin.LockDuration)
	r2.enterPIN(rightPIN)
	if !r2.mode.IsOpen() {
		t.Fatalf("the right PIN is refused after the lock ran out:\n%s", r2.screen())
	}
}

// lockedPrefix is the locked message up to the time it names.
func lockedPrefix(r *rig) string {
	before, _, _ := strings.Cut(r.tr("tech.pin.locked", "\x00"), "\x00")
	return before
}

// TestIdleExit: technician mode closes by itself after five minutes
// without a tap, the PIN pad too; taps (keypad keys included) keep it open.
func TestIdleExit(t *testing.T) {
	clock := newClock()
	r := newRig(t, rigOptions{clock: clock})
	r.longPress()
	clock.Advance(4 * time.Minute)
	if err := r.r.Type("1"); err != nil { // a key tap counts
		t.Fatal(err)
	}
	clock.Advance(4 * time.Minute)
	r.mode.Tick()
	if !r.mode.Gating() {
		t.Fatal("the PIN pad closed although a key was tapped 4 minutes ago")
	}
	clock.Advance(time.Minute + time.Second)
	r.mode.Tick()
	if r.mode.Gating() {
		t.Fatal("the PIN pad stayed open after 5 idle minutes")
	}

	r.open()
	r.tap(r.tr("tech.tab.queue")) // the page loads in the background
	r.settle()
	clock.Advance(3 * time.Minute)
	r.tap(r.tr("tech.tab.kiosk"))
	clock.Advance(3 * time.Minute)
	r.mode.Tick()
	if !r.mode.IsOpen() {
		t.Fatal("technician mode closed 3 minutes after a tap")
	}
	clock.Advance(2*time.Minute + time.Second)
	r.mode.Tick()
	if r.mode.IsOpen() || strings.Contains(r.screen(), r.tr("tech.title")) {
		t.Fatal("technician mode stayed open after 5 idle minutes")
	}
	if !strings.Contains(r.audits.joined(), "technician_exit") {
		t.Error("the idle exit is not audited")
	}
}

// TestRestartAsksFirst: the Exit page's restart asks for confirmation,
// can be called off, and is audited when done.
func TestRestartAsksFirst(t *testing.T) {
	restarts := 0
	r := newRig(t, rigOptions{deps: func(d *techui.Deps) { d.Restart = func() { restarts++ } }})
	r.open()
	r.tap(r.tr("tech.tab.exit"))
	r.tap(r.tr("tech.exit.restart"))
	if restarts != 0 || !strings.Contains(r.screen(), r.tr("tech.exit.restart_confirm")) {
		t.Fatalf("restart did not ask first (restarts %d)", restarts)
	}
	r.tap(r.tr("tech.cancel"))
	r.tap(r.tr("tech.exit.restart"))
	r.tap(r.tr("tech.exit.restart_yes"))
	if restarts != 1 {
		t.Fatalf("%d restarts, want 1", restarts)
	}
	if !strings.Contains(r.audits.joined(), techui.EventRestart) {
		t.Error("restart not audited")
	}
}
