package techui_test

import (
	"strings"
	"testing"

	"onedoor/kiosk/config"
)

// TestVoiceSettings: the technician sets when the voice speaks, its
// Chinese voice and its volume on the Kiosk page; an out-of-range volume
// is refused naming voice.volume and leaves the file as it was.
func TestVoiceSettings(t *testing.T) {
	r := kioskPage(t)
	volume := func(text string) {
		r.tap(r.tr("tech.voice.edit_volume"))
		r.tap(r.tr("kb.clear"))
		if err := r.r.Type(text); err != nil {
			t.Fatal(err)
		}
		r.tap(r.tr("tech.save"))
		r.settle()
	}
	steps := []struct {
		name   string
		do     func()
		errKey string
		check  func(c config.Config) bool
	}{
		{"always speak", func() { r.tap(r.tr("tech.voice.default_on")) }, "", func(c config.Config) bool { return c.Voice.Default == "on" }},
		{"Cantonese", func() { r.tap(r.tr("tech.voice.chinese_yue")) }, "", func(c config.Config) bool { return c.Voice.Chinese == "yue" }},
		{"volume", func() { volume("55") }, "", func(c config.Config) bool { return c.Voice.Volume == 55 }},
		{"volume too loud", func() { volume("150") }, "voice.volume", nil},
	}
	for _, s := range steps {
		before, err := config.Load(r.store.Path)
		if err != nil {
			t.Fatal(err)
		}
		s.do()
		after, err := config.Load(r.store.Path)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if s.errKey != "" {
			if !strings.Contains(r.mode.Message(), s.errKey) || after != before {
				t.Errorf("%s: message %q; file changed %v", s.name, r.mode.Message(), after != before)
			}
			r.tap(r.tr("tech.cancel"))
			continue
		}
		if !s.check(after) {
			t.Errorf("%s: not saved: %+v", s.name, after.Voice)
		}
	}
	if !strings.Contains(r.screen(), r.tr("tech.voice.volume", 55)) {
		t.Errorf("the page does not show the volume: %s", r.screen())
	}
}
