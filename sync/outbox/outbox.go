// Package outbox is the kiosk's durable local store: every submission a
// resident makes is kept here, encrypted, until the sync engine has delivered
// it to the platform, and its status is tracked afterwards.
//
// Data layout under Options.Dir:
//
//	onedoor.db   SQLite in WAL mode with synchronous=FULL: submissions,
//	             materials and attachment rows, the scanned pages (blobs,
//	             named by the SHA-256 of their plaintext, sealed with
//	             AES-256-GCM in 64 KiB segments by package sealed, so an
//	             upload can resume at any offset), status history, catalog
//	             cache, ratings and an audit log without personal data
//	pages.pack   the scanned pages written since schema 4, each as its
//	             sealed stream (package sealed), preallocated in 64 MiB
//	             steps; blob rows say where each sits (pack.go)
//	blobs/       pages as sealed files, as versions before schema 3 wrote
//	             them; still read, removed once no row names them
//
// The data key is a 0600 file outside Dir. Applicant and form data are
// sealed in their row; the ID number is also kept as an HMAC so a resident
// can find their submissions without the number being stored in clear.
//
// Durability: Submit writes a submission's sealed pages into the page
// pack with one write and commits its rows in one immediate transaction
// with synchronous=FULL; the pack's fdatasync and the WAL's fsync run at
// once (pack.go says why, and how a crash between them is undone). A receipt number is
// returned only after that commit, so whatever a resident holds a receipt
// for survives a crash or power cut; a crash before it leaves nothing.
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
	"sync/atomic"
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
	// CheckpointIdle is how long the store waits with no write before it
	// checkpoints the WAL in the background (checkpoint.go).
	// DefaultCheckpointIdle when zero; negative turns background
	// checkpoints off (Checkpoint, and SQLite's own past walMaxBytes of
	// WAL, still run).
	CheckpointIdle time.Duration
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
	wake    chan struct{}
	// rdb reads blobs (an upload need not wait for a Submit's commit) and
	// runs checkpoints; s.db itself when read-only.
	rdb *sql.DB
	// segStmt reads a blob segment on rdb, prepared once.
	segStmt *sql.Stmt
	// walPending counts page bytes committed since the last complete
	// checkpoint; ckptNudge wakes the checkpoint goroutine, which closes
	// ckptDone when ckptStop has stopped it.
	walPending atomic.Int64
	ckptMu     sync.Mutex // one checkpoint at a time
	ckptNudge  chan struct{}
	ckptStop   context.CancelFunc
	ckptDone   chan struct{}
	// pack is the page pack (pack.go); nil for a read-only store of an
	// outbox that has none.
	pack *os.File
	// packTrusted says the pack's verified mark may be moved: set once
	// recoverPack has checked what lay past it, cleared for good by a
	// failed fdatasync (after which Linux may report later ones as
	// successful although the pages are lost).
	packTrusted atomic.Bool
	// hooks lets package tests stop or time a Submit between its steps;
	// nil outside tests.
	hooks *submitHooks
}

// submitHooks are called, when set, at Submit's steps.
type submitHooks struct {
	hashed       func() // pages hashed (still being sealed); no transaction yet
	beforeCommit func() // rows and pages written, transaction open
	// packWrite, when it returns an error, stands for the pack write
	// failing with it (a full disk).
	packWrite func() error
}

// Open opens (creating if needed) the outbox in opts.Dir, applies pending
// migrations in one transaction, returns submissions a crashed engine held
// to the queue, and removes orphaned blob files.
func Open(ctx context.Context, opts Options) (*Store, error) {
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
		wake:    make(chan struct{}, 1),

		ckptNudge: make(chan struct{}, 1),
	}
	if opts.ReadOnly {
		if _, err := os.Stat(filepath.Join(opts.Dir, DBName)); err != nil {
			return nil, fmt.Errorf("outbox: no outbox in %s: %w", opts.Dir, err)
		}
	} else {
		if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("outbox: create %s: %w", opts.Dir, mapDiskFull(err))
		}
		// The database is only durable if the directories leading to it
		// are: make freshly created ones stick before anything is stored.
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
	if err := s.openPack(); err != nil {
		s.closeDBs()
		return nil, err
	}
	if opts.ReadOnly {
		return s, nil
	}
	if err := s.recover(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if _, err := s.recoverPack(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if _, err := s.collectBlobFiles(ctx); err != nil {
		// Garbage is not worth refusing to start over; say so and go on.
		s.log.Warn("blob file garbage collection failed", "err", err)
	}
	if idle := opts.CheckpointIdle; idle >= 0 {
		if idle == 0 {
			idle = DefaultCheckpointIdle
		}
		var cctx context.Context
		cctx, s.ckptStop = context.WithCancel(context.Background())
		s.ckptDone = make(chan struct{})
		go s.checkpointLoop(cctx, idle)
	}
	// What an earlier process left in the WAL counts as pending (the
	// file's size: at most an overestimate, which only checkpoints
	// sooner) and goes at the first quiet, or at once if large.
	var left int64
	if st, err := os.Stat(filepath.Join(s.dir, DBName+"-wal")); err == nil {
		left = st.Size()
	}
	s.noteWrite(left)
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
	// file instead of leaving them in free pages. Automatic checkpoints
	// only as a backstop (checkpoint.go).
	o := sqlitedb.Options{Synchronous: "FULL", ForeignKeys: true, SecureDelete: true, ReadOnly: s.opts.ReadOnly}
	if !s.opts.ReadOnly {
		o.Init = walInit()
	}
	db, err := sqlitedb.OpenOne(path, o)
	if err != nil {
		return fmt.Errorf("outbox: open database: %w", err)
	}
	if err := ping(ctx, db); err != nil {
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
	s.db, s.rdb = db, db
	if !s.opts.ReadOnly {
		// Two connections: a blob read and a checkpoint may overlap.
		rdb, err := sqlitedb.OpenOne(path, o)
		if err != nil {
			db.Close()
			return fmt.Errorf("outbox: open database: %w", err)
		}
		rdb.SetMaxOpenConns(2)
		rdb.SetMaxIdleConns(2)
		s.rdb = rdb
	}
	if s.segStmt, err = s.rdb.PrepareContext(ctx, segmentQuery); err != nil {
		s.closeDBs()
		return fmt.Errorf("outbox: prepare blob reads: %w", err)
	}
	return nil
}

// closeDBs closes the prepared statement and both pools.
func (s *Store) closeDBs() error {
	var err error
	if s.segStmt != nil {
		err = s.segStmt.Close()
	}
	if s.rdb != s.db {
		if cerr := s.rdb.Close(); err == nil {
			err = cerr
		}
	}
	if cerr := s.db.Close(); err == nil {
		err = cerr
	}
	return err
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

// Close stops background checkpoints, records the page pack as synced
// (advanceVerified) and closes the database and the pack. Blob
// readers handed out cannot read afterwards.
func (s *Store) Close() error {
	if s.ckptStop != nil {
		s.ckptStop()
		<-s.ckptDone
	}
	if err := s.advanceVerified(context.Background()); err != nil {
		s.log.Warn("could not record the page pack as verified", "err", err)
	}
	err := s.closeDBs()
	if s.pack != nil {
		if cerr := s.pack.Close(); err == nil {
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
	s.noteWrite(0)
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

// ping opens the first connection. A connection that sets WAL mode on a
// database another connection is creating or switching at that moment
// gets SQLITE_BUSY at once, without waiting out its busy timeout (seen
// about 1 in 100 with four opens of a fresh outbox at the same moment, as
// the kiosk and `onedoor queue` can do at install time), so a busy answer
// is retried for a few seconds.
func ping(ctx context.Context, db *sql.DB) error {
	var err error
	for wait := 5 * time.Millisecond; wait < 3*time.Second; wait *= 2 {
		if err = db.PingContext(ctx); err == nil {
			return nil
		}
		var se sqlite3.Error
		if !errors.As(err, &se) || se.Code != sqlite3.ErrBusy {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
	return err
}

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
