// Package techpin guards the technician screens with a PIN.
//
// The PIN is kept only as an argon2id hash in PHC string form
// ("$argon2id$v=19$m=65536,t=3,p=2$salt$key"), which is what goes into
// config key technician.pin_hash. Five wrong PINs in a row lock entry for
// five minutes. The failure count and the lock are written to a small state
// file in the data directory after every attempt, so pulling the power plug
// or restarting the app does not reset them. Every entry, failure, lockout
// and PIN change is reported to an Auditor (in the kiosk, the outbox's audit
// log); the PIN itself is never logged or audited.
//
// The clock is injected so tests drive the lockout without sleeping.
package techpin

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"

	"onedoor/internal/atomicfile"
)

// Sentinel errors callers act on.
var (
	// ErrWrongPIN: the PIN does not match; Result.Remaining says how many
	// tries are left before the lock.
	ErrWrongPIN = errors.New("techpin: wrong PIN")
	// ErrLocked: too many wrong PINs; entry is refused until Result.Until.
	ErrLocked = errors.New("techpin: locked after too many wrong PINs")
	// ErrNoPIN: no PIN has been set, so the technician screens stay closed
	// on the touchscreen (set one with `onedoor config set-pin`).
	ErrNoPIN = errors.New("techpin: no technician PIN set")
	// ErrBadPIN: a new PIN does not meet the rules (6 to 12 digits).
	ErrBadPIN = errors.New("techpin: PIN must be 6 to 12 digits")
	// ErrBadHash: a stored hash is not an argon2id PHC string.
	ErrBadHash = errors.New("techpin: not an argon2id PIN hash")
)

// Policy defaults.
const (
	MaxFailures  = 5
	LockDuration = 5 * time.Minute
)

// Params are the argon2id cost parameters.
type Params struct {
	Time    uint32 // passes
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultParams is RFC 9106's second recommendation (64 MiB, 3 passes),
// sized for the 2–4 GB ARM boards many kiosks run on: a check takes a
// fraction of a second there, which the technician does not notice but an
// offline guesser pays for every PIN tried.
var DefaultParams = Params{Time: 3, Memory: 64 * 1024, Threads: 2}

// Hash returns the argon2id PHC string of pin with a fresh random salt.
// The PIN must be 6 to 12 ASCII digits.
func Hash(pin string, p Params) (string, error) {
	if err := CheckRules(pin); err != nil {
		return "", err
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("techpin: salt: %w", err)
	}
	key := argon2.IDKey([]byte(pin), salt, p.Time, p.Memory, p.Threads, 32)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// CheckRules reports whether pin is acceptable as a new PIN.
func CheckRules(pin string) error {
	if len(pin) < 6 || len(pin) > 12 {
		return ErrBadPIN
	}
	for _, r := range pin {
		if r < '0' || r > '9' {
			return ErrBadPIN
		}
	}
	return nil
}

var phcRE = regexp.MustCompile(`^\$argon2id\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$`)

// parsed is a decoded PHC string.
type parsed struct {
	p         Params
	salt, key []byte
}

// ParseHash decodes an argon2id PHC string, checking its parameters are
// within sane bounds so a tampered config cannot make the kiosk allocate
// gigabytes.
func ParseHash(h string) (Params, error) {
	ph, err := parse(h)
	return ph.p, err
}

func parse(h string) (parsed, error) {
	m := phcRE.FindStringSubmatch(h)
	if m == nil {
		return parsed{}, ErrBadHash
	}
	num := func(s string, lo, hi uint64) (uint64, bool) {
		n, err := strconv.ParseUint(s, 10, 32)
		return n, err == nil && n >= lo && n <= hi
	}
	_, ok1 := num(m[1], argon2.Version, argon2.Version)
	mem, ok2 := num(m[2], 8, 1<<20) // at most 1 GiB
	t, ok3 := num(m[3], 1, 100)
	th, ok4 := num(m[4], 1, 64)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return parsed{}, fmt.Errorf("%w: parameters out of range", ErrBadHash)
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(m[5])
	key, err2 := enc.DecodeString(m[6])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 || len(key) > 64 {
		return parsed{}, fmt.Errorf("%w: bad salt or key", ErrBadHash)
	}
	return parsed{p: Params{Time: uint32(t), Memory: uint32(mem), Threads: uint8(th)}, salt: salt, key: key}, nil
}

// Matches reports whether pin hashes to h.
func Matches(h, pin string) (bool, error) {
	ph, err := parse(h)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(pin), ph.salt, ph.p.Time, ph.p.Memory, ph.p.Threads, uint32(len(ph.key)))
	return subtle.ConstantTimeCompare(got, ph.key) == 1, nil
}

// Auditor records security events. The kiosk passes an adapter over the
// outbox audit log; detail never holds the PIN.
type Auditor interface {
	Audit(ctx context.Context, event, detail string) error
}

// Audit event names.
const (
	EventEntry       = "technician_entry"
	EventWrongPIN    = "technician_wrong_pin"
	EventLocked      = "technician_locked"
	EventRefused     = "technician_refused_locked"
	EventPINChanged  = "technician_pin_changed"
	EventStateReset  = "technician_lock_state_unreadable"
	EventChangeRefus = "technician_pin_change_refused"
)

// Options configure a Guard.
type Options struct {
	// StatePath is the lock state file, e.g. /var/lib/onedoor/techpin.json.
	StatePath string
	// Hash is the stored PIN hash (config technician.pin_hash); empty means
	// no PIN is set.
	Hash    string
	Auditor Auditor
	Clock   func() time.Time // time.Now when nil
	Logger  *slog.Logger     // slog.Default when nil
	Params  Params           // for new hashes; DefaultParams when zero
}

// state is what survives a restart.
type state struct {
	Failures    int       `json:"failures"`
	LockedUntil time.Time `json:"locked_until,omitzero"`
}

// Result says what happened to one attempt.
type Result struct {
	Remaining int       // wrong PINs left before the lock
	Until     time.Time // end of the lock, when locked
}

// Guard checks PINs and keeps the lock. Safe for concurrent use.
type Guard struct {
	opts Options
	mu   sync.Mutex
	hash string
	st   state
}

// Open loads the lock state. A missing state file is a fresh start; an
// unreadable one fails closed: it starts a full lock now (and says so in the
// audit log) rather than letting a damaged file reset the counter.
func Open(ctx context.Context, opts Options) (*Guard, error) {
	if opts.StatePath == "" {
		return nil, errors.New("techpin: StatePath is required")
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Params == (Params{}) {
		opts.Params = DefaultParams
	}
	if opts.Hash != "" {
		if _, err := parse(opts.Hash); err != nil {
			return nil, err
		}
	}
	g := &Guard{opts: opts, hash: opts.Hash}
	data, err := os.ReadFile(opts.StatePath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return g, nil
	case err != nil:
		return nil, fmt.Errorf("techpin: reading lock state: %w", err)
	}
	if err := json.Unmarshal(data, &g.st); err != nil || g.st.Failures < 0 {
		g.opts.Logger.Warn("technician lock state unreadable; locking as a precaution", "path", opts.StatePath)
		g.st = state{Failures: MaxFailures, LockedUntil: opts.Clock().Add(LockDuration)}
		g.audit(ctx, EventStateReset, "lock state file unreadable; locked for "+LockDuration.String())
		if err := g.save(); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// Locked reports whether entry is refused now, and until when.
func (g *Guard) Locked() (bool, time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lockedAt(g.opts.Clock())
}

func (g *Guard) lockedAt(now time.Time) (bool, time.Time) {
	if g.st.LockedUntil.IsZero() {
		return false, time.Time{}
	}
	// A clock set backwards must not stretch the lock beyond its length.
	if g.st.LockedUntil.Sub(now) > LockDuration {
		g.st.LockedUntil = now.Add(LockDuration)
	}
	if now.Before(g.st.LockedUntil) {
		return true, g.st.LockedUntil
	}
	return false, time.Time{}
}

// HasPIN reports whether a PIN is set.
func (g *Guard) HasPIN() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.hash != ""
}

// Check tries pin. It returns nil when the technician may enter, ErrLocked
// (without even looking at the PIN) while locked, ErrWrongPIN with the tries
// left, or ErrNoPIN.
func (g *Guard) Check(ctx context.Context, pin string) (Result, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.opts.Clock()
	if locked, until := g.lockedAt(now); locked {
		g.audit(ctx, EventRefused, "PIN entry refused while locked until "+until.UTC().Format(time.RFC3339))
		return Result{Until: until}, ErrLocked
	}
	if g.hash == "" {
		return Result{}, ErrNoPIN
	}
	if !g.st.LockedUntil.IsZero() { // a lock that has run out starts a fresh count
		g.st = state{}
	}
	ok, err := Matches(g.hash, pin)
	if err != nil {
		return Result{}, err
	}
	if ok {
		g.st = state{}
		if err := g.save(); err != nil {
			// Not a reason to refuse the right PIN: the worst case is an
			// old failure count surviving a restart.
			g.opts.Logger.Warn("technician lock state not reset", "err", err)
		}
		g.audit(ctx, EventEntry, "technician mode opened")
		return Result{Remaining: MaxFailures}, nil
	}
	g.st.Failures++
	if g.st.Failures >= MaxFailures {
		g.st.LockedUntil = now.Add(LockDuration)
		if err := g.save(); err != nil {
			return Result{Until: g.st.LockedUntil}, errors.Join(ErrLocked, err)
		}
		g.audit(ctx, EventLocked, fmt.Sprintf("%d wrong PINs; locked for %s", g.st.Failures, LockDuration))
		return Result{Until: g.st.LockedUntil}, ErrLocked
	}
	left := MaxFailures - g.st.Failures
	if err := g.save(); err != nil {
		return Result{Remaining: left}, errors.Join(ErrWrongPIN, err)
	}
	g.audit(ctx, EventWrongPIN, fmt.Sprintf("wrong PIN, failure %d of %d", g.st.Failures, MaxFailures))
	return Result{Remaining: left}, ErrWrongPIN
}

// Change sets a new PIN after checking the current one (which counts
// towards the lock like any attempt). When no PIN is set yet, current is
// ignored: the first PIN is set by whoever installs the kiosk. It returns
// the new hash, which the caller saves as technician.pin_hash.
func (g *Guard) Change(ctx context.Context, current, next string) (string, error) {
	if err := CheckRules(next); err != nil {
		g.audit(ctx, EventChangeRefus, "new PIN does not meet the rules")
		return "", err
	}
	if g.HasPIN() {
		if _, err := g.Check(ctx, current); err != nil {
			g.audit(ctx, EventChangeRefus, "current PIN not accepted")
			return "", err
		}
	}
	h, err := Hash(next, g.opts.Params)
	if err != nil {
		return "", err
	}
	g.mu.Lock()
	g.hash = h
	g.mu.Unlock()
	g.audit(ctx, EventPINChanged, "technician PIN changed")
	return h, nil
}

// audit records an event; a failing audit log must not keep a technician
// out of the screens they need to repair it, so the failure is only logged.
func (g *Guard) audit(ctx context.Context, event, detail string) {
	if g.opts.Auditor == nil {
		return
	}
	if err := g.opts.Auditor.Audit(ctx, event, detail); err != nil {
		g.opts.Logger.Warn("technician audit entry not written", "event", event, "err", err)
	}
}

// save writes the state atomically (atomicfile.Write), so a power cut
// leaves either the old or the new count, never a torn file.
func (g *Guard) save() error {
	data, err := json.Marshal(g.st)
	if err != nil {
		return fmt.Errorf("techpin: %w", err)
	}
	dir := filepath.Dir(g.opts.StatePath)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("techpin: %w", err)
	}
	if err := atomicfile.Write(g.opts.StatePath, data, 0o600); err != nil {
		return fmt.Errorf("techpin: saving lock state: %w", err)
	}
	return nil
}
