package pgstore

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"onedoor/sync/api"
)

func TestSharedState(t *testing.T) {
	url := cluster.DB(t)
	// Two instances: two stores on one database.
	a, err := Open(t.Context(), url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(t.Context(), url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := t.Context()
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

	t.Run("nonce used on one instance is a replay on the other", func(t *testing.T) {
		if err := a.UseNonce(ctx, "K1", "n1", now, now.Add(10*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := b.UseNonce(ctx, "K1", "n1", now.Add(time.Minute), now.Add(11*time.Minute)); !errors.Is(err, api.ErrReplay) {
			t.Fatalf("replay on the other instance: %v", err)
		}
		if err := b.UseNonce(ctx, "K2", "n1", now, now.Add(10*time.Minute)); err != nil {
			t.Fatalf("nonces are per kiosk: %v", err)
		}
		// Once expired the pair may be used again.
		if err := b.UseNonce(ctx, "K1", "n1", now.Add(20*time.Minute), now.Add(30*time.Minute)); err != nil {
			t.Fatalf("expired nonce: %v", err)
		}
	})

	t.Run("same nonce at once on both instances: exactly one wins", func(t *testing.T) {
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := a
				if i%2 == 1 {
					s = b
				}
				if s.UseNonce(ctx, "K3", "race", now, now.Add(time.Minute)) == nil {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d requests with one nonce went through", wins.Load())
		}
	})

	t.Run("failures counted across instances", func(t *testing.T) {
		key := "login-pair:clerk\x00127.0.0.1"
		for i := range 3 {
			s := a
			if i == 1 {
				s = b
			}
			if err := s.AddFailure(ctx, key, now.Add(time.Duration(i)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := b.Failures(ctx, key, now.Add(-time.Second)); n != 3 || err != nil {
			t.Fatalf("failures = %d %v", n, err)
		}
		if n, _ := a.Failures(ctx, key, now.Add(90*time.Second)); n != 1 {
			t.Fatalf("failures in the window = %d", n)
		}
		if err := a.ClearFailures(ctx, key); err != nil {
			t.Fatal(err)
		}
		if n, _ := b.Failures(ctx, key, time.Time{}); n != 0 {
			t.Fatalf("after clear = %d", n)
		}
	})

	t.Run("lease held by one instance at a time", func(t *testing.T) {
		if ok, err := a.TryLease(ctx, "purge", "A", time.Minute); !ok || err != nil {
			t.Fatalf("A: %v %v", ok, err)
		}
		if ok, err := b.TryLease(ctx, "purge", "B", time.Minute); ok || err != nil {
			t.Fatalf("B took A's lease: %v %v", ok, err)
		}
		if ok, _ := a.TryLease(ctx, "purge", "A", 50*time.Millisecond); !ok {
			t.Fatal("A could not renew")
		}
		time.Sleep(100 * time.Millisecond) // the database's clock decides expiry
		if ok, err := b.TryLease(ctx, "purge", "B", time.Minute); !ok || err != nil {
			t.Fatalf("B after A's lease expired: %v %v", ok, err)
		}
	})
}
