package outbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"onedoor/internal/atomicfile"
	"onedoor/internal/testdate"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"onedoor/pii"
	"onedoor/sync/api"
)

// A fixed fictional submission; package-internal tests cannot import
// devdata (it imports this package).
func fictional(pages ...[]byte) NewSubmission {
	sub := NewSubmission{
		ItemID: "item-1", ItemVersion: "1",
		Applicant: Applicant{Name: "测试人", IDNumber: "99999919800101001" + "2", Phone: "19900000000"},
		Form:      map[string]string{"purpose": "test"},
	}
	// Fix the check character so validation passes.
	body := sub.Applicant.IDNumber[:17]
	for c := range "0123456789X" {
		cand := body + string("0123456789X"[c])
		if pii.ValidateIDNumber(cand, testdate.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) == nil {
			sub.Applicant.IDNumber = cand
		}
	}
	m := Material{MaterialID: "m1", Kind: api.KindScan}
	for _, p := range pages {
		m.Pages = append(m.Pages, Page{Data: p, ContentType: "image/png"})
	}
	sub.Materials = []Material{m}
	return sub
}

// recordingFS wraps the real file system, logs every step of a blob write
// and can fail a chosen step the way a full disk does.
type recordingFS struct {
	mu       sync.Mutex // blob files are written from several goroutines
	t        *testing.T
	s        *Store // to look at the database mid-write
	events   []string
	rowsSeen []int // submission rows visible at each rename and directory sync
	failOn   string
	failErr  error
	failAt   int // for "write": fail once this many bytes were written to one file
}

func (r *recordingFS) rows() int {
	var n int
	if err := r.s.db.QueryRow(`SELECT COUNT(*) FROM submissions`).Scan(&n); err != nil {
		r.t.Errorf("count rows: %v", err)
	}
	return n
}

func (r *recordingFS) event(e string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recordingFS) CreateTemp(dir, pattern string) (blobFile, error) {
	r.event("create")
	if r.failOn == "create" {
		return nil, &os.PathError{Op: "open", Path: dir, Err: r.failErr}
	}
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return &recordingFile{File: f, fs: r}, nil
}

func (r *recordingFS) Rename(o, n string) error {
	r.event("rename")
	r.rowsSeen = append(r.rowsSeen, r.rows())
	if r.failOn == "rename" {
		return &os.LinkError{Op: "rename", Old: o, New: n, Err: r.failErr}
	}
	return os.Rename(o, n)
}

func (r *recordingFS) SyncDir(dir string) error {
	r.event("syncdir")
	r.rowsSeen = append(r.rowsSeen, r.rows())
	if r.failOn == "syncdir" {
		return &os.PathError{Op: "fsync", Path: dir, Err: r.failErr}
	}
	return atomicfile.SyncDir(dir)
}

type recordingFile struct {
	*os.File
	fs      *recordingFS
	written int
}

func (f *recordingFile) Write(p []byte) (int, error) {
	if f.fs.failOn == "write" && f.written+len(p) > f.fs.failAt {
		n := max(0, f.fs.failAt-f.written)
		f.File.Write(p[:n])
		f.written += n
		return n, &os.PathError{Op: "write", Path: f.Name(), Err: f.fs.failErr}
	}
	n, err := f.File.Write(p)
	f.written += n
	return n, err
}

func (f *recordingFile) Sync() error {
	f.fs.event("fsync")
	if f.fs.failOn == "fsync" {
		return &os.PathError{Op: "fsync", Path: f.Name(), Err: f.fs.failErr}
	}
	return f.File.Sync()
}

func openTest(t *testing.T, fsys *recordingFS) (*Store, string) {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "data")
	s, err := open(context.Background(), Options{
		Dir: dir, KeyFile: filepath.Join(root, "k"), KioskID: "K9",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SegmentSize: 1024,
	}, fsys)
	if err != nil {
		t.Fatal(err)
	}
	fsys.t, fsys.s = t, s
	t.Cleanup(func() { s.Close() })
	return s, dir
}

// TestSubmitOrdering checks the durable-write protocol step by step: every
// blob is fsynced before its rename, the directory is fsynced after the
// renames, and no submission row is visible until all of that is done.
func TestSubmitOrdering(t *testing.T) {
	fsys := &recordingFS{}
	s, dir := openTest(t, fsys)
	_, err := s.Submit(context.Background(), fictional([]byte("page one"), []byte("page two"), []byte("page one")))
	if err != nil {
		t.Fatal(err)
	}
	// Two distinct pages (the third repeats the first): both are written
	// and fsynced (in parallel, so in any interleaving) before either is
	// renamed, and the directory is synced after the renames.
	got := strings.Join(fsys.events, " ")
	if !strings.HasSuffix(got, "rename rename syncdir") || strings.Count(got, "create") != 2 ||
		strings.Count(got, "fsync") != 2 || strings.Index(got, "rename") < strings.LastIndex(got, "fsync") {
		t.Errorf("steps %q, want 2×(create, fsync) in any interleaving, then rename rename syncdir", got)
	}
	for i, n := range fsys.rowsSeen {
		if n != 0 {
			t.Errorf("step %d: %d submission rows visible before the blobs were durable", i, n)
		}
	}
	if n := fsys.rows(); n != 1 {
		t.Errorf("%d rows after Submit, want 1", n)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "blobs", ".tmp-*"))
	if len(left) != 0 {
		t.Errorf("temp files left: %v", left)
	}
}

// TestSubmitFailuresLeaveNothing injects a full disk (and other I/O
// errors) at each step of a Submit and checks that nothing becomes
// visible: no row, no temp file, no new blob file.
func TestSubmitFailuresLeaveNothing(t *testing.T) {
	tests := []struct {
		step     string
		err      error
		diskFull bool
	}{
		{"create", syscall.ENOSPC, true},
		{"write", syscall.ENOSPC, true},
		{"fsync", syscall.ENOSPC, true},
		{"rename", syscall.ENOSPC, true},
		{"syncdir", syscall.EIO, false},
		{"write", syscall.EIO, false},
		{"write", syscall.EDQUOT, true},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s %v", tc.step, tc.err), func(t *testing.T) {
			fsys := &recordingFS{}
			s, dir := openTest(t, fsys)
			ctx := context.Background()
			// One earlier submission shares a page: it must survive intact.
			shared := bytes.Repeat([]byte("shared"), 500)
			if _, err := s.Submit(ctx, fictional(shared)); err != nil {
				t.Fatal(err)
			}
			fsys.failOn, fsys.failErr, fsys.failAt = tc.step, tc.err, 1500
			_, err := s.Submit(ctx, fictional(shared, bytes.Repeat([]byte("new page"), 1000)))
			if err == nil {
				t.Fatal("Submit succeeded despite the injected failure")
			}
			if got := errors.Is(err, ErrDiskFull); got != tc.diskFull {
				t.Errorf("errors.Is(err, ErrDiskFull) = %v, want %v (err: %v)", got, tc.diskFull, err)
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("error %v does not wrap the cause %v", err, tc.err)
			}
			if n := fsys.rows(); n != 1 {
				t.Errorf("%d submission rows, want only the earlier one", n)
			}
			entries, _ := os.ReadDir(filepath.Join(dir, "blobs"))
			if len(entries) != 1 || entries[0].Name() != shaOf(shared) {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("blob dir holds %v, want only the shared blob", names)
			}
			// And the store still works afterwards.
			fsys.failOn = ""
			if _, err := s.Submit(ctx, fictional([]byte("after"))); err != nil {
				t.Errorf("Submit after the failure: %v", err)
			}
		})
	}
}

func shaOf(b []byte) string {
	return fmt.Sprintf("%x", sha256.Sum256(b))
}

// TestOrphanBlobsCollected: a crash between the blob rename and the row
// commit leaves an unreferenced blob and perhaps a temp file; the next
// collection removes both, however young, and nothing a row names.
func TestOrphanBlobsCollected(t *testing.T) {
	fsys := &recordingFS{}
	s, dir := openTest(t, fsys)
	ctx := context.Background()
	keep, err := s.Submit(ctx, fictional([]byte("kept page")))
	if err != nil {
		t.Fatal(err)
	}
	// Simulate the crash: the blob is durable, the row never commits.
	orphanData := []byte("orphan page")
	fsys.failOn, fsys.failErr = "syncdir", syscall.EIO
	s.Submit(ctx, fictional(orphanData))
	// dropNewBlobs already removed it; put it back as a crash would leave it.
	if _, err := s.writeBlobs([]pageRef{{sha: shaOf(orphanData), size: int64(len(orphanData))}}, [][]byte{orphanData}); err == nil {
		t.Fatal("expected the injected syncdir failure")
	}
	fsys.failOn = ""
	os.WriteFile(filepath.Join(dir, "blobs", ".tmp-123"), []byte("half written"), 0o600)
	orphan := filepath.Join(dir, "blobs", shaOf(orphanData))
	if _, err := os.Stat(orphan); err != nil {
		t.Fatalf("orphan not in place: %v", err)
	}
	if n, err := s.collectBlobs(ctx); err != nil || n != 2 {
		t.Fatalf("collect: removed %d, %v; want the orphan and the temp file", n, err)
	}
	if _, err := os.Stat(orphan); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("orphan still present: %v", err)
	}
	p, err := s.NextDue(ctx, time.Now())
	if err != nil || p == nil || p.UUID != keep.UUID {
		t.Fatalf("NextDue: %v %v", p, err)
	}
	r, err := s.OpenBlob(ctx, p.Blobs[0].SHA256)
	if err != nil {
		t.Fatalf("referenced blob collected: %v", err)
	}
	r.Close()
}

func TestMigrationsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	newDB := func(t *testing.T) *Store {
		fsys := &recordingFS{}
		s, _ := openTest(t, fsys)
		return s
	}
	t.Run("embedded migrations are idempotent", func(t *testing.T) {
		s := newDB(t)
		ms, err := loadMigrations(migrationFiles, "migrations")
		if err != nil {
			t.Fatal(err)
		}
		v, err := migrate(ctx, s.db, ms, time.Now())
		if err != nil || v != len(ms) {
			t.Fatalf("second migrate: %d, %v", v, err)
		}
	})
	t.Run("a failing migration rolls back the whole batch", func(t *testing.T) {
		s := newDB(t)
		// The embedded migrations (already applied), then a good and a
		// bad one in the same batch.
		embedded, err := loadMigrations(migrationFiles, "migrations")
		if err != nil {
			t.Fatal(err)
		}
		n := len(embedded)
		extra := fstest.MapFS{"m/README.txt": {Data: []byte("ignored")}}
		for _, m := range embedded {
			extra["m/"+m.name] = &fstest.MapFile{Data: []byte(m.sql)}
		}
		bad := fmt.Sprintf("%03d_bad.sql", n+2)
		extra[fmt.Sprintf("m/%03d_good.sql", n+1)] = &fstest.MapFile{Data: []byte(`CREATE TABLE extra (x INTEGER);`)}
		extra["m/"+bad] = &fstest.MapFile{Data: []byte(`ALTER TABLE nonexistent ADD COLUMN y;`)}
		ms, err := loadMigrations(extra, "m")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := migrate(ctx, s.db, ms, time.Now()); err == nil || !strings.Contains(err.Error(), bad) {
			t.Fatalf("migrate with a bad step: %v", err)
		}
		if v, _ := schemaVersion(ctx, s.db); v != n {
			t.Errorf("schema version %d after failed batch, want %d", v, n)
		}
		var tables int
		s.db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'extra'`).Scan(&tables)
		if tables != 0 {
			t.Error("table from the good migration survived the failed batch")
		}
	})
	t.Run("database newer than the program", func(t *testing.T) {
		s := newDB(t)
		s.db.Exec(`INSERT INTO schema_version (version, name, applied_at) VALUES (99, '099_future.sql', 0)`)
		ms, _ := loadMigrations(migrationFiles, "migrations")
		if _, err := migrate(ctx, s.db, ms, time.Now()); !errors.Is(err, ErrSchemaTooNew) {
			t.Errorf("got %v, want ErrSchemaTooNew", err)
		}
	})
	t.Run("gap in numbering", func(t *testing.T) {
		_, err := loadMigrations(fstest.MapFS{"m/001_a.sql": {}, "m/003_c.sql": {}}, "m")
		if err == nil {
			t.Error("gap not noticed")
		}
	})
	t.Run("bad name", func(t *testing.T) {
		_, err := loadMigrations(fstest.MapFS{"m/first.sql": {}}, "m")
		if err == nil {
			t.Error("bad name accepted")
		}
	})
}

// TestPragmas checks the settings really reached the connection (they go
// through the DSN; a PRAGMA run through database/sql would reach only one
// pooled connection).
func TestPragmas(t *testing.T) {
	s, _ := openTest(t, &recordingFS{})
	tests := []struct {
		pragma, want string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL; mattn's default would be 1 (NORMAL)
		{"foreign_keys", "1"},
		{"secure_delete", "1"},
		{"busy_timeout", "10000"},
	}
	for _, tc := range tests {
		var got string
		if err := s.db.QueryRow("PRAGMA " + tc.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("PRAGMA %s = %s, want %s", tc.pragma, got, tc.want)
		}
	}
	if n := s.db.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("%d connections allowed, want one writer", n)
	}
}
