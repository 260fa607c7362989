package pgstore

import (
	"testing"

	"onedoor/sync/platform"
	"onedoor/sync/platform/storetest"
)

func TestHelpConformance(t *testing.T) {
	storetest.RunHelp(t, func(t *testing.T) interface {
		platform.HelpStore
		Close() error
	} {
		return open(t)
	})
}
