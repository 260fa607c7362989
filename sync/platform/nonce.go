package platform

import (
	"fmt"
	"sync"
	"time"

	"onedoor/sync/api"
)

// nonceCache remembers (kiosk, nonce) pairs for twice api.MaxSkew: a request
// older than that fails the timestamp check anyway, so the cache only needs
// to cover the window in which a captured request would still verify. It is
// in memory, so it cannot know the nonces of requests signed before it
// started: those are refused (beyond a short grace for clocks that differ
// by a few seconds), or a request captured in the five minutes before a
// platform restart could be replayed after it. A kiosk whose request is
// refused that way signs it again on its next attempt.
type nonceCache struct {
	mu        sync.Mutex
	seen      map[string]time.Time
	lastPrune time.Time
	since     time.Time // requests signed before since-restartGrace are refused
}

// restartGrace is how long before the cache started a request may have
// been signed: kiosk clocks run a few seconds apart from the platform's
// even when synchronised, and a replay inside this window is harmless
// anyway (idempotency keys).
const restartGrace = 30 * time.Second

// errSignedBeforeStart tells a kiosk its request predates this platform
// process; the client re-signs every attempt, so the retry passes.
var errSignedBeforeStart = fmt.Errorf("%w: signed before the platform started; sign it again", api.ErrReplay)

func newNonceCache(since time.Time) *nonceCache {
	return &nonceCache{seen: map[string]time.Time{}, since: since}
}

// use records the nonce and reports api.ErrReplay if it was already used,
// or if the request was signed (at) before the cache could have seen it.
func (c *nonceCache) use(kiosk, nonce string, at, now time.Time) error {
	if at.Before(c.since.Add(-restartGrace)) {
		return errSignedBeforeStart
	}
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
