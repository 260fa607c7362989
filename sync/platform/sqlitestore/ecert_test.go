package sqlitestore

import (
	"context"
	"testing"

	"onedoor/sync/platform/ecert"
	"onedoor/sync/platform/storetest"
)

func TestECertConformance(t *testing.T) {
	storetest.RunECert(t, func(t *testing.T) interface {
		ecert.Store
		Close() error
	} {
		s, err := Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
