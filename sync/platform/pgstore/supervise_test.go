package pgstore

import (
	"testing"

	"onedoor/sync/platform"
	"onedoor/sync/platform/ecert"
	"onedoor/sync/platform/storetest"
)

func TestSuperviseConformance(t *testing.T) {
	storetest.RunSupervise(t, func(t *testing.T) platform.Store { return open(t) })
}

func TestECertConformance(t *testing.T) {
	storetest.RunECert(t, func(t *testing.T) interface {
		ecert.Store
		Close() error
	} {
		return open(t)
	})
}

func TestExportCerts(t *testing.T) {
	storetest.RunExportCerts(t, func(t *testing.T) platform.Store { return open(t) })
}
