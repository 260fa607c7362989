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
	}{
		{Options{}, 2, 0},
		{Options{Synchronous: "NORMAL"}, 1, 0},
		{Options{ForeignKeys: true}, 2, 1},
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
		var syncMode, fk int
		w.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
		w.QueryRow(`PRAGMA synchronous`).Scan(&syncMode)
		w.QueryRow(`PRAGMA foreign_keys`).Scan(&fk)
		if mode != "wal" || syncMode != tc.wantSync || fk != tc.wantFK {
			t.Errorf("%+v: journal %q synchronous %d foreign_keys %d", tc.o, mode, syncMode, fk)
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
func mkdir(dir string) error { return os.MkdirAll(dir, 0o700) }

func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}
