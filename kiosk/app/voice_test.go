package app

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"onedoor/assets"
	"onedoor/kiosk/flow"
	"onedoor/kiosk/helpcall"
	"onedoor/kiosk/voice"
)

// fakeHelper records the screens residents called staff from.
type fakeHelper struct {
	mu      sync.Mutex
	screens []string
	err     error
}

func (h *fakeHelper) Call(ctx context.Context, screen string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.screens = append(h.screens, screen)
	return h.err
}

// TestKioskWithoutSoundDevice (issue 17): a kiosk whose sound device is
// missing runs a resident session in elder mode (voice on) as usual, the
// heartbeat reports the sound device "absent", and the help button answers
// on screen: staff coming when the call goes out, go to the counter when
// it cannot.
func TestKioskWithoutSoundDevice(t *testing.T) {
	vs := voice.Open(voice.Settings{Enabled: true, Default: voice.DefaultElder, Volume: 80, Device: "onedoor_no_such_pcm"}, assets.Voice(), nil, quietLog)
	t.Cleanup(vs.Close)
	help := &fakeHelper{}
	r := newRig(t)
	// The same kiosk again with a voice and a help button wired: the
	// rig's app is replaced before anyone touched it.
	r.app.Stop()
	d := r.app.d
	d.Voice, d.Help = vs, help
	a, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	r.app = a
	r.win.SetContent(a.View().Object())
	a.Start()
	r.stack.WatchSound(vs.DeviceState)

	r.tap(r.tr.T("elder.on"))
	if !vs.Enabled() {
		t.Fatal("elder mode did not switch the voice on")
	}
	start := time.Now()
	r.tap(r.tr.T("btn.start"))
	r.waitStep(flow.StepCatalog)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("a screen change took %v without a sound device", d)
	}
	vs.Guide().Wait()
	if st := vs.DeviceState(); st != "absent" {
		t.Fatalf("sound device state %q", st)
	}
	if got := r.stack.health.Devices()[voice.DeviceKind]; got != "absent" {
		t.Errorf("heartbeat sound state %q, want absent", got)
	}

	r.tap(r.tr.T("app.call_staff"))
	r.settle("help answered", 5*time.Second, func() bool { return strings.Contains(r.screen(), r.tr.T("help.sent")) })
	help.mu.Lock()
	help.err = helpcall.ErrOffline
	screens := append([]string(nil), help.screens...)
	help.mu.Unlock()
	if len(screens) != 1 || screens[0] != "catalog" {
		t.Errorf("help called from %v", screens)
	}
	r.tap(r.tr.T("btn.back"))
	r.waitStep(flow.StepHome)
	r.tap(r.tr.T("app.call_staff"))
	r.settle("offline answer", 5*time.Second, func() bool { return strings.Contains(r.screen(), r.tr.T("help.offline")) })
	help.mu.Lock()
	defer help.mu.Unlock()
	if len(help.screens) != 2 || help.screens[1] != "home" {
		t.Errorf("help called from %v", help.screens)
	}
}
