// Package techui is the technician mode of the kiosk app.
package techui
