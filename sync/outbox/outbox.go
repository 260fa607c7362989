// Package outbox is the kiosk's durable local store: every submission a
// resident makes is kept here, encrypted, until the sync engine has delivered
// it to the platform, and its status is tracked afterwards.
//
// Data layout under Options.Dir:
//
//	onedoor.db   SQLite in WAL mode with synchronous=FULL: submissions,
//	             materials and attachment rows, status history, catalog
//	             cache, ratings and an audit log without personal data
//	blobs/       scanned pages as files named by the SHA-256 of their
//	             plaintext, sealed with AES-256-GCM in 64 KiB segments
//	             (package sealed) so an upload can resume at any offset
//
// The data key is a 0600 file outside Dir. Applicant and form data are
// sealed in their row; the ID number is also kept as an HMAC so a resident
// can find their submissions without the number being stored in clear.
//
// Durability: Submit writes each blob to a temporary file, fsyncs it,
// renames it to its content address and fsyncs the directory, and only then
// commits the rows in one immediate transaction. A receipt number is
// returned only after that commit, so whatever a resident holds a receipt
// for survives a crash or power cut. A crash before the commit leaves at
// most unreferenced blob files, which Open removes later.
//
// One Store per process; the sync engine and the UI share it. Other
// processes (the technician's `onedoor queue`) may open the same directory
// at the same time, read-only or not: SQLite serialises the writers.
package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mattn/go-sqlite3"

	"onedoor/internal/atomicfile"
	"onedoor/sync/outbox/sealed"
	"onedoor/sync/sqlitedb"
)

// Sentinel errors callers act on.
var (
	// ErrDiskFull: the submission was not stored because the disk is full.
	// Nothing of it is visible; the resident must not get a receipt.
	ErrDiskFull = errors.New("outbox: disk full")
	// ErrInvalid: the submission itself is malformed; retrying cannot help.
	ErrInvalid = errors.New("outbox: invalid submission")
	// ErrNotFound: no such submission, receipt or blob.
	ErrNotFound = errors.New("outbox: not found")
	// ErrKey: the data key file is missing, unreadable or malformed.
	ErrKey = errors.New("outbox: data key")
	// ErrKeyPermissions: the key file is readable by group or others.
	ErrKeyPermissions = errors.New("outbox: data key file permissions too open")
	// ErrCorrupt: stored data fails authentication (tampering, wrong key,
	// disk corruption).
	// The same value as sealed.ErrCorrupt, which blob reads return.
	ErrCorrupt = sealed.ErrCorrupt
	// ErrSchemaTooNew: the database was migrated by a newer program.
	ErrSchemaTooNew = errors.New("outbox: database schema is newer than this program")
	// ErrReadOnly: the store was opened read-only (or without a key) and
	// the call needs to write or decrypt.
	ErrReadOnly = errors.New("outbox: store opened read-only")
	// ErrState: the submission is not in a state that allows the change.
	ErrState = errors.New("outbox: submission in wrong state")
)

// DBName is the database file inside the data directory.
const DBName = "onedoor.db"

// Defaults of Options.
const (
	DefaultRetention  = 7 * 24 * time.Hour
	DefaultClaimLease = 10 * time.Minute
	// DefaultReserveBytes: room for thousands of status and delivery
	// updates in the WAL.
	DefaultReserveBytes = 16 << 20
)

// Options configure Open.
type Options struct {
	Dir     string // data directory; created if missing
	KeyFile string // data key file, outside Dir; created (0600) if missing
	KioskID string // prefix of receipt numbers; required unless ReadOnly
	// Clock returns the current time; time.Now when nil. Receipt dates use
	// the clock's location.
	Clock func() time.Time
	// Retention is how long personal data and blobs stay after the
	// platform has acknowledged a submission. DefaultRetention when zero.
	Retention time.Duration
	// ClaimLease is how long NextDue hands a submission to the engine
	// before it counts as abandoned and becomes due again.
	ClaimLease time.Duration
	// ReadOnly opens the database without writing anything: no migrations,
	// no key needed (KeyFile may be empty), no recovery. For `onedoor queue`.
	ReadOnly bool
	Logger   *slog.Logger
	// ReserveBytes is free space Submit leaves untouched so the engine can
	// still record deliveries (and purge) on a nearly full disk: a
	// Submit that would eat into it fails with ErrDiskFull.
	// DefaultReserveBytes when zero; negative disables the check.
	ReserveBytes int64
	// SegmentSize of sealed blobs; sealed.DefaultSegmentSize when zero.
	SegmentSize int
}

// Store is an open outbox. Its methods are safe for concurrent use.
type Store struct {
	opts    Options
	dir     string
	blobDir string
	db      *sql.DB
	keys    *keyring // nil when read-only without a key
	log     *slog.Logger
	now     func() time.Time
	fs      fileSystem
	wake    chan struct{}
	// blobMu serialises Submit and blob garbage collection in this process
	// so a blob is never deleted between a Submit finding it present and
	// committing the row that names it; blobLock does the same across
	// processes. Nil when read-only.
	blobMu   sync.Mutex
	blobLock *blobLock
}

// Open opens (creating if needed) the outbox in opts.Dir, applies pending
// migrations in one transaction, returns submissions a crashed engine held
// to the queue, and removes orphaned blob files.
func Open(ctx context.Context, opts Options) (*Store, error) {
	return open(ctx, opts, osFS{})
}

func open(ctx context.Context, opts Options, fsys fileSystem) (*Store, error) {
	if opts.Dir == "" {
		return nil, errors.New("outbox: Options.Dir is required")
	}
	if strings.ContainsAny(opts.Dir, "?#") {
		return nil, fmt.Errorf("outbox: data directory %q must not contain '?' or '#'", opts.Dir)
	}
	if !opts.ReadOnly && opts.KioskID == "" {
		return nil, errors.New("outbox: Options.KioskID is required")
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.ClaimLease <= 0 {
		opts.ClaimLease = DefaultClaimLease
	}
	if opts.ReserveBytes == 0 {
		opts.ReserveBytes = DefaultReserveBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Store{
		opts:    opts,
		dir:     opts.Dir,
		blobDir: filepath.Join(opts.Dir, "blobs"),
		log:     opts.Logger.With("component", "outbox"),
		now:     opts.Clock,
		fs:      fsys,
		wake:    make(chan struct{}, 1),
	}
	if opts.ReadOnly {
		if _, err := os.Stat(filepath.Join(opts.Dir, DBName)); err != nil {
			return nil, fmt.Errorf("outbox: no outbox in %s: %w", opts.Dir, err)
		}
	} else {
		for _, d := range []string{opts.Dir, s.blobDir} {
			if err := os.MkdirAll(d, 0o700); err != nil {
				return nil, fmt.Errorf("outbox: create %s: %w", d, mapDiskFull(err))
			}
		}
		// A blob is only durable if the directories leading to it are:
		// make freshly created ones stick before anything is stored.
		for _, d := range []string{filepath.Dir(filepath.Clean(opts.Dir)), opts.Dir} {
			if err := atomicfile.SyncDir(d); err != nil {
				return nil, fmt.Errorf("outbox: sync %s: %w", d, mapDiskFull(err))
			}
		}
	}
	if opts.KeyFile != "" || !opts.ReadOnly {
		key, created, err := loadOrCreateKey(opts.KeyFile, opts.Dir, !opts.ReadOnly)
		if err != nil {
			return nil, err
		}
		if s.keys, err = newKeyring(key); err != nil {
			return nil, err
		}
		if created {
			s.log.Info("created data key file", "path", opts.KeyFile)
		}
	}
	if err := s.openDB(ctx); err != nil {
		return nil, err
	}
	if opts.ReadOnly {
		return s, nil
	}
	lock, err := openBlobLock(s.dir)
	if err != nil {
		s.db.Close()
		return nil, err
	}
	s.blobLock = lock
	if err := s.recover(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if _, err := s.collectBlobs(ctx); err != nil {
		// Garbage is not worth refusing to start over; say so and go on.
		s.log.Warn("blob garbage collection failed", "err", err)
	}
	return s, nil
}

func (s *Store) openDB(ctx context.Context) error {
	path := filepath.Join(s.dir, DBName)
	if !s.opts.ReadOnly {
		// SQLite gives the -wal and -shm files the database file's mode,
		// so creating it 0600 first keeps all three private.
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("outbox: create database: %w", mapDiskFull(err))
		}
		f.Close()
	}
	// One connection: SQLite has one writer anyway, and a single
	// connection makes every write transaction queue here rather than fail
	// with SQLITE_BUSY. Commits are durable when they return
	// (synchronous=FULL), and secure_delete overwrites purged rows in the
	// file instead of leaving them in free pages.
	db, err := sqlitedb.OpenOne(path, sqlitedb.Options{
		Synchronous: "FULL", ForeignKeys: true, SecureDelete: true, ReadOnly: s.opts.ReadOnly,
	})
	if err != nil {
		return fmt.Errorf("outbox: open database: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return fmt.Errorf("outbox: open database %s: %w", path, mapDiskFull(err))
	}
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err != nil {
		db.Close()
		return err
	}
	if s.opts.ReadOnly {
		v, err := schemaVersion(ctx, db)
		if err != nil {
			db.Close()
			return err
		}
		if v > len(ms) {
			db.Close()
			return fmt.Errorf("%w: database is at version %d, this program knows %d", ErrSchemaTooNew, v, len(ms))
		}
		if v < len(ms) {
			db.Close()
			return fmt.Errorf("outbox: database is at schema version %d, needs %d; open it read-write once to migrate", v, len(ms))
		}
	} else if _, err := migrate(ctx, db, ms, s.now()); err != nil {
		db.Close()
		return err
	}
	s.db = db
	return nil
}

// recover hands back submissions a previous process claimed and never
// finished: it died mid-send, so they are simply due again.
func (s *Store) recover(ctx context.Context) error {
	res, err := s.db.ExecContext(ctx, `UPDATE submissions SET state = 'pending', next_attempt_at = ? WHERE state = 'sending'`,
		s.now().UnixMilli())
	if err != nil {
		return fmt.Errorf("outbox: recover claimed submissions: %w", mapDiskFull(err))
	}
	if n, _ := res.RowsAffected(); n > 0 {
		s.log.Info("returned interrupted submissions to the queue", "count", n)
	}
	return nil
}

// Close closes the database. Blob readers already handed out stay usable.
func (s *Store) Close() error {
	err := s.db.Close()
	if s.blobLock != nil {
		if cerr := s.blobLock.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// Wake returns a channel that receives (without blocking the sender; one
// pending signal at most) whenever there is new work for the engine: a new
// submission or rating.
func (s *Store) Wake() <-chan struct{} { return s.wake }

func (s *Store) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// begin is the prelude of every write transaction: refused on a
// read-only store, a full disk reported as ErrDiskFull. The caller defers
// tx.Rollback, which does nothing after Commit.
func (s *Store) begin(ctx context.Context) (*sql.Tx, error) {
	if err := s.writable(); err != nil {
		return nil, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("outbox: begin: %w", mapDiskFull(err))
	}
	return tx, nil
}

func (s *Store) writable() error {
	if s.opts.ReadOnly || s.keys == nil {
		return ErrReadOnly
	}
	return nil
}

// audit records an event without personal data. It runs inside the
// caller's transaction so the audit trail and the change commit together.
func audit(ctx context.Context, tx *sql.Tx, at time.Time, event, receipt, detail string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, event, receipt, detail) VALUES (?, ?, ?, ?)`,
		at.UnixMilli(), event, receipt, detail)
	if err != nil {
		return fmt.Errorf("outbox: audit: %w", err)
	}
	return nil
}

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	At      time.Time
	Event   string
	Receipt string
	Detail  string
}

// Audit returns the newest limit audit entries, newest first.
func (s *Store) Audit(ctx context.Context, limit int) ([]AuditEntry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT at, event, receipt, detail FROM audit_log ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("outbox: read audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&at, &e.Event, &e.Receipt, &e.Detail); err != nil {
			return nil, fmt.Errorf("outbox: read audit log: %w", err)
		}
		e.At = time.UnixMilli(at).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// mapDiskFull turns the several shapes of "no space left" (ENOSPC from a
// file write, SQLITE_FULL from the database) into ErrDiskFull, keeping the
// original error in the chain.
func mapDiskFull(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrDiskFull) {
		return err
	}
	var se sqlite3.Error
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) ||
		(errors.As(err, &se) && (se.Code == sqlite3.ErrFull || se.SystemErrno == syscall.ENOSPC)) {
		return fmt.Errorf("%w: %w", ErrDiskFull, err)
	}
	return err
}

// fileSystem is the seam through which blob files are written, so tests can
// make a write fail like a full disk would.
type fileSystem interface {
	CreateTemp(dir, pattern string) (blobFile, error)
	Rename(oldpath, newpath string) error
	SyncDir(dir string) error
}

type blobFile interface {
	Write(p []byte) (int, error)
	Sync() error
	Close() error
	Name() string
}

type osFS struct{}

func (osFS) CreateTemp(dir, pattern string) (blobFile, error) { return os.CreateTemp(dir, pattern) }
func (osFS) Rename(o, n string) error                         { return os.Rename(o, n) }
func (osFS) SyncDir(dir string) error                         { return atomicfile.SyncDir(dir) }
