//go:build race

package app

// raceDetector: the race detector slows the rig's simulators, image
// normalisation and platform several times over (CI runs it with every
// other package at once), so its waits stretch; see slow.
const raceDetector = true
