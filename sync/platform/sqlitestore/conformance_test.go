package sqlitestore

import (
	"context"
	"testing"

	"onedoor/sync/platform"
	"onedoor/sync/platform/ecert"
	"onedoor/sync/platform/storetest"
)

// The storetest conformance suites, which pgstore runs too.

// open opens an empty store in a temporary folder; the suites close it.
func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) platform.Store { return open(t) })
}

func TestSuperviseConformance(t *testing.T) {
	storetest.RunSupervise(t, func(t *testing.T) platform.Store { return open(t) })
}

func TestSuperviseFeed(t *testing.T) {
	storetest.RunSuperviseFeed(t, func(t *testing.T) platform.Store { return open(t) })
}

func TestExportCerts(t *testing.T) {
	storetest.RunExportCerts(t, func(t *testing.T) platform.Store { return open(t) })
}

func TestECertConformance(t *testing.T) {
	storetest.RunECert(t, func(t *testing.T) interface {
		ecert.Store
		Close() error
	} {
		return open(t)
	})
}

func TestHelpConformance(t *testing.T) {
	storetest.RunHelp(t, func(t *testing.T) interface {
		platform.HelpStore
		Close() error
	} {
		return open(t)
	})
}
