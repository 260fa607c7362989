package platform_test

import (
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"onedoor/sync/platform"
)

// scrape GETs url over real HTTP and parses the Prometheus text it gets;
// families is nil when the answer is not 200.
func scrape(t *testing.T, url, token string) (int, map[string]*dto.MetricFamily) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		io.Copy(io.Discard, res.Body)
		return res.StatusCode, nil
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parsing %s: %v", url, err)
	}
	return res.StatusCode, fams
}

// series finds the metric of family name whose labels are exactly want.
func series(fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		if len(got) == len(want) && func() bool {
			for k, v := range want {
				if got[k] != v {
					return false
				}
			}
			return true
		}() {
			return m
		}
	}
	return nil
}

// TestMetricsScrape: after real requests, /metrics shows per-route
// counters and latency histograms (by route name, never by path), the Go
// and process collectors, and the store's gauges; the method label stays
// bounded whatever a client sends; the access rule holds (the metrics
// listener without a token, the kiosks' port only with it).
func TestMetricsScrape(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	const token = "s3cret-metrics"
	e.reconfigure(func(c *platform.Config) { c.MetricsToken = token })
	ms := httptest.NewServer(e.server.MetricsHandler())
	defer ms.Close()

	const healthz = 3
	for range healthz {
		res, err := http.Get(e.http.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	// Made-up methods on a catch-all route: one "other" series, not one each.
	for _, m := range []string{"BREW", "WHEN", "PROPFIND"} {
		req, _ := http.NewRequest(m, e.http.URL+"/api/v1/no-such-thing", nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}

	tests := []struct {
		name, url, token string
		want             int
	}{
		{"metrics listener, no token", ms.URL + "/metrics", "", http.StatusOK},
		{"kiosks' port, no token", e.http.URL + "/metrics", "", http.StatusNotFound},
		{"kiosks' port, wrong token", e.http.URL + "/metrics", "guess", http.StatusNotFound},
		{"kiosks' port, token", e.http.URL + "/metrics", token, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, fams := scrape(t, tc.url, tc.token)
			if code != tc.want {
				t.Fatalf("GET /metrics = %d, want %d", code, tc.want)
			}
			if fams == nil {
				return
			}
			h := series(fams, "onedoor_platform_http_request_duration_seconds", map[string]string{"route": "healthz", "method": "GET"})
			if h == nil || h.GetHistogram() == nil {
				t.Fatalf("no healthz latency histogram; families: %v", familyNames(fams))
			}
			hist := h.GetHistogram()
			if hist.GetSampleCount() != healthz {
				t.Errorf("healthz histogram count %d, want %d", hist.GetSampleCount(), healthz)
			}
			var bounds []float64
			last := uint64(0)
			for _, b := range hist.GetBucket() {
				bounds = append(bounds, b.GetUpperBound())
				if b.GetCumulativeCount() < last {
					t.Errorf("bucket le=%g count %d below the one before (%d)", b.GetUpperBound(), b.GetCumulativeCount(), last)
				}
				last = b.GetCumulativeCount()
			}
			wantBounds := []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, math.Inf(1)}
			if !slices.Equal(bounds, wantBounds) {
				t.Errorf("buckets %v, want %v", bounds, wantBounds)
			}
			// Every observation is in the +Inf bucket.
			if last != healthz || hist.GetSampleSum() <= 0 {
				t.Errorf("last bucket %d, sum %g; want %d and a positive sum", last, hist.GetSampleSum(), healthz)
			}
			c := series(fams, "onedoor_platform_http_requests_total", map[string]string{"route": "healthz", "method": "GET", "code": "200"})
			if c.GetCounter().GetValue() != healthz {
				t.Errorf("healthz request counter %v, want %d", c, healthz)
			}
			other := series(fams, "onedoor_platform_http_requests_total", map[string]string{"route": "unknown", "method": "other", "code": "404"})
			if other.GetCounter().GetValue() != 3 {
				t.Errorf("made-up methods counted %v, want 3 under method=\"other\"", other)
			}
			for _, l := range fams["onedoor_platform_http_requests_total"].GetMetric() {
				for _, lp := range l.GetLabel() {
					if lp.GetName() == "route" && (lp.GetValue() == "" || lp.GetValue()[0] == '/') {
						t.Errorf("route label %q is a path, not a route name", lp.GetValue())
					}
					if lp.GetName() == "method" && slices.Contains([]string{"BREW", "WHEN", "PROPFIND"}, lp.GetValue()) {
						t.Errorf("method label %q: a client made it up", lp.GetValue())
					}
				}
			}
			for _, name := range []string{
				"go_goroutines", "go_gc_duration_seconds", "go_memstats_heap_alloc_bytes",
				"process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
				"onedoor_platform_kiosks",
			} {
				if fams[name] == nil {
					t.Errorf("no %s; families: %v", name, familyNames(fams))
				}
			}
			if k := fams["onedoor_platform_kiosks"]; k != nil && k.GetMetric()[0].GetGauge().GetValue() != 1 {
				t.Errorf("onedoor_platform_kiosks = %v, want 1", k.GetMetric()[0])
			}
		})
	}
}

func familyNames(fams map[string]*dto.MetricFamily) []string {
	var names []string
	for n := range fams {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
