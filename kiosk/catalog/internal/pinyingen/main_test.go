package main

import (
	"bytes"
	"os"
	"testing"
)

// TestTableUpToDate fails when kiosk/catalog/pinyin_table.go was edited by
// hand or this generator changed without `go generate ./kiosk/catalog`.
func TestTableUpToDate(t *testing.T) {
	want, err := Generate("catalog")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../pinyin_table.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("kiosk/catalog/pinyin_table.go is stale: run go generate ./kiosk/catalog")
	}
}
