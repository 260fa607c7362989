package platform

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"
)

// metrics is a tiny hand-written Prometheus text exposition: counters by
// label set and one latency summary. It belongs to a Server, never to the
// package.
type metrics struct {
	mu       sync.Mutex
	requests map[[3]string]uint64 // route, method, code
	events   map[[2]string]uint64 // name, label value
	durSum   map[string]float64   // route -> seconds
	durCount map[string]uint64
}

func newMetrics() *metrics {
	return &metrics{
		requests: map[[3]string]uint64{},
		events:   map[[2]string]uint64{},
		durSum:   map[string]float64{},
		durCount: map[string]uint64{},
	}
}

func (m *metrics) observe(route, method string, code int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[[3]string{route, method, strconv.Itoa(code)}]++
	m.durSum[route] += d.Seconds()
	m.durCount[route]++
}

// count increments an event counter such as ("auth_failures", "bad_signature").
func (m *metrics) count(name, label string, n uint64) {
	m.mu.Lock()
	m.events[[2]string{name, label}] += n
	m.mu.Unlock()
}

// eventHelp describes each event counter; the label name is the second field.
func eventHelp() map[string][2]string {
	return map[string][2]string{
		"submissions_created": {"Submissions stored with a new case number.", "kiosk"},
		"idempotent_replays":  {"Requests answered from a stored first response.", "endpoint"},
		"auth_failures":       {"Requests refused with 401.", "reason"},
		"blob_bytes_received": {"Blob bytes appended to uploads.", "result"},
		"blobs_completed":     {"Blobs verified and stored.", "result"},
		"decisions":           {"Staff decisions.", "status"},
	}
}

func (m *metrics) write(w io.Writer, byStatus map[string]int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintln(w, "# HELP onedoor_platform_http_requests_total HTTP requests by route, method and status code.")
	fmt.Fprintln(w, "# TYPE onedoor_platform_http_requests_total counter")
	keys := make([][3]string, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		return a[0]+a[1]+a[2] < b[0]+b[1]+b[2]
	})
	for _, k := range keys {
		fmt.Fprintf(w, "onedoor_platform_http_requests_total{route=%q,method=%q,code=%q} %d\n", k[0], k[1], k[2], m.requests[k])
	}
	fmt.Fprintln(w, "# HELP onedoor_platform_http_request_duration_seconds Time to answer, by route.")
	fmt.Fprintln(w, "# TYPE onedoor_platform_http_request_duration_seconds summary")
	routes := make([]string, 0, len(m.durCount))
	for r := range m.durCount {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	for _, r := range routes {
		fmt.Fprintf(w, "onedoor_platform_http_request_duration_seconds_sum{route=%q} %g\n", r, m.durSum[r])
		fmt.Fprintf(w, "onedoor_platform_http_request_duration_seconds_count{route=%q} %d\n", r, m.durCount[r])
	}
	help := eventHelp()
	names := make([]string, 0, len(help))
	for n := range help {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		h := help[n]
		fmt.Fprintf(w, "# HELP onedoor_platform_%s_total %s\n# TYPE onedoor_platform_%s_total counter\n", n, h[0], n)
		var labels []string
		for k := range m.events {
			if k[0] == n {
				labels = append(labels, k[1])
			}
		}
		sort.Strings(labels)
		for _, l := range labels {
			fmt.Fprintf(w, "onedoor_platform_%s_total{%s=%q} %d\n", n, h[1], l, m.events[[2]string{n, l}])
		}
	}
	fmt.Fprintln(w, "# HELP onedoor_platform_submissions Submissions stored, by current status.")
	fmt.Fprintln(w, "# TYPE onedoor_platform_submissions gauge")
	sts := make([]string, 0, len(byStatus))
	for s := range byStatus {
		sts = append(sts, s)
	}
	sort.Strings(sts)
	for _, s := range sts {
		fmt.Fprintf(w, "onedoor_platform_submissions{status=%q} %d\n", s, byStatus[s])
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
