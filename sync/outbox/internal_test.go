package outbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/mattn/go-sqlite3"

	"onedoor/internal/testdate"
	"onedoor/pii"
	"onedoor/sync/api"
	"onedoor/sync/outbox/sealed"
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

func openTest(t *testing.T) (*Store, string) {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "data")
	s, err := Open(context.Background(), Options{
		Dir: dir, KeyFile: filepath.Join(root, "k"), KioskID: "K9",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SegmentSize: 1024,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

// peek opens the outbox database behind the store's back, as another
// process would see it.
func peek(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, DBName)+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func count(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// TestSubmitIsOneCommit: everything a Submit stores becomes visible at
// one commit and not before: its rows, and the blob rows that name its
// pages in the pack, which are written (one extent at the allocation
// mark) before that commit. Nothing is written beside the database but
// the pack.
func TestSubmitIsOneCommit(t *testing.T) {
	s, dir := openTest(t)
	other := peek(t, dir)
	var seen [3]int
	var packed int64
	s.hooks = &submitHooks{beforeCommit: func() {
		seen = [3]int{count(t, other, "submissions"), count(t, other, "attachments"), count(t, other, "blobs")}
		// The pages are in the pack before the rows naming them commit.
		st, _ := s.pack.Stat()
		packed = st.Size()
	}}
	// Two distinct pages (the third repeats the first), 3 and 1 segments.
	one, two := bytes.Repeat([]byte("page one "), 300), []byte("page two")
	_, err := s.Submit(context.Background(), fictional(one, two, one))
	if err != nil {
		t.Fatal(err)
	}
	if seen != [3]int{} {
		t.Errorf("before the commit another connection saw submissions, attachments, blobs = %v, want none", seen)
	}
	want := sealed.SealedSize(int64(len(one)), 1024) + sealed.SealedSize(int64(len(two)), 1024)
	if packed < want {
		t.Errorf("pack holds %d bytes before the commit, want the pages' %d", packed, want)
	}
	got := [3]int{count(t, other, "submissions"), count(t, other, "attachments"), count(t, other, "blobs")}
	if got != [3]int{1, 3, 2} {
		t.Errorf("after Submit: submissions, attachments, blobs = %v, want [1 3 2]", got)
	}
	var tail, segs int64
	if err := other.QueryRow(`SELECT value FROM kv WHERE key = 'pack_tail'`).Scan(&tail); err != nil || tail != want {
		t.Errorf("pack allocation mark %d (%v), want %d", tail, err, want)
	}
	if segs = int64(count(t, other, "blob_segments")); segs != 0 {
		t.Errorf("%d segments stored in the database, want none", segs)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), DBName) && e.Name() != packName {
			t.Errorf("Submit left %s beside the database", e.Name())
		}
	}
}

// TestSubmitFailuresLeaveNothing makes the disk full at several points of
// a Submit — the database (SQLITE_FULL; max_page_count stands in for the
// disk) with no room, room for part of the rows, more; and the pack's
// write (ENOSPC) — and checks that nothing of it becomes visible, that an
// earlier submission sharing a page is intact, and that the store works
// once there is room again.
func TestSubmitFailuresLeaveNothing(t *testing.T) {
	// Room left, in database pages, when the Submit starts: none, enough
	// for part of the rows, most of them (the form's sealed row needs
	// about 20 pages); -1: the database has room, the pack write fails.
	for _, room := range []int{0, 2, 12, -1} {
		t.Run(fmt.Sprintf("room %d pages", room), func(t *testing.T) {
			s, dir := openTest(t)
			ctx := context.Background()
			shared := bytes.Repeat([]byte("shared"), 500)
			first, err := s.Submit(ctx, fictional(shared))
			if err != nil {
				t.Fatal(err)
			}
			tail, _ := kvInt(ctx, s.db, kvPackTail)
			if room >= 0 {
				var pages int
				if err := s.db.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
					t.Fatal(err)
				}
				if _, err := s.db.Exec(fmt.Sprintf(`PRAGMA max_page_count = %d`, pages+room)); err != nil {
					t.Fatal(err)
				}
			} else {
				s.hooks = &submitHooks{packWrite: func() error { return syscall.ENOSPC }}
			}
			big := fictional(shared, bytes.Repeat([]byte("new page"), 8000))
			rng := mrand.New(mrand.NewPCG(1, 2))
			for i := range 20 {
				v := make([]byte, 4000)
				for j := range v {
					v[j] = 'a' + byte(rng.IntN(26))
				}
				big.Form[fmt.Sprintf("field%d", i)] = string(v)
			}
			_, err = s.Submit(ctx, big)
			if !errors.Is(err, ErrDiskFull) {
				t.Fatalf("Submit on a full disk: %v, want ErrDiskFull", err)
			}
			var se sqlite3.Error
			if room >= 0 && (!errors.As(err, &se) || se.Code != sqlite3.ErrFull) {
				t.Errorf("error %v does not wrap SQLite's SQLITE_FULL", err)
			}
			if room < 0 && !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("error %v does not wrap ENOSPC", err)
			}
			other := peek(t, dir)
			got := [3]int{count(t, other, "submissions"), count(t, other, "attachments"), count(t, other, "blobs")}
			if got != [3]int{1, 1, 1} {
				t.Errorf("submissions, attachments, blobs = %v, want only the earlier submission's [1 1 1]", got)
			}
			if now, _ := kvInt(ctx, other, kvPackTail); now != tail {
				t.Errorf("pack allocation mark moved from %d to %d", tail, now)
			}
			p, err := s.NextDue(ctx, time.Now())
			if err != nil || p == nil || p.UUID != first.UUID {
				t.Fatalf("NextDue: %+v %v", p, err)
			}
			if got := ReadBlobForTest(t, s, shaOf(shared)); !bytes.Equal(got, shared) {
				t.Error("the shared page reads back wrong")
			}
			s.hooks = nil
			if _, err := s.db.Exec(`PRAGMA max_page_count = 1073741823`); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Submit(ctx, big); err != nil {
				t.Errorf("Submit after the failure: %v", err)
			}
			if got := ReadBlobForTest(t, s, shaOf(big.Materials[0].Pages[1].Data)); !bytes.Equal(got, big.Materials[0].Pages[1].Data) {
				t.Error("the page stored after the failure reads back wrong")
			}
		})
	}
}

// ReadBlobForTest reads blob sha in full or fails the test; exported for
// the package's external tests (readBlob).
func ReadBlobForTest(t *testing.T, s *Store, sha string) []byte {
	t.Helper()
	r, err := s.OpenBlob(context.Background(), sha)
	if err != nil {
		t.Fatalf("OpenBlob(%s): %v", sha, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read blob %s: %v", sha, err)
	}
	return b
}

func shaOf(b []byte) string {
	return fmt.Sprintf("%x", sha256.Sum256(b))
}

// TestOldBlobFilesCollected: blob files an earlier version left (one a
// row still names, one no row names, a temp file of a write that never
// finished) — collection removes the last two and keeps the first, which
// still reads.
func TestOldBlobFilesCollected(t *testing.T) {
	s, dir := openTest(t)
	ctx := context.Background()
	named := []byte("page an earlier version stored as a file")
	if _, err := s.Submit(ctx, fictional(named)); err != nil {
		t.Fatal(err)
	}
	// As the earlier version stored it: a file, no database row.
	if _, err := s.db.Exec(`DELETE FROM blobs`); err != nil {
		t.Fatal(err)
	}
	blobDir := filepath.Join(dir, "blobs")
	if err := os.Mkdir(blobDir, 0o700); err != nil {
		t.Fatal(err)
	}
	writeOld := func(data []byte) string {
		var buf bytes.Buffer
		sum := sha256.Sum256(data)
		if _, err := sealed.Seal(&buf, s.keys.blob, data, sum[:], 1024); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(blobDir, shaOf(data))
		if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	keep := writeOld(named)
	orphan := writeOld([]byte("orphan page"))
	os.WriteFile(filepath.Join(blobDir, ".tmp-123"), []byte("half written"), 0o600)
	if n, err := s.collectBlobFiles(ctx); err != nil || n != 2 {
		t.Fatalf("collect: removed %d, %v; want the orphan and the temp file", n, err)
	}
	if _, err := os.Stat(orphan); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("orphan still present: %v", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Fatalf("named blob file collected: %v", err)
	}
	if got := ReadBlobForTest(t, s, shaOf(named)); !bytes.Equal(got, named) {
		t.Error("the named blob file reads back wrong")
	}
}

func TestMigrationsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	newDB := func(t *testing.T) *Store {
		s, _ := openTest(t)
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
	s, _ := openTest(t)
	tests := []struct {
		pragma, want string
	}{
		{"journal_mode", "wal"},
		{"wal_autocheckpoint", fmt.Sprint(walMaxBytes / walPageSize)}, // a backstop: checkpoints run outside Submit
		{"journal_size_limit", fmt.Sprint(walSizeLimit)},
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

// TestBackgroundCheckpoint: once the store is idle, its goroutine copies
// what Submit put in the WAL (its rows; the pages are in the pack) into
// the database file; with background checkpoints off nothing is copied
// until Checkpoint is called. A store opening on a WAL another process
// left counts it as pending.
func TestBackgroundCheckpoint(t *testing.T) {
	ctx := context.Background()
	page := bytes.Repeat([]byte("checkpointed page "), 20000) // 360 KB
	for _, idle := range []time.Duration{10 * time.Millisecond, -1} {
		t.Run(fmt.Sprint(idle), func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "data")
			o := Options{Dir: dir, KeyFile: filepath.Join(root, "k"), KioskID: "K9",
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), CheckpointIdle: idle}
			s, err := Open(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			walFrames := func() (log, done int) {
				var busy int
				if err := peek(t, dir).QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done); err != nil {
					t.Fatal(err)
				}
				return log, done
			}
			// Settle what Open itself wrote.
			if err := s.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Submit(ctx, fictional(page)); err != nil {
				t.Fatal(err)
			}
			if s.walPending.Load() <= 0 {
				t.Fatalf("pending %d after a Submit", s.walPending.Load())
			}
			if idle > 0 {
				deadline := time.Now().Add(20 * time.Second)
				for s.walPending.Load() != 0 && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
				if s.walPending.Load() != 0 {
					t.Fatalf("no background checkpoint: pending %d", s.walPending.Load())
				}
				return
			}
			time.Sleep(50 * time.Millisecond)
			if s.walPending.Load() <= 0 {
				t.Errorf("pending %d with background checkpoints off", s.walPending.Load())
			}
			if err := s.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
			if log, done := walFrames(); s.walPending.Load() != 0 || log != done {
				t.Errorf("after Checkpoint: pending %d, WAL frames %d of which %d checkpointed", s.walPending.Load(), log, done)
			}
			// Another process's WAL: a second store finds it pending.
			if _, err := s.Submit(ctx, fictional([]byte("left in the WAL"))); err != nil {
				t.Fatal(err)
			}
			other, err := Open(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			if other.walPending.Load() <= 0 {
				t.Errorf("a store opening on a WAL left by another counts %d pending", other.walPending.Load())
			}
		})
	}
}
