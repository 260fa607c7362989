package platform

import (
	"context"
	"time"
)

// Shared is the state that several platformd instances serving one city
// must agree on, kept in their common database (pgstore implements it):
// the replay cache and the failure counts of the login and lookup limits.
// Without it (Config.Shared nil, one instance) both live in memory.
type Shared interface {
	// UseNonce records kiosk's nonce until expires and returns
	// api.ErrReplay when it is already recorded and not yet expired.
	UseNonce(ctx context.Context, kiosk, nonce string, now, expires time.Time) error
	// Failures counts the failures recorded under key after since;
	// AddFailure records one at at; ClearFailures forgets key's.
	Failures(ctx context.Context, key string, since time.Time) (int, error)
	AddFailure(ctx context.Context, key string, at time.Time) error
	ClearFailures(ctx context.Context, key string) error
}

// sharedTimeout bounds one call to Shared from a request path.
const sharedTimeout = 5 * time.Second

// pinger is a Store or BlobStore that can say whether it is reachable.
type pinger interface {
	Ping(ctx context.Context) error
}
