package outbox

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestMigrationKeepsQueuedRatings: a kiosk updated with ratings still
// queued (schema 1) keeps them queued after migration 002.
func TestMigrationKeepsQueuedRatings(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	dir := filepath.Join(root, "data")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, DBName))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrate(ctx, db, ms[:1], time.Now()); err != nil {
		t.Fatal(err)
	}
	const id = "44444444-4444-4444-8444-444444444444"
	if _, err := db.Exec(`INSERT INTO ratings (uuid, receipt, level, at, created_at) VALUES (?, 'K9-20261125-0001', 4, 1, 1)`, id); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(ctx, Options{Dir: dir, KeyFile: filepath.Join(root, "k"), KioskID: "K9", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := schemaVersion(ctx, s.db); v != len(ms) {
		t.Fatalf("schema version %d, want %d", v, len(ms))
	}
	if r, err := s.NextRating(ctx); err != nil || r == nil || r.UUID != id {
		t.Fatalf("queued rating after migration: %+v %v", r, err)
	}
}
