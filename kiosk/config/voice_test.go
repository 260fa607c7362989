package config

import (
	"errors"
	"strings"
	"testing"
)

func TestVoiceSettings(t *testing.T) {
	tests := []struct {
		key, value string
		ok         bool
	}{
		{"voice.volume", "60", true},
		{"voice.volume", "0", true},
		{"voice.volume", "101", false},
		{"voice.volume", "-1", false},
		{"voice.default", "on", true},
		{"voice.default", "off", true},
		{"voice.default", "sometimes", false},
		{"voice.chinese", "yue", true},
		{"voice.chinese", "en", false},
		{"voice.device", "plughw:CARD=PCH,DEV=0", true},
		{"voice.device", "-Dnull", false},
		{"voice.device", "default; rm -rf /", false},
		{"voice.dir", "/var/lib/onedoor/voice", true},
		{"voice.dir", "voice", false},
		{"voice.enabled", "false", true},
	}
	for _, tc := range tests {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			c := Default()
			err := c.Set(tc.key, tc.value)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				if got, _ := c.Get(tc.key); got != tc.value {
					t.Errorf("Get = %q", got)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("Set = %v, want an error naming %s", err, tc.key)
			}
		})
	}
	d := Default().Voice
	if !d.Enabled || d.Default != "elder" || d.Chinese != "cmn" || d.Volume != 80 || d.Device != "default" {
		t.Errorf("defaults %+v", d)
	}
}
