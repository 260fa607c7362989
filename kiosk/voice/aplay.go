package voice

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Device states, as kiosk/devices and the heartbeat name them.
const (
	StateOK     = "ok"
	StateAbsent = "absent"
)

// ErrNoDevice: there is no sound device to play on (no card, the ALSA
// device named does not exist, or aplay is not installed).
var ErrNoDevice = errors.New("voice: no sound device")

// Aplay plays clips through ALSA by running aplay from alsa-utils, one
// process per clip with the clip on its standard input. Cancelling Play's
// context kills the process, which silences the device at once.
type Aplay struct {
	// Device is the ALSA PCM (aplay -D); "default" when empty. Tests use
	// "null", which decodes and discards.
	Device string
	// Volume returns the level in percent (0–100) at the time of playing;
	// nil is 100. Samples are scaled before aplay sees them.
	Volume func() int
	// Command is the aplay program; "aplay" on PATH when empty.
	Command string
	Logger  *slog.Logger

	mu    sync.Mutex
	state string
}

func (a *Aplay) command() string {
	if a.Command != "" {
		return a.Command
	}
	return "aplay"
}

func (a *Aplay) device() string {
	if a.Device != "" {
		return a.Device
	}
	return "default"
}

func (a *Aplay) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}

// State is the sound device's state as the last play or Check found it:
// "ok", "absent", "error: …", or "" before anything was tried.
func (a *Aplay) State() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state
}

func (a *Aplay) setState(s string) {
	a.mu.Lock()
	changed := a.state != s
	a.state = s
	a.mu.Unlock()
	if changed && s != StateOK {
		// Logged once per change: a kiosk without a loudspeaker would
		// otherwise log every screen.
		a.logger().Warn("voice: sound device unusable", "device", a.device(), "state", s)
	}
}

// Play plays c and returns when it has played, or at once with ctx.Err()
// once ctx ends (the aplay process is killed).
func (a *Aplay) Play(ctx context.Context, c Clip) error {
	data := c.Data
	if a.Volume != nil {
		scaled, err := Scale(data, a.Volume())
		if err != nil {
			return fmt.Errorf("voice: %s: %w", c.Path, err)
		}
		data = scaled
	}
	return a.run(ctx, data)
}

// Check plays a tenth of a second of silence, so that a missing or broken
// device shows before a resident needs it (doctor, the app's start). It
// returns ErrNoDevice (wrapped) when there is no device.
func (a *Aplay) Check(ctx context.Context) error {
	return a.run(ctx, Silence(100*time.Millisecond))
}

func (a *Aplay) run(ctx context.Context, wav []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, a.command(), "-q", "-D", a.device(), "-")
	cmd.Stdin = bytes.NewReader(wav)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	// aplay exits as soon as it is killed; WaitDelay only guards against
	// a child that keeps stderr open.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		// Cut off by a newer prompt: says nothing about the device.
		return ctx.Err()
	}
	if err == nil {
		a.setState(StateOK)
		return nil
	}
	state, werr := classify(err, stderr.String())
	a.setState(state)
	return werr
}

// classify turns aplay's failure into a device state: "absent" when there
// is nothing to play on, "error: …" otherwise (a device that exists but
// fails, which a technician must look at).
func classify(err error, stderr string) (string, error) {
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		return StateAbsent, fmt.Errorf("%w: aplay not installed (alsa-utils): %w", ErrNoDevice, err)
	}
	msg := lastLine(stderr)
	if msg == "" {
		msg = err.Error()
	}
	low := strings.ToLower(stderr)
	for _, s := range []string{"no soundcards found", "no such file or directory", "unknown pcm", "cannot find card", "no such device"} {
		if strings.Contains(low, s) {
			return StateAbsent, fmt.Errorf("%w: %s", ErrNoDevice, msg)
		}
	}
	return "error: " + msg, fmt.Errorf("voice: aplay: %s: %w", msg, err)
}

// lastLine is the last non-empty line of aplay's complaint, which names
// the problem ("audio open error: Device or resource busy").
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	l := strings.TrimSpace(lines[len(lines)-1])
	// "aplay: main:831: audio open error: …": keep what a technician reads.
	if i := strings.LastIndex(l, ": audio open error"); i >= 0 {
		l = l[i+2:]
	} else {
		l = strings.TrimPrefix(l, "aplay: ")
	}
	const max = 200
	if len(l) > max {
		l = l[:max]
	}
	return l
}

// Silence is a WAV file of d of silence, 8 kHz 8-bit mono.
func Silence(d time.Duration) []byte {
	const rate = 8000
	n := int(d * rate / time.Second)
	data := bytes.Repeat([]byte{128}, n)
	return WAV(rate, 8, 1, data)
}

// WAV wraps PCM samples in a RIFF/WAVE header.
func WAV(rate, bits, channels int, data []byte) []byte {
	var b bytes.Buffer
	le32 := func(v int) { b.Write([]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}) }
	le16 := func(v int) { b.Write([]byte{byte(v), byte(v >> 8)}) }
	b.WriteString("RIFF")
	le32(36 + len(data) + len(data)%2)
	b.WriteString("WAVEfmt ")
	le32(16)
	le16(1)
	le16(channels)
	le32(rate)
	le32(rate * channels * bits / 8)
	le16(channels * bits / 8)
	le16(bits)
	b.WriteString("data")
	le32(len(data))
	b.Write(data)
	if len(data)%2 == 1 {
		b.WriteByte(0)
	}
	return b.Bytes()
}
