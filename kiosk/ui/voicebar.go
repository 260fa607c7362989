package ui

import (
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"onedoor/kiosk/flow"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/voice"
)

// Voice is the spoken guidance as the kiosk drives it; *voice.Follower has
// it. Every method returns at once (the sound plays elsewhere).
type Voice interface {
	// Show says what the state calls for (a new screen, an error).
	Show(s flow.State)
	Enabled() bool
	SetEnabled(on bool)
	Repeat()
	Chinese() voice.Voice
	SetChinese(v voice.Voice)
	// HelpSent and HelpOffline answer the help button aloud; HelpOffline
	// also plays the kiosk's chime.
	HelpSent()
	HelpOffline()
}

// CallHelp sends a call for staff from screen (a flow step name) and later
// calls done with nil when the platform has it, or an error when it could
// not go out. It must return at once; done runs on Fyne's goroutine.
type CallHelp func(screen string, done func(err error))

// helpState is where the resident's call for staff stands.
type helpState int

const (
	helpNone    helpState = iota
	helpCalling           // sent, no answer yet
	helpSent              // the platform has it: staff are coming
	helpOffline           // it could not go out: go to the counter
)

// VoiceBar is the strip under the header on every screen: the speaker
// switch, 重听, on Home the choice of 普通话 or 粤语, and the
// 呼叫工作人员 button with what became of the call. It holds the call's
// state for the screen it was made on; a new screen clears it.
type VoiceBar struct {
	tr       Translator
	voice    Voice // nil: no voice guidance
	callHelp CallHelp
	touch    func()
	redraw   func()

	help     helpState
	helpStep flow.Step
	step     flow.Step
}

// NewVoiceBar makes the bar. v and call may be nil (no voice; help always
// offline); touch restarts the idle timer, redraw draws the screen again.
func NewVoiceBar(tr Translator, v Voice, call CallHelp, touch, redraw func()) *VoiceBar {
	if touch == nil {
		touch = func() {}
	}
	if redraw == nil {
		redraw = func() {}
	}
	return &VoiceBar{tr: tr, voice: v, callHelp: call, touch: touch, redraw: redraw}
}

// Show follows a newly drawn state: it speaks and forgets a call made on
// another screen.
func (b *VoiceBar) Show(s flow.State) {
	b.step = s.Step
	if b.help != helpNone && s.Step != b.helpStep {
		b.help = helpNone
	}
	if b.voice != nil {
		b.voice.Show(s)
	}
}

// HelpState reports the call's state for tests: "", "calling", "sent" or
// "offline".
func (b *VoiceBar) HelpState() string {
	return [...]string{"", "calling", "sent", "offline"}[b.help]
}

// Objects are the bar and, after a call, the line saying what became of
// it. middle, when not nil, goes between the voice buttons and the help
// button (the step progress), so the bar costs elder mode's dense screens
// no row of their own.
func (b *VoiceBar) Objects(s flow.State, middle fyne.CanvasObject) []fyne.CanvasObject {
	var left []fyne.CanvasObject
	if b.voice != nil {
		key, style := "speech.off", StyleNormal
		if b.voice.Enabled() {
			key, style = "speech.on", StyleChosen
		}
		left = append(left,
			NewStyledButton(b.tr.T(key), style, b.ToggleSpeaker),
			NewButton(b.tr.T("speech.repeat"), b.Repeat))
		// The voice's language is chosen on Home, where a session starts;
		// the English UI speaks English.
		if s.Step == flow.StepHome && b.tr.Lang() != i18n.EN {
			for _, c := range []struct {
				v   voice.Voice
				key string
			}{{voice.Mandarin, "speech.mandarin"}, {voice.Cantonese, "speech.cantonese"}} {
				st := StyleNormal
				if b.voice.Chinese() == c.v {
					st = StyleChosen
				}
				left = append(left, NewStyledButton(b.tr.T(c.key), st, func() { b.ChooseVoice(c.v) }))
			}
		}
	}
	help := NewStyledButton(b.tr.T("app.call_staff"), StylePrimary, b.PressHelp)
	help.Disabled = b.help == helpCalling
	if middle == nil {
		middle = layout.NewSpacer()
	}
	row := container.NewBorder(nil, nil, container.NewHBox(left...), help, middle)
	out := []fyne.CanvasObject{row}
	if line := b.helpLine(); line != nil {
		out = append(out, line)
	}
	return out
}

func (b *VoiceBar) helpLine() fyne.CanvasObject {
	var key string
	// Each background with its own text colour: a label's usual blue
	// (high importance) on the success green had a contrast of 1.0.
	col, fg := theme.ColorNameSuccess, theme.ColorNameForegroundOnSuccess
	switch b.help {
	case helpCalling:
		key = "help.sending"
	case helpSent:
		key = "help.sent"
	case helpOffline:
		key, col, fg = "help.offline", theme.ColorNameWarning, theme.ColorNameForegroundOnWarning
	default:
		return nil
	}
	bg := canvas.NewRectangle(theme.Color(col))
	bg.CornerRadius = theme.Size(theme.SizeNameInputRadius)
	l := widget.NewRichText(&widget.TextSegment{Text: b.tr.T(key), Style: widget.RichTextStyle{ColorName: fg, SizeName: theme.SizeNameText}})
	l.Wrapping = fyne.TextWrapWord
	return container.NewStack(bg, l)
}

// ToggleSpeaker switches the voice on or off.
func (b *VoiceBar) ToggleSpeaker() {
	if b.voice == nil {
		return
	}
	b.voice.SetEnabled(!b.voice.Enabled())
	b.touch()
	b.redraw()
}

// Repeat says the current prompt again.
func (b *VoiceBar) Repeat() {
	if b.voice != nil {
		b.voice.Repeat()
	}
	b.touch()
}

// ChooseVoice picks 普通话 or 粤语 for the rest of the session.
func (b *VoiceBar) ChooseVoice(v voice.Voice) {
	if b.voice != nil {
		b.voice.SetChinese(v)
	}
	b.touch()
	b.redraw()
}

// PressHelp calls staff. The bar shows at once that the call is going out,
// then that staff are coming, or, when it cannot go out, that the resident
// should go to the counter (with the kiosk's chime).
func (b *VoiceBar) PressHelp() {
	if b.help == helpCalling {
		return
	}
	b.touch()
	step := b.step
	b.help, b.helpStep = helpCalling, step
	b.redraw()
	answer := func(err error) {
		if b.step != step || b.help != helpCalling {
			return // the resident moved on; the answer is for another screen
		}
		if err != nil {
			b.help = helpOffline
			if b.voice != nil {
				b.voice.HelpOffline()
			}
		} else {
			b.help = helpSent
			if b.voice != nil {
				b.voice.HelpSent()
			}
		}
		b.redraw()
	}
	if b.callHelp == nil {
		answer(errNoPlatform)
		return
	}
	b.callHelp(step.String(), answer)
}

// errNoPlatform: help cannot be called without a platform.
var errNoPlatform = errors.New("no platform configured")
