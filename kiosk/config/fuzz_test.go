package config

import (
	"testing"
)

// FuzzParse: the config file is edited by hand. Parse must not panic, and
// what it accepts must validate and survive a Marshal/Parse round trip.
func FuzzParse(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("[session]\nidle_timeout = \"90s\"\n"))
	f.Add([]byte("[devices.printer]\nport = \"/dev/ttyUSB0\"\nbaud = 9600\nprofile = \"generic-58\"\n"))
	f.Add([]byte("[kiosk]\nid = \"DG01\"\nlanguage = \"en\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			return
		}
		out, err := Marshal(c)
		if err != nil {
			t.Fatalf("accepted config does not marshal: %v", err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("marshalled config does not parse: %v\n%s", err, out)
		}
		if back != c {
			t.Fatalf("round trip changed the config")
		}
	})
}
