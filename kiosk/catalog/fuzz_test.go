package catalog

import (
	"testing"

	"onedoor/assets"
)

// FuzzParse: a catalog from the platform is bytes from outside. Parse must
// not panic, and whatever it accepts must pass Validate and be searchable.
func FuzzParse(f *testing.F) {
	f.Add(assets.SampleCatalog)
	f.Add([]byte(`{"schema_version":"1","region":{"code":"441900"},"items":[]}`))
	f.Add([]byte(`{"items":[{"materials":[{"e_licence":{}}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted catalog fails Validate: %v", err)
		}
		_ = c.Search("社保 a")
		_ = c.Popular()
		for _, th := range c.Themes {
			_ = c.ByTheme(th.ID)
		}
	})
}

// FuzzParseCalendar: the holiday file may come from the platform too.
func FuzzParseCalendar(f *testing.F) {
	f.Add(assets.Holidays)
	f.Add([]byte(`{"years":[2026],"holidays":[{"name":"x","from":"2026-05-01","to":"2026-05-03"}],"workdays":[{"date":"2026-05-09","for":"x"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCalendar(data)
		if err != nil {
			return
		}
		for _, y := range c.Years() {
			_, _ = c.IsWorkday(day("2026-06-01").AddDate(y-2026, 0, 0))
		}
	})
}
