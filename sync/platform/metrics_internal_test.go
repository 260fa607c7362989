package platform

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"onedoor/sync/api"
)

// TestEventCountersDeclared: every event counter the code increments is
// declared in eventCounters, so none is counted and never exposed (as
// ecert_refused and ecerts_issued once were).
func TestEventCountersDeclared(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	declared := eventCounters()
	call := regexp.MustCompile(`metrics\.count\("([a-z_]+)"`)
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range call.FindAllSubmatch(b, -1) {
			seen++
			if _, ok := declared[string(m[1])]; !ok {
				t.Errorf("%s counts %q, which eventCounters does not declare", f, m[1])
			}
		}
	}
	if seen == 0 {
		t.Fatal("found no metrics.count calls: the pattern is stale")
	}
}

// BenchmarkMetricsObserve is what the instrumentation adds to each request:
// a counter and a histogram observation, label lookups included, from
// parallel requests. "handwritten" is the same-run baseline: the
// observation of the hand-written exposition this replaced (maps under one
// mutex), kept here only to compare.
//
//	go test -run XXX -bench Metrics -benchmem -count 7 ./sync/platform/
func BenchmarkMetricsObserve(b *testing.B) {
	b.Run("client_golang", func(b *testing.B) {
		m := newMetrics()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				m.observe("submissions", http.MethodPost, http.StatusCreated, 3*time.Millisecond)
			}
		})
	})
	b.Run("handwritten", func(b *testing.B) {
		var mu sync.Mutex
		requests := map[[3]string]uint64{}
		durSum, durCount := map[string]float64{}, map[string]uint64{}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				mu.Lock()
				requests[[3]string{"submissions", http.MethodPost, strconv.Itoa(http.StatusCreated)}]++
				durSum["submissions"] += (3 * time.Millisecond).Seconds()
				durCount["submissions"]++
				mu.Unlock()
			}
		})
	})
}

// BenchmarkMetricsScrape is one scrape of a busy instance: 20 routes × 2
// methods × 3 codes observed, every event counter with 10 labels, and a
// fleet of 200 kiosks with heartbeats, gathered and encoded as text.
func BenchmarkMetricsScrape(b *testing.B) {
	m := newMetrics()
	for i := range 20 {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			for _, code := range []int{200, 404, 500} {
				m.observe(fmt.Sprintf("route%d", i), method, code, time.Duration(i)*time.Millisecond)
			}
		}
	}
	for name := range eventCounters() {
		for i := range 10 {
			m.count(name, fmt.Sprint("label", i), 1)
		}
	}
	now := time.Now()
	snap := storeSnapshot{byStatus: map[string]int64{"received": 10, "accepted": 20}, now: now}
	for i := range 200 {
		snap.fleet = append(snap.fleet, FleetRow{KioskInfo: KioskInfo{ID: fmt.Sprintf("DG-%03d", i), LastSeen: now.Add(-time.Minute), Heartbeat: &api.Heartbeat{QueueDepth: i}}})
	}
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	var size int
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		m.serve(rec, req, snap)
		if rec.Code != http.StatusOK {
			b.Fatalf("scrape = %d %s", rec.Code, rec.Body)
		}
		size = rec.Body.Len()
	}
	b.ReportMetric(float64(size), "bytes/scrape")
}
