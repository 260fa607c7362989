package blobdir

import (
	"testing"

	"onedoor/sync/platform"
	"onedoor/sync/platform/blobtest"
)

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) platform.BlobStore {
		d, err := Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	})
}
