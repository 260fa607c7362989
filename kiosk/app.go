package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"

	fyneapp "fyne.io/fyne/v2/app"

	kioskapp "onedoor/kiosk/app"
	"onedoor/kiosk/config"
)

// runApp starts the touchscreen kiosk: onedoor [--demo] [--config FILE].
func runApp(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("onedoor", flag.ContinueOnError)
	fl.SetOutput(stderr)
	demo := fl.Bool("demo", false, "simulated devices and an in-process platform, with a demo panel")
	demoDir := fl.String("demo-dir", "", "keep the demo's data here instead of a temp dir")
	cfgPath := fl.String("config", config.DefaultPath(), "configuration file")
	if err := fl.Parse(args); err != nil {
		return exitUsage
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "onedoor: unexpected argument %q\n", fl.Arg(0))
		return exitUsage
	}
	if *demo && demoPlatform() == nil {
		fmt.Fprintf(stderr, "onedoor: %v\n", kioskapp.ErrNoDemo)
		return exitUsage
	}
	cfg, err := config.Load(*cfgPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		cfg = config.Default()
	case err != nil:
		fmt.Fprintf(stderr, "onedoor: %v\n", err)
		return exitUsage
	}
	level := slog.LevelInfo
	if os.Getenv("ONEDOOR_DEBUG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	kioskapp.ProfileFromEnv(ctx, log) // ONEDOOR_PPROF=127.0.0.1:6060, for memory measurements
	kioskapp.ReleaseStartupMemory(ctx, kioskapp.StartupSettle, log)
	opts := kioskapp.RunOptions{Demo: *demo, DemoDir: *demoDir, DemoPlatform: demoPlatform(), Config: cfg, ConfigPath: *cfgPath, Logger: log}
	if os.Getenv("ONEDOOR_BENCH_FIRST_FRAME") != "" {
		// For kiosk/app/cmd/benchstart: say when the first frame is up.
		opts.OnFirstFrame = func() { fmt.Fprintln(stdout, "first frame") }
	}
	err = kioskapp.Run(ctx, fyneapp.NewWithID("cn.gov.onedoor.kiosk"), opts)
	if err != nil {
		fmt.Fprintf(stderr, "onedoor: %v\n", err)
		return exitFailure
	}
	return exitOK
}
