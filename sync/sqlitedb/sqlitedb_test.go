package sqlitedb

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestSettingsReachTheConnections opens a real file in a directory whose
// name needs escaping and checks what each connection reports.
func TestSettingsReachTheConnections(t *testing.T) {
	for _, tc := range []struct {
		o        Options
		wantSync int // PRAGMA synchronous: 1 NORMAL, 2 FULL
		wantFK   int
		wantSD   int // PRAGMA secure_delete
	}{
		{Options{}, 2, 0, 0},
		{Options{Synchronous: "NORMAL"}, 1, 0, 0},
		{Options{ForeignKeys: true}, 2, 1, 0},
		{Options{SecureDelete: true}, 2, 0, 1},
	} {
		dir := filepath.Join(t.TempDir(), "kiosk #1? 100%")
		path := filepath.Join(dir, "x.db")
		if err := mkdir(dir); err != nil {
			t.Fatal(err)
		}
		w, r, err := Open(path, tc.o)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Exec(`CREATE TABLE t (x)`); err != nil {
			t.Fatal(err)
		}
		var mode string
		var syncMode, fk, sd int
		w.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
		w.QueryRow(`PRAGMA synchronous`).Scan(&syncMode)
		w.QueryRow(`PRAGMA foreign_keys`).Scan(&fk)
		r.QueryRow(`PRAGMA secure_delete`).Scan(&sd)
		if mode != "wal" || syncMode != tc.wantSync || fk != tc.wantFK || sd != tc.wantSD {
			t.Errorf("%+v: journal %q synchronous %d foreign_keys %d secure_delete %d", tc.o, mode, syncMode, fk, sd)
		}
		if _, err := r.Exec(`INSERT INTO t VALUES (1)`); err == nil {
			t.Errorf("%+v: the read pool wrote", tc.o)
		}
		if ok, _ := exists(path); !ok {
			t.Errorf("%+v: no database at %s", tc.o, path)
		}
		w.Close()
		r.Close()
	}
}

// TestOpenOneAndReadOnly: OpenOne is one connection that writes; a
// read-only open of the same file reads what it wrote, writes nothing, and
// does not create a file that is missing.
func TestOpenOneAndReadOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data #2")
	if err := mkdir(dir); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "outbox.db")
	db, err := OpenOne(path, Options{ForeignKeys: true, SecureDelete: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE t (x); INSERT INTO t VALUES (7)`); err != nil {
		t.Fatal(err)
	}
	if n := db.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("OpenOne allows %d connections, want 1", n)
	}
	ro, err := OpenOne(path, Options{ReadOnly: true, ForeignKeys: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	var x int
	if err := ro.QueryRow(`SELECT x FROM t`).Scan(&x); err != nil || x != 7 {
		t.Fatalf("read-only read: %d, %v", x, err)
	}
	if _, err := ro.Exec(`INSERT INTO t VALUES (8)`); err == nil {
		t.Error("the read-only connection wrote")
	}
	missing := filepath.Join(dir, "missing.db")
	if m, err := OpenOne(missing, Options{ReadOnly: true}); err == nil {
		if err := m.Ping(); err == nil {
			t.Error("a read-only open of a missing file succeeded")
		}
		m.Close()
	}
	if ok, _ := exists(missing); ok {
		t.Error("a read-only open created the file")
	}
}

func mkdir(dir string) error { return os.MkdirAll(dir, 0o700) }

func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// TestInitReachesEveryConnection: Init statements run on each connection
// the pool opens, including one opened again after the first was closed,
// and a statement that fails makes the connection fail rather than run
// without its setting.
func TestInitReachesEveryConnection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	db, err := OpenOne(path, Options{Init: []string{"PRAGMA wal_autocheckpoint=0", "PRAGMA journal_size_limit=1048576"}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for round := range 2 {
		var ac, limit int
		var mode string
		if err := db.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&ac); err != nil {
			t.Fatal(err)
		}
		db.QueryRow(`PRAGMA journal_size_limit`).Scan(&limit)
		db.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
		if ac != 0 || limit != 1<<20 || mode != "wal" {
			t.Errorf("connection %d: wal_autocheckpoint %d, journal_size_limit %d, journal_mode %q", round, ac, limit, mode)
		}
		// Drop the idle connection so the next query opens a new one.
		db.SetMaxIdleConns(0)
		db.SetMaxIdleConns(1)
	}
	if n := db.Stats().OpenConnections; n > 1 {
		t.Errorf("%d connections open, want at most 1", n)
	}
	bad, err := OpenOne(path, Options{Init: []string{"PRAGMA no_such_thing(", "PRAGMA wal_autocheckpoint=0"}})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if err := bad.Ping(); err == nil {
		t.Error("a connection whose Init failed was handed out")
	}
}
