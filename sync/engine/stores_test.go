package engine

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"onedoor/sync/platform"
	"onedoor/sync/platform/pgstore"
	"onedoor/sync/platform/pgstore/pgtest"
	"onedoor/sync/platform/sqlitestore"
)

// The fault suite runs on both of the platform's stores: first every test
// on the embedded SQLite store, then the fault suite (faults_test.go) again
// with the platform on PostgreSQL (issue 12), one database per test in one
// throwaway cluster started for the second pass. Without PostgreSQL the
// second pass is skipped, except in CI (pgtest.Required), where it fails.

// rigPG is the cluster of the PostgreSQL pass; nil in the SQLite pass.
var rigPG *pgtest.Cluster

// faultSuite selects faults_test.go's tests for the PostgreSQL pass (the
// others read the platform's SQLite file or test the kiosk side alone).
const faultSuite = `^Test(Fault|5xx|PermanentRejection|UnauthorizedKiosk|ParallelSenders|KioskClock|HeartbeatTeaches|MissingBlobs)`

func TestMain(m *testing.M) {
	code := m.Run()
	if code != 0 || os.Getenv("ONEDOOR_ENGINE_SQLITE_ONLY") == "1" {
		os.Exit(code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	c, err := pgtest.Start(ctx, pgtest.Options{})
	cancel()
	switch {
	case errors.Is(err, pgtest.ErrNoPostgres) && !pgtest.Required():
		fmt.Fprintln(os.Stderr, "engine: fault suite on PostgreSQL skipped:", err)
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "engine: fault suite on PostgreSQL:", err)
		os.Exit(1)
	}
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() == "" {
		f.Value.Set(faultSuite)
	}
	fmt.Fprintln(os.Stderr, "engine: the fault suite again, the platform on PostgreSQL")
	rigPG = c
	code = m.Run()
	c.Stop()
	os.Exit(code)
}

// openPlatformStore opens the platform's records for a platform whose data
// lives in dir: SQLite in dir, or in the PostgreSQL pass the test's own
// database (named in dir/pg.url, so a restarted platform finds it again).
func openPlatformStore(t *testing.T, dir string) platform.Store {
	t.Helper()
	ctx := context.Background()
	if rigPG == nil {
		st, err := sqlitestore.Open(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	t.Log("the platform on PostgreSQL")
	urlFile := filepath.Join(dir, "pg.url")
	b, err := os.ReadFile(urlFile)
	if errors.Is(err, os.ErrNotExist) {
		u, err := rigPG.CreateDB(ctx, t.Name())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(urlFile, []byte(u), 0o600); err != nil {
			t.Fatal(err)
		}
		b = []byte(u)
	} else if err != nil {
		t.Fatal(err)
	}
	st, err := pgstore.Open(ctx, strings.TrimSpace(string(b)), pgstore.Options{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	return st
}
