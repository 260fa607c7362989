// Package local opens the reference platform over its default storage (a
// SQLite file and a blob folder in one data directory), for platformd and
// for tests and demos that run the platform in-process.
package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"onedoor/sync/platform"
	"onedoor/sync/platform/blobdir"
	"onedoor/sync/platform/blobseal"
	"onedoor/sync/platform/sqlitestore"
)

// DataKeyFile is the name, in the data directory, of the key that seals
// applicants' data in platform.db (see platform.SealStore).
const DataKeyFile = "data.key"

// Platform is an opened data directory.
type Platform struct {
	// Store is the raw database: applicant data in it is sealed (Server
	// reads it through platform.SealStore).
	Store  *sqlitestore.Store
	Blobs  *blobdir.Dir     // nil when opened with OpenStore
	Server *platform.Server // nil when opened with OpenStore
}

// OpenStore opens (creating) dir/platform.db without the blob folder or the
// HTTP server, for the admin commands: they run beside a serving platform,
// which holds the blob folder's lock.
func OpenStore(ctx context.Context, dir string) (*Platform, error) {
	if dir == "" {
		return nil, errors.New("a data directory is required")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	st, err := sqlitestore.Open(ctx, dir)
	if err != nil {
		return nil, err
	}
	return &Platform{Store: st}, nil
}

// Open opens dir and builds the HTTP handler with cfg (its Store and Blobs
// are filled in, and NonceFile defaults to dir/nonces.json).
func Open(ctx context.Context, dir string, cfg platform.Config) (*Platform, error) {
	p, err := OpenStore(ctx, dir)
	if err != nil {
		return nil, err
	}
	// Applicant data is sealed before the database sees it, and scanned
	// pages before the blob folder does; the key file sits beside the
	// database (mode 0600) and belongs in a separate backup.
	key, err := platform.LoadOrCreateDataKey(filepath.Join(dir, DataKeyFile))
	if err != nil {
		p.Close()
		return nil, err
	}
	if p.Blobs, err = OpenBlobs(filepath.Join(dir, "blobs"), key); err != nil {
		p.Close()
		return nil, err
	}
	if cfg.Store, err = platform.SealStore(p.Store, key); err != nil {
		p.Close()
		return nil, err
	}
	cfg.Blobs = p.Blobs
	if cfg.ECerts == nil {
		ref, err := OpenECerts(dir, p.Store, cfg.Clock)
		if err != nil {
			p.Close()
			return nil, err
		}
		cfg.ECerts = ECertConfig(ref)
	}
	if cfg.NonceFile == "" {
		cfg.NonceFile = filepath.Join(dir, "nonces.json")
	}
	p.Server, err = platform.New(cfg)
	if err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// OpenBlobs opens the blob folder dir with the blob key derived from the
// platform's data key: every page written is sealed (blobseal).
func OpenBlobs(dir string, dataKey []byte) (*blobdir.Dir, error) {
	key, err := blobseal.NewKey(dataKey)
	if err != nil {
		return nil, err
	}
	return blobdir.Open(dir, key)
}

// Close closes the database and the blob folder.
func (p *Platform) Close() error {
	var err error
	if p.Server != nil {
		err = p.Server.Close()
	}
	err = errors.Join(err, p.Store.Close())
	if p.Blobs != nil {
		err = errors.Join(err, p.Blobs.Close())
	}
	return err
}

// AddKiosk registers a kiosk with a new random token (32 bytes, hex) and
// returns the token; it is not shown again by any command.
func (p *Platform) AddKiosk(ctx context.Context, id string) (string, error) {
	return AddKiosk(ctx, p.Store, id)
}

// AddEnrolment gives a kiosk a one-time enrolment code; see the function
// AddEnrolment.
func (p *Platform) AddEnrolment(ctx context.Context, id string, ttl time.Duration, rekey bool) (string, error) {
	return AddEnrolment(ctx, p.Store, id, ttl, rekey)
}

// AddStaff creates a back-office account with a bcrypt-hashed password.
func (p *Platform) AddStaff(ctx context.Context, user, password string) error {
	return AddStaff(ctx, p.Store, user, password)
}

// The admin operations below take any platform.Store, so platformd runs
// them the same on SQLite and on PostgreSQL (sync/platform/city).

// AddKiosk registers a kiosk in st with a new random token (32 bytes, hex)
// and returns the token.
func AddKiosk(ctx context.Context, st platform.Store, id string) (string, error) {
	if err := checkKioskID(id); err != nil {
		return "", err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	tok := hex.EncodeToString(b[:])
	if err := st.AddKiosk(ctx, id, tok, time.Now()); err != nil {
		return "", err
	}
	return tok, nil
}

// AddEnrolment registers a kiosk that will make its own key pair and gives
// it a one-time enrolment code valid for ttl (0: the default 72 hours).
// With rekey the kiosk must exist already (a token kiosk migrating to a
// key, or a kiosk whose key was lost); without, it must be new.
func AddEnrolment(ctx context.Context, st platform.Store, id string, ttl time.Duration, rekey bool) (string, error) {
	if err := checkKioskID(id); err != nil {
		return "", err
	}
	ks, err := st.Kiosks(ctx)
	if err != nil {
		return "", err
	}
	exists := false
	for _, k := range ks {
		exists = exists || k.ID == id
	}
	switch {
	case exists && !rekey:
		return "", fmt.Errorf("kiosk %q: %w (use kiosk rekey to give it a new enrolment code)", id, platform.ErrExists)
	case !exists && rekey:
		return "", fmt.Errorf("kiosk %q: %w", id, platform.ErrNotFound)
	}
	return platform.AddEnrolment(ctx, st, id, ttl, time.Now())
}

func checkKioskID(id string) error {
	if id == "" || len(id) > 64 {
		return errors.New("kiosk id must be 1..64 characters")
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("kiosk id %q: use letters, digits, '-', '_' or '.'", id)
		}
	}
	return nil
}

// AddStaff creates a back-office account in st with a bcrypt-hashed password.
func AddStaff(ctx context.Context, st platform.Store, user, password string) error {
	if user == "" || len(user) > 64 {
		return errors.New("user name must be 1..64 characters")
	}
	h, err := platform.HashPassword(password)
	if err != nil {
		return err
	}
	return st.AddStaff(ctx, user, h, time.Now())
}
