package ui_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"onedoor/assets"
	"onedoor/kiosk/flow"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/ui"
	"onedoor/kiosk/ui/uitest"
	"onedoor/kiosk/voice"
)

// TestEveryScreenHasVoiceControls (issue 17): every resident screen, in
// both languages and in elder mode, has the speaker switch, 重听 and
// 呼叫工作人员; Home alone offers 普通话 / 粤语 (in the Chinese UI).
func TestEveryScreenHasVoiceControls(t *testing.T) {
	for _, mode := range []struct {
		name  string
		lang  string
		elder bool
	}{{"zh", i18n.ZhCN, false}, {"en", i18n.EN, false}, {"elder", i18n.ZhCN, true}} {
		t.Run(mode.name, func(t *testing.T) {
			h, err := uitest.NewHarness()
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			if err := h.SetLang(mode.lang); err != nil {
				t.Fatal(err)
			}
			if mode.elder {
				h.Dispatch(flow.SetElderMode{On: true})
			}
			screens := 0
			err = uitest.Tour(h, func(name string) error {
				screens++
				root := h.Win.Content()
				speaker := h.Tr.T("speech.off")
				if h.Kiosk.State().ElderMode {
					speaker = h.Tr.T("speech.on") // on by default in 长辈模式
				}
				for _, label := range []string{speaker, h.Tr.T("speech.repeat"), h.Tr.T("app.call_staff")} {
					if uitest.FindButton(root, label) == nil {
						t.Errorf("%s: no %q button; buttons %s", name, label, h.R.ButtonLabels())
					}
				}
				chooser := uitest.FindButton(root, h.Tr.T("speech.cantonese")) != nil
				if want := h.Kiosk.State().Step == flow.StepHome && mode.lang == i18n.ZhCN; chooser != want {
					t.Errorf("%s: 粤语 offered %v, want %v", name, chooser, want)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if screens < 15 {
				t.Fatalf("toured only %d screens", screens)
			}
		})
	}
}

// recordingPlayer plays nothing: it records each clip and holds it until
// cut off, like a prompt still being spoken when the resident moves on.
type recordingPlayer struct {
	mu      sync.Mutex
	calls   []string
	started chan string
}

func (p *recordingPlayer) Play(ctx context.Context, c voice.Clip) error {
	p.log("play " + c.Key)
	p.started <- c.Key
	<-ctx.Done()
	p.log("cut " + c.Key)
	return ctx.Err()
}

func (p *recordingPlayer) log(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, s)
}

// TestScreenChangeInterruptsPrompt (issue 17): in elder mode each new
// screen says its prompt, cutting off the previous one still playing; an
// error on a screen is said in its place; the speaker button silences.
func TestScreenChangeInterruptsPrompt(t *testing.T) {
	p := &recordingPlayer{started: make(chan string, 16)}
	h, err := uitest.NewHarness()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	// The same kiosk with a voice that plays through the recording player.
	g := voice.New(voice.Options{Library: voice.NewLibrary(assets.Voice(), ""), Player: p, Lang: h.Tr.Lang})
	h.Kiosk = ui.New(h.Tr, ui.Options{Dispatch: h.Dispatch, Dict: uitest.SharedDict(), Voice: voice.NewFollower(g, voice.DefaultElder)})
	h.Win.SetContent(h.Kiosk.Object())
	h.Kiosk.Render(h.Machine.State())
	defer g.Close()
	expect := func(key string) {
		t.Helper()
		select {
		case got := <-p.started:
			if got != key {
				t.Fatalf("played %q, want %q", got, key)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%q never played", key)
		}
	}
	h.Dispatch(flow.SetElderMode{On: true})
	expect("voice.home")
	h.Dispatch(flow.Start{})
	expect("voice.catalog")
	h.Dispatch(flow.SelectItem{ItemID: "hh-residence-permit"})
	expect("voice.guide")
	h.Dispatch(flow.Next{})
	expect("voice.identify")
	h.Dispatch(flow.CardRead{Identity: uitest.Fictional(), Problem: flow.CardUnreadable})
	expect("voice.err.card_unreadable")
	if err := h.R.Tap(h.Tr.T("speech.on")); err != nil {
		t.Fatal(err)
	}
	h.Dispatch(flow.Back{})
	deadline := time.Now().Add(5 * time.Second)
	for {
		p.mu.Lock()
		calls := slices.Clone(p.calls)
		p.mu.Unlock()
		want := []string{
			"play voice.home", "cut voice.home", "play voice.catalog", "cut voice.catalog",
			"play voice.guide", "cut voice.guide", "play voice.identify", "cut voice.identify",
			"play voice.err.card_unreadable", "cut voice.err.card_unreadable",
		}
		if slices.Equal(calls, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("calls\n got %v\nwant %v", calls, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
