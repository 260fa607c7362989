package scanner

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"onedoor/drivers/serialport"
	"onedoor/drivers/sim"
	"onedoor/internal/simtest"
)

// servePTY runs serve on a fresh pty and returns the slave path.
func servePTY(t *testing.T, serve func(context.Context, *sim.PTY) error) string {
	t.Helper()
	pt, _ := simtest.Serve(t, "", serve)
	return pt.SlavePath
}

func openPort(t *testing.T, path string, baud int) *serialport.Port {
	t.Helper()
	p, err := serialport.Open(serialport.Config{Path: path, Baud: baud})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestProberIdentifiesScannerAtItsBaud(t *testing.T) {
	s := sim.NewScanner(sim.WithScannerBaud(115200))
	path := servePTY(t, s.Serve)
	tests := []struct {
		baud   int
		wantOK bool
	}{
		{9600, false}, // wrong rate: the scanner hears garbage and stays silent
		{115200, true},
	}
	for _, tc := range tests {
		p := openPort(t, path, tc.baud)
		detail, ok := Prober{}.Identify(context.Background(), p)
		p.Close()
		if ok != tc.wantOK {
			t.Fatalf("at %d baud: ok=%v detail=%q", tc.baud, ok, detail)
		}
		if ok && !strings.Contains(detail, "SIM-A4") {
			t.Errorf("detail %q does not name the model", detail)
		}
	}
}

// The hello must do nothing to a receipt printer: no character printed,
// no command started that would swallow the next bytes.
func TestHelloIsHarmlessToAPrinter(t *testing.T) {
	pr, pt, _ := simtest.Printer(t, "", simtest.Profile(t, ""), sim.WithLogger(slog.New(slog.DiscardHandler)))
	p := openPort(t, pt.SlavePath, 115200)
	start := time.Now()
	if detail, ok := (Prober{}).Identify(context.Background(), p); ok {
		t.Fatalf("a printer was taken for a scanner: %q", detail)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("Identify took %v; probe wants about a second at most", d)
	}
	// What the printer prints next must be exactly what was sent next.
	if _, err := p.Write([]byte("PROBE-OK\n\x1dV\x42\x00")); err != nil {
		t.Fatal(err)
	}
	var pages []sim.PrintedPage
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if pages = pr.Pages(); len(pages) > 0 {
			break
		}
	}
	if len(pages) != 1 {
		t.Fatalf("printer produced %d pages", len(pages))
	}
	var printed []string
	for _, l := range strings.Split(pages[0].Text, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "✂") { // the simulator marks the cut
			printed = append(printed, l)
		}
	}
	if len(printed) != 1 || printed[0] != "PROBE-OK" {
		t.Errorf("printer printed %q, want only PROBE-OK", printed)
	}
	if st := pr.Stats(); st.Unknown != 0 || st.Garbage != 0 {
		t.Errorf("printer saw %d unknown commands and %d garbage characters", st.Unknown, st.Garbage)
	}
}

// A SAM card reader ignores the hello and still answers its own protocol.
func TestHelloIsHarmlessToACardReader(t *testing.T) {
	rd := sim.NewIDCard(sim.IDCardConfig{Logger: slog.New(slog.DiscardHandler)})
	p := openPort(t, servePTY(t, rd.Serve), 115200)
	if detail, ok := (Prober{}).Identify(context.Background(), p); ok {
		t.Fatalf("a card reader was taken for a scanner: %q", detail)
	}
	samStatus := []byte{0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x11, 0xFF, 0xED}
	want := []byte{0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x04, 0x00, 0x00, 0x90, 0x94}
	if _, err := p.Write(samStatus); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(want))
	if err := p.ReadFull(context.Background(), got, time.Now().Add(2*time.Second)); err != nil {
		t.Fatalf("card reader silent after the hello: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("card reader answered % x, want % x", got, want)
	}
}
