package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"onedoor/sync/api"
	"onedoor/sync/platform"
)

var _ platform.Shared = (*Store)(nil)

// The replay cache and the limiters' counts are written on every request,
// so they go through the fast pool, whose sessions do not wait for the WAL
// flush (synchronous_commit off): a database crash may forget the last
// fraction of a second of nonces, which reopens replay of those few
// requests for at most their ten minutes, and idempotency keys make a
// replayed write harmless. The records themselves always wait.

// UseNonce records kiosk's nonce until expires, or returns api.ErrReplay.
// An expired record is taken over; expired records are pruned now and then.
func (s *Store) UseNonce(ctx context.Context, kiosk, nonce string, now, expires time.Time) error {
	if s.nonceUses.Add(1)%1000 == 0 {
		if _, err := s.fast.Exec(ctx, `DELETE FROM nonces WHERE expires < $1`, ts(now)); err != nil {
			return fmt.Errorf("replay cache: %w", err)
		}
	}
	var ok bool
	err := s.fast.QueryRow(ctx, `INSERT INTO nonces(kiosk, nonce, expires) VALUES($1,$2,$3)
		ON CONFLICT(kiosk, nonce) DO UPDATE SET expires = excluded.expires WHERE nonces.expires <= $4
		RETURNING true`, kiosk, nonce, ts(expires), ts(now)).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) {
		return api.ErrReplay
	}
	if err != nil {
		return fmt.Errorf("replay cache: %w", err)
	}
	return nil
}

// failureKey makes a limiter key storable (text cannot hold NUL).
func failureKey(k string) string { return strings.ReplaceAll(k, "\x00", "\x1f") }

// Failures counts key's failures after since.
func (s *Store) Failures(ctx context.Context, key string, since time.Time) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM failures WHERE key = $1 AND at > $2`, failureKey(key), ts(since)).Scan(&n); err != nil {
		return 0, fmt.Errorf("failures: %w", err)
	}
	return n, nil
}

// AddFailure records a failure of key at at, and drops key's failures a
// day older.
func (s *Store) AddFailure(ctx context.Context, key string, at time.Time) error {
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO failures(key, at) VALUES($1, $2)`, failureKey(key), ts(at))
	b.Queue(`DELETE FROM failures WHERE key = $1 AND at < $2`, failureKey(key), ts(at.Add(-24*time.Hour)))
	if err := s.fast.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("add failure: %w", err)
	}
	return nil
}

// ClearFailures forgets key's failures.
func (s *Store) ClearFailures(ctx context.Context, key string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM failures WHERE key = $1`, failureKey(key)); err != nil {
		return fmt.Errorf("clear failures: %w", err)
	}
	return nil
}

// TryLease takes or renews the lease name for holder for ttl, by the
// database's clock (the instances' clocks need not agree), and reports
// whether holder has it. Background jobs (partial-upload expiry) run only
// in the instance that holds their lease, so once per city, not once per
// instance; a holder that dies loses the lease when it expires.
func (s *Store) TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	var got string
	err := s.pool.QueryRow(ctx, `INSERT INTO leases(name, holder, expires) VALUES($1, $2, now() + $3::interval)
		ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
		WHERE leases.expires < now() OR leases.holder = excluded.holder
		RETURNING holder`, name, holder, fmt.Sprintf("%d milliseconds", ttl.Milliseconds())).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("lease %s: %w", name, err)
	}
	return got == holder, nil
}
