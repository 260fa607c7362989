package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"onedoor/sync/api"
)

// nonceCache remembers (kiosk, nonce) pairs for twice api.MaxSkew: a request
// older than that fails the timestamp check anyway, so the cache only needs
// to cover the window in which a captured request would still verify. It is
// in memory; with Config.NonceFile set, a clean shutdown saves it and the
// next start loads it, so a request captured before a planned restart is
// still refused after it. After a crash a request captured in the last five
// minutes could be replayed once, which idempotency keys make harmless for
// every mutating endpoint.
type nonceCache struct {
	shared    Shared // when set, the cache lives there instead
	mu        sync.Mutex
	seen      map[string]time.Time
	lastPrune time.Time
}

func newNonceCache() *nonceCache { return &nonceCache{seen: map[string]time.Time{}} }

// use records the nonce and reports api.ErrReplay if it was already used.
func (c *nonceCache) use(kiosk, nonce string, now time.Time) error {
	if c.shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
		defer cancel()
		return c.shared.UseNonce(ctx, kiosk, nonce, now, now.Add(2*api.MaxSkew))
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

// save writes the unexpired entries to path (0600, atomically).
func (c *nonceCache) save(path string, now time.Time) error {
	c.mu.Lock()
	live := make(map[string]int64, len(c.seen))
	for k, exp := range c.seen {
		if now.Before(exp) {
			live[k] = exp.UnixNano()
		}
	}
	c.mu.Unlock()
	b, err := json.Marshal(live)
	if err != nil {
		return fmt.Errorf("nonce file: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("nonce file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("nonce file: %w", err)
	}
	return nil
}

// load adds the unexpired entries saved at path; a missing file is an
// empty cache. The file is removed once read: after a crash, a stale copy
// must not be mistaken for a complete record.
func (c *nonceCache) load(path string, now time.Time) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("nonce file: %w", err)
	}
	var saved map[string]int64
	if err := json.Unmarshal(b, &saved); err != nil {
		return fmt.Errorf("nonce file %s: %w", path, err)
	}
	c.mu.Lock()
	for k, ns := range saved {
		if exp := time.Unix(0, ns); now.Before(exp) {
			c.seen[k] = exp
		}
	}
	c.mu.Unlock()
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("nonce file: %w", err)
	}
	return nil
}
