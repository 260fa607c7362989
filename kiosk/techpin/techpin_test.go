package techpin

import (
	"context"
	"errors"
	"onedoor/internal/testdate"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// fastParams keep the tests quick; the format and checks are the same.
var fastParams = Params{Time: 1, Memory: 64, Threads: 1}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type auditLog struct {
	mu      sync.Mutex
	entries []string
}

func (a *auditLog) Audit(_ context.Context, event, detail string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, event+": "+detail)
	return nil
}

func (a *auditLog) events() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, e := range a.entries {
		out = append(out, strings.SplitN(e, ":", 2)[0])
	}
	return out
}

func newGuard(t *testing.T, dir, hash string, clk *fakeClock, a *auditLog) *Guard {
	t.Helper()
	g, err := Open(context.Background(), Options{StatePath: filepath.Join(dir, "techpin.json"), Hash: hash, Auditor: a, Clock: clk.Now, Params: fastParams})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestHashAndMatch(t *testing.T) {
	h, err := Hash("246810", fastParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Contains(h, "246810") {
		t.Fatalf("hash = %q", h)
	}
	h2, _ := Hash("246810", fastParams)
	if h == h2 {
		t.Fatal("two hashes of one PIN are equal: salt not random")
	}
	tests := []struct {
		pin  string
		want bool
	}{{"246810", true}, {"246811", false}, {"", false}, {"2468100", false}}
	for _, tc := range tests {
		got, err := Matches(h, tc.pin)
		if err != nil || got != tc.want {
			t.Errorf("Matches(%q) = %v, %v; want %v", tc.pin, got, err, tc.want)
		}
	}
	p, err := ParseHash(Must(Hash("123456", DefaultParams)))
	if err != nil || p != DefaultParams {
		t.Errorf("ParseHash of default = %+v, %v", p, err)
	}
}

func Must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}

func TestRulesAndBadHashes(t *testing.T) {
	for _, pin := range []string{"", "12345", "1234567890123", "12345a", "１２３４５６", "123 456"} {
		if _, err := Hash(pin, fastParams); !errors.Is(err, ErrBadPIN) {
			t.Errorf("Hash(%q) err = %v, want ErrBadPIN", pin, err)
		}
	}
	good := Must(Hash("123456", fastParams))
	for _, h := range []string{
		"",
		"$2a$10$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234", // bcrypt
		strings.Replace(good, "m=64", "m=99999999", 1),                 // would allocate ~100 GB
		strings.Replace(good, "t=1", "t=0", 1),
		strings.Replace(good, "v=19", "v=16", 1),
		good[:len(good)-30],
		good + "!",
	} {
		if _, err := ParseHash(h); !errors.Is(err, ErrBadHash) {
			t.Errorf("ParseHash(%q) err = %v, want ErrBadHash", h, err)
		}
	}
	if _, err := Open(context.Background(), Options{StatePath: filepath.Join(t.TempDir(), "s"), Hash: "$2a$10$x"}); !errors.Is(err, ErrBadHash) {
		t.Errorf("Open with bcrypt hash err = %v", err)
	}
}

func TestFiveWrongPINsLockAndSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeClock{t: testdate.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
	a := &auditLog{}
	hash := Must(Hash("135790", fastParams))
	g := newGuard(t, dir, hash, clk, a)
	ctx := context.Background()

	for i := 1; i <= 4; i++ {
		res, err := g.Check(ctx, "000000")
		if !errors.Is(err, ErrWrongPIN) || res.Remaining != MaxFailures-i {
			t.Fatalf("wrong PIN %d: %+v, %v", i, res, err)
		}
	}
	// The app restarts after four failures: the count is kept.
	g = newGuard(t, dir, hash, clk, a)
	res, err := g.Check(ctx, "000000")
	if !errors.Is(err, ErrLocked) || !res.Until.Equal(clk.Now().Add(LockDuration)) {
		t.Fatalf("fifth wrong PIN after restart: %+v, %v", res, err)
	}
	// Locked: even the right PIN is refused, and does not extend the lock.
	clk.Add(time.Minute)
	if _, err := g.Check(ctx, "135790"); !errors.Is(err, ErrLocked) {
		t.Fatalf("right PIN while locked: %v", err)
	}
	// Restart during the lock: still locked.
	clk.Add(3 * time.Minute)
	g = newGuard(t, dir, hash, clk, a)
	if locked, until := g.Locked(); !locked || !until.Equal(res.Until) {
		t.Fatalf("after restart Locked() = %v %v, want until %v", locked, until, res.Until)
	}
	if _, err := g.Check(ctx, "135790"); !errors.Is(err, ErrLocked) {
		t.Fatalf("right PIN while locked after restart: %v", err)
	}
	// Five minutes after the fifth failure the lock ends and the count restarts.
	clk.Add(time.Minute)
	if locked, _ := g.Locked(); locked {
		t.Fatal("still locked after five minutes")
	}
	if res, err := g.Check(ctx, "111111"); !errors.Is(err, ErrWrongPIN) || res.Remaining != MaxFailures-1 {
		t.Fatalf("first failure after lock: %+v, %v", res, err)
	}
	if _, err := g.Check(ctx, "135790"); err != nil {
		t.Fatalf("right PIN after lock: %v", err)
	}
	// Success resets the count, on disk too.
	g = newGuard(t, dir, hash, clk, a)
	for i := 1; i < MaxFailures; i++ {
		if _, err := g.Check(ctx, "999999"); !errors.Is(err, ErrWrongPIN) {
			t.Fatalf("failure %d after success: %v", i, err)
		}
	}

	want := []string{EventWrongPIN, EventWrongPIN, EventWrongPIN, EventWrongPIN, EventLocked, EventRefused, EventRefused, EventWrongPIN, EventEntry}
	got := a.events()
	if len(got) < len(want) || strings.Join(got[:len(want)], ",") != strings.Join(want, ",") {
		t.Fatalf("audit events = %v\nwant prefix %v", got, want)
	}
	for _, e := range a.entries {
		if strings.Contains(e, "135790") || strings.Contains(e, "000000") {
			t.Fatalf("audit entry holds a PIN: %q", e)
		}
	}
}

func TestClockBackwardsDoesNotStretchLock(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeClock{t: testdate.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
	g := newGuard(t, dir, Must(Hash("135790", fastParams)), clk, &auditLog{})
	for range MaxFailures {
		g.Check(context.Background(), "000000")
	}
	clk.Add(-24 * time.Hour) // the RTC battery died and NTP has not corrected it yet
	locked, until := g.Locked()
	if !locked || until.Sub(clk.Now()) > LockDuration {
		t.Fatalf("after clock went back: locked=%v until %v (now %v)", locked, until, clk.Now())
	}
}

func TestUnreadableStateFailsClosed(t *testing.T) {
	tests := []struct{ name, content string }{
		{"garbage", "\x00\x01not json"},
		{"negative count", `{"failures":-3}`},
		{"truncated", `{"failures":2,"locked_un`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "techpin.json"), []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			clk := &fakeClock{t: testdate.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
			a := &auditLog{}
			g := newGuard(t, dir, Must(Hash("135790", fastParams)), clk, a)
			if _, err := g.Check(context.Background(), "135790"); !errors.Is(err, ErrLocked) {
				t.Fatalf("right PIN with unreadable state: %v", err)
			}
			if ev := a.events(); len(ev) == 0 || ev[0] != EventStateReset {
				t.Fatalf("audit = %v", ev)
			}
			clk.Add(LockDuration)
			if _, err := g.Check(context.Background(), "135790"); err != nil {
				t.Fatalf("after the precautionary lock: %v", err)
			}
		})
	}
}

func TestChangeAndNoPIN(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeClock{t: testdate.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
	a := &auditLog{}
	g := newGuard(t, dir, "", clk, a)
	ctx := context.Background()
	if _, err := g.Check(ctx, "123456"); !errors.Is(err, ErrNoPIN) {
		t.Fatalf("no PIN set: %v", err)
	}
	if _, err := g.Change(ctx, "", "12ab56"); !errors.Is(err, ErrBadPIN) {
		t.Fatalf("bad new PIN: %v", err)
	}
	h, err := g.Change(ctx, "", "864200")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Check(ctx, "864200"); err != nil {
		t.Fatalf("new PIN refused: %v", err)
	}
	if _, err := g.Change(ctx, "000000", "111111"); !errors.Is(err, ErrWrongPIN) {
		t.Fatalf("change with wrong current PIN: %v", err)
	}
	h2, err := g.Change(ctx, "864200", "975310")
	if err != nil || h2 == h {
		t.Fatalf("change: %v", err)
	}
	// Reopened with the saved hash, the new PIN works and the old does not.
	g = newGuard(t, dir, h2, clk, a)
	if _, err := g.Check(ctx, "864200"); !errors.Is(err, ErrWrongPIN) {
		t.Fatalf("old PIN after change: %v", err)
	}
	if _, err := g.Check(ctx, "975310"); err != nil {
		t.Fatalf("new PIN after restart: %v", err)
	}
	fi, err := os.Stat(filepath.Join(dir, "techpin.json"))
	if err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Fatalf("state file mode %v (%v)", fi.Mode(), err)
	}
}

func BenchmarkCheckDefaultParams(b *testing.B) {
	h := Must(Hash("135790", DefaultParams))
	for b.Loop() {
		Matches(h, "135790")
	}
}

// BenchmarkBcryptCost10 is the baseline: a bcrypt check at the cost the
// platform uses for staff passwords (bcrypt.DefaultCost).
func BenchmarkBcryptCost10(b *testing.B) {
	h, err := bcrypt.GenerateFromPassword([]byte("135790"), bcrypt.DefaultCost)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		bcrypt.CompareHashAndPassword(h, []byte("135790"))
	}
}
