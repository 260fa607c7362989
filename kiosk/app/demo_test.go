package app

import (
	"context"
	"log/slog"

	"onedoor/kiosk/demoplatform"
)

// startDemoPlatform is demo mode's platform in tests, as in the demo build.
func startDemoPlatform(ctx context.Context, dir, kioskID, user, password string, log *slog.Logger) (DemoPlatform, error) {
	return demoplatform.Start(ctx, dir, kioskID, user, password, log)
}

// demoPlatformOf is the platform d runs, with its store.
func demoPlatformOf(d *Demo) *demoplatform.Platform { return d.Platform.(*demoplatform.Platform) }
