// Package s3blobs keeps the platform's blobs in an S3-compatible object
// store through minio-go, so several platformd instances share them and
// the store's own replication and versioning protect them. It implements
// platform.BlobStore.
//
// Layout in the bucket (under an optional prefix):
//
//	blobs/<sha>                 a complete blob; it exists only after its
//	                            bytes were checked to hash to <sha>
//	partial/<sha>/<offset>      one received piece of an upload in progress,
//	                            holding the blob's bytes from <offset>
//	packs/<time>-<random>       small blobs that arrived together, each a
//	                            self-describing record; the Index says
//	                            where each is (see pack.go)
//
// S3 cannot append, and a multipart upload's parts must be at least 5 MiB
// except the last, while a kiosk sends its resumable upload in pieces of
// any size (often the whole page in one request, sometimes whatever arrived
// before a link dropped). As tusd's s3store keeps an "incomplete part"
// object beside its multipart upload, pieces here are objects of their own:
// the upload's offset is the end of the chain of pieces starting at 0, so
// any instance can answer HEAD and take the next piece, and a piece written
// twice (a retry racing its original) holds the same bytes. When the chain
// reaches the declared length the pieces are read back in order, hashed, and
// only a blob that hashes to its address is written to blobs/<sha> in one
// PUT (S3 makes an object visible whole or not at all); then the pieces are
// deleted. A blob that arrives whole in one request skips the pieces.
//
// Every byte of a page is kept encrypted under a key derived from the
// platform's data key, by the rule of sync/platform/blobseal: each piece,
// each complete blob and each record of a pack is a sealed unit of its
// own (a fresh nonce each), under sealed/:
//
//	sealed/blobs/<sha>            a complete blob, sealed
//	sealed/partial/<sha>/<offset> a piece, sealed; its plaintext size is
//	                              the object's less blobseal.HeaderSize
//	sealed/packs/<time>-<random>  a pack of sealed records (pack.go)
//	sealed/KEYCHECK               the data key's check value: an instance
//	                              started with another key refuses the bucket
//
// A bucket written before sealing upgrades in place: its plaintext blobs,
// pieces and packs (the names above without sealed/) stay readable and
// are never written again; an upload in progress continues, its old
// pieces read as plaintext, and becomes a sealed blob (its plaintext
// pieces go with the upload, or with the purge of abandoned uploads).
package s3blobs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"onedoor/sync/api"
	"onedoor/sync/platform"
	"onedoor/sync/platform/blobseal"
)

const (
	// wholeMax is the largest blob taken whole into memory and PUT at once
	// when it arrives in one request (a scanned page is 100–400 KB).
	wholeMax = 8 << 20
	// pieceMax bounds one piece object, so a request holds at most this
	// much in memory while streaming a large upload.
	pieceMax = 4 << 20
	// assemblers bounds how many pieced uploads are put together at once
	// (each holds its blob in memory, up to api.MaxBlobSize).
	assemblers = 4
)

// Config says where the blobs live.
type Config struct {
	Endpoint  string // host:port
	Secure    bool   // https
	AccessKey string
	SecretKey string
	Region    string
	Bucket    string
	Prefix    string // optional, e.g. "onedoor/"
	// Index, when set, lets the store pack a batch's small blobs into one
	// object (see pack.go); it is not part of the URL: the city platform
	// passes its PostgreSQL store.
	Index Index
	// Key seals every page (derived from the platform's data key, see
	// blobseal); required, and not part of the URL either.
	Key *blobseal.Key
}

// ParseURL reads s3://ACCESS:SECRET@host:port/bucket[/prefix][?secure=true&region=R].
// Credentials may instead come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY
// (see New).
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, fmt.Errorf("s3 url: %w", err)
	}
	if u.Scheme != "s3" || u.Host == "" {
		return Config{}, fmt.Errorf("s3 url %q: want s3://[key:secret@]host:port/bucket[/prefix]", u.Redacted())
	}
	bucket, prefix, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if bucket == "" {
		return Config{}, fmt.Errorf("s3 url %q: no bucket", u.Redacted())
	}
	c := Config{Endpoint: u.Host, Bucket: bucket, Prefix: prefix, Region: u.Query().Get("region")}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		c.Prefix += "/"
	}
	c.Secure, _ = strconv.ParseBool(u.Query().Get("secure"))
	if u.User != nil {
		c.AccessKey = u.User.Username()
		c.SecretKey, _ = u.User.Password()
	}
	return c, nil
}

// Store implements platform.BlobStore on a bucket.
type Store struct {
	c        *minio.Client
	bucket   string
	prefix   string
	assembly chan struct{}
	known    *knownBlobs
	key      *blobseal.Key

	// legacyBlobs and legacyPieces say whether the bucket held plaintext
	// blobs or pieces from before sealing when this instance started: a
	// bucket that never did is not asked for them on every new upload.
	// (Open and Walk always look.)
	legacyBlobs, legacyPieces bool

	index Index // nil: no packing
}

var _ platform.BlobStore = (*Store)(nil)

// New connects to the object store and creates the bucket if it is missing.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Key == nil {
		return nil, fmt.Errorf("s3 bucket %s: %w", cfg.Bucket, blobseal.ErrNoKey)
	}
	creds := credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")
	if cfg.AccessKey == "" {
		creds = credentials.NewEnvAWS()
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  creds,
		Secure: cfg.Secure,
		Region: cfg.Region,
		// Trailing checksums stay off: Versity's gateway refuses them,
		// and every blob is checked by its SHA-256 address anyway.
		TrailingHeaders: false,
		Transport:       &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second},
	})
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	s := &Store{c: c, bucket: cfg.Bucket, prefix: cfg.Prefix, assembly: make(chan struct{}, assemblers), known: newKnownBlobs(knownMax, knownTTL),
		key: cfg.Key, index: cfg.Index}
	ok, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("s3 bucket %s: %w", cfg.Bucket, err)
	}
	if !ok {
		if err := c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
			if r := minio.ToErrorResponse(err); r.Code != "BucketAlreadyOwnedByYou" && r.Code != "BucketAlreadyExists" {
				return nil, fmt.Errorf("s3 make bucket %s: %w", cfg.Bucket, err)
			}
		}
	}
	if err := s.checkKey(ctx); err != nil {
		return nil, err
	}
	var err2 error
	if s.legacyBlobs, err2 = s.any(ctx, s.prefix+"blobs/"); err2 == nil {
		s.legacyPieces, err2 = s.any(ctx, s.prefix+"partial/")
	}
	if err2 != nil {
		return nil, fmt.Errorf("s3 bucket %s: %w", cfg.Bucket, err2)
	}
	return s, nil
}

// checkKey compares the bucket's key check value with the key's, storing
// it the first time. Instances starting together store the same value;
// one with another key finds the value and refuses.
func (s *Store) checkKey(ctx context.Context) error {
	k := s.prefix + "sealed/KEYCHECK"
	obj, err := s.c.GetObject(ctx, s.bucket, k, minio.GetObjectOptions{})
	var b []byte
	if err == nil {
		b, err = io.ReadAll(obj)
		obj.Close()
	}
	if isNotFound(err) {
		v := []byte(s.key.Check())
		sum := sha256.Sum256(v)
		if err := s.put(ctx, k, v, hex.EncodeToString(sum[:])); err != nil {
			return fmt.Errorf("s3 bucket %s: key check: %w", s.bucket, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("s3 bucket %s: key check: %w", s.bucket, err)
	}
	if err := s.key.VerifyCheck(strings.TrimSpace(string(b))); err != nil {
		return fmt.Errorf("s3 bucket %s: %w", s.bucket, err)
	}
	return nil
}

// any reports whether an object exists under prefix.
func (s *Store) any(ctx context.Context, prefix string) (bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing after the first object
	o, ok := <-s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true, MaxKeys: 1})
	if ok && o.Err != nil {
		return false, o.Err
	}
	return ok, nil
}

func (s *Store) blobKey(sha string) string       { return s.prefix + "sealed/blobs/" + sha }
func (s *Store) legacyBlobKey(sha string) string { return s.prefix + "blobs/" + sha }
func (s *Store) pieceDir(sha string) string      { return s.prefix + "sealed/partial/" + sha + "/" }
func (s *Store) legacyPieceDir(sha string) string {
	return s.prefix + "partial/" + sha + "/"
}
func (s *Store) pieceKey(sha string, off int64) string {
	return fmt.Sprintf("%s%016d", s.pieceDir(sha), off)
}

func isNotFound(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.Code == "NoSuchKey" || r.Code == "NotFound" || r.StatusCode == http.StatusNotFound
}

// Ping checks that the bucket answers.
func (s *Store) Ping(ctx context.Context) error {
	if _, err := s.c.BucketExists(ctx, s.bucket); err != nil {
		return fmt.Errorf("object store: %w", err)
	}
	return nil
}

// Complete reports whether the blob is stored and verified, and its size.
// A blob this instance stored or saw complete a short while ago is
// answered from memory (see knownBlobs); otherwise the bucket is asked.
func (s *Store) Complete(ctx context.Context, sha string) (bool, int64, error) {
	if n, ok := s.known.get(sha); ok {
		return true, n, nil
	}
	if s.index != nil {
		loc, err := s.index.FindPacked(ctx, []string{sha})
		if err != nil {
			return false, 0, fmt.Errorf("blob %s: %w", sha, err)
		}
		if b, ok := loc[sha]; ok {
			s.known.add(sha, b.Size)
			return true, b.Size, nil
		}
	}
	info, err := s.c.StatObject(ctx, s.bucket, s.blobKey(sha), minio.StatObjectOptions{})
	size := info.Size - blobseal.HeaderSize
	if isNotFound(err) && s.legacyBlobs {
		info, err = s.c.StatObject(ctx, s.bucket, s.legacyBlobKey(sha), minio.StatObjectOptions{})
		size = info.Size
	}
	if isNotFound(err) {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, fmt.Errorf("blob %s: %w", sha, err)
	}
	size = max(size, 0)
	s.known.add(sha, size)
	return true, size, nil
}

type piece struct {
	off, size int64 // of the plaintext
	key       string
	mod       time.Time
	plain     bool // a piece from before sealing
}

// pieces lists an upload's pieces in offset order: sealed ones, and those
// from before sealing when the bucket had any.
func (s *Store) pieces(ctx context.Context, sha string) ([]piece, error) {
	var out []piece
	dirs := []string{s.pieceDir(sha)}
	if s.legacyPieces {
		dirs = append(dirs, s.legacyPieceDir(sha))
	}
	for i, dir := range dirs {
		plain := i == 1
		for o := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: dir}) {
			if o.Err != nil {
				return nil, fmt.Errorf("blob %s: list pieces: %w", sha, o.Err)
			}
			off, err := strconv.ParseInt(strings.TrimPrefix(o.Key, dir), 10, 64)
			if err != nil {
				continue
			}
			size := o.Size
			if !plain {
				size = max(size-blobseal.HeaderSize, 0)
			}
			out = append(out, piece{off: off, size: size, key: o.Key, mod: o.LastModified, plain: plain})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].off < out[j].off })
	return out, nil
}

// chain returns the pieces that follow each other from offset 0 and the
// offset they reach; pieces off the chain are leftovers of a raced retry.
func chain(ps []piece) ([]piece, int64) {
	var out []piece
	var end int64
	for _, p := range ps {
		if p.off == end && p.size > 0 {
			out = append(out, p)
			end += p.size
		}
	}
	return out, end
}

// Offset returns how many bytes of the blob the store holds and whether
// its upload was ever started.
func (s *Store) Offset(ctx context.Context, sha string) (int64, bool, error) {
	if ok, n, err := s.Complete(ctx, sha); err != nil || ok {
		return n, ok, err
	}
	ps, err := s.pieces(ctx, sha)
	if err != nil {
		return 0, false, err
	}
	_, end := chain(ps)
	return end, len(ps) > 0, nil
}

// Missing returns the hashes in shas that are not complete.
func (s *Store) Missing(ctx context.Context, shas []string) ([]string, error) {
	var ask []string
	for _, sha := range shas {
		if _, ok := s.known.get(sha); !ok {
			ask = append(ask, sha)
		}
	}
	if s.index != nil && len(ask) > 0 {
		// One query for all the packed ones, instead of one each.
		loc, err := s.index.FindPacked(ctx, ask)
		if err != nil {
			return nil, fmt.Errorf("blobs: %w", err)
		}
		for _, b := range loc {
			s.known.add(b.SHA, b.Size)
		}
	}
	var out []string
	for _, sha := range shas {
		ok, _, err := s.Complete(ctx, sha)
		if err != nil {
			return nil, err
		}
		if !ok {
			out = append(out, sha)
		}
	}
	return out, nil
}

// Append writes body at offset of blob sha whose total size is length; see
// platform.BlobStore.
func (s *Store) Append(ctx context.Context, sha string, offset, length int64, chunkSHA string, body io.Reader) (int64, error) {
	// A complete blob is never written again: an offset short of its end
	// is refused with its end (409, docs/sync-api.md; a kiosk whose 204
	// was lost learns it is done), and nothing of the body is read, right
	// bytes or wrong.
	if ok, n, err := s.Complete(ctx, sha); err != nil {
		return 0, err
	} else if ok {
		if offset != n {
			return n, platform.ErrOffsetMismatch
		}
		return n, nil
	}
	if offset == 0 && length <= wholeMax {
		// The common case, a page sent whole: no need to list pieces. A
		// blob that hashes to its address is stored whatever pieces of an
		// earlier try are there (the next purge removes them).
		return s.appendWhole(ctx, sha, length, chunkSHA, body)
	}
	ps, err := s.pieces(ctx, sha)
	if err != nil {
		return 0, err
	}
	_, cur := chain(ps)
	if offset != cur {
		return cur, platform.ErrOffsetMismatch
	}
	if length < cur {
		return cur, fmt.Errorf("%w: Upload-Length %d below the %d bytes already held", platform.ErrBlobTooLong, length, cur)
	}
	// Stream the body into pieces of at most pieceMax bytes. A signed
	// chunk is kept only whole: it is read and checked in full first.
	h := sha256.New()
	src := io.LimitReader(body, length-cur+1) // one byte over tells us the body is too long
	if chunkSHA != "" {
		buf, err := io.ReadAll(src)
		if cur+int64(len(buf)) > length {
			return cur, platform.ErrBlobTooLong
		}
		if err != nil {
			return cur, fmt.Errorf("blob %s: %w: %w", sha, platform.ErrBodyRead, err)
		}
		h.Write(buf)
		if hex.EncodeToString(h.Sum(nil)) != chunkSHA {
			return cur, platform.ErrChunkHash
		}
		src = bytes.NewReader(buf)
	}
	buf := make([]byte, pieceMax)
	start := cur
	var written []piece
	for {
		n, rerr := io.ReadFull(src, buf)
		if cur+int64(n) > length {
			// Nothing of a body that goes past the declared length is
			// kept, as blobdir truncates it away.
			return start, errors.Join(platform.ErrBlobTooLong, s.removePieces(ctx, written))
		}
		if n > 0 {
			if err := s.putPiece(ctx, sha, cur, buf[:n]); err != nil {
				return cur, err
			}
			written = append(written, piece{key: s.pieceKey(sha, cur)})
			cur += int64(n)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return cur, fmt.Errorf("blob %s: %w: %w", sha, platform.ErrBodyRead, rerr)
		}
	}
	if cur < length {
		return cur, nil
	}
	return s.assemble(ctx, sha, length)
}

// putPiece stores plaintext b, the blob's bytes from off, as a sealed
// piece (a unit of its own, with its own nonce: a piece written again by
// a retry never reuses a key stream).
func (s *Store) putPiece(ctx context.Context, sha string, off int64, b []byte) error {
	if err := s.putSealed(ctx, s.pieceKey(sha, off), sha, b); err != nil {
		return fmt.Errorf("blob %s: store piece at %d: %w", sha, off, err)
	}
	return nil
}

// putSealed seals plain (bytes of blob sha) and stores it as object key.
func (s *Store) putSealed(ctx context.Context, key, sha string, plain []byte) error {
	unit, err := s.key.Seal(sha, plain)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(unit)
	return s.put(ctx, key, unit, hex.EncodeToString(sum[:]))
}

// put stores b, whose hex SHA-256 is sum, in one PUT signed with that
// hash (X-Amz-Content-Sha256): the object store checks the bytes against
// it, so what is kept is what was sent. (The bytes are ciphertext, so this
// is a hash of its own, not the blob's address: one more SHA-256 pass,
// tens of microseconds for a page.) minio's
// PutObject would instead sign the body in chunks over plain HTTP (every
// chunk hashed and HMACed again on both sides) and know nothing of the
// hash we already have.
func (s *Store) put(ctx context.Context, key string, b []byte, sum string) error {
	_, err := minio.Core{Client: s.c}.PutObject(ctx, s.bucket, key, bytes.NewReader(b), int64(len(b)), "", sum,
		minio.PutObjectOptions{ContentType: "application/octet-stream", DisableContentSha256: true})
	return err
}

// appendWhole takes a blob that should arrive whole in this request: it is
// checked in memory and PUT once. A shorter body is kept as the upload's
// first piece: unsigned, whatever arrived before a dropped link; signed,
// only when it arrived intact and matches its hash.
func (s *Store) appendWhole(ctx context.Context, sha string, length int64, chunkSHA string, body io.Reader) (int64, error) {
	buf := make([]byte, length+1) // one byte over tells us the body is too long
	n, err := io.ReadFull(body, buf)
	if err == nil {
		return 0, platform.ErrBlobTooLong
	}
	data := buf[:n]
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		bodyErr := fmt.Errorf("blob %s: %w: %w", sha, platform.ErrBodyRead, err)
		if chunkSHA != "" || n == 0 {
			return 0, bodyErr
		}
		if err := s.putPiece(ctx, sha, 0, data); err != nil {
			return 0, err
		}
		return int64(n), bodyErr
	}
	sum := sha256.Sum256(data)
	got := hex.EncodeToString(sum[:])
	if chunkSHA != "" && got != chunkSHA {
		return 0, platform.ErrChunkHash
	}
	if int64(n) < length {
		if n == 0 {
			return 0, nil
		}
		if err := s.putPiece(ctx, sha, 0, data); err != nil {
			return 0, err
		}
		return int64(n), nil
	}
	if got != sha {
		return 0, platform.ErrHashMismatch
	}
	if err := s.putBlob(ctx, sha, data); err != nil {
		return 0, err
	}
	return length, nil
}

// putBlob stores a blob whose bytes were checked to hash to sha, sealed.
func (s *Store) putBlob(ctx context.Context, sha string, data []byte) error {
	if err := s.putSealed(ctx, s.blobKey(sha), sha, data); err != nil {
		return fmt.Errorf("blob %s: store: %w", sha, err)
	}
	s.known.add(sha, int64(len(data)))
	return nil
}

// assemble reads the chain of pieces, checks the whole blob's hash and
// stores it, then removes the pieces. A blob that does not hash to its
// address is discarded, pieces and all, as blobdir does.
func (s *Store) assemble(ctx context.Context, sha string, length int64) (int64, error) {
	select {
	case s.assembly <- struct{}{}:
		defer func() { <-s.assembly }()
	case <-ctx.Done():
		return length, ctx.Err()
	}
	ps, err := s.pieces(ctx, sha)
	if err != nil {
		return length, err
	}
	ch, end := chain(ps)
	if end != length {
		// Another request changed the pieces meanwhile; report where the
		// chain is, the kiosk continues from there.
		if ok, n, _ := s.Complete(ctx, sha); ok {
			return n, nil
		}
		return min(end, length), nil
	}
	data := make([]byte, 0, length)
	for _, p := range ch {
		obj, err := s.c.GetObject(ctx, s.bucket, p.key, minio.GetObjectOptions{})
		if err != nil {
			return length, fmt.Errorf("blob %s: read piece: %w", sha, err)
		}
		b, err := io.ReadAll(obj)
		obj.Close()
		if err != nil {
			return length, fmt.Errorf("blob %s: read piece: %w", sha, err)
		}
		if !p.plain {
			if b, err = s.key.Open(sha, b); err != nil {
				return length, fmt.Errorf("blob %s: piece at %d: %w", sha, p.off, err)
			}
		}
		data = append(data, b...)
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != sha {
		if err := s.removePieces(ctx, ps); err != nil {
			return length, errors.Join(platform.ErrHashMismatch, err)
		}
		return 0, platform.ErrHashMismatch
	}
	if err := s.putBlob(ctx, sha, data); err != nil {
		return length, err
	}
	// The blob is complete now; leftover pieces only cost space, and
	// PurgePartials removes any this misses.
	_ = s.removePieces(ctx, ps)
	return length, nil
}

func (s *Store) removePieces(ctx context.Context, ps []piece) error {
	var errs []error
	for _, p := range ps {
		if err := s.c.RemoveObject(ctx, s.bucket, p.key, minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Open opens a complete blob for reading.
func (s *Store) Open(ctx context.Context, sha string) (io.ReadSeekCloser, error) {
	if s.index != nil {
		r, err := s.openPacked(ctx, sha)
		if !errors.Is(err, platform.ErrNotFound) {
			return r, err
		}
	}
	obj, err := s.c.GetObject(ctx, s.bucket, s.blobKey(sha), minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", sha, err)
	}
	info, err := obj.Stat()
	if isNotFound(err) {
		obj.Close()
		return s.openLegacy(ctx, sha)
	}
	if err != nil {
		obj.Close()
		return nil, fmt.Errorf("blob %s: %w", sha, err)
	}
	// The object is read at positions (minio's Object is a ReaderAt):
	// the header first, then the ciphertext from wherever the reader
	// seeks.
	st, err := s.key.OpenAt(sha, obj, 0)
	if err != nil {
		obj.Close()
		return nil, fmt.Errorf("blob %s: %w", sha, err)
	}
	return sealedObject{st.Reader(obj, blobseal.HeaderSize, max(info.Size-blobseal.HeaderSize, 0)), obj}, nil
}

type sealedObject struct {
	io.ReadSeeker
	io.Closer
}

// openLegacy opens a plaintext blob from before sealing.
func (s *Store) openLegacy(ctx context.Context, sha string) (io.ReadSeekCloser, error) {
	obj, err := s.c.GetObject(ctx, s.bucket, s.legacyBlobKey(sha), minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", sha, err)
	}
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		if isNotFound(err) {
			return nil, platform.ErrNotFound
		}
		return nil, fmt.Errorf("blob %s: %w", sha, err)
	}
	return obj, nil
}

// PurgePartials removes uploads whose newest piece is older than cutoff; it
// returns how many uploads it removed. Pieces of a blob that is complete
// (leftovers of a crash during assembly) go whatever their age.
func (s *Store) PurgePartials(ctx context.Context, cutoff time.Time) (int, error) {
	newest := map[string]time.Time{}
	var all []piece
	shaOf := map[string]string{}
	for _, dir := range []string{s.prefix + "sealed/partial/", s.prefix + "partial/"} {
		for o := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: dir, Recursive: true}) {
			if o.Err != nil {
				return 0, fmt.Errorf("purge partial uploads: %w", o.Err)
			}
			sha, _, _ := strings.Cut(strings.TrimPrefix(o.Key, dir), "/")
			if !api.IsSHA256Hex(sha) {
				continue
			}
			if o.LastModified.After(newest[sha]) {
				newest[sha] = o.LastModified
			}
			all = append(all, piece{key: o.Key})
			shaOf[o.Key] = sha
		}
	}
	n := 0
	gone := map[string]bool{}
	for sha, t := range newest {
		done, _, err := s.Complete(ctx, sha)
		if err != nil {
			return n, err
		}
		if done || t.Before(cutoff) {
			gone[sha] = true
			n++
		}
	}
	var rm []piece
	for _, p := range all {
		if gone[shaOf[p.key]] {
			rm = append(rm, p)
		}
	}
	return n, s.removePieces(ctx, rm)
}

// Walk calls fn with the address of every complete blob, for verify and
// migrate.
func (s *Store) Walk(ctx context.Context, fn func(sha string, size int64) error) error {
	// Sealed blobs, then the plaintext ones from before sealing.
	for _, dir := range []struct {
		prefix string
		header int64
	}{{s.prefix + "sealed/blobs/", blobseal.HeaderSize}, {s.prefix + "blobs/", 0}} {
		for o := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: dir.prefix, Recursive: true}) {
			if o.Err != nil {
				return fmt.Errorf("list blobs: %w", o.Err)
			}
			sha := strings.TrimPrefix(o.Key, dir.prefix)
			if !api.IsSHA256Hex(sha) {
				continue
			}
			if err := fn(sha, max(o.Size-dir.header, 0)); err != nil {
				return err
			}
		}
	}
	if s.index == nil {
		return nil
	}
	// A blob may be both packed and an object of its own (stored again
	// by migrate or Put); it is then visited twice, each copy checked.
	return s.index.WalkPacked(ctx, func(b platform.PackedBlob) error { return fn(b.SHA, b.Size) })
}

// Put stores a complete blob whose bytes the caller has; it is checked
// against its address first (for migrate).
func (s *Store) Put(ctx context.Context, sha string, data []byte) error {
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != sha {
		return platform.ErrHashMismatch
	}
	return s.putBlob(ctx, sha, data)
}

// Client is the minio client, for tests that inspect or break the bucket.
func (s *Store) Client() *minio.Client { return s.c }

// Bucket is the bucket's name.
func (s *Store) Bucket() string { return s.bucket }
