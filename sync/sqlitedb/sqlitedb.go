// Package sqlitedb opens a SQLite file the way the project's stores use
// it: WAL journal, one writer connection whose transactions are immediate
// (so two writers never deadlock on an upgrade), and, for the platform's
// stores, a pool of read-only connections. Every PRAGMA goes in the DSN,
// because a PRAGMA run through database/sql reaches only whichever pooled
// connection ran it. The platform's sqlitestore and the kiosk's outbox both
// open their files here.
package sqlitedb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net/url"

	"github.com/mattn/go-sqlite3"
)

// Options say how durable commits are and what else the connections need.
type Options struct {
	// Synchronous is SQLite's synchronous setting: "FULL" (a commit is on
	// disk when it returns) or "NORMAL" (in WAL mode: durable at the next
	// checkpoint; for data that can be rebuilt).
	Synchronous string
	ForeignKeys bool
	Readers     int // size of the read pool; default 8
	// SecureDelete overwrites deleted and updated-away content with zeros
	// (for secrets that must not linger in free pages, like an erased
	// kiosk token, or an outbox's purged personal data).
	SecureDelete bool
	// ReadOnly opens the file as it is (SQLite mode=ro) for inspection
	// while another process may own it: nothing is written, not even the
	// journal mode; Synchronous and SecureDelete do not apply.
	ReadOnly bool
	// Init are statements run on every new connection, after the DSN's
	// settings, for the PRAGMAs the DSN cannot carry (wal_autocheckpoint,
	// journal_size_limit). Run in a connect hook, they reach every
	// connection, including one the pool opens again after an error.
	Init []string
}

// Open returns the writer and the read pool of the database at path. The
// path is escaped for SQLite's URI syntax: an unescaped '#' or '?' in a
// directory name made SQLite open another file, without these settings.
// With o.ReadOnly both are read-only.
func Open(path string, o Options) (w, r *sql.DB, err error) {
	if o.Readers == 0 {
		o.Readers = 8
	}
	if w, err = OpenOne(path, o); err != nil {
		return nil, nil, err
	}
	q := query(o)
	q.Set("_query_only", "true")
	if r, err = sql.Open("sqlite3", uri(path)+q.Encode()); err != nil {
		w.Close()
		return nil, nil, fmt.Errorf("open %s: %w", path, err)
	}
	r.SetMaxOpenConns(o.Readers)
	return w, r, nil
}

// OpenOne returns the database at path as one connection that both writes
// and reads (only reads with o.ReadOnly): every transaction of the process
// queues behind the one before instead of failing with SQLITE_BUSY, as the
// kiosk's outbox wants. Readers does not apply.
func OpenOne(path string, o Options) (*sql.DB, error) {
	q := query(o)
	if !o.ReadOnly {
		q.Set("_txlock", "immediate")
	}
	db, err := openDSN(uri(path)+q.Encode(), o.Init)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	return db, nil
}

// openDSN opens dsn through the registered driver, or, when init has
// statements, through a driver of its own whose connect hook runs them:
// a connector, so nothing is registered globally.
func openDSN(dsn string, init []string) (*sql.DB, error) {
	if len(init) == 0 {
		return sql.Open("sqlite3", dsn)
	}
	d := &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		for _, stmt := range init {
			if _, err := c.Exec(stmt, nil); err != nil {
				return fmt.Errorf("%s: %w", stmt, err)
			}
		}
		return nil
	}}
	return sql.OpenDB(connector{dsn: dsn, d: d}), nil
}

type connector struct {
	dsn string
	d   *sqlite3.SQLiteDriver
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.d }

func uri(path string) string { return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" }

// query holds the settings every connection of o gets.
func query(o Options) url.Values {
	q := url.Values{}
	q.Set("_busy_timeout", "10000")
	if o.ForeignKeys {
		q.Set("_foreign_keys", "on")
	}
	if o.ReadOnly {
		q.Set("mode", "ro")
		return q
	}
	if o.Synchronous == "" {
		o.Synchronous = "FULL"
	}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", o.Synchronous)
	if o.SecureDelete {
		q.Set("_secure_delete", "on")
	}
	return q
}
