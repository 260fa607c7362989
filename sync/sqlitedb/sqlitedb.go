// Package sqlitedb opens a SQLite file the way the platform's stores use
// it: WAL journal, one writer connection whose transactions are immediate
// (so two writers never deadlock on an upgrade), and a pool of read-only
// connections. Every PRAGMA goes in the DSN, because a PRAGMA run through
// database/sql reaches only whichever pooled connection ran it.
package sqlitedb

import (
	"database/sql"
	"fmt"
	"net/url"

	_ "github.com/mattn/go-sqlite3" // the driver
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
	// kiosk token).
	SecureDelete bool
}

// Open returns the writer and the read pool of the database at path. The
// path is escaped for SQLite's URI syntax: an unescaped '#' or '?' in a
// directory name made SQLite open another file, without these settings.
func Open(path string, o Options) (w, r *sql.DB, err error) {
	if o.Synchronous == "" {
		o.Synchronous = "FULL"
	}
	if o.Readers == 0 {
		o.Readers = 8
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", o.Synchronous)
	if o.SecureDelete {
		q.Set("_secure_delete", "on")
	}
	q.Set("_busy_timeout", "10000")
	if o.ForeignKeys {
		q.Set("_foreign_keys", "on")
	}
	file := "file:" + (&url.URL{Path: path}).EscapedPath() + "?"
	q.Set("_txlock", "immediate")
	if w, err = sql.Open("sqlite3", file+q.Encode()); err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	q.Del("_txlock")
	q.Set("_query_only", "true")
	if r, err = sql.Open("sqlite3", file+q.Encode()); err != nil {
		w.Close()
		return nil, nil, fmt.Errorf("open %s: %w", path, err)
	}
	r.SetMaxOpenConns(o.Readers)
	return w, r, nil
}
