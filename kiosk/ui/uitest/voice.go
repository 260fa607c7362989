package uitest

import (
	"onedoor/kiosk/ui"
	"onedoor/kiosk/voice"
)

// SilentVoice is the kiosk's real voice guidance without a player: its
// controls and state behave as on a kiosk (on by default in elder mode,
// 普通话/粤语 kept for the session) and nothing is played, so tests and
// screenshots show the screens as residents see them.
func SilentVoice(lang func() string) ui.Voice {
	return voice.NewFollower(voice.New(voice.Options{Lang: lang}), voice.DefaultElder)
}
