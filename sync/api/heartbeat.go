package api

import "fmt"

// Limits of a heartbeat, enforced by Heartbeat.Validate.
const (
	MaxHeartbeatDevices = 32
	MaxDeviceNameBytes  = 64
	MaxDeviceStateBytes = 256
)

// Validate checks a heartbeat's fields against the limits the protocol
// states, so a misbehaving kiosk cannot fill the fleet page.
func (h *Heartbeat) Validate() error {
	if err := checkText("kiosk_id", h.KioskID, false, 64); err != nil {
		return err
	}
	if err := checkText("version", h.Version, false, 64); err != nil {
		return err
	}
	if len(h.Devices) > MaxHeartbeatDevices {
		return invalid("devices", "more than %d devices", MaxHeartbeatDevices)
	}
	for k, v := range h.Devices {
		if err := checkText("devices key", k, true, MaxDeviceNameBytes); err != nil {
			return err
		}
		if err := checkText(fmt.Sprintf("devices.%s", k), v, false, MaxDeviceStateBytes); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		name string
		v    int64
	}{{"queue_depth", int64(h.QueueDepth)}, {"oldest_age_seconds", h.OldestAgeSeconds}, {"free_disk_bytes", h.FreeDiskBytes}} {
		if f.v < 0 {
			return invalid(f.name, "must not be negative")
		}
	}
	return nil
}
