package ui

import "onedoor/kiosk/flow"

// SetScanProgress shows that fraction v (0 to 1) of the page being scanned
// has arrived. It does nothing while no material is scanning, so a late
// report cannot paint a bar on another screen.
func (k *Kiosk) SetScanProgress(v float64) {
	if !scanning(k.state) {
		return
	}
	k.scanProgress = min(max(v, 0), 1)
	if k.scanBar != nil {
		k.scanBar.SetValue(k.scanProgress)
	}
}

// ScanProgress is the value the scan progress bar shows and whether the
// bar is on screen.
func (k *Kiosk) ScanProgress() (v float64, shown bool) {
	if k.scanBar == nil {
		return 0, false
	}
	return k.scanBar.Value, true
}

func scanning(s flow.State) bool {
	if s.Step != flow.StepMaterials {
		return false
	}
	for _, ms := range s.Materials {
		if ms.Scanning {
			return true
		}
	}
	return false
}
