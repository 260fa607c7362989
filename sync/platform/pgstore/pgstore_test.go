package pgstore

import (
	"context"
	"os"
	"testing"

	"onedoor/sync/platform"
	"onedoor/sync/platform/pgstore/pgtest"
	"onedoor/sync/platform/storetest"
)

// cluster is the PostgreSQL server this test binary started (nil when
// PostgreSQL is absent and not required: the tests skip).
var cluster *pgtest.Cluster

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &cluster, pgtest.Options{})) }

func open(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.Context(), cluster.DB(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) platform.Store { return open(t) })
}

// TestFeedCheckCatchesNaiveCursor proves the conformance suite's feed test
// can fail: against the plain "id > cursor" feed it finds skipped rows.
func TestFeedCheckCatchesNaiveCursor(t *testing.T) {
	for attempt := 1; ; attempt++ {
		s := open(t)
		s.naiveFeed = true
		err := storetest.CheckFeed(context.Background(), s, 16, 30)
		s.Close()
		if err != nil {
			t.Logf("attempt %d: caught: %v", attempt, err)
			return
		}
		if attempt == 5 {
			t.Fatal("the naive feed passed the feed check 5 times")
		}
	}
}

func TestMigrationsIdempotentAndNewerSchemaRefused(t *testing.T) {
	url := cluster.DB(t)
	ctx := t.Context()
	s, err := Open(ctx, url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, url, Options{}) // nothing left to apply
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO schema_migrations(version, name) VALUES(999, 'future')`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(ctx, url, Options{}); err == nil {
		t.Fatal("opened a database whose schema is newer than the code")
	}
}
