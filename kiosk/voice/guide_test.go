package voice

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"onedoor/kiosk/flow"
)

// fakePlayer records what it was asked to play and whether each clip ran to
// its end or was cut off. A clip "plays" until release is called for it or
// its context ends.
type fakePlayer struct {
	mu      sync.Mutex
	calls   []string
	playing chan string
	release chan struct{}
}

func newFakePlayer() *fakePlayer {
	return &fakePlayer{playing: make(chan string, 100), release: make(chan struct{}, 100)}
}

func (p *fakePlayer) Play(ctx context.Context, c Clip) error {
	name := string(c.Voice) + ":" + c.Key
	p.record("play " + name)
	p.playing <- name
	select {
	case <-ctx.Done():
		p.record("cut " + name)
		return ctx.Err()
	case <-p.release:
		p.record("end " + name)
		return nil
	}
}

func (p *fakePlayer) record(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, s)
}

func (p *fakePlayer) Calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.calls)
}

// started waits for the player to start a clip and returns its name.
func (p *fakePlayer) started(t *testing.T) string {
	t.Helper()
	select {
	case n := <-p.playing:
		return n
	case <-time.After(5 * time.Second):
		t.Fatalf("nothing played; calls %v", p.Calls())
		return ""
	}
}

// testLibrary has a silent clip for every key named, in every voice, and
// the chime.
func testLibrary(keys ...string) *Library {
	fsys := fstest.MapFS{"chime.wav": {Data: Silence(time.Millisecond)}}
	for _, v := range Voices() {
		for _, k := range keys {
			fsys[string(v)+"/"+FileName(k)] = &fstest.MapFile{Data: Silence(time.Millisecond)}
		}
	}
	return NewLibrary(fsys, "")
}

func allKeys() []string {
	return RequiredKeys([]string{"err.card_unreadable", "err.phone_invalid", "btn.next"})
}

func TestGuideNewPromptCutsOffThePrevious(t *testing.T) {
	p := newFakePlayer()
	g := New(Options{Library: testLibrary(allKeys()...), Player: p})
	defer g.Close()
	g.SetEnabled(true)
	g.Say("voice.home")
	p.started(t)
	g.Say("voice.catalog")
	if n := p.started(t); n != "cmn:voice.catalog" {
		t.Fatalf("second clip %q", n)
	}
	p.release <- struct{}{}
	g.Wait()
	want := []string{"play cmn:voice.home", "cut cmn:voice.home", "play cmn:voice.catalog", "end cmn:voice.catalog"}
	if got := p.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls\n got %v\nwant %v", got, want)
	}
}

func TestGuideNeverBlocksTheCaller(t *testing.T) {
	// A player that never finishes by itself (a hung sound device): Say,
	// Repeat, SetEnabled and SetChinese must still return at once.
	p := newFakePlayer()
	g := New(Options{Library: testLibrary(allKeys()...), Player: p})
	defer g.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.SetEnabled(true)
		for i := range 50 {
			g.Say(fmt.Sprintf("voice.%s", Steps()[i%len(Steps())]))
			g.Repeat()
			g.SetChinese(Cantonese)
			g.SetChinese(Mandarin)
		}
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("the guide blocked its caller")
	}
}

func TestGuideOffRepeatVoiceAndLanguage(t *testing.T) {
	p := newFakePlayer()
	lang := "zh-CN"
	var langMu sync.Mutex
	g := New(Options{Library: testLibrary(allKeys()...), Player: p, Lang: func() string {
		langMu.Lock()
		defer langMu.Unlock()
		return lang
	}})
	defer g.Close()

	g.Say("voice.home") // off: remembered, not played
	g.Wait()
	if c := p.Calls(); len(c) != 0 {
		t.Fatalf("voice off played %v", c)
	}
	g.Repeat() // 重听 plays even with the voice off
	if n := p.started(t); n != "cmn:voice.home" {
		t.Fatalf("repeat played %q", n)
	}
	p.release <- struct{}{}
	g.Wait()

	g.SetEnabled(true) // on: says the current prompt
	p.started(t)
	g.SetChinese(Cantonese) // says it again in Cantonese, cutting off
	if n := p.started(t); n != "yue:voice.home" {
		t.Fatalf("after 粤语 %q", n)
	}
	langMu.Lock()
	lang = "en"
	langMu.Unlock()
	g.Say("voice.catalog")
	if n := p.started(t); n != "en:voice.catalog" {
		t.Fatalf("English UI %q", n)
	}
	g.SetEnabled(false) // off silences at once
	g.Wait()
	calls := p.Calls()
	if calls[len(calls)-1] != "cut en:voice.catalog" {
		t.Errorf("switching off did not cut the prompt: %v", calls)
	}
}

func TestGuideChime(t *testing.T) {
	p := newFakePlayer()
	g := New(Options{Library: testLibrary(allKeys()...), Player: p})
	defer g.Close()
	g.Chime(KeyHelpOffline) // voice off: the chime only
	if n := p.started(t); n != ":chime" {
		t.Fatalf("first %q", n)
	}
	p.release <- struct{}{}
	g.Wait()
	g.SetEnabled(true)
	p.started(t) // the current prompt, help offline
	p.release <- struct{}{}
	g.Wait()
	g.Chime(KeyHelpOffline)
	for _, want := range []string{":chime", "cmn:" + KeyHelpOffline} {
		if n := p.started(t); n != want {
			t.Fatalf("played %q, want %q", n, want)
		}
		p.release <- struct{}{}
	}
	g.Wait()
}

func TestGuideMissingAudioIsSkipped(t *testing.T) {
	p := newFakePlayer()
	g := New(Options{Library: testLibrary("voice.home"), Player: p})
	defer g.Close()
	g.SetEnabled(true)
	g.Say("voice.no_such_prompt")
	g.Wait()
	g.Say("voice.home")
	if n := p.started(t); n != "cmn:voice.home" {
		t.Fatalf("played %q", n)
	}
	g.Close()
}

// TestFollowerScreenChangeInterruptsPrompt drives the follower with the
// states of a session: each new screen cuts off the prompt still playing,
// a redraw of the same screen says nothing, an error on the screen is
// spoken, and the voice follows elder mode.
func TestFollowerScreenChangeInterruptsPrompt(t *testing.T) {
	p := newFakePlayer()
	g := New(Options{Library: testLibrary(allKeys()...), Player: p})
	defer g.Close()
	f := NewFollower(g, DefaultElder)

	home := flow.State{Step: flow.StepHome}
	f.Show(home)
	g.Wait()
	if c := p.Calls(); len(c) != 0 {
		t.Fatalf("normal mode spoke: %v", c)
	}
	elder := home
	elder.ElderMode = true
	f.Show(elder) // 长辈模式: voice on, the screen's prompt
	if n := p.started(t); n != "cmn:voice.home" {
		t.Fatalf("elder mode said %q", n)
	}
	f.Show(elder) // a redraw (a keypad tap, a clock tick): nothing new
	cat := flow.State{Step: flow.StepCatalog, ElderMode: true}
	f.Show(cat)
	if n := p.started(t); n != "cmn:voice.catalog" {
		t.Fatalf("catalog said %q", n)
	}
	id := flow.State{Step: flow.StepIdentify, ElderMode: true}
	f.Show(id)
	p.started(t)
	bad := id
	bad.Error = flow.Message{Key: "err.card_unreadable"}
	f.Show(bad)
	if n := p.started(t); n != "cmn:voice.err.card_unreadable" {
		t.Fatalf("error said %q", n)
	}
	p.release <- struct{}{}
	g.Wait()
	want := []string{
		"play cmn:voice.home", "cut cmn:voice.home",
		"play cmn:voice.catalog", "cut cmn:voice.catalog",
		"play cmn:voice.identify", "cut cmn:voice.identify",
		"play cmn:voice.err.card_unreadable", "end cmn:voice.err.card_unreadable",
	}
	if got := p.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls\n got %v\nwant %v", got, want)
	}

	// The resident picks 粤语 and leaves elder mode: silence.
	g.SetChinese(Cantonese)
	p.started(t)
	off := bad
	off.ElderMode = false
	f.Show(off)
	g.Wait()
	if !slices.Contains(p.Calls(), "cut yue:voice.err.card_unreadable") || g.Enabled() {
		t.Errorf("leaving elder mode kept the voice: %v", p.Calls())
	}
	// Back at Home the session's choices are gone.
	g.SetEnabled(true)
	p.started(t)
	f.Show(home)
	g.Wait()
	if g.Enabled() || g.Chinese() != Mandarin {
		t.Errorf("new session: enabled %v, voice %s", g.Enabled(), g.Chinese())
	}
}

func TestPromptKey(t *testing.T) {
	tests := []struct {
		s    flow.State
		want string
	}{
		{flow.State{Step: flow.StepHome}, "voice.home"},
		{flow.State{Step: flow.StepThanks}, "voice.thanks"},
		{flow.State{Step: flow.StepForm, Error: flow.Message{Key: "err.phone_invalid"}}, "voice.err.phone_invalid"},
		{flow.State{Step: flow.StepForm, Error: flow.Message{Key: "home.offline"}}, "voice.form"},
		{flow.State{Step: flow.StepForm, Confirm: flow.ConfirmCancel}, "voice.confirm.cancel"},
		{flow.State{Step: flow.StepForm, Countdown: 9, Confirm: flow.ConfirmCancel}, KeyIdle},
		{flow.State{Step: flow.StepMaterials, Materials: []flow.MaterialState{{}, {Error: flow.Message{Key: "err.page_blank"}}}}, "voice.err.page_blank"},
		{flow.State{Step: flow.StepMaterials, Materials: []flow.MaterialState{{Scanning: true, Error: flow.Message{Key: "err.page_blank"}}}}, "voice.materials"},
	}
	for _, tc := range tests {
		if got := PromptKey(tc.s); got != tc.want {
			t.Errorf("PromptKey(%v) = %q, want %q", tc.s.Step, got, tc.want)
		}
	}
}
