package platform_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"onedoor/sync/api"
	"onedoor/sync/platform/sqlitestore"
)

const benchKiosks = 200

// runKiosks sends n requests from benchKiosks goroutines, each with its own
// HTTP client (its own connections, as separate kiosks have), and reports
// requests per second. mk builds request i of kiosk k.
func runKiosks(b *testing.B, n int, mk func(k, i int) *http.Request) {
	b.Helper()
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	clients := make([]*http.Client, benchKiosks)
	for k := range clients {
		clients[k] = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	}
	b.ResetTimer()
	start := time.Now()
	for k := 0; k < benchKiosks; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				res, err := clients[k].Do(mk(k, i))
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusCreated {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d requests failed", f, n)
	}
	b.ReportMetric(float64(n)/el.Seconds(), "subs/s")
	for _, c := range clients {
		c.CloseIdleConnections()
	}
}

// BenchmarkIntake200Kiosks: 200 kiosks each POST signed submissions without
// blobs to the real platform (SQLite WAL, synchronous=FULL) over loopback.
//
//	go test -run '^$' -bench 'Intake' -benchtime 5000x ./sync/platform/
func BenchmarkIntake200Kiosks(b *testing.B) { benchIntake(b, sqlitestore.Options{}) }

// BenchmarkIntake200KiosksNoGroupCommit is the same with one fsync per
// submission, to show what group commit buys.
func BenchmarkIntake200KiosksNoGroupCommit(b *testing.B) {
	benchIntake(b, sqlitestore.Options{MaxBatch: 1})
}

func benchIntake(b *testing.B, opts sqlitestore.Options) {
	kiosks := make([]string, benchKiosks)
	for k := range kiosks {
		kiosks[k] = fmt.Sprintf("K%03d", k)
	}
	e := newEnvOpts(b, b.TempDir(), opts, kiosks...)
	runKiosks(b, b.N, func(k, i int) *http.Request {
		s := newSubmission(kiosks[k], i)
		body, _ := json.Marshal(s)
		req, _ := http.NewRequest("POST", e.http.URL+api.PathSubmissions, bytes.NewReader(body))
		req.Header.Set(api.HeaderIdempotencyKey, s.UUID)
		nonce, _ := api.NewNonce()
		api.Sign(req, kiosks[k], e.tokens[kiosks[k]], api.BodySHA256(body), time.Now(), nonce)
		return req
	})
}

// BenchmarkIntakeBaselinePlainHTTP is the floor the platform is compared
// with in the same run: the same 200 clients POST the same JSON to a
// handler that only decodes it and answers 201 (no signature, no database).
func BenchmarkIntakeBaselinePlainHTTP(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var s api.SubmissionRequest
		if err := json.NewDecoder(r.Body).Decode(&s); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(api.SubmissionResponse{UUID: s.UUID, Receipt: s.Receipt, Status: api.StatusReceived, ReceivedAt: time.Now()})
	}))
	defer srv.Close()
	runKiosks(b, b.N, func(k, i int) *http.Request {
		s := newSubmission(fmt.Sprintf("K%03d", k), i)
		body, _ := json.Marshal(s)
		req, _ := http.NewRequest("POST", srv.URL+api.PathSubmissions, bytes.NewReader(body))
		req.Header.Set(api.HeaderIdempotencyKey, s.UUID)
		return req
	})
}
