package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"onedoor/sync/api"
	"onedoor/sync/outbox"
)

func TestQueueAndDevEnqueue(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(ctx, args, &out, &errb)
		return code, out.String(), errb.String()
	}

	// The receipts are dated by the real clock: a run that crosses
	// midnight dates them on either side of it (and numbers each day
	// from 0001).
	before := time.Now().Format("20060102")
	code, out, stderr := run("dev", "enqueue", "--data", dir, "--count", "3", "--attach-bytes", "3000", "--pages", "3", "--kiosk", "T01", "--seed", "7")
	if code != exitOK {
		t.Fatalf("dev enqueue: exit %d, %s", code, stderr)
	}
	after := time.Now().Format("20060102")
	receipts := strings.Fields(out)
	re := regexp.MustCompile(`^T01-(` + before + `|` + after + `)-000[1-3]$`)
	if len(receipts) != 3 {
		t.Fatalf("dev enqueue printed %q, want 3 receipt numbers", out)
	}
	for _, r := range receipts {
		if !re.MatchString(r) {
			t.Errorf("receipt %q does not look like T01-%s-000N", r, after)
		}
	}

	code, out, _ = run("queue", "--data", dir, "--min-free-mb", "1")
	if code != exitOK || !strings.Contains(out, "pending    3") || !strings.Contains(out, "bytes left 9000") || !strings.Contains(out, "health     ok") {
		t.Errorf("queue: exit %d\n%s", code, out)
	}

	// A permanent rejection makes the queue unhealthy and is listed with
	// its reason.
	st, err := outbox.Open(ctx, outbox.Options{Dir: dir, KeyFile: outbox.DefaultKeyFile(dir), KioskID: "T01"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.NextDue(ctx, time.Now())
	if err != nil || p == nil {
		t.Fatalf("NextDue: %v %v", p, err)
	}
	st.MarkRejected(ctx, p.UUID, "validation: item_version: withdrawn")
	st.Close()

	code, out, _ = run("queue", "--data", dir, "--min-free-mb", "1")
	if code != exitFailure || !strings.Contains(out, "withdrawn") || !strings.Contains(out, "UNHEALTHY") || !strings.Contains(out, p.Receipt) {
		t.Errorf("queue with a rejection: exit %d\n%s", code, out)
	}
	code, out, _ = run("queue", "--data", dir, "--min-free-mb", "1", "--allow-rejected", "--json")
	var js struct {
		Counts   map[string]int `json:"counts"`
		Healthy  bool           `json:"healthy"`
		Problems []string       `json:"problems"`
		Failed   []struct {
			Receipt, Reason string
		} `json:"failed"`
	}
	if err := json.Unmarshal([]byte(out), &js); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if code != exitOK || !js.Healthy || js.Counts["rejected"] != 1 || js.Counts["pending"] != 2 || len(js.Failed) != 1 || js.Failed[0].Receipt != p.Receipt {
		t.Errorf("queue --json --allow-rejected: exit %d, %+v", code, js)
	}
	code, _, _ = run("queue", "--data", dir, "--min-free-mb", "1", "--allow-rejected", "--max-age", "1ns")
	if code != exitFailure {
		t.Errorf("queue --max-age 1ns: exit %d, want %d", code, exitFailure)
	}

	code, out, _ = run("queue", "--data", dir, "--min-free-mb", "1", "--allow-rejected", "--verify")
	if code != exitOK || !strings.Contains(out, "verified   9 blobs, 9000 bytes; database ok") {
		t.Errorf("queue --verify: exit %d\n%s", code, out)
	}
	// Damage one scan: --verify notices, plain queue cannot.
	// (Scans are kept sealed in the outbox's page pack, pages.pack; the
	// database says where each one is.)
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, outbox.DBName)+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var off, n int64
	if err := db.QueryRow(`SELECT pack_off, pack_len FROM blobs WHERE pack_off IS NOT NULL ORDER BY pack_off LIMIT 1`).Scan(&off, &n); err != nil {
		t.Fatal(err)
	}
	pack, err := os.OpenFile(filepath.Join(dir, "pages.pack"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pack.WriteAt(make([]byte, 16), off+n/2); err != nil {
		t.Fatal(err)
	}
	pack.Close()
	code, out, _ = run("queue", "--data", dir, "--min-free-mb", "1", "--allow-rejected", "--verify")
	if code != exitFailure || !strings.Contains(out, "scans damaged for") {
		t.Errorf("queue --verify with a damaged scan: exit %d\n%s", code, out)
	}
	if code, _, _ := run("queue", "--data", dir, "--verify", "--key-file", filepath.Join(dir, "..", "nokey")); code != exitFailure {
		t.Errorf("--verify without the key: exit %d, want %d", code, exitFailure)
	}

	tests := []struct {
		name string
		args []string
		want int
	}{
		{"queue without --data", []string{"queue"}, exitUsage},
		{"queue with a stray argument", []string{"queue", "--data", dir, "x"}, exitUsage},
		{"queue on a missing directory", []string{"queue", "--data", filepath.Join(dir, "none")}, exitFailure},
		{"dev without subcommand", []string{"dev"}, exitUsage},
		{"dev enqueue without --data", []string{"dev", "enqueue", "--count", "1"}, exitUsage},
		{"dev enqueue negative count", []string{"dev", "enqueue", "--data", dir, "--count", "-1"}, exitUsage},
		{"dev enqueue key inside data dir", []string{"dev", "enqueue", "--data", dir, "--key-file", filepath.Join(dir, "k")}, exitFailure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if code, _, _ := run(tc.args...); code != tc.want {
				t.Errorf("exit %d, want %d", code, tc.want)
			}
		})
	}
}

// TestQueueShowsRefusedRatings: a rating the platform refused is listed,
// with its reason, in the text and the JSON view, apart from the queued
// ones.
func TestQueueShowsRefusedRatings(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	st, err := outbox.Open(ctx, outbox.Options{Dir: dir, KeyFile: outbox.DefaultKeyFile(dir), KioskID: "T01"})
	if err != nil {
		t.Fatal(err)
	}
	const refused, queued = "0b6f7c9e-2f4c-4c53-8f0e-3a2b1c0d9e01", "0b6f7c9e-2f4c-4c53-8f0e-3a2b1c0d9e02"
	for _, r := range []api.Rating{
		{UUID: refused, Receipt: "T01-20261125-0001", Level: 2, At: time.Now()},
		{UUID: queued, Level: 5, At: time.Now()},
	} {
		if err := st.SaveRating(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.MarkRatingRejected(ctx, refused, "POST /api/v1/ratings: 422 validation: receipt: longer than 64 bytes"); err != nil {
		t.Fatal(err)
	}
	st.Close()

	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, out string)
	}{
		{"text", nil, func(t *testing.T, out string) {
			for _, want := range []string{"ratings    1 queued, 1 refused", "failed ratings:", "T01-20261125-0001  rating " + refused, "longer than 64 bytes", "health     ok"} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, queued) {
				t.Errorf("the queued rating is listed as failed:\n%s", out)
			}
		}},
		{"json", []string{"--json"}, func(t *testing.T, out string) {
			var js struct {
				RatingsQueued   int `json:"ratings_queued"`
				RatingsRejected int `json:"ratings_rejected"`
				FailedRatings   []struct {
					UUID, Receipt, Reason string
					RejectedAt            time.Time `json:"rejected_at"`
				} `json:"failed_ratings"`
			}
			if err := json.Unmarshal([]byte(out), &js); err != nil {
				t.Fatalf("--json output: %v\n%s", err, out)
			}
			if js.RatingsQueued != 1 || js.RatingsRejected != 1 || len(js.FailedRatings) != 1 {
				t.Fatalf("%+v", js)
			}
			if f := js.FailedRatings[0]; f.UUID != refused || f.Receipt != "T01-20261125-0001" || !strings.Contains(f.Reason, "validation") || f.RejectedAt.IsZero() {
				t.Fatalf("failed rating %+v", f)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(ctx, append([]string{"queue", "--data", dir, "--min-free-mb", "1"}, tc.args...), &out, &errb); code != exitOK {
				t.Fatalf("exit %d: %s\n%s", code, errb.String(), out.String())
			}
			tc.check(t, out.String())
		})
	}
}
