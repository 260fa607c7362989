package sqlitestore

import (
	"context"
	"testing"

	"onedoor/sync/platform"
	"onedoor/sync/platform/storetest"
)

func TestSuperviseFeed(t *testing.T) {
	storetest.RunSuperviseFeed(t, func(t *testing.T) platform.Store {
		s, err := Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
