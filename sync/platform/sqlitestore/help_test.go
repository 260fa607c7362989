package sqlitestore_test

import (
	"context"
	"testing"

	"onedoor/sync/platform"
	"onedoor/sync/platform/sqlitestore"
	"onedoor/sync/platform/storetest"
)

func TestHelpConformance(t *testing.T) {
	storetest.RunHelp(t, func(t *testing.T) interface {
		platform.HelpStore
		Close() error
	} {
		s, err := sqlitestore.Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
