package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"onedoor/sync/platform"
)

func TestPragmasReachTheWriter(t *testing.T) {
	s, err := Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var mode string
	var syncLevel int
	if err := s.w.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if err := s.w.QueryRow(`PRAGMA synchronous`).Scan(&syncLevel); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || syncLevel != 2 {
		t.Fatalf("journal_mode=%s synchronous=%d, want wal and 2 (FULL)", mode, syncLevel)
	}
}

func TestReopenAndNewerSchema(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddKiosk(ctx, "K1", "tok", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.AddKiosk(ctx, "K1", "tok2", time.Now()); !errors.Is(err, platform.ErrExists) {
		t.Fatalf("duplicate kiosk: %v", err)
	}
	s.Close()
	s, err = Open(ctx, dir) // migrations already applied: nothing to do
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := s.KioskToken(ctx, "K1"); err != nil || tok != "tok" {
		t.Fatalf("token after reopen = %q, %v", tok, err)
	}
	s.Close()

	// A database from a newer platformd is refused, not silently used.
	db, err := sql.Open("sqlite3", filepath.Join(dir, "platform.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(ctx, dir); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("newer schema: %v", err)
	}
}

func TestSessionsExpire(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.AddStaff(ctx, "clerk", "hash", time.Now()); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := s.CreateSession(ctx, platform.Session{IDHash: "h1", User: "clerk", CSRF: "c", Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if se, err := s.Session(ctx, "h1", now); err != nil || se.User != "clerk" || se.CSRF != "c" {
		t.Fatalf("session = %+v, %v", se, err)
	}
	if _, err := s.Session(ctx, "h1", now.Add(2*time.Hour)); !errors.Is(err, platform.ErrNotFound) {
		t.Fatalf("expired session: %v", err)
	}
	if err := s.DeleteSession(ctx, "h1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, "h1", now); !errors.Is(err, platform.ErrNotFound) {
		t.Fatalf("deleted session: %v", err)
	}
}

func TestCreateSubmissionAfterClose(t *testing.T) {
	s, err := Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, _, err = s.CreateSubmission(context.Background(), platform.IntakeRecord{}, nil)
	if err == nil {
		t.Fatal("intake on a closed store succeeded")
	}
}

func TestFilesArePrivate(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.AddKiosk(ctx, "K1", "tok", time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"platform.db", "platform.db-wal", "platform.db-shm"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v", name, fi.Mode().Perm())
		}
	}
}
