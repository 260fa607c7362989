package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"onedoor/drivers/scanner"
	"onedoor/drivers/scanner/sane"
	"onedoor/drivers/serialport"
	"onedoor/internal/atomicfile"
)

// runDevicesScanTest scans one page from a serial scanner (or through SANE
// with --sane), writes the normalised JPEG to --out and reports the
// transfer and the quality scores. Exit 1 means the page was scanned but
// would be refused at the kiosk (blank or blurred); 3 a device error (no
// document, jam, cover open, bad image); 4 no answer.
func runDevicesScanTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("onedoor devices scan-test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.String("port", "", "serial port of the scanner, e.g. /dev/ttyUSB1")
	baud := fs.Int("baud", 115200, "baud rate")
	out := fs.String("out", "", "file to write the normalised JPEG to")
	dpi := fs.Int("dpi", 200, "resolution to scan at")
	colour := fs.Bool("colour", false, "scan in colour (default greyscale)")
	paper := fs.String("paper", "A4", "paper size: A4 or A5")
	target := fs.Int("target-dpi", scanner.DefaultTargetDPI, "resolution of the normalised page")
	quality := fs.Int("quality", scanner.DefaultJPEGQuality, "JPEG quality of the normalised page")
	useSane := fs.Bool("sane", false, "scan through SANE's scanimage instead of a serial port")
	device := fs.String("device", "", "SANE device name with --sane (default: SANE's default)")
	list := fs.Bool("list", false, "with --sane: list the scanners SANE sees and exit")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after this long")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *list {
		if !*useSane || fs.NArg() > 0 {
			fmt.Fprintln(stderr, "onedoor devices scan-test: --list goes with --sane")
			return exitUsage
		}
		return listSane(ctx, stdout, stderr)
	}
	if *out == "" || fs.NArg() > 0 || (*port == "") == !*useSane {
		fmt.Fprintln(stderr, "onedoor devices scan-test: want --out FILE and either --port P or --sane")
		return exitUsage
	}
	opts := scanner.Options{
		DPI: *dpi, Colour: *colour, Paper: scanner.Paper(*paper),
		Norm: scanner.NormalizeOptions{TargetDPI: *target, JPEGQuality: *quality},
	}
	if _, _, err := opts.Paper.MM(); err != nil {
		fmt.Fprintln(stderr, "onedoor:", err)
		return exitUsage
	}
	// Check the output folder before a sheet goes through: a scan that
	// cannot be saved is a sheet the resident must feed again.
	probe, err := os.CreateTemp(filepath.Dir(*out), ".scan-*.tmp")
	if err != nil {
		fmt.Fprintln(stderr, "onedoor: cannot write the output file:", err)
		return exitUsage
	}
	probe.Close()
	os.Remove(probe.Name())
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	var dev scanner.Scanner
	ident := ""
	if *useSane {
		b := &sane.Backend{Device: *device}
		if err := b.Available(); err != nil {
			fmt.Fprintln(stderr, "onedoor:", err)
			return exitDevice
		}
		dev, ident = b, "SANE "+*device
	} else {
		p, err := serialport.Open(serialport.Config{Path: *port, Baud: *baud})
		if err != nil {
			fmt.Fprintln(stderr, "onedoor:", err)
			return exitDevice
		}
		defer p.Close()
		s := scanner.NewSerial(p, scanner.SerialConfig{Baud: *baud})
		id, err := s.Hello(ctx)
		if err != nil {
			fmt.Fprintln(stderr, "onedoor: no OneDoor scanner answered:", err)
			return scanExit(err)
		}
		dev, ident = s, id.Text
	}
	if !*asJSON {
		fmt.Fprintln(stdout, "scanner:", ident)
	}
	lastPct := int64(-1)
	page, err := dev.Scan(ctx, opts, func(done, total int64) {
		if total <= 0 {
			return
		}
		if pct := done * 100 / total; pct/10 != lastPct/10 || done == total {
			lastPct = pct
			fmt.Fprintf(stderr, "\rscanning %3d%%", pct)
		}
	})
	if lastPct >= 0 {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		fmt.Fprintln(stderr, "onedoor: scan failed:", err)
		return scanExit(err)
	}
	// Atomic, so a half-written JPEG never carries the final name.
	if err := atomicfile.Write(*out, page.JPEG, 0o600); err != nil {
		fmt.Fprintln(stderr, "onedoor:", err)
		return exitFailure
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(scanReport{
			Scanner: ident, Out: *out, Width: page.Width, Height: page.Height, DPI: page.DPI, Grey: page.Grey,
			JPEGBytes: len(page.JPEG), InkCoverage: page.InkCoverage, Blank: page.Blank,
			Sharpness: page.Sharpness, Blurred: page.Blurred, Transfer: page.Transfer,
		})
	} else {
		mode := "colour"
		if page.Grey {
			mode = "grey"
		}
		fmt.Fprintf(stdout, "wrote %s: %d×%d px, %d dpi, %s, %d bytes JPEG\n", *out, page.Width, page.Height, page.DPI, mode, len(page.JPEG))
		t := page.Transfer
		fmt.Fprintf(stdout, "transfer: %d bytes in %v, %d chunks, %d retransmits, resumed at %v\n",
			t.Bytes, t.Duration.Round(time.Millisecond), t.Chunks, t.Retransmits, t.Resumes)
		verdict := "OK"
		switch {
		case page.Blank:
			verdict = "RESCAN (blank page)"
		case page.Blurred:
			verdict = "RESCAN (blurred)"
		}
		fmt.Fprintf(stdout, "quality: ink %.2f%% (blank below %.2f%%), sharpness %.0f (blurred below %.0f): %s\n",
			100*page.InkCoverage, 100*scanner.DefaultBlankBelow, page.Sharpness, float64(scanner.DefaultBlurBelow), verdict)
	}
	if page.NeedsRescan() {
		return exitFailure
	}
	return exitOK
}

// listSane prints the scanners scanimage can see, one per line.
func listSane(ctx context.Context, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	devs, err := (&sane.Backend{}).List(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "onedoor:", err)
		return scanExit(err)
	}
	if len(devs) == 0 {
		fmt.Fprintln(stdout, "SANE sees no scanner")
		return exitDevice
	}
	for _, d := range devs {
		fmt.Fprintf(stdout, "%s\t%s %s (%s)\n", d.Name, d.Vendor, d.Model, d.Type)
	}
	return exitOK
}

// scanReport is the --json output.
type scanReport struct {
	Scanner     string           `json:"scanner"`
	Out         string           `json:"out"`
	Width       int              `json:"width"`
	Height      int              `json:"height"`
	DPI         int              `json:"dpi"`
	Grey        bool             `json:"grey"`
	JPEGBytes   int              `json:"jpeg_bytes"`
	InkCoverage float64          `json:"ink_coverage"`
	Blank       bool             `json:"blank"`
	Sharpness   float64          `json:"sharpness"`
	Blurred     bool             `json:"blurred"`
	Transfer    scanner.Transfer `json:"transfer"`
}

// scanExit maps a scan error to the command's exit code.
func scanExit(err error) int {
	if errors.Is(err, serialport.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
		return exitTimeout
	}
	return exitDevice
}
