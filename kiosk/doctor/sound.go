package doctor

import (
	"context"

	"onedoor/assets"
	"onedoor/kiosk/config"
	"onedoor/kiosk/i18n"
	"onedoor/kiosk/voice"
)

// checkSound is the "sound" line: whether residents can hear the voice
// prompts (issue 17), and which of the service hall's recordings are used.
// A kiosk without sound still serves, so a missing or broken device is a
// warning, not a failure; the heartbeat reports it to the fleet page too.
func checkSound(ctx context.Context, v config.Voice, skip bool) Check {
	const name = voice.DeviceKind
	switch {
	case !v.Enabled:
		return Check{name, Skip, "voice guidance off (voice.enabled = false)"}
	case skip:
		return Check{name, Skip, "not checked (--skip-devices)"}
	}
	var keys []string
	if cats, err := i18n.LoadEmbedded(); err == nil {
		for k := range cats[i18n.ZhCN] {
			keys = append(keys, k)
		}
	}
	r := voice.Diagnose(ctx, voice.Settings{Enabled: true, Volume: v.Volume, Device: v.Device, Dir: v.Dir}, assets.Voice(), voice.RequiredKeys(keys))
	if !r.OK {
		return Check{name, Warn, r.Detail}
	}
	return Check{name, OK, r.Detail}
}
