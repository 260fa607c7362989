//go:build race

package ui_test

// raceBuild: under the race detector a tour costs several times more, and
// the tour matrices (4 modes x 3 window sizes) would take most of CI's
// time; there they run at the default window size only, the full matrix
// in the ordinary run (go test ./kiosk/ui).
const raceBuild = true
