package outbox

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads NNN_name.sql files from dir of fsys, sorted by number.
// Numbers must run 1, 2, 3… without gaps so a missing file is noticed.
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("outbox: read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("outbox: migration file %q is not named NNN_name.sql", e.Name())
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("outbox: read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("outbox: migrations must be numbered 1..n without gaps; found %s at position %d", m.name, i+1)
		}
	}
	return ms, nil
}

// migrate brings the schema up to date in one immediate transaction: either
// every pending migration applies or none does. It returns the version the
// database is at afterwards.
func migrate(ctx context.Context, db *sql.DB, ms []migration, now time.Time) (int, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("outbox: begin migration: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL)`); err != nil {
		return 0, fmt.Errorf("outbox: create schema_version: %w", err)
	}
	cur, err := schemaVersion(ctx, tx)
	if err != nil {
		return 0, err
	}
	if cur > len(ms) {
		return cur, fmt.Errorf("%w: database is at version %d, this program knows %d", ErrSchemaTooNew, cur, len(ms))
	}
	for _, m := range ms[cur:] {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return cur, fmt.Errorf("outbox: migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, now.UnixMilli()); err != nil {
			return cur, fmt.Errorf("outbox: record migration %s: %w", m.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return cur, fmt.Errorf("outbox: commit migrations: %w", mapDiskFull(err))
	}
	return len(ms), nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func schemaVersion(ctx context.Context, q queryer) (int, error) {
	var v sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("outbox: read schema version: %w", err)
	}
	return int(v.Int64), nil
}
