package app

import (
	"context"
	"log/slog"
	"sync"

	"onedoor/assets"
	"onedoor/kiosk/config"
	"onedoor/kiosk/helpcall"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/voice"
)

// Helper calls staff for a resident (呼叫工作人员); *helpcall.Caller has
// it. Call blocks for a few seconds at most and returns nil once the
// platform has the call.
type Helper interface {
	Call(ctx context.Context, screen string) error
}

// openVoice builds the kiosk's spoken guidance from config [voice], nil
// when voice.enabled is false. The sound device is checked in the
// background, so its state is known for the first heartbeat and the
// window never waits for it.
func openVoice(c config.Voice, tr *i18n.Translator, log *slog.Logger) *voice.System {
	if !c.Enabled {
		return nil
	}
	def, _ := voice.ParseDefault(c.Default)
	chinese, err := voice.ParseVoice(c.Chinese)
	if err != nil {
		chinese = voice.Mandarin
	}
	vs := voice.Open(voice.Settings{Enabled: true, Default: def, Volume: c.Volume, Chinese: chinese, Device: c.Device, Dir: c.Dir},
		assets.Voice(), tr.Lang, log.With("part", "voice"))
	go func() { _ = vs.CheckDevice(context.Background()) }() // the state is kept; a failure is logged once
	return vs
}

// lateHelp is the help caller once the stack has opened (it needs the
// platform client and the engine's view of the link); until then, and
// without a platform, every call is offline and the resident is sent to
// the counter.
type lateHelp struct {
	mu sync.Mutex
	c  *helpcall.Caller
}

func (l *lateHelp) set(c *helpcall.Caller) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.c = c
}

// Call implements Helper.
func (l *lateHelp) Call(ctx context.Context, screen string) error {
	l.mu.Lock()
	c := l.c
	l.mu.Unlock()
	if c == nil {
		return helpcall.ErrOffline
	}
	return c.Call(ctx, screen)
}

// helpCaller is the stack's caller for the kiosk's help button. The call
// names no kiosk: the platform takes the signing kiosk's id.
func (st *Stack) helpCaller(log *slog.Logger) *helpcall.Caller {
	c := &helpcall.Caller{Site: st.site, Online: st.Online, Logger: log.With("part", "help")}
	if st.Client != nil {
		c.Sender = st.Client
	}
	return c
}

// callHelp sends a call for staff off the UI goroutine and hands the
// answer back on it (ui.CallHelp).
func (a *App) callHelp(screen string, done func(error)) {
	if a.d.Help == nil {
		done(helpcall.ErrOffline)
		return
	}
	a.inflight.Add(1)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer a.inflight.Add(-1)
		err := a.d.Help.Call(a.ctx, screen)
		a.post(func() { done(err) })
	}()
}

// WatchSound makes the heartbeat report the sound device's state under
// "sound" (voice.DeviceKind), so the fleet page shows a kiosk that cannot
// speak.
func (st *Stack) WatchSound(state func() string) {
	st.health.mu.Lock()
	defer st.health.mu.Unlock()
	st.health.sound = state
}

// soundState is the state to report: nothing until the device has been
// tried ("unknown" is not a fault).
func soundState(state func() string) string {
	if state == nil {
		return ""
	}
	if s := state(); s != "unknown" {
		return s
	}
	return ""
}
