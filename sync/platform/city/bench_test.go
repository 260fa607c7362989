package city

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"onedoor/sync/api"
	"onedoor/sync/platform"
	"onedoor/sync/platform/city/cputest"
)

const benchKiosks = 200

// benchIntake has 200 kiosks, each with its own connections, POST signed
// submissions without blobs, spread round-robin over the instances' URLs,
// and reports submissions per second and the CPU time per submission of
// this process (kiosks and instances) and the process trees in servers
// (PostgreSQL).
func benchIntake(b *testing.B, o Options, instances int, servers ...int) {
	ctx := b.Context()
	var urls []string
	var first *Platform
	for range instances {
		p, err := Open(ctx, o, platform.Config{Logger: slog.New(slog.DiscardHandler), CasePrefix: "DG"})
		if err != nil {
			b.Fatal(err)
		}
		hs := httptest.NewServer(p.Server)
		b.Cleanup(func() { hs.Close(); p.Close() })
		urls = append(urls, hs.URL)
		if first == nil {
			first = p
		}
	}
	ids := make([]string, benchKiosks)
	tokens := make([]string, benchKiosks)
	for k := range ids {
		ids[k] = fmt.Sprintf("DG-%04d", k)
		tok, err := first.AddKiosk(ctx, ids[k])
		if err != nil {
			b.Fatal(err)
		}
		tokens[k] = tok
	}
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	roots := append([]int{os.Getpid()}, servers...)
	cpu0, err := cputest.Tree(roots...)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for k := range benchKiosks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer hc.CloseIdleConnections()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				s := api.SubmissionRequest{
					UUID: uuid.NewString(), Receipt: fmt.Sprintf("%s-20260101-%06d", ids[k], i), KioskID: ids[k],
					ItemID: "hukou-move", ItemVersion: "3", CreatedAt: time.Now().UTC().Truncate(time.Second),
					Applicant: api.ApplicantData{Name: "测试人", IDNumber: "441900199001011231", Phone: "13800000000"},
				}
				body, _ := json.Marshal(s)
				req, _ := http.NewRequest("POST", urls[i%len(urls)]+api.PathSubmissions, bytes.NewReader(body))
				req.Header.Set(api.HeaderIdempotencyKey, s.UUID)
				nonce, _ := api.NewNonce()
				api.Sign(req, ids[k], tokens[k], api.BodySHA256(body), time.Now(), nonce)
				res, err := hc.Do(req)
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
	cpu1, err := cputest.Tree(roots...)
	if err != nil {
		b.Fatal(err)
	}
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d submissions failed", f, b.N)
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "subs/s")
	b.ReportMetric(float64((cpu1-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/sub")
}

// BenchmarkIntake200KiosksPostgres2Instances: 200 kiosks submit without
// blobs to two instances on one durable PostgreSQL database (the replay
// cache in the database too), against the SQLite platform in the same run:
//
//	go test -run '^$' -bench 'Intake200' -benchtime 5000x ./sync/platform/city/
func BenchmarkIntake200KiosksPostgres2Instances(b *testing.B) {
	pg := durablePG.Get(b)
	pid, err := pg.PID()
	if err != nil {
		b.Fatal(err)
	}
	benchIntake(b, Options{DB: pg.DB(b), Blobs: gw.Bucket(b), DataKey: filepath.Join(b.TempDir(), "data.key")}, 2, pid)
}

// BenchmarkIntake200KiosksSQLite is the same-run baseline: one instance on
// SQLite and a blob folder.
func BenchmarkIntake200KiosksSQLite(b *testing.B) {
	benchIntake(b, Options{Data: b.TempDir()}, 1)
}
