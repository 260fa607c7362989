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

func TestSuperviseFeed(t *testing.T) {
	storetest.RunSuperviseFeed(t, func(t *testing.T) platform.Store { return open(t) })
}

// TestSuperviseFeedCheckCatchesNaiveCursor proves the supervision feed
// check can fail: refreshed by row ids, facts go stale.
func TestSuperviseFeedCheckCatchesNaiveCursor(t *testing.T) {
	for attempt := 1; ; attempt++ {
		s := open(t)
		s.naiveFeed = true
		err := storetest.CheckSuperviseFeed(t.Context(), s, 16, 30)
		s.Close()
		if err != nil {
			t.Logf("attempt %d: caught: %v", attempt, err)
			return
		}
		if attempt == 5 {
			t.Fatal("the naive refresh passed the check 5 times")
		}
	}
}
