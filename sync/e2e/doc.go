// Package e2e holds end-to-end tests of the sync path with every part real:
// the kiosk's outbox on a temp-dir SQLite file, the sync engine and client,
// the reference platform on a loopback listener, and its back office driven
// by headless Chromium. It has no code of its own; the tests are the point.
package e2e
