// Package probers is the one list of device probers, in the one order in
// which ports are probed. The order is a safety rule: printers come first,
// because the frames the other probers send would be printed as garbage by a
// receipt printer, whereas a printer's DLE EOT status query is harmless to the
// other two. The scanner's hello is made only of bytes a printer ignores and
// is tried before the card reader's SAM status command. Everything that probes
// (`onedoor devices probe`, the technician's Devices page, `onedoor doctor`)
// takes its probers from here.
//
// It lives apart from drivers/probe because it names every driver, and the
// drivers' own tests use drivers/probe.
package probers

import (
	"slices"

	"onedoor/drivers/idcard"
	"onedoor/drivers/printer"
	"onedoor/drivers/probe"
	"onedoor/drivers/scanner"
)

// All returns one prober of each device kind, in probe order.
func All() []probe.Prober {
	return []probe.Prober{printer.Prober{}, scanner.Prober{}, idcard.Prober{}}
}

// Of returns the probers of the given kinds, still in probe order whatever
// the order of kinds.
func Of(kinds ...string) []probe.Prober {
	var out []probe.Prober
	for _, p := range All() {
		if slices.Contains(kinds, p.Kind()) {
			out = append(out, p)
		}
	}
	return out
}
