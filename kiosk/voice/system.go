package voice

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"sync/atomic"
	"time"
)

// Settings are the kiosk's voice settings (config [voice]).
type Settings struct {
	// Enabled false leaves the kiosk mute: no speaker controls, no sound
	// device checked (a service point without a loudspeaker).
	Enabled bool
	Default Default
	// Volume in percent, 0–100.
	Volume int
	// Chinese is the voice a session starts with in the Chinese UI.
	Chinese Voice
	// Device is the ALSA PCM; "default" when empty.
	Device string
	// Dir is the override folder of the service hall's recordings.
	Dir string
}

// DeviceKind names the sound device in device states (heartbeat, doctor).
const DeviceKind = "sound"

// System is the kiosk's voice: the follower the UI drives, and the sound
// device's state for the heartbeat and the technician.
type System struct {
	*Follower
	player *Aplay
	volume atomic.Int32
}

// Open builds the voice from settings over the built-in prompts (assets.Voice).
// lang returns the UI language. Nothing is played or checked yet; call
// CheckDevice in the background to learn the device's state early.
func Open(s Settings, builtin fs.FS, lang func() string, log *slog.Logger) *System {
	if log == nil {
		log = slog.Default()
	}
	sys := &System{}
	sys.volume.Store(int32(min(max(s.Volume, 0), 100)))
	sys.player = &Aplay{Device: s.Device, Volume: func() int { return int(sys.volume.Load()) }, Logger: log}
	g := New(Options{Library: NewLibrary(builtin, s.Dir), Player: sys.player, Lang: lang, Chinese: s.Chinese, Logger: log})
	sys.Follower = NewFollower(g, s.Default)
	return sys
}

// SetVolume changes the volume (percent) for the next prompt.
func (s *System) SetVolume(v int) { s.volume.Store(int32(min(max(v, 0), 100))) }

// DeviceState is the sound device's state: "ok", "absent", "error: …", or
// "unknown" before anything was played or checked.
func (s *System) DeviceState() string {
	if st := s.player.State(); st != "" {
		return st
	}
	return "unknown"
}

// CheckDevice plays a moment of silence to learn the device's state; it
// gives up after 5 s (a hung device reads as an error).
func (s *System) CheckDevice(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := s.player.Check(ctx)
	if ctx.Err() == context.DeadlineExceeded {
		s.player.setState("error: the sound device did not answer within 5 s")
	}
	return err
}

// Close silences the voice and waits for the player to stop.
func (s *System) Close() { s.Guide().Close() }

// Report is what the technician sees about the voice (doctor, Kiosk
// page): the device and the prompt set.
type Report struct {
	OK     bool // the device plays
	Detail string
}

// Diagnose checks the sound device and the override folder for the
// technician: whether prompts can be heard, and which recordings of the
// service hall are used, unknown or unplayable.
func Diagnose(ctx context.Context, s Settings, builtin fs.FS, keys []string) Report {
	sys := Open(s, builtin, nil, slog.New(slog.DiscardHandler))
	err := sys.CheckDevice(ctx)
	dev := s.Device
	if dev == "" {
		dev = "default"
	}
	var r Report
	if err != nil {
		r.Detail = fmt.Sprintf("sound device %q: %s; residents get no spoken prompts (check the loudspeaker's cable, `aplay -l`, voice.device)", dev, sys.DeviceState())
	} else {
		r.OK = true
		r.Detail = fmt.Sprintf("sound device %q plays; volume %d%%", dev, s.Volume)
	}
	if s.Dir != "" {
		o, err := NewLibrary(builtin, s.Dir).Overrides(keys)
		switch {
		case err != nil:
			r.OK, r.Detail = false, r.Detail+"; override folder: "+err.Error()
		default:
			r.Detail += fmt.Sprintf("; %d recordings from %s", o.Used, s.Dir)
			if len(o.Broken) > 0 {
				r.OK = false
				r.Detail += fmt.Sprintf("; not playable: %v", o.Broken)
			}
			if len(o.Unknown) > 0 {
				r.Detail += fmt.Sprintf("; no such prompt: %v", o.Unknown)
			}
		}
	}
	return r
}
