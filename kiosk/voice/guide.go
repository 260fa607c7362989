package voice

import (
	"context"
	"errors"
	"log/slog"
	"sync"
)

// Player makes a clip audible. Play blocks until the clip has played or ctx
// ends; when ctx ends it silences the clip at once and returns ctx.Err().
// Play is called from one goroutine at a time.
type Player interface {
	Play(ctx context.Context, c Clip) error
}

// ChimeKey names the chime played when help cannot be called (no network):
// chime.wav beside the voice folders, the same for every language.
const ChimeKey = "chime"

// Options configure a Guide.
type Options struct {
	Library *Library
	Player  Player
	// Lang returns the UI language (kiosk/i18n: "zh-CN" or "en"); the
	// English UI speaks English whatever Chinese voice was chosen. Nil
	// means Chinese.
	Lang func() string
	// Chinese is the voice for the Chinese UI until a resident picks
	// another; Mandarin when empty.
	Chinese Voice
	Logger  *slog.Logger
}

// Guide speaks one prompt at a time. Every method returns at once: the
// clip plays on a goroutine, and a new prompt first cancels the one
// playing and waits for it to stop before it starts, so two prompts never
// overlap on the sound device (a hardware device refuses a second opener).
//
// Guide is safe for concurrent use.
type Guide struct {
	lib     *Library
	player  Player
	lang    func() string
	log     *slog.Logger
	builtin Voice

	mu      sync.Mutex
	enabled bool
	chinese Voice
	current string // the prompt key of the screen, what Repeat says
	cancel  context.CancelFunc
	done    chan struct{} // closed when the latest play goroutine ends
	closed  bool
	missing map[string]bool // voice/key pairs already logged as missing
}

// New returns a guide, switched off.
func New(o Options) *Guide {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if !o.Chinese.Chinese() {
		o.Chinese = Mandarin
	}
	return &Guide{lib: o.Library, player: o.Player, lang: o.Lang, log: o.Logger, builtin: o.Chinese, chinese: o.Chinese, missing: map[string]bool{}}
}

// Voice is the voice prompts are spoken in now.
func (g *Guide) Voice() Voice {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.voiceLocked()
}

func (g *Guide) voiceLocked() Voice {
	if g.lang != nil && g.lang() == "en" {
		return English
	}
	return g.chinese
}

// Chinese is the voice chosen for the Chinese UI.
func (g *Guide) Chinese() Voice {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.chinese
}

// SetChinese chooses Mandarin or Cantonese for the Chinese UI and, when the
// voice is on, says the current prompt again in it.
func (g *Guide) SetChinese(v Voice) {
	if !v.Chinese() {
		return
	}
	g.mu.Lock()
	changed := g.chinese != v
	g.chinese = v
	on := g.enabled
	g.mu.Unlock()
	if changed && on {
		g.Repeat()
	}
}

// Enabled reports whether prompts are spoken.
func (g *Guide) Enabled() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.enabled
}

// SetEnabled switches the voice. Off silences the prompt playing; on says
// the current screen's prompt.
func (g *Guide) SetEnabled(on bool) {
	g.mu.Lock()
	was := g.enabled
	g.enabled = on
	g.mu.Unlock()
	switch {
	case was && !on:
		g.Stop()
	case !was && on:
		g.Repeat()
	}
}

// Current is the prompt key Repeat says.
func (g *Guide) Current() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.current
}

// Say makes key the current prompt and, when the voice is on, speaks it,
// cutting off whatever was playing.
func (g *Guide) Say(key string) {
	g.mu.Lock()
	g.current = key
	on := g.enabled
	g.mu.Unlock()
	if on {
		g.start(false, key)
	}
}

// Repeat says the current prompt again (重听). A resident who asks hears
// it even with the voice switched off.
func (g *Guide) Repeat() {
	if key := g.Current(); key != "" {
		g.start(false, key)
	}
}

// Chime plays the chime and then, when the voice is on, key: the kiosk's
// own call for attention when help cannot reach the platform. The chime
// plays with the voice off too; it is for the staff nearby as much as for
// the resident.
func (g *Guide) Chime(key string) {
	g.mu.Lock()
	if key != "" {
		g.current = key
	}
	on := g.enabled
	g.mu.Unlock()
	if on && key != "" {
		g.start(true, key)
	} else {
		g.start(true)
	}
}

// Stop silences the prompt playing, if any.
func (g *Guide) Stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cancel != nil {
		g.cancel()
	}
}

// Wait blocks until nothing is playing.
func (g *Guide) Wait() {
	g.mu.Lock()
	done := g.done
	g.mu.Unlock()
	if done != nil {
		<-done
	}
}

// Close silences the guide for good and waits for the player to stop.
func (g *Guide) Close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.Stop()
	g.Wait()
}

// start plays the chime (when chime) and then keys, in order, after the
// previous play goroutine has ended.
func (g *Guide) start(chime bool, keys ...string) {
	g.mu.Lock()
	if g.closed || g.player == nil || g.lib == nil {
		g.mu.Unlock()
		return
	}
	if g.cancel != nil {
		g.cancel()
	}
	v := g.voiceLocked()
	ctx, cancel := context.WithCancel(context.Background())
	prev, done := g.done, make(chan struct{})
	g.cancel, g.done = cancel, done
	g.mu.Unlock()

	go func() {
		defer close(done)
		defer cancel()
		if prev != nil {
			<-prev
		}
		var clips []Clip
		if chime {
			if c, err := g.lib.Chime(); err == nil {
				clips = append(clips, c)
			} else {
				g.noAudio(err, "", ChimeKey)
			}
		}
		for _, k := range keys {
			c, err := g.lib.Clip(v, k)
			if err != nil {
				g.noAudio(err, v, k)
				continue
			}
			clips = append(clips, c)
		}
		for _, c := range clips {
			if ctx.Err() != nil {
				return
			}
			if err := g.player.Play(ctx, c); err != nil && !errors.Is(err, context.Canceled) {
				// The player keeps the device state for the technician;
				// the resident carries on without sound.
				g.log.Debug("voice: prompt not played", "key", c.Key, "voice", string(c.Voice), "err", err)
				return
			}
		}
	}()
}

func (g *Guide) noAudio(err error, v Voice, key string) {
	g.mu.Lock()
	seen := g.missing[string(v)+"/"+key]
	g.missing[string(v)+"/"+key] = true
	g.mu.Unlock()
	if !seen {
		g.log.Warn("voice: prompt has no audio", "key", key, "voice", string(v), "err", err)
	}
}

// reset starts a session: the default Chinese voice, the voice on or off,
// nothing playing and no prompt to repeat.
func (g *Guide) reset(on bool) {
	g.mu.Lock()
	g.enabled, g.chinese, g.current = on, g.builtin, ""
	g.mu.Unlock()
	g.Stop()
}

// enable switches the voice without saying anything: off silences the
// prompt playing.
func (g *Guide) enable(on bool) {
	g.mu.Lock()
	g.enabled = on
	g.mu.Unlock()
	if !on {
		g.Stop()
	}
}
