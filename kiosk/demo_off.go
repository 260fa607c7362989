//go:build !demo

package main

import kioskapp "onedoor/kiosk/app"

// demoPlatform is nil in the production build: it contains neither the
// reference platform nor the fault proxy, so --demo refuses to start (see
// ./build/demo, which builds with -tags demo).
func demoPlatform() kioskapp.StartDemoPlatform { return nil }
