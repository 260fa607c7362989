package ui_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"

	"onedoor/kiosk/flow"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/ui"
	"onedoor/kiosk/ui/uitest"
	"onedoor/kiosk/voice"
)

// fakeVoice records what the voice bar asks of the voice.
type fakeVoice struct {
	on      bool
	chinese voice.Voice
	calls   []string
}

func (f *fakeVoice) Show(s flow.State)    { f.calls = append(f.calls, "show "+s.Step.String()) }
func (f *fakeVoice) Enabled() bool        { return f.on }
func (f *fakeVoice) SetEnabled(on bool)   { f.on = on; f.calls = append(f.calls, "enabled") }
func (f *fakeVoice) Repeat()              { f.calls = append(f.calls, "repeat") }
func (f *fakeVoice) Chinese() voice.Voice { return f.chinese }
func (f *fakeVoice) SetChinese(v voice.Voice) {
	f.chinese = v
	f.calls = append(f.calls, "voice "+string(v))
}
func (f *fakeVoice) HelpSent()    { f.calls = append(f.calls, "help sent") }
func (f *fakeVoice) HelpOffline() { f.calls = append(f.calls, "help offline") }

func TestVoiceBarControls(t *testing.T) {
	newApp(t)
	tr := i18n.New()
	v := &fakeVoice{chinese: voice.Mandarin}
	touches := 0
	var bar *ui.VoiceBar
	box := container.NewVBox()
	draw := func(s flow.State) {
		box.Objects = bar.Objects(s, nil)
		box.Refresh()
	}
	state := flow.State{Step: flow.StepHome}
	bar = ui.NewVoiceBar(tr, v, nil, func() { touches++ }, func() { draw(state) })
	bar.Show(state)
	draw(state)

	for _, label := range []string{"声音：关", "重听", "普通话", "粤语", "呼叫工作人员"} {
		if uitest.FindButton(box, label) == nil {
			t.Fatalf("Home lacks %q: %s", label, uitest.Joined(box))
		}
	}
	test.Tap(uitest.FindButton(box, "声音：关"))
	if !v.on || uitest.FindButton(box, "声音：开") == nil {
		t.Fatalf("speaker did not switch on: %v", v.calls)
	}
	test.Tap(uitest.FindButton(box, "粤语"))
	test.Tap(uitest.FindButton(box, "重听"))
	if want := []string{"show home", "enabled", "voice yue", "repeat"}; !slices.Equal(v.calls, want) || touches != 3 {
		t.Fatalf("calls %v (touches %d), want %v", v.calls, touches, want)
	}
	if b := uitest.FindButton(box, "粤语"); b == nil || b.Style != ui.StyleChosen {
		t.Error("粤语 not shown as chosen")
	}

	// Past Home, and in the English UI, the voice's language is not offered.
	state = flow.State{Step: flow.StepIdentify}
	bar.Show(state)
	draw(state)
	if uitest.FindButton(box, "粤语") != nil || uitest.FindButton(box, "呼叫工作人员") == nil {
		t.Errorf("identify: %s", uitest.Joined(box))
	}
	_ = tr.SetLang(i18n.EN)
	state = flow.State{Step: flow.StepHome}
	bar.Show(state)
	draw(state)
	if uitest.FindButton(box, "Cantonese") != nil || uitest.FindButton(box, "Voice: on") == nil || uitest.FindButton(box, "Call staff") == nil {
		t.Errorf("English home: %s", uitest.Joined(box))
	}
}

func TestVoiceBarHelp(t *testing.T) {
	newApp(t)
	tr := i18n.New()
	tests := []struct {
		name   string
		answer error
		state  string
		line   string
		voice  string
	}{
		{"delivered", nil, "sent", "已通知工作人员", "help sent"},
		{"offline", errors.New("no answer"), "offline", "请到服务台找工作人员", "help offline"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := &fakeVoice{chinese: voice.Mandarin}
			var screens []string
			var done func(error)
			box := container.NewVBox()
			state := flow.State{Step: flow.StepMaterials}
			var bar *ui.VoiceBar
			bar = ui.NewVoiceBar(tr, v, func(screen string, d func(error)) { screens, done = append(screens, screen), d }, nil,
				func() { box.Objects = bar.Objects(state, nil); box.Refresh() })
			bar.Show(state)
			box.Objects = bar.Objects(state, nil)
			test.Tap(uitest.FindButton(box, "呼叫工作人员"))
			if bar.HelpState() != "calling" || uitest.FindButton(box, "呼叫工作人员") != nil || !strings.Contains(uitest.Joined(box), "正在呼叫") {
				t.Fatalf("while calling: state %q, %s", bar.HelpState(), uitest.Joined(box))
			}
			if !slices.Equal(screens, []string{"materials"}) {
				t.Fatalf("call sent from %v", screens)
			}
			done(tc.answer)
			if bar.HelpState() != tc.state || !contains(uitest.Joined(box), tc.line) || v.calls[len(v.calls)-1] != tc.voice {
				t.Fatalf("after the answer: state %q, voice %v, %s", bar.HelpState(), v.calls, uitest.Joined(box))
			}
			// Another screen: the notice goes.
			state = flow.State{Step: flow.StepReview}
			bar.Show(state)
			if bar.HelpState() != "" || len(bar.Objects(state, nil)) != 1 {
				t.Errorf("help notice kept on the next screen")
			}
		})
	}
}

func contains(s, part string) bool { return strings.Contains(s, part) }
