package probers

import (
	"slices"
	"testing"

	"onedoor/drivers/probe"
)

// TestOrder: the printer is probed first, the card reader last, and Of
// keeps that order whatever order it is asked in.
func TestOrder(t *testing.T) {
	kinds := func(ps []probe.Prober) []string {
		var k []string
		for _, p := range ps {
			k = append(k, p.Kind())
		}
		return k
	}
	want := []string{probe.KindPrinter, probe.KindScanner, probe.KindCard}
	if got := kinds(All()); !slices.Equal(got, want) {
		t.Errorf("All() kinds = %v, want %v", got, want)
	}
	if got := kinds(Of(probe.KindCard, probe.KindPrinter)); !slices.Equal(got, []string{probe.KindPrinter, probe.KindCard}) {
		t.Errorf("Of(card, printer) = %v, want printer first", got)
	}
}
