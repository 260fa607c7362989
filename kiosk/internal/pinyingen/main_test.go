package main

import (
	"bytes"
	"os"
	"testing"
)

// TestTablesUpToDate fails when a generated table was edited by hand or
// this generator changed without `go generate ./kiosk/ui ./kiosk/catalog`.
func TestTablesUpToDate(t *testing.T) {
	for _, tc := range []struct {
		file string
		gen  func() ([]byte, error)
	}{
		{"../../ui/pinyin_table.go", GenerateUI},
		{"../../catalog/pinyin_table.go", GenerateCatalog},
	} {
		want, err := tc.gen()
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./kiosk/ui ./kiosk/catalog", tc.file)
		}
	}
}

// BenchmarkInvertGoPinyin is what the kiosk used to do at start-up (walk
// GB2312 and invert go-pinyin's map), the baseline for kiosk/ui's
// BenchmarkPinyinBuild, which reads the generated table.
func BenchmarkInvertGoPinyin(b *testing.B) {
	for b.Loop() {
		if _, _, err := uiTable(); err != nil {
			b.Fatal(err)
		}
	}
}
