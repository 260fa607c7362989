package platform

import (
	"context"
	"sync"
	"time"
)

// tokenTTL bounds how long a cached kiosk token is trusted without asking
// the store. Tokens are only ever added today; the bound is there so that a
// future revocation takes effect within seconds, not at the next restart.
const tokenTTL = 30 * time.Second

// tokenCache keeps kiosk tokens in memory so that the three signed requests
// a submission costs do not each pay a database query (it showed as about
// 5 % of the platform's CPU on a drained backlog). Only tokens that exist
// are cached: an unknown kiosk ID always reaches the store, so the map
// cannot be grown by strangers and a newly added kiosk works at once.
type tokenCache struct {
	mu      sync.Mutex
	entries map[string]cachedToken
}

type cachedToken struct {
	token   string
	expires time.Time
}

func newTokenCache() *tokenCache { return &tokenCache{entries: map[string]cachedToken{}} }

// get returns the kiosk's token from the cache, or from lookup (whose
// errors, ErrNotFound included, pass through unchanged) when it is absent,
// expired or fresh is set.
func (c *tokenCache) get(ctx context.Context, id string, now time.Time, fresh bool, lookup func(context.Context, string) (string, error)) (string, error) {
	if !fresh {
		c.mu.Lock()
		e, ok := c.entries[id]
		c.mu.Unlock()
		if ok && now.Before(e.expires) {
			return e.token, nil
		}
	}
	tok, err := lookup(ctx, id)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		delete(c.entries, id)
		return "", err
	}
	c.entries[id] = cachedToken{token: tok, expires: now.Add(tokenTTL)}
	return tok, nil
}

// forget drops a kiosk's cached credential (after it enrolled a key, so
// its old token stops working at once).
func (c *tokenCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, id)
}
