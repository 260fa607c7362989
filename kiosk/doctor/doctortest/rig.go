// Package doctortest builds a complete kiosk setup for health-check tests:
// the three simulated devices on real pseudo-terminals, an outbox on a
// temp-dir SQLite file holding a fictional submission, and the reference
// platform serving TLS on loopback with this kiosk registered. Each test
// then breaks one thing (paper out, platform gone, database damaged) and
// checks that `onedoor doctor` says so.
package doctortest

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"onedoor/drivers/escpos"
	"onedoor/drivers/sim"
	"onedoor/kiosk/config"
	"onedoor/kiosk/internal/testnet"
	"onedoor/sync/outbox"
	"onedoor/sync/outbox/devdata"
	"onedoor/sync/platform"
	"onedoor/sync/platform/local"
)

// Rig is a healthy demo setup.
type Rig struct {
	Config   config.Config
	Printer  *sim.Printer
	IDCard   *sim.IDCard
	Platform *httptest.Server
	DBPath   string
}

// KioskID is the rig's kiosk.
const KioskID = "K42"

// New builds the rig; everything stops when the test ends.
func New(t testing.TB) *Rig {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := &Rig{Config: config.Default()}
	dir := t.TempDir()

	serve := func(name string, f func(context.Context, *sim.PTY) error) string {
		pt, err := sim.OpenPTY("")
		if err != nil {
			t.Fatalf("%s pty: %v", name, err)
		}
		done := make(chan struct{})
		go func() { defer close(done); f(ctx, pt) }()
		t.Cleanup(func() { cancel(); pt.Close(); <-done })
		return pt.SlavePath
	}
	prof, err := escpos.LoadProfile("generic-80")
	if err != nil {
		t.Fatal(err)
	}
	r.Printer, err = sim.NewPrinter(prof, sim.WithPrinterBaud(9600), sim.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	r.IDCard = sim.NewIDCard(sim.IDCardConfig{Baud: 115200, Logger: quiet})
	scan := sim.NewScanner(sim.WithScannerBaud(115200))
	c := &r.Config
	c.Voice.Device = "null" // ALSA's null device: the sound line passes on machines without a sound card
	c.Kiosk.ID = KioskID
	c.Devices.Printer.Port, c.Devices.Printer.Baud, c.Devices.Printer.Profile = serve("printer", r.Printer.Serve), 9600, "generic-80"
	c.Devices.IDCard.Port, c.Devices.IDCard.Baud = serve("idcard", r.IDCard.Serve), 115200
	c.Devices.Scanner.Port, c.Devices.Scanner.Baud = serve("scanner", scan.Serve), 115200

	c.Storage.DataDir = filepath.Join(dir, "data")
	c.Storage.KeyFile = filepath.Join(dir, "keys", "data.key")
	st, err := outbox.Open(ctx, outbox.Options{Dir: c.Storage.DataDir, KeyFile: c.Storage.KeyFile, KioskID: KioskID, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Submit(ctx, devdata.Submission(rand.New(rand.NewPCG(1, 2)), 1, 2000, 1)); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	r.DBPath = filepath.Join(c.Storage.DataDir, outbox.DBName)

	p, err := local.Open(ctx, filepath.Join(dir, "platform"), platform.Config{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	tok, err := p.AddKiosk(ctx, KioskID)
	if err != nil {
		t.Fatal(err)
	}
	r.Platform = httptest.NewUnstartedServer(p.Server)
	r.Platform.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are what some tests are about
	r.Platform.StartTLS()
	t.Cleanup(r.Platform.Close)
	caFile := filepath.Join(dir, "platform-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.Platform.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	c.Platform.URL, c.Platform.Token, c.Platform.CAFile = r.Platform.URL, tok, caFile
	c.Platform.Timeout = 5 * time.Second
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return r
}

// CorruptDatabase overwrites the SQLite header, as a failing SD card or a
// copy cut short would.
func (r *Rig) CorruptDatabase(t testing.TB) {
	t.Helper()
	f, err := os.OpenFile(r.DBPath, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("this is not an SQLite file, it was damaged"), 0); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		os.Remove(r.DBPath + suffix)
	}
}

// CorruptPage scribbles over one b-tree page in the middle of the
// database, leaving the header intact: the file opens, but SQLite's
// integrity check (or the first query touching that page) finds the damage.
func (r *Rig) CorruptPage(t testing.TB) {
	t.Helper()
	fi, err := os.Stat(r.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	const pageSize = 4096
	pages := fi.Size() / pageSize
	if pages < 3 {
		t.Fatalf("database has only %d pages", pages)
	}
	f, err := os.OpenFile(r.DBPath, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	junk := make([]byte, pageSize)
	for i := range junk {
		junk[i] = byte(i*7 + 13)
	}
	for p := int64(1); p < pages; p++ { // every page but the first (header and schema root)
		if _, err := f.WriteAt(junk, p*pageSize); err != nil {
			t.Fatal(err)
		}
	}
}

// RefusingURL returns an https URL on a loopback port where every
// connection is refused (see testnet).
func RefusingURL(t testing.TB) string { return "https://" + testnet.RefusingAddr(t) }
