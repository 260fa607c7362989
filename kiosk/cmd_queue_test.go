package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

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

	code, out, stderr := run("dev", "enqueue", "--data", dir, "--count", "3", "--attach-bytes", "3000", "--pages", "3", "--kiosk", "T01", "--seed", "7")
	if code != exitOK {
		t.Fatalf("dev enqueue: exit %d, %s", code, stderr)
	}
	receipts := strings.Fields(out)
	today := time.Now().Format("20060102")
	re := regexp.MustCompile(`^T01-` + today + `-000[1-3]$`)
	if len(receipts) != 3 {
		t.Fatalf("dev enqueue printed %q, want 3 receipt numbers", out)
	}
	for _, r := range receipts {
		if !re.MatchString(r) {
			t.Errorf("receipt %q does not look like T01-%s-000N", r, today)
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
	blobs, _ := filepath.Glob(filepath.Join(dir, "blobs", "*"))
	if len(blobs) != 9 {
		t.Fatalf("%d blob files, want 9", len(blobs))
	}
	os.WriteFile(blobs[0], []byte("damaged"), 0o600)
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
