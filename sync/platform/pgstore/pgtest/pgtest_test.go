package pgtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestClusterRestart starts a durable cluster, writes, stops it fast and
// starts it again: what was committed is still there.
func TestClusterRestart(t *testing.T) {
	start := time.Now()
	c, err := Start(t.Context(), Options{Durable: true})
	if err != nil {
		if errors.Is(err, ErrNoPostgres) && !Required() {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	defer c.Stop()
	t.Logf("cluster up in %v", time.Since(start))
	url := c.DB(t)
	ctx := t.Context()
	exec := func(sql string) {
		t.Helper()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	exec("CREATE TABLE t (v int); INSERT INTO t VALUES (42)")
	if err := c.Halt(ctx, "fast"); err != nil {
		t.Fatal(err)
	}
	if _, err := pgx.Connect(ctx, url); err == nil {
		t.Fatal("connected to a stopped server")
	}
	if err := c.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var v int
	if err := conn.QueryRow(ctx, "SELECT v FROM t").Scan(&v); err != nil || v != 42 {
		t.Fatalf("after restart: %d, %v", v, err)
	}
	if c.DB(t) == url {
		t.Fatal("two tests got the same database")
	}
}
