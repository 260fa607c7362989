// Package layering holds no code: its test checks, with `go list`, the
// import rules the architecture depends on (DESIGN.md, issue 16):
//
//   - nothing under sync/ or kiosk/flow depends on drivers/;
//   - nothing under kiosk/ except the UI (kiosk/ui) and the wiring
//     (kiosk/app) imports the technician UI (kiosk/techui);
//   - the production onedoor binary (./kiosk without the demo tag) contains
//     neither the reference platform (sync/platform) nor the fault proxy
//     (sync/faultproxy).
package layering
