package voice

import (
	"strings"
	"sync"

	"onedoor/kiosk/flow"
)

// Default says whether a resident session starts with the voice on.
type Default string

// Defaults for config voice.default.
const (
	// DefaultElder: on in 长辈模式, off otherwise (the rule, and
	// the default).
	DefaultElder Default = "elder"
	DefaultOn    Default = "on"
	DefaultOff   Default = "off"
)

// ParseDefault accepts elder, on or off.
func ParseDefault(s string) (Default, bool) {
	switch d := Default(s); d {
	case DefaultElder, DefaultOn, DefaultOff:
		return d, true
	}
	return "", false
}

func (d Default) on(elder bool) bool {
	switch d {
	case DefaultOn:
		return true
	case DefaultOff:
		return false
	}
	return elder
}

// Prompt keys outside the screens and errors.
const (
	KeyIdle        = "voice.idle"         // the idle countdown
	KeyHelpSent    = "voice.help.sent"    // help is coming
	KeyHelpOffline = "voice.help.offline" // no network: go to the counter
)

// StepKey is the prompt key of a screen.
func StepKey(s flow.Step) string { return Prefix + s.String() }

// MessageKey is the prompt key of a resident-facing message (an err.*
// key), "" for other keys.
func MessageKey(msgKey string) string {
	if !strings.HasPrefix(msgKey, "err.") {
		return ""
	}
	return Prefix + msgKey
}

// ConfirmKey is the prompt key of a pending confirmation.
func ConfirmKey(c flow.Confirm) string { return Prefix + "confirm." + string(c) }

// Steps lists every step of the flow.
func Steps() []flow.Step {
	var out []flow.Step
	for s := flow.Step(0); s.String() != "unknown"; s++ {
		out = append(out, s)
	}
	return out
}

// Confirms lists the confirmations the flow asks for.
func Confirms() []flow.Confirm { return []flow.Confirm{flow.ConfirmCancel, flow.ConfirmDiscard} }

// RequiredKeys lists every prompt the kiosk may say: one per screen, per
// err.* message among catalogKeys, per confirmation, the idle warning and
// the help call's answers. The catalogs must hold each (in zh-CN and en)
// and each voice must have its audio.
func RequiredKeys(catalogKeys []string) []string {
	var out []string
	for _, s := range Steps() {
		out = append(out, StepKey(s))
	}
	for _, k := range catalogKeys {
		if vk := MessageKey(k); vk != "" {
			out = append(out, vk)
		}
	}
	for _, c := range Confirms() {
		out = append(out, ConfirmKey(c))
	}
	return append(out, KeyIdle, KeyHelpSent, KeyHelpOffline)
}

// PromptKey is what the kiosk says for a state: the idle warning, a pending
// confirmation, the screen's error, a scanned page's problem (blank,
// blurred, no paper: shown on the material, not as the screen's error),
// or else the screen's own prompt.
func PromptKey(s flow.State) string {
	switch {
	case s.Countdown > 0:
		return KeyIdle
	case s.Confirm != flow.ConfirmNone:
		return ConfirmKey(s.Confirm)
	}
	if k := MessageKey(s.Error.Key); k != "" {
		return k
	}
	if s.Step == flow.StepMaterials {
		for _, m := range s.Materials {
			if k := MessageKey(m.Error.Key); k != "" && !m.Scanning {
				return k
			}
		}
	}
	return StepKey(s.Step)
}

// Follower speaks along with the flow: the UI hands it every state it
// draws, and it says the prompt when the screen or its message changes.
// It also keeps the session's voice settings: every session (back at
// Home) starts with the default Chinese voice and the voice on or off by
// Default and elder mode, and switching elder mode switches the voice with
// it under DefaultElder.
type Follower struct {
	g   *Guide
	def Default

	mu      sync.Mutex
	started bool
	step    flow.Step
	key     string
	voice   Voice // the voice key was said in: a language switch says it again
	elder   bool
}

// NewFollower follows states with g under def (DefaultElder when empty).
func NewFollower(g *Guide, def Default) *Follower {
	if _, ok := ParseDefault(string(def)); !ok {
		def = DefaultElder
	}
	return &Follower{g: g, def: def}
}

// Guide is the guide the follower speaks through.
func (f *Follower) Guide() *Guide { return f.g }

// Show says what s calls for. It returns at once.
func (f *Follower) Show(s flow.State) {
	v := f.g.Voice()
	f.mu.Lock()
	newSession := !f.started || (s.Step == flow.StepHome && f.step != flow.StepHome)
	elderChanged := f.started && s.ElderMode != f.elder
	key := PromptKey(s)
	say := newSession || s.Step != f.step || key != f.key || v != f.voice
	f.started, f.step, f.key, f.voice, f.elder = true, s.Step, key, v, s.ElderMode
	f.mu.Unlock()

	if newSession {
		f.g.reset(f.def.on(s.ElderMode))
	} else if elderChanged && f.def == DefaultElder {
		f.g.enable(s.ElderMode)
		say = say || s.ElderMode
	}
	if say {
		f.g.Say(key)
	}
}

// The controls of the kiosk's voice bar, for kiosk/ui.

// Enabled reports whether prompts are spoken.
func (f *Follower) Enabled() bool { return f.g.Enabled() }

// SetEnabled is the speaker button.
func (f *Follower) SetEnabled(on bool) { f.g.SetEnabled(on) }

// Repeat is the 重听 button.
func (f *Follower) Repeat() { f.g.Repeat() }

// Chinese is the voice chosen for the Chinese UI in this session.
func (f *Follower) Chinese() Voice { return f.g.Chinese() }

// SetChinese is the 普通话 / 粤语 choice on Home, kept until the session
// ends.
func (f *Follower) SetChinese(v Voice) {
	f.g.SetChinese(v)
	f.mu.Lock()
	f.voice = f.g.Voice()
	f.mu.Unlock()
}

// HelpSent says that staff are coming.
func (f *Follower) HelpSent() { f.g.Say(KeyHelpSent) }

// HelpOffline plays the chime and says to go to the counter.
func (f *Follower) HelpOffline() { f.g.Chime(KeyHelpOffline) }
