package s3blobs

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"onedoor/sync/platform"
	"onedoor/sync/platform/blobseal"
)

// The small blobs of a batch (POST /api/v1/batch: a kiosk's queued
// submissions with their scanned pages, 64–400 KB each) are packed: they go
// to the bucket as one pack object, and the Index (PostgreSQL in a city)
// records which pack holds each and where. An object store pays per object
// (a file, its metadata, its checksums, a signed round trip: 1–2.5 ms of
// CPU per page on versitygw, about half of a drained submission's cost), so
// one PUT per batch instead of one per page is the object-store counterpart
// of the SQLite platform's pack files (blobdir/pack.go).
//
// Order of writes: the pack object is stored whole first (S3 makes an
// object visible whole or not at all), then its index rows are committed,
// and only then does the batch hear that its blobs are complete. A crash
// between the two leaves a pack object no row names: unreachable bytes,
// never a row pointing at bytes that are not there. Each record in a pack
// names itself (magic, size, SHA-256, then the bytes, as blobdir's records),
// so a pack can be read and checked without the index.
//
// Packed blobs are never deleted, like every complete blob here; blobs
// larger than packMax, those sent alone (PATCH), in pieces or stored by
// Put keep an object of their own under sealed/blobs/.
//
// Records are sealed (blobseal): a record of type "ODS1" holds, after its
// header, a sealed unit of the blob (its own nonce), and packs of them are
// named sealed/packs/…; the index's Off is where the unit starts and Size
// the plaintext's. Packs of "ODB1" plaintext records (packs/…) are those
// of a bucket from before sealing, read as they were.
const (
	// packMax is the largest blob packed.
	packMax = 512 << 10
	// recordMagic starts a plaintext record from before sealing: "ODB1",
	// big-endian, as in blobdir.
	recordMagic = 0x4f444231
	// sealedMagic starts a sealed record: "ODS1", as in blobdir.
	sealedMagic = 0x4f445331
	// recordHeader is magic (4) + size (8) + SHA-256 (32).
	recordHeader = 4 + 8 + 32
)

// Index records where packed blobs live; pgstore.Store implements it. It
// is declared here, where it is used, and optional: without one every blob
// is an object of its own.
type Index interface {
	AddPacked(ctx context.Context, blobs []platform.PackedBlob) error
	FindPacked(ctx context.Context, shas []string) (map[string]platform.PackedBlob, error)
	WalkPacked(ctx context.Context, fn func(platform.PackedBlob) error) error
}

// packKey names a new pack object: time first, so a listing is in order of
// writing, then random bytes, so two instances never pick the same name.
func (s *Store) packKey(now time.Time) string {
	var r [8]byte
	_, _ = rand.Read(r[:])
	return fmt.Sprintf("%ssealed/packs/%s-%s", s.prefix, now.UTC().Format("20060102T150405.000000000"), hex.EncodeToString(r[:]))
}

// StoreWhole keeps the blobs of a batch, each sent whole; see
// platform.WholeBlobStore. With an Index the small ones share one pack
// object; without one, or for large blobs, each is appended on its own.
func (s *Store) StoreWhole(ctx context.Context, blobs []platform.WholeBlob) ([]error, error) {
	errs := make([]error, len(blobs))
	var small []platform.WholeBlob
	for i, b := range blobs {
		if s.index == nil || len(b.Data) > packMax {
			n, err := s.appendWhole(ctx, b.SHA, int64(len(b.Data)), "", bytes.NewReader(b.Data))
			if err == nil && n != int64(len(b.Data)) {
				err = fmt.Errorf("blob %s: stored %d of %d bytes", b.SHA, n, len(b.Data))
			}
			if err != nil && !isBlobError(err) {
				return errs, err
			}
			errs[i] = err
			continue
		}
		sum := sha256.Sum256(b.Data)
		if hex.EncodeToString(sum[:]) != b.SHA {
			errs[i] = platform.ErrHashMismatch
			continue
		}
		if _, ok := s.known.get(b.SHA); !ok {
			small = append(small, b)
		}
	}
	if len(small) > 0 {
		if err := s.writePack(ctx, small); err != nil {
			return errs, err
		}
	}
	return errs, nil
}

func isBlobError(err error) bool {
	return errors.Is(err, platform.ErrHashMismatch) || errors.Is(err, platform.ErrBlobTooLong) ||
		errors.Is(err, platform.ErrOffsetMismatch) || errors.Is(err, platform.ErrChunkHash)
}

// writePack stores blobs (each checked to hash to its address) as one
// pack object and records it in the index. Blobs the index already has (a
// retried batch, another instance's copy) are left out; when every blob is
// known nothing is written.
func (s *Store) writePack(ctx context.Context, blobs []platform.WholeBlob) error {
	shas := make([]string, len(blobs))
	for i, b := range blobs {
		shas[i] = b.SHA
	}
	have, err := s.index.FindPacked(ctx, shas)
	if err != nil {
		return fmt.Errorf("s3 pack: %w", err)
	}
	size := 0
	for _, b := range blobs {
		size += recordHeader + blobseal.HeaderSize + len(b.Data)
	}
	buf := make([]byte, 0, size)
	var rows []platform.PackedBlob
	key := s.packKey(time.Now())
	var hdr [recordHeader]byte
	for _, b := range blobs {
		if _, ok := have[b.SHA]; ok || slices.ContainsFunc(rows, func(r platform.PackedBlob) bool { return r.SHA == b.SHA }) {
			continue
		}
		unit, err := s.key.Seal(b.SHA, b.Data)
		if err != nil {
			return fmt.Errorf("s3 pack: %w", err)
		}
		sum, _ := hex.DecodeString(b.SHA)
		binary.BigEndian.PutUint32(hdr[0:4], sealedMagic)
		binary.BigEndian.PutUint64(hdr[4:12], uint64(len(b.Data)))
		copy(hdr[12:], sum)
		buf = append(buf, hdr[:]...)
		rows = append(rows, platform.PackedBlob{SHA: b.SHA, Object: key, Off: int64(len(buf)), Size: int64(len(b.Data))})
		buf = append(buf, unit...)
	}
	if len(rows) > 0 {
		sum := sha256.Sum256(buf)
		if err := s.put(ctx, key, buf, hex.EncodeToString(sum[:])); err != nil {
			return fmt.Errorf("s3 pack %s: %w", key, err)
		}
		if err := s.index.AddPacked(ctx, rows); err != nil {
			return fmt.Errorf("s3 pack %s: %w", key, err)
		}
	}
	for _, b := range blobs {
		s.known.add(b.SHA, int64(len(b.Data)))
	}
	return nil
}

// openPacked reads a packed blob, checking its record header, or returns
// ErrNotFound when the index does not name it.
func (s *Store) openPacked(ctx context.Context, sha string) (io.ReadSeekCloser, error) {
	loc, err := s.index.FindPacked(ctx, []string{sha})
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", sha, err)
	}
	b, ok := loc[sha]
	if !ok {
		return nil, platform.ErrNotFound
	}
	// The pack's name says whether its records are sealed (a unit
	// header more after the record header); the record's magic is
	// checked below.
	sealed := strings.HasPrefix(b.Object, s.prefix+"sealed/")
	body := b.Size
	if sealed {
		body += blobseal.HeaderSize
	}
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(b.Off-recordHeader, b.Off+body-1); err != nil {
		return nil, fmt.Errorf("blob %s: %w", sha, err)
	}
	obj, err := s.c.GetObject(ctx, s.bucket, b.Object, opts)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", sha, err)
	}
	defer obj.Close()
	rec, err := io.ReadAll(obj)
	if isNotFound(err) {
		return nil, fmt.Errorf("blob %s: pack %s is gone: %w", sha, b.Object, platform.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("blob %s: read pack %s: %w", sha, b.Object, err)
	}
	sum, _ := hex.DecodeString(sha)
	magic := uint32(recordMagic)
	if sealed {
		magic = sealedMagic
	}
	if int64(len(rec)) != recordHeader+body || binary.BigEndian.Uint32(rec[0:4]) != magic ||
		binary.BigEndian.Uint64(rec[4:12]) != uint64(b.Size) || !bytes.Equal(rec[12:recordHeader], sum) {
		// The bytes are there but not the record the index names: the
		// caller (verify) hashes them and reports the blob damaged.
		return nopCloser{bytes.NewReader(rec[min(len(rec), recordHeader):])}, nil
	}
	if !sealed {
		return nopCloser{bytes.NewReader(rec[recordHeader:])}, nil
	}
	plain, err := s.key.Open(sha, rec[recordHeader:])
	if err != nil {
		return nil, fmt.Errorf("blob %s: pack %s: %w", sha, b.Object, err)
	}
	return nopCloser{bytes.NewReader(plain)}, nil
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }
