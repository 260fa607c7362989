package platform

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsNamespace prefixes every platform series (onedoor_platform_…).
const metricsNamespace = "onedoor_platform"

// latencyBuckets (seconds) span a health check (well under a millisecond)
// to a scan's upload over a village link, which UploadIdleTimeout lets run
// for minutes: past 60 s only the count and sum say more.
func latencyBuckets() []float64 {
	return []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}
}

// eventCounters names each event counter (onedoor_platform_NAME_total) with
// its help and its one label. Every label's values come from a short list
// in the code (reasons, results, statuses, endpoints, certificate types),
// except "kiosk": its values are the ids of enrolled kiosks that signed
// the request, as bounded as the fleet, like the fleet gauges' own kiosk
// label; intake per kiosk is what tells a clerk's quiet kiosk from a
// broken one.
func eventCounters() map[string][2]string {
	return map[string][2]string{
		"submissions_created": {"Submissions stored with a new case number.", "kiosk"},
		"idempotent_replays":  {"Requests answered from a stored first response.", "endpoint"},
		"auth_failures":       {"Requests refused with 401.", "reason"},
		"blob_bytes_received": {"Blob bytes appended to uploads.", "result"},
		"blobs_completed":     {"Blobs verified and stored.", "result"},
		"decisions":           {"Staff decisions.", "status"},
		"ecert_refused":       {"Submissions refused for an e-certificate that failed its check.", "reason"},
		"ecerts_issued":       {"E-certificates issued on approval.", "type"},
	}
}

// metrics is a Server's Prometheus registry: request counts and latency
// histograms by route name, event counters, and the Go runtime and process
// collectors. It belongs to a Server, never to the package, so that
// several Servers in one process (tests, a city's instances in one binary)
// count apart.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec   // route, method, code
	latency  *prometheus.HistogramVec // route, method
	events   map[string]*prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace, Name: "http_requests_total",
			Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: metricsNamespace, Name: "http_request_duration_seconds",
			Help:    "Time to answer, by route and method.",
			Buckets: latencyBuckets(),
		}, []string{"route", "method"}),
		events: map[string]*prometheus.CounterVec{},
	}
	m.reg.MustRegister(m.requests, m.latency,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for name, h := range eventCounters() {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace, Name: name + "_total", Help: h[0],
		}, []string{h[1]})
		m.reg.MustRegister(c)
		m.events[name] = c
	}
	return m
}

// observe records one answered request. route is the route's name, never
// its path, so that the series stay few whatever clients ask for.
func (m *metrics) observe(route, method string, code int, d time.Duration) {
	method = methodLabel(method)
	m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.latency.WithLabelValues(route, method).Observe(d.Seconds())
}

// methodLabel keeps the method label to the standard methods: the catch-all
// routes see whatever method a client makes up, and each new one would be
// a new series for good.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// count increments an event counter such as ("auth_failures",
// "bad_signature"). A name missing from eventCounters is a programming
// error that TestEventCountersDeclared catches; here it is dropped rather
// than panicking in a request.
func (m *metrics) count(name, label string, n uint64) {
	if c, ok := m.events[name]; ok {
		c.WithLabelValues(label).Add(float64(n))
	}
}

// serve writes the exposition: the registry, plus what the store holds now
// (submissions by status, the fleet's gauges), read by the caller under the
// request's context and passed in as a snapshot. The format follows the
// scraper's Accept header (Prometheus text by default).
func (m *metrics) serve(w http.ResponseWriter, r *http.Request, snap storeSnapshot) {
	scrape := prometheus.NewRegistry()
	scrape.MustRegister(snap)
	promhttp.HandlerFor(prometheus.Gatherers{m.reg, scrape}, promhttp.HandlerOpts{
		ErrorHandling: promhttp.HTTPErrorOnError,
	}).ServeHTTP(w, r)
}

// storeSnapshot is one scrape's view of the store, as const metrics. It
// describes nothing in advance (an unchecked collector): it lives in a
// registry of its own for one scrape.
type storeSnapshot struct {
	byStatus map[string]int64
	fleet    []FleetRow
	now      time.Time
}

// Describe sends nothing: see storeSnapshot.
func (storeSnapshot) Describe(chan<- *prometheus.Desc) {}

// Collect sends the submissions by status and the fleet gauges, which a
// Prometheus alert rule can page on: the same conditions the fleet page
// shows.
func (s storeSnapshot) Collect(ch chan<- prometheus.Metric) {
	name := func(n string) string { return prometheus.BuildFQName(metricsNamespace, "", n) }
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	subs := prometheus.NewDesc(name("submissions"), "Submissions stored, by current status.", []string{"status"}, nil)
	for st, n := range s.byStatus {
		gauge(subs, float64(n), st)
	}
	gauge(prometheus.NewDesc(name("kiosks"), "Registered kiosks.", nil, nil), float64(len(s.fleet)))
	since := prometheus.NewDesc(name("kiosk_seconds_since_heartbeat"), "Seconds since the kiosk's last heartbeat (absent if never).", []string{"kiosk"}, nil)
	depth := prometheus.NewDesc(name("kiosk_queue_depth"), "Undelivered submissions the kiosk last reported.", []string{"kiosk"}, nil)
	alert := prometheus.NewDesc(name("kiosk_alert"), "1 when the fleet rule of that kind fires for the kiosk.", []string{"kiosk", "kind"}, nil)
	kinds := []string{AlertSilent, AlertNeverSeen, AlertPaperOut, AlertPaperLow, AlertQueueOld, AlertDiskLow, AlertDeviceError}
	// The registry sorts what it gathers: no order needed here.
	for _, r := range s.fleet {
		if !r.LastSeen.IsZero() {
			gauge(since, s.now.Sub(r.LastSeen).Seconds(), r.ID)
		}
		if r.Heartbeat != nil {
			gauge(depth, float64(r.Heartbeat.QueueDepth), r.ID)
		}
		on := map[string]bool{}
		for _, a := range r.Alerts {
			on[a.Kind] = true
		}
		for _, k := range kinds {
			v := 0.0
			if on[k] {
				v = 1
			}
			gauge(alert, v, r.ID, k)
		}
	}
}

// statusRecorder remembers the status code for the request counter.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
