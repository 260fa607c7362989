//go:build demo

package main

import (
	"context"
	"log/slog"

	kioskapp "onedoor/kiosk/app"
	"onedoor/kiosk/demoplatform"
)

// demoPlatform is demo mode's in-process reference platform: this build
// has the demo tag (./build/demo), so it links sync/platform.
func demoPlatform() kioskapp.StartDemoPlatform {
	return func(ctx context.Context, dir, kioskID, user, password string, log *slog.Logger) (kioskapp.DemoPlatform, error) {
		return demoplatform.Start(ctx, dir, kioskID, user, password, log)
	}
}
