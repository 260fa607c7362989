package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"onedoor/kiosk/config"
	"onedoor/kiosk/doctor"
)

// runDoctor prints one health report and exits 1 when any check failed.
// With --serve it instead keeps running, rechecking every --interval and
// serving Prometheus metrics on a loopback address.
func runDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("onedoor doctor", flag.ContinueOnError)
	fl.SetOutput(stderr)
	path := fl.String("config", technicianConfigPath(), "configuration file")
	asJSON := fl.Bool("json", false, "print the report as JSON")
	skipDevices := fl.Bool("skip-devices", false, "do not talk to the serial devices (the running kiosk app owns them)")
	serve := fl.String("serve", "", "serve Prometheus metrics on this loopback address (e.g. 127.0.0.1:9464) instead of printing once")
	interval := fl.Duration("interval", time.Minute, "with --serve: how often to rerun the checks")
	timeout := fl.Duration("timeout", 5*time.Second, "per device and per network step")
	if err := fl.Parse(args); err != nil || fl.NArg() > 0 {
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	check := func(ctx context.Context) doctor.Report {
		cfg, cfgCheck := loadForDoctor(*path)
		return doctor.Run(ctx, doctor.Options{Config: cfg, ConfigCheck: cfgCheck, SkipDevices: *skipDevices || *serve != "",
			DeviceTimeout: *timeout, NetTimeout: *timeout, Logger: log})
	}
	if *serve != "" {
		return serveDoctorMetrics(ctx, *serve, *interval, check, log, stdout, stderr)
	}
	rep := check(ctx)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(struct {
			OK     bool           `json:"ok"`
			Checks []doctor.Check `json:"checks"`
		}{rep.OK(), rep.Checks})
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		for _, c := range rep.Checks {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", strings.ToUpper(string(c.Status)), c.Name, c.Detail)
		}
		tw.Flush()
	}
	if probs := rep.Problems(); len(probs) > 0 {
		names := make([]string, len(probs))
		for i, p := range probs {
			names[i] = p.Name
		}
		fmt.Fprintf(stderr, "onedoor doctor: %d problem(s): %s\n", len(probs), strings.Join(names, ", "))
		return exitFailure
	}
	return exitOK
}

// loadForDoctor loads the config; when it cannot, the checks still run on
// the defaults (so disk and platform are still looked at) and the config
// line carries the reason.
func loadForDoctor(path string) (config.Config, *doctor.Check) {
	cfg, err := config.Load(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return config.Default(), &doctor.Check{Name: "config", Status: doctor.Fail,
			Detail: path + " does not exist: install the package, or pass --config"}
	case err != nil:
		return config.Default(), &doctor.Check{Name: "config", Status: doctor.Fail,
			Detail: strings.ReplaceAll(err.Error(), "\n", "; ") + " (the other checks used the defaults)"}
	}
	return cfg, &doctor.Check{Name: "config", Status: doctor.OK,
		Detail: fmt.Sprintf("%s valid (kiosk %s, %s)", path, cfg.Kiosk.ID, cfg.Kiosk.Name)}
}

func serveDoctorMetrics(ctx context.Context, addr string, interval time.Duration, check func(context.Context) doctor.Report, log *slog.Logger, stdout, stderr io.Writer) int {
	if err := doctor.CheckLoopback(addr); err != nil {
		fmt.Fprintln(stderr, "onedoor doctor:", err)
		return exitUsage
	}
	if interval < 5*time.Second {
		fmt.Fprintln(stderr, "onedoor doctor: --interval must be at least 5s")
		return exitUsage
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(stderr, "onedoor doctor:", err)
		return exitFailure
	}
	exp := doctor.NewExporter(check, interval, nil, log)
	srv := &http.Server{Handler: exp, ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(stdout, "serving metrics on http://%s/metrics (device checks off: the app owns the ports)\n", ln.Addr())
	go func() {
		exp.Refresh(ctx)
		exp.Loop(ctx)
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "onedoor doctor:", err)
		return exitFailure
	}
	return exitOK
}
