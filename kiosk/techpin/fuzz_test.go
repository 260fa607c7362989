package techpin

import (
	"context"
	"errors"
	"onedoor/internal/testdate"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParseHash: technician.pin_hash comes from a file anyone with root can
// edit; a bad one must be refused without panicking or asking for absurd
// amounts of memory, and anything accepted must be checkable.
func FuzzParseHash(f *testing.F) {
	f.Add(Must(Hash("135790", fastParams)))
	f.Add("$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")
	f.Add("$argon2id$v=19$m=4294967295,t=3,p=2$c2FsdA$aGFzaA")
	f.Add("$2a$10$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234")
	f.Add("")
	f.Fuzz(func(t *testing.T, h string) {
		p, err := ParseHash(h)
		if err != nil {
			if !errors.Is(err, ErrBadHash) {
				t.Fatalf("error %v is not ErrBadHash", err)
			}
			return
		}
		if p.Memory > 1<<20 || p.Time > 100 || p.Threads == 0 {
			t.Fatalf("accepted out-of-range parameters %+v", p)
		}
		if p.Memory > 4096 || p.Time > 4 {
			return // valid but too slow to run in a fuzz loop
		}
		if _, err := Matches(h, "135790"); err != nil {
			t.Fatalf("accepted hash does not check: %v", err)
		}
	})
}

// FuzzOpenState: whatever is in the lock state file, Open must not panic,
// and entry must never be easier than with a fresh state: a file that does
// not parse locks.
func FuzzOpenState(f *testing.F) {
	f.Add([]byte(`{"failures":3}`))
	f.Add([]byte(`{"failures":5,"locked_until":"2026-11-25T09:05:00Z"}`))
	f.Add([]byte(`{"failures":-1}`))
	f.Add([]byte(`{"failures":2,"locked_un`))
	f.Add([]byte("\x00\xff"))
	hash := Must(Hash("135790", fastParams))
	f.Fuzz(func(t *testing.T, state []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "techpin.json")
		if err := os.WriteFile(path, state, 0o600); err != nil {
			t.Fatal(err)
		}
		now := testdate.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
		g, err := Open(context.Background(), Options{StatePath: path, Hash: hash, Clock: func() time.Time { return now }, Params: fastParams})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		locked, until := g.Locked()
		if locked && until.Sub(now) > LockDuration {
			t.Fatalf("locked until %v, more than %v ahead", until, LockDuration)
		}
		if g.st.Failures < 0 {
			t.Fatalf("negative failure count %d kept", g.st.Failures)
		}
	})
}
