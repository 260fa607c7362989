package main

import (
	"bytes"
	"os"
	"testing"
)

// TestTableUpToDate fails when kiosk/ui/pinyin_table.go was edited by hand
// or this generator changed without `go generate ./kiosk/ui`.
func TestTableUpToDate(t *testing.T) {
	want, err := Generate("ui")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../pinyin_table.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("kiosk/ui/pinyin_table.go is stale: run go generate ./kiosk/ui")
	}
}

// BenchmarkInvertGoPinyin is what the kiosk used to do at start-up (walk
// GB2312 and invert go-pinyin's map), the baseline for
// kiosk/ui's BenchmarkPinyinBuild, which reads the generated table.
func BenchmarkInvertGoPinyin(b *testing.B) {
	for b.Loop() {
		if _, _, err := table(); err != nil {
			b.Fatal(err)
		}
	}
}
