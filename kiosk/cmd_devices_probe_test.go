package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"

	"onedoor/drivers/escpos"
	"onedoor/drivers/probe"
	"onedoor/drivers/sim"
)

// TestDevicesProbeFindsAllThree runs `onedoor devices probe` over devsim's
// three simulators on real ptys plus a silent port, and checks that each
// port is named with the right kind, and that probing printed nothing.
func TestDevicesProbeFindsAllThree(t *testing.T) {
	if testing.Short() {
		t.Skip("probes every baud on four ports")
	}
	prof, err := escpos.LoadProfile("")
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	pr, err := sim.NewPrinter(prof, sim.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	serve := func(name string, fn func(context.Context, *sim.PTY) error) string {
		link := filepath.Join(t.TempDir(), name)
		pt, err := sim.OpenPTY(link)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { fn(ctx, pt); close(done) }()
		t.Cleanup(func() { cancel(); pt.Close(); <-done })
		return link
	}
	silent, err := sim.OpenPTY("")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	want := map[string]string{
		serve("idcard", sim.NewIDCard(sim.IDCardConfig{Baud: 38400, Logger: quiet}).Serve): "idcard",
		serve("printer", pr.Serve):               "printer",
		serve("scanner", sim.NewScanner().Serve): "scanner",
		silent.SlavePath:                         "",
	}
	args := []string{"devices", "probe", "--json"}
	for port := range want {
		args = append(args, port)
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	if code != exitOK {
		t.Fatalf("probe exit %d: %s%s", code, out.String(), errb.String())
	}
	var results []probe.Result
	if err := json.Unmarshal(out.Bytes(), &results); err != nil {
		t.Fatalf("probe --json output: %v\n%s", err, out.String())
	}
	if len(results) != len(want) {
		t.Fatalf("got %d results, want %d: %s", len(results), len(want), out.String())
	}
	for _, r := range results {
		if r.Kind != want[r.Port] {
			t.Errorf("%s: found %q at %d baud (%s), want %q", r.Port, r.Kind, r.Baud, r.Detail, want[r.Port])
		}
		if r.Kind == "idcard" && r.Baud != 38400 {
			t.Errorf("reader found at %d baud, want 38400", r.Baud)
		}
	}
	if n := len(pr.Pages()); n != 0 {
		t.Errorf("probing printed %d pages on the printer", n)
	}
}
