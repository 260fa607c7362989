package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"
)

// WriteMetrics writes r in the Prometheus text exposition format. Each
// check is a gauge pair (failed, warning) so an alert rule can say
// `onedoor_kiosk_check_failed == 1` without parsing words; figures that are
// unknown (no database, platform not reached) are left out rather than
// reported as zero, which would read as "queue empty" or "clock exact".
func WriteMetrics(w io.Writer, r Report, at time.Time) error {
	var b []byte
	p := func(format string, args ...any) { b = fmt.Appendf(b, format, args...) }
	p("# HELP onedoor_kiosk_healthy 1 when no doctor check failed.\n# TYPE onedoor_kiosk_healthy gauge\n")
	p("onedoor_kiosk_healthy %d\n", boolInt(r.OK()))
	checks := append([]Check(nil), r.Checks...)
	sort.SliceStable(checks, func(i, j int) bool { return checks[i].Name < checks[j].Name })
	p("# HELP onedoor_kiosk_check_failed 1 when the named doctor check failed.\n# TYPE onedoor_kiosk_check_failed gauge\n")
	for _, c := range checks {
		if c.Status != Skip {
			p("onedoor_kiosk_check_failed{check=%s} %d\n", strconv.Quote(c.Name), boolInt(c.Status == Fail))
		}
	}
	p("# HELP onedoor_kiosk_check_warning 1 when the named doctor check warns.\n# TYPE onedoor_kiosk_check_warning gauge\n")
	for _, c := range checks {
		if c.Status != Skip {
			p("onedoor_kiosk_check_warning{check=%s} %d\n", strconv.Quote(c.Name), boolInt(c.Status == Warn))
		}
	}
	gauge := func(name, help string, v float64) {
		if math.IsNaN(v) {
			return
		}
		p("# HELP %s %s\n# TYPE %s gauge\n%s %s\n", name, help, name, name, strconv.FormatFloat(v, 'g', -1, 64))
	}
	if !math.IsNaN(r.OldestAgeSec) {
		gauge("onedoor_kiosk_queue_depth", "Submissions not yet delivered to the platform.", float64(r.QueueDepth))
	}
	gauge("onedoor_kiosk_queue_oldest_age_seconds", "Age of the oldest undelivered submission (0 when none).", r.OldestAgeSec)
	gauge("onedoor_kiosk_disk_free_bytes", "Free bytes on the data directory's disk.", r.FreeDiskBytes)
	gauge("onedoor_kiosk_clock_offset_seconds", "Platform clock minus kiosk clock.", r.ClockOffsetSec)
	gauge("onedoor_kiosk_certificate_days_left", "Days until the platform's TLS certificate expires.", r.CertDaysLeft)
	gauge("onedoor_kiosk_last_check_timestamp_seconds", "When these checks ran.", float64(at.Unix()))
	_, err := w.Write(b)
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ErrNotLoopback: the metrics address is not on a loopback interface. The
// kiosk sits on public networks; its metrics (queue depth, device faults)
// are for a local agent to forward, not for anyone on the LAN.
var ErrNotLoopback = errors.New("doctor: metrics must listen on a loopback address")

// CheckLoopback accepts host:port only when host is a loopback address or
// "localhost".
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotLoopback, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%w: %q", ErrNotLoopback, addr)
}

// Exporter reruns the checks every interval and serves the latest report
// at /metrics. Checks run on their own schedule, not per scrape, so a
// scraper polling fast cannot make the kiosk hammer the platform.
type Exporter struct {
	run      func(context.Context) Report
	interval time.Duration
	clock    func() time.Time
	log      *slog.Logger

	mu   sync.Mutex
	last Report
	at   time.Time
	have bool
}

// NewExporter makes an exporter over run (usually a closure over Run).
func NewExporter(run func(context.Context) Report, interval time.Duration, clock func() time.Time, log *slog.Logger) *Exporter {
	if clock == nil {
		clock = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Exporter{run: run, interval: interval, clock: clock, log: log}
}

// Refresh runs the checks once now.
func (e *Exporter) Refresh(ctx context.Context) Report {
	r := e.run(ctx)
	e.mu.Lock()
	e.last, e.at, e.have = r, e.clock(), true
	e.mu.Unlock()
	if !r.OK() {
		names := ""
		for _, c := range r.Problems() {
			names += c.Name + " "
		}
		e.log.Warn("kiosk unhealthy", "failed", names)
	}
	return r
}

// Loop refreshes every interval until ctx ends.
func (e *Exporter) Loop(ctx context.Context) {
	t := time.NewTicker(e.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			e.Refresh(ctx)
		}
	}
}

// ServeHTTP serves /metrics.
func (e *Exporter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/metrics" {
		http.NotFound(w, r)
		return
	}
	e.mu.Lock()
	rep, at, have := e.last, e.at, e.have
	e.mu.Unlock()
	if !have {
		http.Error(w, "first check still running", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	WriteMetrics(w, rep, at)
}
