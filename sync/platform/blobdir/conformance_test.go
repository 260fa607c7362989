package blobdir

import (
	"bytes"
	"fmt"
	"testing"

	"onedoor/sync/platform"
	"onedoor/sync/platform/blobtest"
)

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) platform.BlobStore {
		d, err := Open(t.TempDir(), blobtest.TestKey(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	})
}

func TestWalk(t *testing.T) {
	d, err := Open(t.TempDir(), blobtest.TestKey(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	small, large := []byte("packed page"), make([]byte, packMax+1)
	want := map[string]int64{}
	for _, b := range [][]byte{small, large} {
		sha := blobtest.HexSHA(b)
		if _, err := d.Append(t.Context(), sha, 0, int64(len(b)), "", bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		want[sha] = int64(len(b))
	}
	// A partial upload is not walked.
	if _, err := d.Append(t.Context(), blobtest.HexSHA([]byte("partial")), 0, 7, "", bytes.NewReader([]byte("par"))); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	if err := d.Walk(t.Context(), func(sha string, size int64) error { got[sha] = size; return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("walked %v, want %v", got, want)
	}
}
