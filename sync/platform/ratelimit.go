package platform

import (
	"context"
	"sync"
	"time"
)

// loginLimiter slows password guessing: after maxFails failed logins for a
// user name, or from a client address, within window, further attempts are
// refused until the window has passed. In memory: a restart forgets it,
// which costs an attacker a restart of the platform they cannot trigger.
type loginLimiter struct {
	// shared, when set, keeps the failures there under prefix+key, so
	// every instance counts them (see Shared).
	shared   Shared
	prefix   string
	mu       sync.Mutex
	fails    map[string][]time.Time
	maxFails int
	window   time.Duration
}

func newLoginLimiter() *loginLimiter {
	return &loginLimiter{fails: map[string][]time.Time{}, maxFails: 5, window: 15 * time.Minute}
}

func (l *loginLimiter) recent(key string, now time.Time) []time.Time {
	ts := l.fails[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) > l.window {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fails, key)
	} else {
		l.fails[key] = ts
	}
	return ts
}

// share moves the limiter's counts to sh, under prefix.
func (l *loginLimiter) share(sh Shared, prefix string) { l.shared, l.prefix = sh, prefix }

// blocked reports whether any of keys has too many recent failures. With
// shared counts it fails closed: a database it cannot ask blocks.
func (l *loginLimiter) blocked(now time.Time, keys ...string) bool {
	if l.shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
		defer cancel()
		for _, k := range keys {
			n, err := l.shared.Failures(ctx, l.prefix+k, now.Add(-l.window))
			if err != nil || n >= l.maxFails {
				return true
			}
		}
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if len(l.recent(k, now)) >= l.maxFails {
			return true
		}
	}
	return false
}

func (l *loginLimiter) fail(now time.Time, keys ...string) {
	if l.shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
		defer cancel()
		for _, k := range keys {
			l.shared.AddFailure(ctx, l.prefix+k, now) // a lost count only loosens the limit once
		}
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		l.fails[k] = append(l.recent(k, now), now)
	}
}

// forget drops key's failures.
func (l *loginLimiter) forget(key string) {
	if l.shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
		defer cancel()
		l.shared.ClearFailures(ctx, l.prefix+key)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
}

func (l *loginLimiter) succeed(user string) { l.forget("user:" + user) }
