// Package city opens the platform over the storage a deployment names: the
// embedded default (a data directory with SQLite and a blob folder, through
// sync/platform/local) or, for a city, PostgreSQL (postgres://…) and an
// S3-compatible bucket (s3://…) that several platformd instances share.
// Either part may be chosen alone: PostgreSQL with the data directory's
// blob folder (one instance), or SQLite with a bucket.
package city

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"onedoor/sync/platform"
	"onedoor/sync/platform/blobseal"
	"onedoor/sync/platform/local"
	"onedoor/sync/platform/pgstore"
	"onedoor/sync/platform/s3blobs"
	"onedoor/sync/platform/sqlitestore"
)

// Options name the storage. DB is "" (SQLite in Data), sqlite:DIR or a
// postgres:// URL; Blobs is "" (the folder Data/blobs), dir:DIR or an s3://
// URL.
type Options struct {
	Data  string
	DB    string
	Blobs string
	// DataKey is the file of the key that seals applicants' data (see
	// platform.SealStore); default DATA/data.key. Every instance of a
	// city must read the same key: give them one file (made with
	// `platformd` on first start, or 64 hex digits), kept apart from the
	// database's backups.
	DataKey string
	// MaxConns bounds the PostgreSQL pool of this instance.
	MaxConns int32
	// ECertDir is the folder holding the reference e-certificate
	// library's keys (ecert/agencies, ecert/holder.key; see
	// local.ECertDir): default Data, else the data key's folder. Like the
	// data key, every instance of a city must read the same keys.
	ECertDir string
}

// Shared reports whether the options name storage several instances can
// share (PostgreSQL and a bucket).
func (o Options) Shared() bool { return isPostgres(o.DB) && isS3(o.Blobs) }

func isPostgres(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}
func isS3(u string) bool { return strings.HasPrefix(u, "s3://") }

// Platform is opened storage and, after Open, the HTTP handler over it.
type Platform struct {
	Store   platform.Store
	Blobs   platform.BlobStore // nil after OpenStore unless in a bucket
	Server  *platform.Server   // nil after OpenStore
	closers []func() error
}

// Purger is a blob store that can drop abandoned uploads.
type Purger interface {
	PurgePartials(ctx context.Context, cutoff time.Time) (int, error)
}

// Leaser is a store that grants leases for background jobs (pgstore).
type Leaser interface {
	TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
}

// Walker is a blob store that can list its complete blobs (for verify).
type Walker interface {
	Walk(ctx context.Context, fn func(sha string, size int64) error) error
}

// OpenStore opens the records (and a bucket, which needs no lock) without
// the local blob folder or the HTTP handler, for admin commands that run
// beside a serving platform. A bucket needs the data key (DataKey, else
// DATA/data.key).
func OpenStore(ctx context.Context, o Options) (*Platform, error) {
	p := &Platform{}
	switch {
	case isPostgres(o.DB):
		st, err := pgstore.Open(ctx, o.DB, pgstore.Options{MaxConns: o.MaxConns})
		if err != nil {
			return nil, err
		}
		p.Store = st
		p.closers = append(p.closers, st.Close)
	default:
		dir := strings.TrimPrefix(o.DB, "sqlite:")
		if dir == "" {
			dir = o.Data
		}
		if dir == "" {
			return nil, errors.New("a data directory (--data) or a database (--db) is required")
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
		st, err := sqlitestore.Open(ctx, dir)
		if err != nil {
			return nil, err
		}
		p.Store = st
		p.closers = append(p.closers, st.Close)
	}
	if isS3(o.Blobs) {
		cfg, err := s3blobs.ParseURL(o.Blobs)
		if idx, ok := p.Store.(s3blobs.Index); ok {
			// Small pages are packed, their index kept with the records.
			cfg.Index = idx
		}
		if err == nil {
			// Pages are sealed under the data key, which every instance
			// shares (--data-key).
			var key []byte
			if _, key, err = o.dataKey(); err == nil {
				cfg.Key, err = blobseal.NewKey(key)
			}
		}
		var bs *s3blobs.Store
		if err == nil {
			bs, err = s3blobs.New(ctx, cfg)
		}
		if err != nil {
			p.Close()
			return nil, err
		}
		p.Blobs = bs
	}
	return p, nil
}

// dataKey reads (or, the first time, makes) the platform's data key: the
// file DataKey, else DATA/data.key. It seals applicants' records and
// scanned pages alike.
func (o Options) dataKey() (string, []byte, error) {
	keyFile := o.DataKey
	if keyFile == "" {
		if o.Data == "" {
			return "", nil, errors.New("a data key file (--data-key) is required without a data directory: every instance must seal applicants' data and scanned pages with the same key")
		}
		keyFile = filepath.Join(o.Data, local.DataKeyFile)
	}
	key, err := platform.LoadOrCreateDataKey(keyFile)
	return keyFile, key, err
}

// Open opens the storage and builds the HTTP handler with cfg (its Store,
// Blobs and, on shared storage, Shared are filled in; NonceFile defaults to
// Data/nonces.json when there is a data directory and no shared state).
func Open(ctx context.Context, o Options, cfg platform.Config) (*Platform, error) {
	if o.DB == "" && o.Blobs == "" && o.DataKey == "" {
		// The embedded default is local's, whole (sealing, e-certificates,
		// the replay cache file): one home for it.
		lp, err := local.Open(ctx, o.Data, cfg)
		if err != nil {
			return nil, err
		}
		return &Platform{Store: lp.Store, Blobs: lp.Blobs, Server: lp.Server, closers: []func() error{lp.Close}}, nil
	}
	p, err := OpenStore(ctx, o)
	if err != nil {
		return nil, err
	}
	keyFile, key, err := o.dataKey()
	if err == nil {
		cfg.Store, err = platform.SealStore(p.Store, key)
	}
	if err != nil {
		p.Close()
		return nil, err
	}
	if p.Blobs == nil {
		dir := strings.TrimPrefix(o.Blobs, "dir:")
		if dir == "" {
			if o.Data == "" {
				p.Close()
				return nil, errors.New("a data directory (--data) or a blob store (--blobs) is required")
			}
			dir = filepath.Join(o.Data, "blobs")
		}
		// Scanned pages are sealed under the same data key as the
		// applicants' records.
		d, err := local.OpenBlobs(dir, key)
		if err != nil {
			p.Close()
			return nil, err
		}
		p.Blobs = d
		p.closers = append(p.closers, d.Close)
	}
	cfg.Blobs = p.Blobs
	if es, ok := p.Store.(platform.ECertStore); ok && cfg.ECerts == nil {
		// Certificates hold no ID number, only keyed hashes: the library
		// uses the store beneath the sealing, as local does.
		dir := o.ECertDir
		if dir == "" {
			dir = o.Data
		}
		if dir == "" {
			dir = filepath.Dir(keyFile)
		}
		ref, err := local.OpenECerts(dir, es, cfg.Clock)
		if err != nil {
			p.Close()
			return nil, err
		}
		cfg.ECerts = local.ECertConfig(ref)
	}
	if sh, ok := p.Store.(platform.Shared); ok {
		cfg.Shared = sh
	} else if cfg.NonceFile == "" && o.Data != "" {
		cfg.NonceFile = filepath.Join(o.Data, "nonces.json")
	}
	p.Server, err = platform.New(cfg)
	if err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Close closes the handler's replay cache, the store and the blob folder.
func (p *Platform) Close() error {
	var err error
	if p.Server != nil {
		err = p.Server.Close()
	}
	for i := len(p.closers) - 1; i >= 0; i-- {
		err = errors.Join(err, p.closers[i]())
	}
	return err
}

// AddKiosk registers a kiosk with a new random token; see local.AddKiosk.
func (p *Platform) AddKiosk(ctx context.Context, id string) (string, error) {
	return local.AddKiosk(ctx, p.Store, id)
}

// AddEnrolment gives a kiosk a one-time enrolment code; see
// local.AddEnrolment.
func (p *Platform) AddEnrolment(ctx context.Context, id string, ttl time.Duration, rekey bool) (string, error) {
	return local.AddEnrolment(ctx, p.Store, id, ttl, rekey)
}

// AddStaff creates a back-office account; see local.AddStaff.
func (p *Platform) AddStaff(ctx context.Context, user, password string) error {
	return local.AddStaff(ctx, p.Store, user, password)
}

// RunJobs runs the background jobs until ctx ends: abandoned uploads older
// than ttl are purged at start and then every interval. With a Leaser store
// only the instance holding the job's lease runs it, so several instances
// run it once between them.
func (p *Platform) RunJobs(ctx context.Context, holder string, ttl, interval time.Duration, logf func(msg string, args ...any)) {
	pu, ok := p.Blobs.(Purger)
	if !ok || ttl <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		run := true
		if l, ok := p.Store.(Leaser); ok {
			got, err := l.TryLease(ctx, "purge-partials", holder, interval+interval/2)
			if err != nil {
				logf("background job lease", "err", err)
			}
			run = got
		}
		if run {
			n, err := pu.PurgePartials(ctx, time.Now().Add(-ttl))
			if err != nil {
				logf("purging abandoned uploads", "err", err)
			} else if n > 0 {
				logf("purged abandoned uploads", "count", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ReadAll reads a blob whole (for verify and migrate).
func ReadAll(ctx context.Context, b platform.BlobStore, sha string) ([]byte, error) {
	f, err := b.Open(ctx, sha)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
