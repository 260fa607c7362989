package blobdir

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"onedoor/internal/atomicfile"
	"onedoor/internal/groupcommit"
	"onedoor/sync/platform/blobseal"
	"onedoor/sync/sqlitedb"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Small blobs that arrive whole in one request (almost every scanned page)
// are appended to a pack file instead of getting a file of their own.
// Creating, renaming and directory-syncing a file per blob was the largest
// cost of draining a kiosk's queue (ext4 inode allocation alone was a third
// of the CPU): a pack costs one write per blob, and concurrent uploads share
// one fsync.
//
// Each record in a pack names itself: a header with a magic number, the
// blob's size and its SHA-256, then the bytes. The pack is fsynced before
// any uploader hears 204, and that fsync is the only one on the path: the
// index (SQLite, sha -> pack, offset, size) is a cache of the packs,
// committed without waiting for the disk (synchronous=NORMAL). After a
// power cut it may lack the newest rows; opening the folder scans every
// record past the index's end, re-indexes those that hash to their address
// and stops at the first that does not (the torn tail of a group whose
// fsync never returned, whose uploaders never heard 204). A killed process
// loses nothing of the index at all: its WAL is in the page cache. Bytes
// past the last good record are written over by the next group.
//
// Blobs that arrive in pieces (a resumed upload) or are larger than packMax
// keep the partial-file path, and their complete form stays a file.
//
// Records are sealed (sync/platform/blobseal): a record of type "ODS1"
// holds, after its header, a blobseal unit (its own header, then the
// ciphertext); the size in the record header and in the index is the
// plaintext's, and the index's offset is where the unit starts. Recovery
// decrypts a record to check it against its address. Records of type
// "ODB1", plaintext, are those of a folder from before sealing: they are
// read and recovered as they were, never written any more.

const (
	// packMax is the largest blob kept in a pack; larger ones are
	// streamed to a file as before, so a request never holds more than
	// this in memory (200 kiosks uploading at once: 100 MiB at most), and
	// the received offset of a large upload grows as it streams. A
	// scanned A4 page is 100–400 KB.
	packMax = 512 << 10
	// packRoll starts a new pack file once the current one is this large.
	packRoll = 1 << 30
	// packGroup caps how many blobs share one fsync.
	packGroup = 64
	// recordMagic starts the header of a plaintext record from before
	// sealing: "ODB1", big-endian.
	recordMagic = 0x4f444231
	// sealedMagic starts the header of a sealed record: "ODS1".
	sealedMagic = 0x4f445331
	// headerSize is magic (4) + size (8) + SHA-256 (32).
	headerSize = 4 + 8 + 32
)

// packLoc is where a packed blob lives.
type packLoc struct {
	pack int
	off  int64
	size int64
}

type packReq struct {
	sha  string
	unit []byte // the blob sealed: blobseal header, then the ciphertext
	done chan error
}

// packStore owns the pack files of a blob folder and their index.
type packStore struct {
	dir   string
	key   *blobseal.Key
	lock  *os.File  // holds the folder's flock while open
	w, r  *sql.DB   // one writer connection; readers for lookups
	find  *sql.Stmt // lookup, prepared once: it runs two or three times per upload
	reqs  chan *packReq
	quit  chan struct{}
	ended chan struct{}

	closeOnce sync.Once
	closeErr  error

	// Owned by the writer goroutine.
	cur     *os.File
	curID   int
	curSize int64
}

func openPackStore(dir string, key *blobseal.Key) (*packStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pack folder: %w", err)
	}
	// Two writers appending to one pack would write over each other's
	// blobs: a second platform process on the same folder is refused.
	lock, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pack folder: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("blob folder %s is in use by another platform process: %w", dir, err)
	}
	p, err := openPackIndex(dir, lock, key)
	if err != nil {
		lock.Close()
		return nil, err
	}
	return p, nil
}

func openPackIndex(dir string, lock *os.File, key *blobseal.Key) (*packStore, error) {
	path := filepath.Join(dir, "index.db")
	// The packs are the durable record (see the comment at the top), so
	// the index commits without waiting for the disk.
	w, r, err := sqlitedb.Open(path, sqlitedb.Options{Synchronous: "NORMAL"})
	if err != nil {
		return nil, fmt.Errorf("pack index: %w", err)
	}
	if _, err := w.Exec(`CREATE TABLE IF NOT EXISTS packed (
		sha  TEXT PRIMARY KEY,
		pack INTEGER NOT NULL,
		off  INTEGER NOT NULL,
		size INTEGER NOT NULL
	) WITHOUT ROWID`); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("pack index %s: %w", path, err)
	}
	find, err := r.Prepare(`SELECT pack, off, size FROM packed WHERE sha = ?`)
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("pack index: %w", err)
	}
	p := &packStore{dir: dir, key: key, lock: lock, w: w, r: r, find: find, reqs: make(chan *packReq), quit: make(chan struct{}), ended: make(chan struct{})}
	if err := p.openCurrent(); err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	go p.loop()
	return p, nil
}

func packName(id int) string { return fmt.Sprintf("pack-%06d.dat", id) }

// openCurrent re-indexes what the index lost and opens the newest pack for
// appending after its last good record.
func (p *packStore) openCurrent() error {
	entries, err := os.ReadDir(p.dir)
	if err != nil {
		return fmt.Errorf("pack folder: %w", err)
	}
	var ids []int
	for _, e := range entries {
		n, ok := strings.CutPrefix(e.Name(), "pack-")
		if n, ok2 := strings.CutSuffix(n, ".dat"); ok && ok2 {
			if id, err := strconv.Atoi(n); err == nil {
				ids = append(ids, id)
			}
		}
	}
	sort.Ints(ids)
	// Where the index ends: the newest pack it names and the end of the
	// last record there. Packs before that one were complete when the
	// next was started.
	var fromPack int
	var fromOff, lastSize int64
	err = p.w.QueryRow(`SELECT pack, off, size FROM packed
		WHERE pack = (SELECT max(pack) FROM packed) ORDER BY off DESC LIMIT 1`).Scan(&fromPack, &fromOff, &lastSize)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		fromPack, fromOff = 0, 0
	case err != nil:
		return fmt.Errorf("pack index: %w", err)
	default:
		// A sealed record's body is longer than its plaintext by the
		// unit header; its magic says which it is.
		body, err := p.bodySize(fromPack, fromOff, lastSize)
		if err != nil {
			return err
		}
		fromOff += body
	}
	id, end := 1, int64(0)
	for _, pid := range ids {
		if pid < fromPack {
			continue
		}
		start := int64(0)
		if pid == fromPack {
			start = fromOff
		}
		n, err := p.recover(pid, start)
		if err != nil {
			return err
		}
		id, end = pid, n
	}
	if err := p.useFile(id); err != nil {
		return err
	}
	p.curSize = end
	return nil
}

// recover indexes the good records of pack id from off on and returns the
// end of the last one.
func (p *packStore) recover(id int, off int64) (int64, error) {
	f, err := os.Open(filepath.Join(p.dir, packName(id)))
	if err != nil {
		return 0, fmt.Errorf("pack: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("pack: %w", err)
	}
	var hdr [headerSize]byte
	for {
		if _, err := f.ReadAt(hdr[:], off); err != nil {
			return off, nil // end of the pack, or a torn header
		}
		size := int64(binary.BigEndian.Uint64(hdr[4:12]))
		body := size // bytes after the record header
		magic := binary.BigEndian.Uint32(hdr[:4])
		if magic == sealedMagic {
			body += blobseal.HeaderSize
		}
		if magic != recordMagic && magic != sealedMagic || size > packMax || off+headerSize+body > fi.Size() {
			return off, nil
		}
		sha := hex.EncodeToString(hdr[12:])
		var plain io.Reader = io.NewSectionReader(f, off+headerSize, size)
		if magic == sealedMagic {
			// The folder's key was checked before recovery (Open), so a
			// unit header that does not open is torn, not another key's.
			st, err := p.key.OpenAt(sha, f, off+headerSize)
			if err != nil {
				return off, nil
			}
			plain = st.Reader(f, off+headerSize+blobseal.HeaderSize, size)
		}
		h := sha256.New()
		if _, err := io.Copy(h, plain); err != nil {
			return 0, fmt.Errorf("pack %d: %w", id, err)
		}
		if !bytes.Equal(h.Sum(nil), hdr[12:]) {
			return off, nil // a torn record: the end of what was durable
		}
		if _, err := p.w.Exec(`INSERT OR IGNORE INTO packed (sha, pack, off, size) VALUES (?, ?, ?, ?)`, sha, id, off+headerSize, size); err != nil {
			return 0, fmt.Errorf("pack index: %w", err)
		}
		off += headerSize + body
	}
}

// bodySize is how many bytes follow the header of the record whose
// plaintext (size bytes) the index places at off of pack id.
func (p *packStore) bodySize(id int, off, size int64) (int64, error) {
	f, err := os.Open(filepath.Join(p.dir, packName(id)))
	if err != nil {
		return 0, fmt.Errorf("pack: %w", err)
	}
	defer f.Close()
	var magic [4]byte
	if _, err := f.ReadAt(magic[:], off-headerSize); err != nil {
		return 0, fmt.Errorf("pack %d: record at %d: %w", id, off-headerSize, err)
	}
	if binary.BigEndian.Uint32(magic[:]) == sealedMagic {
		return blobseal.HeaderSize + size, nil
	}
	return size, nil
}

func (p *packStore) useFile(id int) error {
	path := filepath.Join(p.dir, packName(id))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("pack: %w", err)
	}
	// A new pack's name must survive a crash before any row points at it.
	if err := atomicfile.SyncDir(p.dir); err != nil {
		f.Close()
		return err
	}
	if p.cur != nil {
		p.cur.Close()
	}
	p.cur, p.curID, p.curSize = f, id, fi.Size()
	return nil
}

// put stores unit, blob sha sealed, and returns once it is durable.
func (p *packStore) put(ctx context.Context, sha string, unit []byte) error {
	if len(unit) < blobseal.HeaderSize {
		return fmt.Errorf("pack: blob %s: not a sealed unit", sha)
	}
	req := &packReq{sha: sha, unit: unit, done: make(chan error, 1)}
	select {
	case p.reqs <- req:
	case <-p.quit:
		return errors.New("blob folder closed")
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once handed over the write is not abandoned: the caller must learn
	// whether its blob is stored.
	return <-req.done
}

func (p *packStore) loop() {
	defer close(p.ended)
	for {
		// Whoever arrived while the last group was being flushed shares
		// this one's fsync.
		batch, ok := groupcommit.Next(p.reqs, p.quit, packGroup)
		if !ok {
			return
		}
		err := p.flush(batch)
		for _, r := range batch {
			r.done <- err
		}
	}
}

func (p *packStore) flush(batch []*packReq) error {
	if p.curSize >= packRoll {
		if err := p.useFile(p.curID + 1); err != nil {
			return err
		}
	}
	start := p.curSize
	locs := make([]packLoc, len(batch))
	off := start
	var hdr [headerSize]byte
	for i, r := range batch {
		size := int64(len(r.unit) - blobseal.HeaderSize)
		binary.BigEndian.PutUint32(hdr[:4], sealedMagic)
		binary.BigEndian.PutUint64(hdr[4:12], uint64(size))
		if _, err := hex.Decode(hdr[12:], []byte(r.sha)); err != nil {
			return p.undo(start, fmt.Errorf("pack: blob address %q: %w", r.sha, err))
		}
		if _, err := p.cur.WriteAt(hdr[:], off); err != nil {
			return p.undo(start, fmt.Errorf("pack write: %w", err))
		}
		off += headerSize
		if _, err := p.cur.WriteAt(r.unit, off); err != nil {
			return p.undo(start, fmt.Errorf("pack write: %w", err))
		}
		locs[i] = packLoc{pack: p.curID, off: off, size: size}
		off += int64(len(r.unit))
	}
	if err := p.cur.Sync(); err != nil {
		return p.undo(start, fmt.Errorf("pack sync: %w", err))
	}
	tx, err := p.w.Begin()
	if err != nil {
		return p.undo(start, fmt.Errorf("pack index: %w", err))
	}
	stmt, err := tx.Prepare(`INSERT OR IGNORE INTO packed (sha, pack, off, size) VALUES (?, ?, ?, ?)`)
	if err != nil {
		tx.Rollback()
		return p.undo(start, fmt.Errorf("pack index: %w", err))
	}
	for i, r := range batch {
		if _, err := stmt.Exec(r.sha, locs[i].pack, locs[i].off, locs[i].size); err != nil {
			stmt.Close()
			tx.Rollback()
			return p.undo(start, fmt.Errorf("pack index: %w", err))
		}
	}
	stmt.Close()
	if err := tx.Commit(); err != nil {
		// The records are durable and will be re-indexed at the next
		// open, but this process cannot find them: fail the uploads
		// (the kiosks send again) and write the next group after them.
		p.curSize = off
		return fmt.Errorf("pack index: %w", err)
	}
	p.curSize = off
	return nil
}

// undo gives back the space of a group that failed (disk full, most
// likely), so the next group does not start after a hole.
func (p *packStore) undo(start int64, cause error) error {
	if err := p.cur.Truncate(start); err != nil {
		return errors.Join(cause, fmt.Errorf("pack truncate: %w", err))
	}
	p.curSize = start
	return cause
}

// lookup reports where blob sha is packed, if it is.
func (p *packStore) lookup(sha string) (packLoc, bool, error) {
	var l packLoc
	err := p.find.QueryRow(sha).Scan(&l.pack, &l.off, &l.size)
	if errors.Is(err, sql.ErrNoRows) {
		return l, false, nil
	}
	if err != nil {
		return l, false, fmt.Errorf("pack index: %w", err)
	}
	return l, true, nil
}

// open returns a reader of the plaintext of packed blob sha; the record's
// magic says whether it is sealed.
func (p *packStore) open(sha string, l packLoc) (io.ReadSeekCloser, error) {
	f, err := os.Open(filepath.Join(p.dir, packName(l.pack)))
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	var magic [4]byte
	if _, err := f.ReadAt(magic[:], l.off-headerSize); err != nil {
		f.Close()
		return nil, fmt.Errorf("pack %d: blob %s: %w", l.pack, sha, err)
	}
	if binary.BigEndian.Uint32(magic[:]) != sealedMagic {
		// A plaintext record from before sealing. (Any other magic is
		// damage: its bytes are returned as they are and fail verify.)
		return &packReader{ReadSeeker: io.NewSectionReader(f, l.off, l.size), f: f}, nil
	}
	st, err := p.key.OpenAt(sha, f, l.off)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("pack %d: blob %s: %w", l.pack, sha, err)
	}
	return &packReader{ReadSeeker: st.Reader(f, l.off+blobseal.HeaderSize, l.size), f: f}, nil
}

type packReader struct {
	io.ReadSeeker
	f *os.File
}

func (r *packReader) Close() error { return r.f.Close() }

func (p *packStore) close() error {
	p.closeOnce.Do(func() {
		close(p.quit)
		<-p.ended
		err := errors.Join(p.find.Close(), p.w.Close(), p.r.Close())
		if p.cur != nil {
			err = errors.Join(err, p.cur.Close())
		}
		p.closeErr = errors.Join(err, p.lock.Close())
	})
	return p.closeErr
}
