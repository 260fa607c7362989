package config

import (
	"path/filepath"
	"regexp"
	"slices"
)

// Voice is the kiosk's spoken guidance (kiosk/voice, issue 17): prompts in
// Mandarin, Cantonese or English through the ALSA sound device.
type Voice struct {
	// Enabled false makes the kiosk mute: no speaker or 重听 buttons and no
	// sound device checked (a service point without a loudspeaker). The
	// 呼叫工作人员 button stays.
	Enabled bool `toml:"enabled"`
	// Default says whether a session starts speaking: "elder" (in 长辈模式
	// only, the default), "on" or "off". The resident's speaker button
	// switches it for the session.
	Default string `toml:"default"`
	// Volume of the prompts in percent (0–100); the samples are scaled,
	// the system mixer is left alone.
	Volume int `toml:"volume"`
	// Chinese is the voice a session starts with in the Chinese UI:
	// "cmn" (普通话) or "yue" (粤语); residents switch on Home.
	Chinese string `toml:"chinese"`
	// Device is the ALSA PCM aplay plays to ("default", "plughw:1,0", …).
	Device string `toml:"device"`
	// Dir holds the service hall's own recordings, which replace the
	// built-in prompt of the same name: DIR/yue/identify.wav. Empty: none.
	Dir string `toml:"dir"`
}

// defaultVoice is the voice part of Default.
func defaultVoice() Voice {
	return Voice{Enabled: true, Default: "elder", Volume: 80, Chinese: "cmn", Device: "default"}
}

// alsaPCMRE is what an ALSA PCM name may look like (letters, digits and
// ",:_.-=" as in "plughw:CARD=PCH,DEV=0"): nothing a shell or aplay would
// read as another option.
var alsaPCMRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.,:=-]{0,63}$`)

// validate reports the voice settings' problems through bad.
func (v Voice) validate(bad func(key, format string, args ...any)) {
	if !slices.Contains([]string{"elder", "on", "off"}, v.Default) {
		bad("voice.default", "%q must be elder (on in 长辈模式 only), on or off", v.Default)
	}
	if v.Volume < 0 || v.Volume > 100 {
		bad("voice.volume", "%d must be between 0 and 100 (percent)", v.Volume)
	}
	if !slices.Contains([]string{"cmn", "yue"}, v.Chinese) {
		bad("voice.chinese", "%q must be cmn (普通话) or yue (粤语)", v.Chinese)
	}
	if !alsaPCMRE.MatchString(v.Device) {
		bad("voice.device", "%q must be an ALSA device name such as default or plughw:1,0", v.Device)
	}
	if v.Dir != "" && !filepath.IsAbs(v.Dir) {
		bad("voice.dir", "%q must be an absolute path, or empty for the built-in prompts only", v.Dir)
	}
}
