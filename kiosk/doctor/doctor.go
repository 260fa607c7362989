// Package doctor is the kiosk's one-shot health report, `onedoor doctor`:
// each device found and answering, the printer's paper, free disk, SQLite's
// integrity check, the data key, the age of the queue, the platform
// reachable layer by layer, the clock offset and the certificate's expiry.
// Every line says what is wrong in words a technician can act on, and the
// report fails when any line fails, so scripts can rely on the exit code.
//
// The same report feeds the kiosk's Prometheus metrics (WriteMetrics), so
// what a dashboard shows and what a technician sees on site agree.
package doctor

import (
	"context"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers "sqlite3" (outbox imports it too)
	"golang.org/x/sys/unix"

	"onedoor/drivers/escpos"
	"onedoor/drivers/idcard"
	"onedoor/drivers/printer"
	"onedoor/drivers/probe"
	"onedoor/drivers/probe/probers"
	"onedoor/drivers/scanner"
	"onedoor/drivers/serialport"
	"onedoor/kiosk/config"
	"onedoor/kiosk/nettest"
	"onedoor/sync/api"
	"onedoor/sync/outbox"
)

// Status of one check.
type Status string

// Check statuses. Only Fail makes the report unhealthy; Warn is worth a look
// (paper near its end, certificate expiring within a month).
const (
	OK   Status = "ok"
	Warn Status = "warn"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Check is one line of the report.
type Check struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
}

// Report is the whole result, in a fixed order of checks.
type Report struct {
	Checks []Check `json:"checks"`
	// Figures for metrics; NaN when unknown.
	QueueDepth     int     `json:"queue_depth"`
	OldestAgeSec   float64 `json:"oldest_age_seconds"`
	FreeDiskBytes  float64 `json:"free_disk_bytes"`
	ClockOffsetSec float64 `json:"clock_offset_seconds"`
	CertDaysLeft   float64 `json:"cert_days_left"`
}

// OK reports whether no check failed.
func (r Report) OK() bool { return len(r.Problems()) == 0 }

// Problems lists the failed checks.
func (r Report) Problems() []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Status == Fail {
			out = append(out, c)
		}
	}
	return out
}

// Get returns the named check.
func (r Report) Get(name string) (Check, bool) {
	for _, c := range r.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

// Thresholds.
const (
	// MaxClockOffset: beyond this request signatures start failing
	// (api.MaxSkew); half of it is already a warning.
	MaxClockOffset = api.MaxSkew
	// CertWarning: a certificate that expires within this is a warning.
	CertWarning = 30 * 24 * time.Hour
	// MinFreeBytes: below this the kiosk cannot take many more
	// submissions with scans.
	MinFreeBytes = outbox.DefaultMinFreeBytes
)

// Options configure Run.
type Options struct {
	Config config.Config
	// ConfigCheck, when set, is the config line (the caller loaded the
	// file and knows why it could not); otherwise Config is validated.
	ConfigCheck *Check
	// SkipDevices leaves the serial devices alone: the running kiosk app
	// owns the ports, and a second program talking on them would garble
	// both conversations.
	SkipDevices bool
	// DeviceTimeout bounds each device check; 5 s when zero.
	DeviceTimeout time.Duration
	// NetTimeout bounds each network step; 10 s when zero.
	NetTimeout time.Duration
	// Resolver for the platform's name; the system's when nil (tests).
	Resolver *net.Resolver
	Clock    func() time.Time
	Logger   *slog.Logger
	// Candidates lists the serial ports to probe for devices without a
	// configured port; serialport.ListCandidates when nil.
	Candidates func() []string
	// QueueMaxAge: the oldest queued submission may wait this long
	// (outbox.DefaultMaxAge when zero).
	QueueMaxAge time.Duration
}

// Run performs every check. It does not stop at the first failure: a
// technician wants the whole picture from one run.
func Run(ctx context.Context, o Options) Report {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.DeviceTimeout <= 0 {
		o.DeviceTimeout = 5 * time.Second
	}
	if o.QueueMaxAge <= 0 {
		o.QueueMaxAge = outbox.DefaultMaxAge
	}
	r := Report{OldestAgeSec: math.NaN(), FreeDiskBytes: math.NaN(), ClockOffsetSec: math.NaN(), CertDaysLeft: math.NaN()}
	add := func(name string, st Status, format string, args ...any) {
		r.Checks = append(r.Checks, Check{Name: name, Status: st, Detail: fmt.Sprintf(format, args...)})
	}
	cfg := o.Config
	if o.ConfigCheck != nil {
		r.Checks = append(r.Checks, *o.ConfigCheck)
	} else if err := cfg.Validate(); err != nil {
		add("config", Fail, "%s", oneLine(err))
	} else {
		add("config", OK, "settings valid (kiosk %s, %s)", cfg.Kiosk.ID, cfg.Kiosk.Name)
	}

	if o.SkipDevices {
		for _, n := range []string{"idcard", "printer", "scanner"} {
			add(n, Skip, "not checked (--skip-devices)")
		}
	} else {
		r.Checks = append(r.Checks, checkDevices(ctx, cfg.Devices, o.DeviceTimeout, o.Candidates)...)
	}

	r.Checks = append(r.Checks, checkSound(ctx, cfg.Voice, o.SkipDevices))
	checkStorage(ctx, cfg.Storage, o, &r, add)
	checkPlatform(ctx, cfg.Platform, cfg.Kiosk.ID, o, &r, add)
	return r
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

// fixedBaud narrows a prober to the configured baud.
type fixedBaud struct {
	probe.Prober
	baud int
}

func (f fixedBaud) Bauds() []int { return []int{f.baud} }

func withBaud(p probe.Prober, baud int) probe.Prober {
	if baud == 0 {
		return p
	}
	return fixedBaud{p, baud}
}

func checkDevices(ctx context.Context, d config.Devices, timeout time.Duration, candidates func() []string) []Check {
	type dev struct {
		name    string
		enabled bool
		port    string
		baud    int
		prober  probe.Prober
	}
	devs := []dev{
		{probe.KindCard, d.IDCard.Enabled, d.IDCard.Port, d.IDCard.Baud, idcard.Prober{}},
		{probe.KindPrinter, d.Printer.Enabled, d.Printer.Port, d.Printer.Baud, printer.Prober{}},
		{probe.KindScanner, d.Scanner.Enabled, d.Scanner.Port, d.Scanner.Baud, scanner.Prober{}},
	}
	// Devices without a port are looked for the way the technician's
	// Devices page does: every candidate port, in the one probe order of
	// drivers/probe/probers (printers first).
	found := map[string]probe.Result{}
	configured := map[string]bool{}
	var lost []string
	for _, dv := range devs {
		if dv.enabled && dv.port != "" {
			configured[dv.port] = true
		}
		if dv.enabled && dv.port == "" {
			lost = append(lost, dv.name)
		}
	}
	unassigned := probers.Of(lost...)
	if len(unassigned) > 0 {
		if candidates == nil {
			candidates = func() []string {
				var out []string
				for _, c := range serialport.ListCandidates(nil) {
					if c.Exists {
						out = append(out, c.Path)
					}
				}
				return out
			}
		}
		var ports []string
		for _, p := range candidates() {
			if !configured[p] {
				ports = append(ports, p)
			}
		}
		pctx, cancel := context.WithTimeout(ctx, 4*timeout)
		for _, res := range probe.Run(pctx, ports, unassigned) {
			if res.Kind != "" {
				if _, dup := found[res.Kind]; !dup {
					found[res.Kind] = res
				}
			}
		}
		cancel()
	}

	var out []Check
	for _, dv := range devs {
		if !dv.enabled {
			out = append(out, Check{dv.name, Skip, "disabled in config (devices." + dv.name + ".enabled = false)"})
			continue
		}
		port, baud, how := dv.port, dv.baud, ""
		if port == "" {
			res, ok := found[dv.name]
			if !ok {
				out = append(out, Check{dv.name, Fail, "no port set and no " + dv.name + " answered on any serial port: check the cable and power, then `onedoor devices probe`"})
				continue
			}
			port, baud, how = res.Port, res.Baud, " (found by probing; set devices."+dv.name+".port to fix it)"
		}
		if _, err := os.Stat(port); err != nil {
			out = append(out, Check{dv.name, Fail, fmt.Sprintf("%s is missing: unplugged, or the udev rule did not run (see /dev/onedoor/)", port)})
			continue
		}
		dctx, cancel := context.WithTimeout(ctx, timeout)
		var c Check
		if dv.name == "printer" {
			c = checkPrinter(dctx, d.Printer, port, baud)
		} else {
			res := probe.Run(dctx, []string{port}, []probe.Prober{withBaud(dv.prober, baud)})[0]
			if res.Kind == "" {
				c = Check{dv.name, Fail, fmt.Sprintf("%s: %s (at %s): wrong port or baud, or the device is off", port, res.Detail, bauds(dv.prober, baud))}
			} else {
				c = Check{dv.name, OK, fmt.Sprintf("%s at %d baud: %s", port, res.Baud, res.Detail)}
			}
		}
		cancel()
		c.Detail += how
		out = append(out, c)
	}
	return out
}

func bauds(p probe.Prober, baud int) string {
	if baud != 0 {
		return fmt.Sprint(baud)
	}
	var s []string
	for _, b := range p.Bauds() {
		s = append(s, fmt.Sprint(b))
	}
	return strings.Join(s, "/")
}

func checkPrinter(ctx context.Context, pc config.Printer, port string, baud int) Check {
	prof, err := escpos.LoadProfile(pc.Profile)
	if err != nil {
		return Check{"printer", Fail, fmt.Sprintf("printer profile %q: %v", pc.Profile, err)}
	}
	candidates := printer.Prober{}.Bauds()
	if baud != 0 {
		candidates = []int{baud}
	}
	var lastErr error
	for _, b := range candidates {
		p, err := printer.Open(port, printer.Options{Baud: b, Profile: prof})
		if err != nil {
			return Check{"printer", Fail, fmt.Sprintf("%s: %v", port, err)}
		}
		st, err := p.Status(ctx)
		// What the printer answers decides how a job's end is confirmed:
		// said here, so a technician knows why receipts on a printer
		// without GS r are confirmed by status after ~2 s.
		var caps printer.Capabilities
		if err == nil && st.Online {
			caps, _ = p.Probe(ctx)
		}
		p.Close()
		if err != nil {
			lastErr = err
			continue
		}
		where := fmt.Sprintf("%s at %d baud (%s)", port, b, pc.Profile)
		gsr := ""
		if caps.Probed && prof.TransmitStatus && !caps.TransmitStatus {
			gsr = "; it does not answer GS r, so each receipt is confirmed by real-time status 2 s after its last byte"
		}
		switch {
		case st.PaperEnd || st.PaperStop:
			return Check{"printer", Fail, where + ": out of paper — load a new roll (receipts cannot print)"}
		case st.CoverOpen:
			return Check{"printer", Fail, where + ": cover open — close it"}
		case st.CutterError || st.Unrecoverable:
			return Check{"printer", Fail, where + ": cutter or mechanical error (" + st.String() + ") — clear the jam, power-cycle the printer"}
		case !st.Online:
			return Check{"printer", Fail, where + ": offline (" + st.String() + ")"}
		case st.PaperNearEnd:
			return Check{"printer", Warn, where + ": ready, but the paper roll is nearly used up" + gsr}
		}
		return Check{"printer", OK, where + ": ready, paper loaded" + gsr}
	}
	return Check{"printer", Fail, fmt.Sprintf("%s: no answer to a status query at %s baud (%v): wrong port or baud, or the printer is off", port, bauds(printer.Prober{}, baud), lastErr)}
}

func checkStorage(ctx context.Context, s config.Storage, o Options, r *Report, add func(string, Status, string, ...any)) {
	// Disk.
	var fsst unix.Statfs_t
	dir := s.DataDir
	for dir != "/" {
		if _, err := os.Stat(dir); err == nil {
			break
		}
		dir = filepath.Dir(dir) // not created yet: what matters is the disk it will be on
	}
	if err := unix.Statfs(dir, &fsst); err != nil {
		add("disk", Fail, "cannot read free space of %s: %v", dir, err)
	} else {
		free := int64(fsst.Bavail) * int64(fsst.Bsize)
		total := int64(fsst.Blocks) * int64(fsst.Bsize)
		r.FreeDiskBytes = float64(free)
		if free < MinFreeBytes {
			add("disk", Fail, "only %d MB free on %s (need %d MB): free space, or lower the retention", free>>20, dir, MinFreeBytes>>20)
		} else {
			add("disk", OK, "%d MB free of %d MB on %s", free>>20, total>>20, dir)
		}
	}

	// Database: integrity first, on a plain read-only connection, so a
	// damaged file is reported as such rather than as an outbox error.
	dbPath := filepath.Join(s.DataDir, outbox.DBName)
	if _, err := os.Stat(dbPath); errors.Is(err, fs.ErrNotExist) {
		add("database", Warn, "%s does not exist yet: the kiosk has not run on this data directory", dbPath)
		add("queue", Skip, "no database")
		checkKey(s, false, add)
		return
	}
	if msg, err := integrity(ctx, dbPath); err != nil {
		add("database", Fail, "%s cannot be read: %v — the file is damaged or not a OneDoor database; stop the kiosk and restore it or move it aside (see README)", dbPath, err)
		add("queue", Skip, "database unreadable")
		checkKey(s, true, add)
		return
	} else if msg != "ok" {
		add("database", Fail, "%s fails PRAGMA integrity_check: %s — stop the kiosk and restore it or move it aside (see README)", dbPath, msg)
		add("queue", Skip, "database damaged")
		checkKey(s, true, add)
		return
	}
	add("database", OK, "%s passes PRAGMA integrity_check", dbPath)

	st, err := outbox.Open(ctx, outbox.Options{Dir: s.DataDir, ReadOnly: true, Clock: o.Clock, Logger: o.Logger})
	if err == nil {
		var stats outbox.Stats
		stats, err = st.Stats(ctx)
		st.Close()
		if err == nil {
			r.QueueDepth = stats.Queued
			r.OldestAgeSec = stats.OldestAge.Seconds()
			var probs []string
			if n := stats.Counts[outbox.StateRejected]; n > 0 {
				probs = append(probs, fmt.Sprintf("%d submission(s) rejected by the platform (see `onedoor queue`)", n))
			}
			if stats.Unreadable > 0 {
				probs = append(probs, fmt.Sprintf("%d queued submission(s) cannot be decrypted (wrong data key?)", stats.Unreadable))
			}
			if stats.Queued > 0 && stats.OldestAge > o.QueueMaxAge {
				probs = append(probs, fmt.Sprintf("oldest queued submission is %s old (limit %s): the platform has not been reached", stats.OldestAge.Round(time.Minute), o.QueueMaxAge))
			}
			switch {
			case len(probs) > 0:
				add("queue", Fail, "%s", strings.Join(probs, "; "))
			case stats.Queued > 0:
				add("queue", OK, "%d waiting, oldest %s", stats.Queued, stats.OldestAge.Round(time.Second))
			default:
				add("queue", OK, "empty (%d delivered)", stats.Counts[outbox.StateSent])
			}
		}
	}
	if err != nil {
		add("queue", Fail, "cannot read the queue: %v", err)
	}
	checkKey(s, true, add)
}

// integrity runs PRAGMA integrity_check on a read-only connection.
func integrity(ctx context.Context, path string) (string, error) {
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return "", err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check(20)`)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			return "", err
		}
		lines = append(lines, l)
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	if len(lines) == 0 {
		return "", errors.New("integrity_check returned nothing")
	}
	return strings.Join(lines, "; "), nil
}

func checkKey(s config.Storage, needed bool, add func(string, Status, string, ...any)) {
	fi, err := os.Stat(s.KeyFile)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !needed:
		add("data key", OK, "%s will be created at first start", s.KeyFile)
	case errors.Is(err, fs.ErrNotExist):
		add("data key", Fail, "%s is missing: stored submissions cannot be decrypted; restore the key file from the installation backup", s.KeyFile)
	case err != nil:
		add("data key", Fail, "%s: %v", s.KeyFile, err)
	case fi.Mode().Perm()&0o077 != 0:
		add("data key", Fail, "%s is readable by others (mode %v): chmod 600", s.KeyFile, fi.Mode().Perm())
	default:
		add("data key", OK, "%s present, mode %v", s.KeyFile, fi.Mode().Perm())
	}
}

func checkPlatform(ctx context.Context, p config.Platform, kioskID string, o Options, r *Report, add func(string, Status, string, ...any)) {
	if p.URL == "" {
		add("platform", Warn, "no platform.url: offline-only, everything stays queued")
		add("clock", Skip, "no platform to compare with")
		add("certificate", Skip, "no platform")
		return
	}
	opts := nettest.Options{URL: p.URL, KioskID: kioskID, Token: p.Token, Timeout: o.NetTimeout, Clock: o.Clock, Resolver: o.Resolver}
	if p.CAFile != "" {
		pem, err := os.ReadFile(p.CAFile)
		pool := x509.NewCertPool()
		if err != nil || !pool.AppendCertsFromPEM(pem) {
			add("platform", Fail, "platform.ca_file %s: cannot read a PEM certificate from it (%v)", p.CAFile, err)
			add("clock", Skip, "platform not reached")
			add("certificate", Skip, "platform not reached")
			return
		}
		opts.RootCAs = pool
	}
	rep := nettest.Run(ctx, opts)
	if err := rep.Err(); err != nil {
		var failed nettest.Step
		for _, s := range rep.Steps {
			if s.Outcome == nettest.Failed {
				failed = s
				break
			}
		}
		add("platform", Fail, "%s unreachable at the %s step: %s", p.URL, strings.ToUpper(failed.Name), failed.Detail)
	} else {
		add("platform", OK, "%s reachable (DNS, TCP, %sHTTP ok; kiosk token accepted)", p.URL, map[bool]string{true: "TLS, ", false: ""}[strings.HasPrefix(p.URL, "https")])
	}
	if rep.HaveClock {
		off := rep.ClockOffset
		r.ClockOffsetSec = off.Seconds()
		abs := max(off, -off)
		switch {
		case abs >= MaxClockOffset:
			add("clock", Fail, "kiosk clock is %s off the platform's (limit %s): requests are refused; fix NTP (timedatectl)", fmtOffset(off), MaxClockOffset)
		case abs >= MaxClockOffset/2:
			add("clock", Warn, "kiosk clock is %s off the platform's: check NTP (timedatectl)", fmtOffset(off))
		default:
			add("clock", OK, "within %s of the platform", max(abs, time.Second).Round(time.Second))
		}
	} else {
		add("clock", Skip, "platform not reached")
	}
	switch {
	case rep.CertNotAfter.IsZero() && strings.HasPrefix(p.URL, "https"):
		add("certificate", Skip, "TLS not reached")
	case rep.CertNotAfter.IsZero():
		add("certificate", Warn, "plain http: the link is not encrypted (use https outside a test network)")
	default:
		left := rep.CertNotAfter.Sub(o.Clock())
		r.CertDaysLeft = left.Hours() / 24
		switch {
		case left <= 0:
			add("certificate", Fail, "platform certificate expired on %s", rep.CertNotAfter.UTC().Format("2006-01-02"))
		case left < CertWarning:
			add("certificate", Warn, "platform certificate expires in %d days (%s): tell the platform's operators", int(left.Hours()/24), rep.CertNotAfter.UTC().Format("2006-01-02"))
		default:
			add("certificate", OK, "platform certificate valid until %s", rep.CertNotAfter.UTC().Format("2006-01-02"))
		}
	}
}

func fmtOffset(d time.Duration) string {
	if d > 0 {
		return d.Round(time.Second).String() + " behind"
	}
	return (-d).Round(time.Second).String() + " ahead"
}
