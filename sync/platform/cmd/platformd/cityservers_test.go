package main

import (
	"errors"
	"testing"

	"onedoor/sync/platform/pgstore/pgtest"
	"onedoor/sync/platform/s3blobs/s3test"
)

// startCityServers starts what the city platform runs on for one test or
// benchmark, a durable PostgreSQL cluster and an S3 gateway, both stopped
// when it ends; where either is missing and not required
// (ONEDOOR_REQUIRE_PG), it is skipped.
func startCityServers(tb testing.TB) (*pgtest.Cluster, *s3test.Server) {
	tb.Helper()
	ctx := tb.Context()
	pg, err := pgtest.Start(ctx, pgtest.Options{Durable: true})
	if err != nil {
		if errors.Is(err, pgtest.ErrNoPostgres) && !pgtest.Required() {
			tb.Skip(err)
		}
		tb.Fatal(err)
	}
	tb.Cleanup(func() { pg.Stop() })
	gw, err := s3test.Start(ctx, "")
	if err != nil {
		if errors.Is(err, s3test.ErrNoGateway) && !s3test.Required() {
			tb.Skip(err)
		}
		tb.Fatal(err)
	}
	tb.Cleanup(func() { gw.Stop() })
	return pg, gw
}
