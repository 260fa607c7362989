package catalog

import (
	"encoding/json"
	"testing"

	"onedoor/assets"
)

// BenchmarkParse decodes and validates the sample catalog, as the kiosk does
// at start and on every catalog update.
func BenchmarkParse(b *testing.B) {
	b.SetBytes(int64(len(assets.SampleCatalog)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(assets.SampleCatalog); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnmarshalBaseline is plain encoding/json into the same types
// without unknown-field checks or validation: the floor for Parse.
func BenchmarkUnmarshalBaseline(b *testing.B) {
	b.SetBytes(int64(len(assets.SampleCatalog)))
	b.ReportAllocs()
	for b.Loop() {
		var c Catalog
		if err := json.Unmarshal(assets.SampleCatalog, &c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSearch is one keystroke of the catalog search.
func BenchmarkSearch(b *testing.B) {
	c := mustSample(b)
	b.ReportAllocs()
	for b.Loop() {
		if len(c.Search("养老 参保")) == 0 {
			b.Fatal("no result")
		}
	}
}

// BenchmarkDueDate is the promised date of a 20-working-day item over the
// National Day holiday.
func BenchmarkDueDate(b *testing.B) {
	c := mustCalendar(b)
	from := day("2026-09-20")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.DueDate(from, Limit{Value: 20, Unit: "workday"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSearchPinyin is one keystroke of a pinyin-initials search, which
// also looks every name and keyword character up in the pinyin table.
func BenchmarkSearchPinyin(b *testing.B) {
	c := mustSample(b)
	b.ReportAllocs()
	for b.Loop() {
		if len(c.Search("jzz")) == 0 {
			b.Fatal("no result")
		}
	}
}
