package platform_test

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
	"onedoor/sync/platform/city"
	"onedoor/sync/platform/local"
	"onedoor/sync/platform/pgstore"
	"onedoor/sync/platform/pgstore/pgtest"
	"onedoor/sync/platform/sqlitestore"
	"onedoor/sync/platform/supervise"
)

// The back-office browser tests run on both stores (issue 12): first every
// test of the package on the embedded SQLite store, then the tests in
// headless Chromium again with the platform on PostgreSQL, one database per
// test in one throwaway cluster started for that pass. Without PostgreSQL
// the second pass is skipped, except in CI (pgtest.Required), where it
// fails.

// browserPG is the cluster of the PostgreSQL pass; nil in the SQLite pass.
var browserPG *pgtest.Cluster

// browserSuite selects the tests in headless Chromium for the PostgreSQL
// pass.
const browserSuite = `InChromium$|^TestHelpCallOnFleetPage$|^TestDetailPageShowsWhatStaffNeed$`

func TestMain(m *testing.M) {
	code := m.Run()
	if code != 0 || os.Getenv("ONEDOOR_PLATFORM_SQLITE_ONLY") == "1" {
		os.Exit(code)
	}
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() == "" {
		f.Value.Set(browserSuite)
	} else if f != nil && !strings.Contains(f.Value.String(), "Chromium") {
		os.Exit(code) // a -run without browser tests: no second pass
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	c, err := pgtest.Start(ctx, pgtest.Options{})
	cancel()
	switch {
	case errors.Is(err, pgtest.ErrNoPostgres) && !pgtest.Required():
		fmt.Fprintln(os.Stderr, "platform: browser tests on PostgreSQL skipped:", err)
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "platform: browser tests on PostgreSQL:", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "platform: the browser tests again, the platform on PostgreSQL")
	browserPG = c
	code = m.Run()
	c.Stop()
	os.Exit(code)
}

// testStore is what the tests' platforms keep their records in: either
// store implements both.
type testStore interface {
	platform.Store
	supervise.Store
}

// pgURL is the test's own database for a platform whose data lives in
// dir, named in dir/pg.url so that a restarted platform finds it again.
func pgURL(t testing.TB, dir string) string {
	t.Helper()
	urlFile := filepath.Join(dir, "pg.url")
	b, err := os.ReadFile(urlFile)
	if err == nil {
		return strings.TrimSpace(string(b))
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	u, err := browserPG.CreateDB(context.Background(), t.Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(urlFile, []byte(u), 0o600); err != nil {
		t.Fatal(err)
	}
	return u
}

// openTestStore opens the records of a platform whose data lives in dir:
// SQLite there (with opts), or in the PostgreSQL pass the test's database.
func openTestStore(t testing.TB, dir string, opts sqlitestore.Options) testStore {
	t.Helper()
	if browserPG == nil {
		st, err := sqlitestore.OpenOptions(context.Background(), dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	t.Log("the platform on PostgreSQL")
	st, err := pgstore.Open(context.Background(), pgURL(t, dir), pgstore.Options{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// openedPlatform is a whole platform opened over a data directory.
type openedPlatform interface {
	AddKiosk(ctx context.Context, id string) (string, error)
	AddStaff(ctx context.Context, user, password string) error
	Close() error
}

// openPlatform opens a whole platform as platformd serve does: local.Open
// over dir, or in the PostgreSQL pass city.Open with the records in the
// test's database and the rest (blobs, keys) in dir.
func openPlatform(t testing.TB, dir string, cfg platform.Config) (openedPlatform, *platform.Server) {
	t.Helper()
	if browserPG == nil {
		p, err := local.Open(context.Background(), dir, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return p, p.Server
	}
	t.Log("the platform on PostgreSQL")
	p, err := city.Open(context.Background(), city.Options{Data: dir, DB: pgURL(t, dir)}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p, p.Server
}
