package outbox

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"onedoor/internal/atomicfile"
	"onedoor/sync/outbox/sealed"
)

// The page pack: where Submit writes sealed pages (schema 4).
//
// Why a pack file and not the database. With the pages inside SQLite's
// transaction, one WAL commit made a submission durable, but SQLite writes
// a commit frame by frame (two pwrites per 4 KiB page, about 250 frames for
// a form of three 300 KB scans), which cost about 2 ms of CPU of a Submit's
// 3.4 and kept it above a raw write of the same bytes. Now a Submit writes
// its sealed pages — the sealed stream of each, header and segments, as
// package sealed lays it out — with ONE pwritev at the pack's allocation
// mark into room written with zeros beforehand (packZeroAhead), and syncs
// them with ONE fdatasync; only small rows (the blob's header, where it sits)
// go into the database.
//
// Why option (a) of issue 15, the pages' fdatasync in PARALLEL with the
// rows' commit (synchronous=FULL), and not (b), a self-describing pack as
// the durable record with SQLite as an index re-built from it: (b) would
// move the submission rows, the receipt sequence and the audit record into
// a second log format with its own torn-record rules, and every reader of
// the queue (the engine, `onedoor queue` in another process, Verify) would
// depend on the re-indexing at open having run. With (a) SQLite stays the
// one record of what exists; the pack only holds bytes that rows name, and
// each such byte is already authenticated (AES-GCM under the blob's
// header, bound to its content address). Both are two flushes issued at
// once, so a Submit waits for the slower of the two, not their sum.
//
// The crash window (a) opens, and how it is closed. The rows can reach the
// disk before the pages: a power cut between the commit and the end of the
// fdatasync leaves rows naming pages that are torn or zero. No receipt was
// printed for such a submission, because Submit had not returned. The
// pack's verified mark (kv 'pack_verified') is a pack offset below which
// every blob is known to be on disk; at open (recoverPack), every blob at
// or above it is read and authenticated in full, and each one that fails
// takes the submissions naming it back out (rows deleted, an audit line
// "rolled back"); then the pack is fdatasynced and the mark moves to the
// allocation mark. The mark also moves forward in the background when the
// store is idle (advanceVerified), so what an open must read stays about
// one burst of Submits. A submission that shares a blob another Submit is
// still syncing is safe too: the pages are written (into the page cache)
// before the rows that name them commit, so any later Submit's fdatasync
// of the same file covers them before that Submit returns.
//
// Allocation is append-only: kv 'pack_tail' is read and moved inside the
// Submit's immediate transaction, so several processes writing one outbox
// never overlap, and an extent is never reused. Bytes past the mark (a
// Submit whose transaction did not commit, a crash mid-write) are never
// named by a row and are overwritten by the next allocation; recoverPack
// also overwrites them with zeros at open.
//
// Erasure (PIPL). When blobs are deleted (purge after retention, a damaged
// copy replaced, a rolled-back submission), their extents go into
// pack_free in the same transaction; after the commit the extent is
// overwritten with zeros in place, fdatasynced, and then its blocks are
// released with FALLOC_FL_PUNCH_HOLE. The zeros are what erases (the
// file system writes them over the same blocks on ext4, which does not
// copy on write); the hole only gives the space back. A crash between the
// commit and the erasure leaves the row in pack_free, and the next open
// (or purge) finishes it.

const (
	// packName is the pack file inside the data directory.
	packName = "pages.pack"
	// eraseChunk bounds the zero buffer erasure writes with.
	eraseChunk = 1 << 20
	// packAhead is how far past the allocation mark the store keeps the
	// pack written with zeros when it is idle, refilled once less than
	// packAheadLow is left: a Submit then overwrites blocks that are
	// allocated and initialised, so its fdatasync writes data only,
	// where one into preallocated (unwritten) extents must also commit
	// their conversion in the file system's journal (measured on the
	// kiosk's ext4: about 2.0 ms against 3.1–3.8 ms for 0.9 MB). The
	// cost is a second write of every page's worth of disk, done when
	// idle, like the WAL checkpoint was for pages in the database.
	packAhead    = 32 << 20
	packAheadLow = 16 << 20
)

// kv keys of the pack's marks.
const (
	kvPackTail     = "pack_tail"
	kvPackVerified = "pack_verified"
)

// openPack opens (creating unless read-only) the pack file. A read-only
// store without one gets nil: no blob can be in it.
func (s *Store) openPack() error {
	path := filepath.Join(s.dir, packName)
	if s.opts.ReadOnly {
		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("outbox: open page pack: %w", err)
		}
		s.pack = f
		return nil
	}
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("outbox: open page pack: %w", mapDiskFull(err))
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		// The new name must survive a crash before any row names it.
		if err := atomicfile.SyncDir(s.dir); err != nil {
			f.Close()
			return fmt.Errorf("outbox: sync %s: %w", s.dir, mapDiskFull(err))
		}
	}
	s.pack = f
	return nil
}

// kvInt reads an integer kv entry; 0 when absent.
func kvInt(ctx context.Context, q queryer, key string) (int64, error) {
	var v int64
	err := q.QueryRowContext(ctx, `SELECT value FROM kv WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("outbox: read %s: %w", key, err)
	}
	return v, nil
}

func setKVInt(ctx context.Context, tx *sql.Tx, key string, v int64) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO kv (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, v); err != nil {
		return fmt.Errorf("outbox: write %s: %w", key, mapDiskFull(err))
	}
	return nil
}

// packReserve makes the pack at least end bytes long, preallocating what
// is missing (as a rule nothing: packZeroAhead keeps zeroed room past
// the allocation mark). A full disk is ErrDiskFull; a file system without
// fallocate lets the write grow the file instead.
func (s *Store) packReserve(end int64) error {
	st, err := s.pack.Stat()
	if err != nil {
		return fmt.Errorf("outbox: stat page pack: %w", err)
	}
	size := st.Size()
	if size >= end {
		return nil
	}
	err = unix.Fallocate(int(s.pack.Fd()), 0, size, end-size)
	if errors.Is(err, unix.EOPNOTSUPP) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("outbox: preallocate page pack: %w", mapDiskFull(err))
	}
	return nil
}

// packZeroAhead writes zeros past the end of the pack until it reaches
// packAhead past the allocation mark, when less than packAheadLow is
// left, and syncs them; run when the store is idle (Checkpoint). It holds
// the write lock, so no Submit allocates meanwhile, in this process or
// another. It leaves the disk alone when little is free (the zeros would
// take room a Submit or the engine's bookkeeping needs), and on a failure
// cuts the file back to where it was.
func (s *Store) packZeroAhead(ctx context.Context) error {
	if s.pack == nil || s.opts.ReadOnly {
		return nil
	}
	tail, err := kvInt(ctx, s.db, kvPackTail)
	if err != nil {
		return err
	}
	st, err := s.pack.Stat()
	if err != nil || st.Size()-tail >= packAheadLow {
		return err
	}
	var fsst unix.Statfs_t
	if err := unix.Statfs(s.dir, &fsst); err != nil ||
		int64(fsst.Bavail)*int64(fsst.Bsize) < 4*packAhead+max(s.opts.ReserveBytes, 0) {
		return nil
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if tail, err = kvInt(ctx, tx, kvPackTail); err != nil {
		return err
	}
	if st, err = s.pack.Stat(); err != nil {
		return fmt.Errorf("outbox: stat page pack: %w", err)
	}
	size := st.Size()
	zero := make([]byte, eraseChunk)
	for o := size; o < tail+packAhead; o += eraseChunk {
		if _, err := s.pack.WriteAt(zero[:min(eraseChunk, tail+packAhead-o)], o); err != nil {
			s.pack.Truncate(size)
			return fmt.Errorf("outbox: zero page pack ahead: %w", mapDiskFull(err))
		}
	}
	if err := s.packSync(); err != nil {
		s.pack.Truncate(size)
		return err
	}
	return nil
}

// packWrite writes bufs one after another at off, with one pwritev as a
// rule (the loop only finishes a short write).
func (s *Store) packWrite(bufs [][]byte, off int64) error {
	fd := int(s.pack.Fd())
	for len(bufs) > 0 {
		n, err := unix.Pwritev(fd, bufs, off)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return fmt.Errorf("outbox: write page pack: %w", mapDiskFull(err))
		}
		if n == 0 {
			return fmt.Errorf("outbox: write page pack: %w", io.ErrShortWrite)
		}
		off += int64(n)
		for n > 0 && len(bufs) > 0 {
			if n >= len(bufs[0]) {
				n -= len(bufs[0])
				bufs = bufs[1:]
			} else {
				bufs[0] = bufs[0][n:]
				n = 0
			}
		}
	}
	return nil
}

// packSync makes what was written to the pack durable.
func (s *Store) packSync() error {
	if err := unix.Fdatasync(int(s.pack.Fd())); err != nil {
		s.packTrusted.Store(false)
		return fmt.Errorf("outbox: sync page pack: %w", mapDiskFull(err))
	}
	return nil
}

// packBlob presents a blob in the pack as the sealed stream sealed.Reader
// reads: its header from the row (what the row says is authoritative; the
// copy in the pack only makes the pack readable on its own), the rest from
// the pack, n bytes in all.
type packBlob struct {
	f      *os.File
	off, n int64
	header []byte
}

func (b *packBlob) ReadAt(p []byte, off int64) (int, error) {
	if off >= b.n {
		return 0, io.EOF
	}
	want := len(p)
	if int64(want) > b.n-off {
		p = p[:b.n-off]
	}
	n := 0
	if off < sealed.HeaderSize {
		n = copy(p, b.header[off:])
	}
	if n < len(p) {
		m, err := b.f.ReadAt(p[n:], b.off+off+int64(n))
		n += m
		if err != nil && n < len(p) {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return n, err
		}
	}
	if n < want {
		return n, io.EOF
	}
	return n, nil
}

// packBlobReader opens the blob in the pack at off, n bytes long.
func (s *Store) packBlobReader(sha string, header []byte, off, n int64) (*sealed.Reader, error) {
	if s.pack == nil || len(header) != sealed.HeaderSize || off < 0 || n < sealed.HeaderSize {
		return nil, fmt.Errorf("%w: blob %s: not in the page pack", ErrCorrupt, sha)
	}
	sum, err := hexSum(sha)
	if err != nil {
		return nil, fmt.Errorf("%w: blob %s", ErrCorrupt, sha)
	}
	r, err := sealed.NewReader(&packBlob{f: s.pack, off: off, n: n, header: header}, n, s.keys.blob, sum)
	if err != nil {
		if errors.Is(err, sealed.ErrFormat) {
			return nil, fmt.Errorf("%w: blob %s: %w", ErrCorrupt, sha, err)
		}
		return nil, fmt.Errorf("outbox: blob %s: %w", sha, err)
	}
	return r, nil
}

// freeExtents records, in the caller's transaction, the pack extents of
// the blobs the where clause selects, for erasure after the commit. Call
// it before deleting those rows.
func freeExtents(ctx context.Context, tx *sql.Tx, where string, args ...any) error {
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO pack_free (off, len)
		SELECT pack_off, pack_len FROM blobs WHERE pack_off IS NOT NULL AND (`+where+`)`, args...); err != nil {
		return fmt.Errorf("outbox: record freed pages: %w", mapDiskFull(err))
	}
	return nil
}

// erasePackFree overwrites every extent in pack_free with zeros, makes
// that durable, releases the blocks (a hole) and forgets the extent. An
// extent is never allocated again (allocation only moves forward), so
// this needs no lock against Submit.
func (s *Store) erasePackFree(ctx context.Context) error {
	if s.pack == nil || s.opts.ReadOnly {
		return nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT off, len FROM pack_free ORDER BY off`)
	if err != nil {
		return fmt.Errorf("outbox: list freed pages: %w", err)
	}
	type extent struct{ off, n int64 }
	var todo []extent
	for rows.Next() {
		var e extent
		if err := rows.Scan(&e.off, &e.n); err != nil {
			rows.Close()
			return fmt.Errorf("outbox: list freed pages: %w", err)
		}
		todo = append(todo, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(todo) == 0 {
		return err
	}
	st, err := s.pack.Stat()
	if err != nil {
		return fmt.Errorf("outbox: stat page pack: %w", err)
	}
	zero := make([]byte, eraseChunk)
	for _, e := range todo {
		end := min(e.off+e.n, st.Size()) // past the end there is nothing to erase
		for o := e.off; o < end; o += eraseChunk {
			if _, err := s.pack.WriteAt(zero[:min(eraseChunk, end-o)], o); err != nil {
				return fmt.Errorf("outbox: erase freed pages: %w", mapDiskFull(err))
			}
		}
	}
	if err := s.packSync(); err != nil {
		return err
	}
	fd := int(s.pack.Fd())
	for _, e := range todo {
		// Only the space; the zeros above did the erasing.
		if err := unix.Fallocate(fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, e.off, e.n); err != nil &&
			!errors.Is(err, unix.EOPNOTSUPP) {
			s.log.Warn("could not release erased page space", "err", err)
		}
		if _, err := s.db.ExecContext(ctx, `DELETE FROM pack_free WHERE off = ?`, e.off); err != nil {
			return fmt.Errorf("outbox: forget erased pages: %w", mapDiskFull(err))
		}
	}
	return nil
}

// recoverPack closes the crash window of the parallel flushes (see the
// top of this file): in one write transaction it authenticates every blob
// at or past the verified mark, takes back the submissions naming one that
// fails, fdatasyncs the pack, moves the mark to the allocation mark and
// punches out what lies past it. Then it erases freed extents left by a
// crash. It returns the receipts rolled back.
func (s *Store) recoverPack(ctx context.Context) ([]string, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	verified, err := kvInt(ctx, tx, kvPackVerified)
	if err != nil {
		return nil, err
	}
	tail, err := kvInt(ctx, tx, kvPackTail)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT sha256, header, pack_off, pack_len FROM blobs WHERE pack_off >= ?`, verified)
	if err != nil {
		return nil, fmt.Errorf("outbox: list unverified pages: %w", err)
	}
	type blob struct {
		sha    string
		header []byte
		off, n int64
	}
	var check []blob
	for rows.Next() {
		var b blob
		if err := rows.Scan(&b.sha, &b.header, &b.off, &b.n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("outbox: list unverified pages: %w", err)
		}
		check = append(check, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("outbox: list unverified pages: %w", err)
	}
	var torn []string
	for _, b := range check {
		r, err := s.packBlobReader(b.sha, b.header, b.off, b.n)
		if err == nil {
			_, err = io.Copy(io.Discard, r)
		}
		if err != nil {
			torn = append(torn, b.sha)
		}
	}
	var receipts []string
	now := s.now()
	for _, sha := range torn {
		// A submission the platform has acknowledged is kept: it was
		// delivered (from the page cache before the crash), and its
		// record is what the resident's lookups need.
		rs, err := tx.QueryContext(ctx, `SELECT DISTINCT s.uuid, s.receipt FROM attachments a
			JOIN submissions s ON s.uuid = a.submission_uuid WHERE a.sha256 = ? AND s.state <> 'sent'`, sha)
		if err != nil {
			return nil, fmt.Errorf("outbox: find submissions of torn pages: %w", err)
		}
		var ids []string
		for rs.Next() {
			var id, receipt string
			if err := rs.Scan(&id, &receipt); err != nil {
				rs.Close()
				return nil, fmt.Errorf("outbox: find submissions of torn pages: %w", err)
			}
			ids = append(ids, id)
			receipts = append(receipts, receipt)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return nil, fmt.Errorf("outbox: find submissions of torn pages: %w", err)
		}
		for _, id := range ids {
			if err := deleteSubmission(ctx, tx, id); err != nil {
				return nil, err
			}
		}
	}
	for _, r := range receipts {
		if err := audit(ctx, tx, now, "rolled back", r, "pages not on disk after a crash; no receipt was given"); err != nil {
			return nil, mapDiskFull(err)
		}
	}
	if len(torn) > 0 {
		// The torn blobs, and blobs only the rolled-back submissions named.
		if err := freeExtents(ctx, tx, `pack_off >= ? AND sha256 NOT IN (SELECT sha256 FROM attachments)`, verified); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM blobs WHERE pack_off >= ? AND sha256 NOT IN (SELECT sha256 FROM attachments)`, verified); err != nil {
			return nil, fmt.Errorf("outbox: delete torn pages: %w", mapDiskFull(err))
		}
	}
	// Nothing past the allocation mark is named by a row, and no Submit is
	// between its allocation and its commit while this transaction holds
	// the write lock: whatever a crashed Submit left there is overwritten
	// with zeros (only the chunks that are not zero already: the room
	// packZeroAhead prepared stays as it is).
	wrote, err := s.zeroPastTail(tail)
	if err != nil {
		return nil, err
	}
	if verified != tail || wrote {
		if err := s.packSync(); err != nil {
			return nil, err
		}
		if err := setKVInt(ctx, tx, kvPackVerified, tail); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("outbox: commit page pack recovery: %w", mapDiskFull(err))
	}
	s.packTrusted.Store(true)
	if len(receipts) > 0 {
		s.log.Warn("rolled back submissions whose pages did not reach the disk before a crash", "receipts", receipts)
	}
	return receipts, s.erasePackFree(ctx)
}

// zeroPastTail overwrites with zeros every chunk of the pack past tail
// that is not zero, and reports whether it wrote any (unsynced).
func (s *Store) zeroPastTail(tail int64) (bool, error) {
	st, err := s.pack.Stat()
	if err != nil {
		return false, fmt.Errorf("outbox: stat page pack: %w", err)
	}
	buf := make([]byte, eraseChunk)
	zero := make([]byte, eraseChunk)
	wrote := false
	for o := tail; o < st.Size(); o += eraseChunk {
		b := buf[:min(eraseChunk, st.Size()-o)]
		if _, err := s.pack.ReadAt(b, o); err != nil && !errors.Is(err, io.EOF) {
			return wrote, fmt.Errorf("outbox: read page pack: %w", err)
		}
		if bytes.Equal(b, zero[:len(b)]) {
			continue
		}
		if _, err := s.pack.WriteAt(zero[:len(b)], o); err != nil {
			return wrote, fmt.Errorf("outbox: clear page pack: %w", mapDiskFull(err))
		}
		wrote = true
	}
	return wrote, nil
}

// deleteSubmission removes a submission and the rows that hang from it,
// in the caller's transaction (blobs are left to the caller).
func deleteSubmission(ctx context.Context, tx *sql.Tx, id string) error {
	for _, q := range []string{
		`DELETE FROM attachments WHERE submission_uuid = ?`,
		`DELETE FROM materials WHERE submission_uuid = ?`,
		`DELETE FROM status_history WHERE submission_uuid = ?`,
		`DELETE FROM submissions WHERE uuid = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return fmt.Errorf("outbox: delete submission: %w", mapDiskFull(err))
		}
	}
	return nil
}

// advanceVerified moves the verified mark to the allocation mark: every
// blob below the allocation mark was written into the pack before its rows
// committed, so an fdatasync now makes all of them durable. Run when the
// store is idle (after a checkpoint) and at Close; never before
// recoverPack has succeeded, nor after an fdatasync of the pack failed.
func (s *Store) advanceVerified(ctx context.Context) error {
	if s.pack == nil || s.opts.ReadOnly || !s.packTrusted.Load() {
		return nil
	}
	verified, err := kvInt(ctx, s.db, kvPackVerified)
	if err != nil {
		return err
	}
	tail, err := kvInt(ctx, s.db, kvPackTail)
	if err != nil || tail == verified {
		return err
	}
	// The tail read above is committed, so its pages are in the pack (in
	// the page cache at least); the fdatasync below covers them. A Submit
	// committing after the read only moves the tail further.
	if err := s.packSync(); err != nil {
		return err
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE kv SET value = ? WHERE key = ? AND value < ?`, tail, kvPackVerified, tail); err != nil {
		return fmt.Errorf("outbox: write %s: %w", kvPackVerified, mapDiskFull(err))
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO kv (key, value) VALUES (?, ?)`, kvPackVerified, tail); err != nil {
		return fmt.Errorf("outbox: write %s: %w", kvPackVerified, mapDiskFull(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("outbox: commit %s: %w", kvPackVerified, mapDiskFull(err))
	}
	return nil
}

// hexSum decodes a content address.
func hexSum(sha string) ([]byte, error) {
	return hex.DecodeString(sha)
}
