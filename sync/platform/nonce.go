package platform

import (
	"sync"
	"time"

	"onedoor/sync/api"
)

// nonceCache remembers (kiosk, nonce) pairs for twice api.MaxSkew: a request
// older than that fails the timestamp check anyway, so the cache only needs
// to cover the window in which a captured request would still verify. It is
// in memory: after a restart a request captured in the last five minutes
// could be replayed once, which idempotency keys make harmless for every
// mutating endpoint.
type nonceCache struct {
	mu        sync.Mutex
	seen      map[string]time.Time
	lastPrune time.Time
}

func newNonceCache() *nonceCache { return &nonceCache{seen: map[string]time.Time{}} }

// use records the nonce and reports api.ErrReplay if it was already used.
func (c *nonceCache) use(kiosk, nonce string, now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.lastPrune) > time.Minute {
		for k, exp := range c.seen {
			if now.After(exp) {
				delete(c.seen, k)
			}
		}
		c.lastPrune = now
	}
	key := kiosk + "\x00" + nonce
	if exp, ok := c.seen[key]; ok && now.Before(exp) {
		return api.ErrReplay
	}
	c.seen[key] = now.Add(2 * api.MaxSkew)
	return nil
}
