package platform

import (
	"context"
	"errors"
	"onedoor/internal/testdate"
	"testing"
	"time"
)

func TestTokenCache(t *testing.T) {
	t0 := testdate.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		steps       []time.Duration // when each get happens, after t0
		fresh       []bool
		tokens      map[string]string // the store, by kiosk
		id          string
		wantLookups int
		wantErr     error
		wantToken   string
	}{
		{"second get within the TTL is served from memory", []time.Duration{0, time.Second}, nil, map[string]string{"K1": "tok"}, "K1", 1, nil, "tok"},
		{"expired entry asks the store again", []time.Duration{0, tokenTTL + time.Second}, nil, map[string]string{"K1": "tok"}, "K1", 2, nil, "tok"},
		{"fresh asks the store even when cached", []time.Duration{0, time.Second}, []bool{false, true}, map[string]string{"K1": "tok"}, "K1", 2, nil, "tok"},
		{"an unknown kiosk is never cached", []time.Duration{0, time.Second, 2 * time.Second}, nil, map[string]string{"K1": "tok"}, "K9", 3, ErrNotFound, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newTokenCache()
			lookups := 0
			lookup := func(_ context.Context, id string) (string, error) {
				lookups++
				tok, ok := tc.tokens[id]
				if !ok {
					return "", ErrNotFound
				}
				return tok, nil
			}
			var tok string
			var err error
			for i, d := range tc.steps {
				fresh := i < len(tc.fresh) && tc.fresh[i]
				tok, err = c.get(context.Background(), tc.id, t0.Add(d), fresh, lookup)
			}
			if lookups != tc.wantLookups || !errors.Is(err, tc.wantErr) || tok != tc.wantToken {
				t.Fatalf("got %q, %v after %d lookups; want %q, %v after %d", tok, err, lookups, tc.wantToken, tc.wantErr, tc.wantLookups)
			}
			if len(c.entries) > len(tc.tokens) {
				t.Fatalf("cache holds %d entries for %d kiosks", len(c.entries), len(tc.tokens))
			}
		})
	}
}

// A token replaced in the store after it was cached must not lock the kiosk
// out until the entry expires: a bad signature re-reads the store.
func TestTokenCacheRefreshedOnBadSignature(t *testing.T) {
	c := newTokenCache()
	store := map[string]string{"K1": "old"}
	lookup := func(_ context.Context, id string) (string, error) { return store[id], nil }
	now := time.Now()
	if tok, _ := c.get(context.Background(), "K1", now, false, lookup); tok != "old" {
		t.Fatal(tok)
	}
	store["K1"] = "new"
	if tok, _ := c.get(context.Background(), "K1", now, false, lookup); tok != "old" {
		t.Fatalf("cached get = %q, want the cached old token", tok)
	}
	if tok, _ := c.get(context.Background(), "K1", now, true, lookup); tok != "new" {
		t.Fatalf("fresh get = %q, want new", tok)
	}
	if tok, _ := c.get(context.Background(), "K1", now, false, lookup); tok != "new" {
		t.Fatalf("after refresh the cache holds %q", tok)
	}
}
