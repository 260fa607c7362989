package sqlitestore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"onedoor/assets"
	"onedoor/sync/platform"
	"onedoor/sync/platform/blobdir"
	"onedoor/sync/platform/blobseal"
	"onedoor/sync/platform/supervise"
)

// benchCases is how many cases BenchmarkSupervise seeds:
// ONEDOOR_BENCH_CASES, default 1,000,000.
func benchCases() int {
	if n, err := strconv.Atoi(os.Getenv("ONEDOOR_BENCH_CASES")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

var benchItems = []string{"ss-pension-enrol", "ss-card-replace", "mi-resident-enrol", "mi-chronic", "hh-residence-permit", "hh-household-proof",
	"ca-dibao", "ca-temp-relief", "fm-birth-reg", "fm-one-child-award", "ed-senior-allowance", "ed-disability-card"}

// seedBench fills dir's platform.db with n cases of 2026 across 33 towns,
// 1,000 kiosks, 12 items and 200 window staff (raw inserts in large
// transactions: the intake path would take hours for a million), then
// derives their facts through the real supervise.Refresher. A directory
// already seeded with n cases is reused.
func seedBench(tb testing.TB, dir string, n int, ref func(*Store) supervise.Refresher) *Store {
	ctx := context.Background()
	s, err := Open(ctx, dir)
	if err != nil {
		tb.Fatal(err)
	}
	var have int
	s.r.QueryRowContext(ctx, `SELECT count(*) FROM case_facts`).Scan(&have)
	if have == n {
		return s
	}
	if have != 0 {
		tb.Fatalf("%s holds %d cases, not %d: use an empty directory", dir, have, n)
	}
	start := time.Now()
	rng := rand.New(rand.NewPCG(1, 14))
	cst := time.FixedZone("CST", 8*3600)
	wd, err := supervise.ParseWorkdays(assets.Holidays)
	if err != nil {
		tb.Fatal(err)
	}
	var days []supervise.Day
	for d := supervise.DayOf(time.Date(2026, 1, 1, 12, 0, 0, 0, cst)); d <= supervise.DayOf(time.Date(2026, 12, 20, 12, 0, 0, 0, cst)); d++ {
		if wd.IsWorkday(d) {
			days = append(days, d)
		}
	}
	at := func(d supervise.Day, hour int) int64 {
		return d.Date().Add(time.Duration(hour-8)*time.Hour + time.Duration(rng.IntN(3600))*time.Second).UnixNano()
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for k := range 1000 {
		tx.ExecContext(ctx, `INSERT INTO kiosks(id, token, added_at) VALUES(?, '', 0)`, fmt.Sprintf("DG-%04d", k))
		tx.ExecContext(ctx, `INSERT INTO kiosk_towns(kiosk, town) VALUES(?, ?)`, fmt.Sprintf("DG-%04d", k), fmt.Sprintf("town-%02d", k%33))
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	const batch = 50_000
	for lo := 0; lo < n; lo += batch {
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			tb.Fatal(err)
		}
		sub, _ := tx.PrepareContext(ctx, `INSERT INTO submissions(id, uuid, receipt, case_number, kiosk, item_id, item_version, applicant_name, id_number, status, request, received_at, updated_at)
			VALUES(?,?,?,?,?,?,'1','居民','441900199001011231',?,'{}',?,?)`)
		upd, _ := tx.PrepareContext(ctx, `INSERT INTO status_updates(submission_id, kiosk, status, note, actor, at) VALUES(?,?,?,?,?,?)`)
		rat, _ := tx.PrepareContext(ctx, `INSERT INTO ratings(uuid, kiosk, receipt, level, reason, at, received_at) VALUES(?,?,?,?,?,?,?)`)
		for i := lo; i < min(lo+batch, n); i++ {
			id := int64(i + 1)
			k := rng.IntN(1000)
			kiosk := fmt.Sprintf("DG-%04d", k)
			staff := fmt.Sprintf("clerk-%03d", k%200)
			recv := days[rng.IntN(len(days))]
			receipt := fmt.Sprintf("%s-%s-%06d", kiosk, recv.Date().Format("20060102"), i)
			status := "received"
			last := at(recv, 9)
			steps := [][3]any{{"received", "", "intake"}}
			stepAt := []int64{last}
			fate := rng.IntN(100)
			switch {
			case fate < 10:
			case fate < 20:
				steps = append(steps, [3]any{"returned", []string{"缺少户口簿", "照片不合格", "表单不全"}[rng.IntN(3)], staff})
				stepAt = append(stepAt, at(wd.Add(recv, rng.IntN(3)), 10))
				status = "returned"
			default:
				acc := wd.Add(recv, rng.IntN(2))
				steps = append(steps, [3]any{"accepted", "", staff}, [3]any{"approved", "", "approver"})
				stepAt = append(stepAt, at(acc, 10), at(wd.Add(acc, rng.IntN(16)), 15))
				status = "approved"
			}
			last = stepAt[len(stepAt)-1]
			if _, err := sub.ExecContext(ctx, id, fmt.Sprintf("00000000-0000-4000-8000-%012d", i), receipt, fmt.Sprintf("DG-2026-%07d", i),
				kiosk, benchItems[rng.IntN(len(benchItems))], status, stepAt[0], last); err != nil {
				tb.Fatal(err)
			}
			for j, st := range steps {
				if _, err := upd.ExecContext(ctx, id, kiosk, st[0], st[1], st[2], stepAt[j]); err != nil {
					tb.Fatal(err)
				}
			}
			if status != "received" && rng.IntN(10) < 3 {
				lvl := 3 + rng.IntN(3)
				reason := ""
				if rng.IntN(20) == 0 {
					lvl, reason = 1+rng.IntN(2), "等待时间太长"
				}
				if _, err := rat.ExecContext(ctx, fmt.Sprintf("00000000-0000-4000-9000-%012d", i), kiosk, receipt, lvl, reason, last, last); err != nil {
					tb.Fatal(err)
				}
			}
		}
		sub.Close()
		upd.Close()
		rat.Close()
		if err := tx.Commit(); err != nil {
			tb.Fatal(err)
		}
	}
	seeded := time.Since(start)
	if err := ref(s).Refresh(ctx); err != nil {
		tb.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `ANALYZE`); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("seeded %d cases in %v, facts derived in %v", n, seeded.Round(time.Second), (time.Since(start) - seeded).Round(time.Second))
	return s
}

// BenchmarkSupervise measures the dashboard page and the CSV over HTTP for
// a whole year of 1,000,000 cases on the SQLite store (docs/BENCHMARKS.md):
//
//	ONEDOOR_BENCH_DIR=/var/tmp/od-bench go test -run '^$' -bench BenchmarkSupervise -benchtime 5x ./sync/platform/sqlitestore
//
// ONEDOOR_BENCH_DIR keeps the seeded database for later runs (seeding
// takes minutes); ONEDOOR_BENCH_CASES changes the count.
func BenchmarkSupervise(b *testing.B) {
	dir := os.Getenv("ONEDOOR_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	cfg := platform.Config{Catalog: assets.SampleCatalog, Calendar: assets.Holidays, SessionTTL: 24 * time.Hour,
		Clock:  func() time.Time { return time.Date(2026, 12, 31, 10, 0, 0, 0, time.UTC) },
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	s := seedBench(b, dir, benchCases(), func(s *Store) supervise.Refresher {
		wd, _ := supervise.ParseWorkdays(assets.Holidays)
		return supervise.Refresher{Store: s, Workdays: wd, Limits: supervise.ParseLimits(assets.SampleCatalog)}
	})
	defer s.Close()
	// A fixed test data key: blobs are sealed at rest (blobseal).
	blobKey, _ := blobseal.NewKey(make([]byte, 32))
	blobs, err := blobdir.Open(filepath.Join(dir, "blobs"), blobKey)
	if err != nil {
		b.Fatal(err)
	}
	defer blobs.Close()
	cfg.Store, cfg.Blobs = s, blobs
	srv, err := platform.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	ctx := context.Background()
	if _, err := s.StaffRole(ctx, "bench-super"); err != nil {
		if err := s.AddStaff(ctx, "bench-super", "x", cfg.Clock()); err != nil {
			b.Fatal(err)
		}
		if err := s.SetStaffRole(ctx, supervise.Account{User: "bench-super", Role: supervise.RoleSupervisor, SetBy: "bench", SetAt: cfg.Clock()}); err != nil {
			b.Fatal(err)
		}
	}
	cookie := "bench-session-" + strconv.FormatInt(time.Now().UnixNano(), 10)
	sum := sha256.Sum256([]byte(cookie))
	if err := s.CreateSession(ctx, platform.Session{IDHash: hex.EncodeToString(sum[:]), User: "bench-super", CSRF: "x", Expires: cfg.Clock().Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	get := func(b *testing.B, path string) int {
		req, _ := http.NewRequest("GET", hs.URL+path, nil)
		req.AddCookie(&http.Cookie{Name: "od_session", Value: cookie})
		res, err := hs.Client().Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatalf("%s: %d", path, res.StatusCode)
		}
		return int(n)
	}
	year := "from=2026-01-01&to=2026-12-31"
	// The first request after start loads the cases' facts into memory.
	cold := time.Now()
	get(b, "/office/dashboard?by=town&"+year)
	b.Logf("first dashboard after start (loads the facts of %d cases into memory): %v", benchCases(), time.Since(cold).Round(time.Millisecond))
	for _, c := range []struct{ name, path string }{
		{"dashboard-year-by-town", "/office/dashboard?by=town&" + year},
		{"dashboard-month-by-item", "/office/dashboard?by=item&from=2026-11-01&to=2026-11-30"},
		{"csv-year-by-staff", "/office/stats.csv?by=staff&" + year},
		{"xlsx-year-by-kiosk", "/office/stats.xlsx?by=kiosk&" + year},
	} {
		b.Run(c.name, func(b *testing.B) {
			size := 0
			for b.Loop() {
				size = get(b, c.path)
			}
			b.ReportMetric(float64(size), "bytes/op")
		})
	}
}
