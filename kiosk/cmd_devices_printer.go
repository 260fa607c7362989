package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"onedoor/assets"
	"onedoor/drivers/escpos"
	"onedoor/drivers/printer"
)

// printerFlags are the flags both printer commands take.
type printerFlags struct {
	port, profile string
	baud          int
	timeout       time.Duration
}

func parsePrinterFlags(name string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (printerFlags, int, bool) {
	var f printerFlags
	fs := flag.NewFlagSet("onedoor devices "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.port, "port", "", "serial port of the printer, e.g. /dev/ttyUSB0")
	fs.IntVar(&f.baud, "baud", 9600, "baud rate")
	fs.StringVar(&f.profile, "profile", assets.DefaultPrinterProfile, "printer profile: "+strings.Join(assets.PrinterProfileNames(), ", "))
	fs.DurationVar(&f.timeout, "timeout", 2*time.Minute, "give up after this long")
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return f, exitUsage, false
	}
	if f.port == "" || fs.NArg() > 0 {
		fmt.Fprintf(stderr, "onedoor devices %s: --port is required and no other arguments are taken\n", name)
		return f, exitUsage, false
	}
	return f, exitOK, true
}

// withPrinter opens the printer of f, runs use within f.timeout and closes
// it; the exit code is use's, or why the printer could not be opened.
func withPrinter(ctx context.Context, f printerFlags, stderr io.Writer, use func(context.Context, *printer.Printer) int) int {
	p, code := openPrinter(f, stderr)
	if p == nil {
		return code
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	return use(ctx, p)
}

func openPrinter(f printerFlags, stderr io.Writer) (*printer.Printer, int) {
	prof, err := escpos.LoadProfile(f.profile)
	if err != nil {
		fmt.Fprintln(stderr, "onedoor:", err)
		return nil, exitUsage
	}
	p, err := printer.Open(f.port, printer.Options{Baud: f.baud, Profile: prof})
	if err != nil {
		fmt.Fprintln(stderr, "onedoor:", err)
		return nil, exitDevice
	}
	return p, exitOK
}

// printerExit maps a printer error to the command's exit code.
func printerExit(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, printer.ErrNoReply), errors.Is(err, context.DeadlineExceeded):
		return exitTimeout
	}
	return exitDevice
}

// runDevicesPrintTest prints the fictional sample receipt (Chinese text and
// a tracking QR code) and says how long it took.
func runDevicesPrintTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, code, ok := parsePrinterFlags("print-test", args, stderr, nil)
	if !ok {
		return code
	}
	return withPrinter(ctx, f, stderr, func(ctx context.Context, p *printer.Printer) int {
		return printTest(ctx, f, p, stdout, stderr)
	})
}

func printTest(ctx context.Context, f printerFlags, p *printer.Printer, stdout, stderr io.Writer) int {
	start := time.Now()
	prog, err := p.Print(ctx, printer.SampleReceipt())
	if err != nil {
		fmt.Fprintf(stderr, "onedoor: print-test on %s: %v\n", f.port, err)
		return printerExit(err)
	}
	fmt.Fprintf(stdout, "printed sample receipt on %s (%s, %d baud): %d bytes, %d commands in %.1f s\n",
		f.port, f.profile, f.baud, prog.BytesSent, prog.CommandsSent, time.Since(start).Seconds())
	return exitOK
}

// runDevicesPrinterStatus reads DLE EOT 1..4 and prints the decoded state;
// the exit code is 0 only when the printer is ready for a job.
func runDevicesPrinterStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var asJSON bool
	f, code, ok := parsePrinterFlags("printer-status", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print the status as JSON")
	})
	if !ok {
		return code
	}
	return withPrinter(ctx, f, stderr, func(ctx context.Context, p *printer.Printer) int {
		return printerStatus(ctx, f, p, asJSON, stdout, stderr)
	})
}

func printerStatus(ctx context.Context, f printerFlags, p *printer.Printer, asJSON bool, stdout, stderr io.Writer) int {
	st, err := p.Status(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "onedoor: printer-status on %s: %v\n", f.port, err)
		return printerExit(err)
	}
	if asJSON {
		out := struct {
			Port    string `json:"port"`
			Ready   bool   `json:"ready"`
			Summary string `json:"summary"`
			escpos.Status
		}{f.port, st.Ready(), st.String(), st}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return exitFailure
		}
	} else {
		fmt.Fprintf(stdout, "%s: %s\n", f.port, st)
	}
	if !st.Ready() {
		return exitDevice
	}
	return exitOK
}
