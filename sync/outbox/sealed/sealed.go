// Package sealed is the on-disk format of the outbox's encrypted blob files.
//
// A blob is sealed in fixed-size segments, each its own AES-256-GCM message,
// so that a resumed upload can start at any byte offset and decrypt only the
// segments it touches instead of the whole (possibly multi-megabyte) scan.
//
// Layout:
//
//	header (48 bytes):
//	  magic "ODSB" | version 1 | 3 reserved zero bytes |
//	  segment size uint32 BE | plaintext size uint64 BE |
//	  nonce prefix (7 random bytes) | 1 reserved zero byte |
//	  first 20 bytes of the SHA-256 of the plaintext
//	segments: ceil(size/segment) of them (one empty segment for an empty blob),
//	  each = ciphertext of up to segment size bytes + 16-byte GCM tag.
//
// Each blob is sealed under its own AES-256 key, HMAC-SHA256(master key,
// "onedoor sealed v1" ‖ nonce prefix ‖ content id), so two blobs never share
// a key and nonce even if their random prefixes collide. Segment i uses the
// nonce prefix ‖ uint32 BE i ‖ last-flag (1 on the final segment, 0
// otherwise), and the whole header as additional data. So reordering,
// truncating, extending or swapping segments between blobs, and renaming a
// blob to another content address, all fail authentication.
package sealed

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Format constants.
const (
	HeaderSize = 48
	// DefaultSegmentSize balances per-segment overhead (16 bytes of tag) with
	// how much a random-offset read must decrypt.
	DefaultSegmentSize = 64 << 10
	// MaxSegmentSize bounds what a header may ask a reader to allocate.
	MaxSegmentSize = 1 << 22
	tagSize        = 16
	prefixSize     = 7
	idSize         = 20
	version        = 1
)

const magic = "ODSB"

// Sentinel errors. ErrCorrupt covers every authentication failure: a changed
// byte, a truncated or extended file, a wrong key or a wrong content address.
var (
	ErrCorrupt = errors.New("sealed: blob corrupt or tampered")
	ErrFormat  = errors.New("sealed: not a sealed blob")
)

// Header is the parsed fixed-size header of a sealed blob.
type Header struct {
	SegmentSize int
	Size        int64 // plaintext size
	prefix      [prefixSize]byte
	id          [idSize]byte
	raw         [HeaderSize]byte
}

// Segments returns how many segments a blob of this header holds.
func (h *Header) Segments() int64 {
	if h.Size == 0 {
		return 1
	}
	return (h.Size + int64(h.SegmentSize) - 1) / int64(h.SegmentSize)
}

// SealedSize returns the size of the whole sealed file for this header.
func (h *Header) SealedSize() int64 {
	return HeaderSize + h.Size + h.Segments()*tagSize
}

// SealedSize returns the file size of a sealed blob holding size plaintext
// bytes in segments of segSize.
func SealedSize(size int64, segSize int) int64 {
	h := Header{SegmentSize: segSize, Size: size}
	return h.SealedSize()
}

// ParseHeader checks and decodes a header. It does not authenticate it: that
// happens when the first segment is opened, because the header is the
// additional data of every segment.
func ParseHeader(b []byte) (*Header, error) {
	if len(b) < HeaderSize {
		return nil, fmt.Errorf("%w: %d bytes, header needs %d", ErrFormat, len(b), HeaderSize)
	}
	if string(b[0:4]) != magic {
		return nil, fmt.Errorf("%w: bad magic", ErrFormat)
	}
	if b[4] != version {
		return nil, fmt.Errorf("%w: unsupported version %d", ErrFormat, b[4])
	}
	if b[5] != 0 || b[6] != 0 || b[7] != 0 || b[27] != 0 {
		return nil, fmt.Errorf("%w: reserved bytes set", ErrFormat)
	}
	seg := binary.BigEndian.Uint32(b[8:12])
	if seg == 0 || seg > MaxSegmentSize {
		return nil, fmt.Errorf("%w: segment size %d out of range", ErrFormat, seg)
	}
	size := binary.BigEndian.Uint64(b[12:20])
	if size > 1<<50 {
		return nil, fmt.Errorf("%w: size %d out of range", ErrFormat, size)
	}
	h := &Header{SegmentSize: int(seg), Size: int64(size)}
	copy(h.prefix[:], b[20:27])
	copy(h.id[:], b[28:48])
	copy(h.raw[:], b[:HeaderSize])
	return h, nil
}

func newHeader(segSize int, size int64, contentID []byte) (*Header, error) {
	h := &Header{SegmentSize: segSize, Size: size}
	if _, err := rand.Read(h.prefix[:]); err != nil {
		return nil, fmt.Errorf("sealed: nonce prefix: %w", err)
	}
	copy(h.id[:], contentID)
	copy(h.raw[0:4], magic)
	h.raw[4] = version
	binary.BigEndian.PutUint32(h.raw[8:12], uint32(segSize))
	binary.BigEndian.PutUint64(h.raw[12:20], uint64(size))
	copy(h.raw[20:27], h.prefix[:])
	copy(h.raw[28:48], h.id[:])
	return h, nil
}

// blobAEAD derives the blob's own AES-256-GCM from the master key.
func blobAEAD(key []byte, h *Header) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("sealed: key has %d bytes, need 32", len(key))
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("onedoor sealed v1"))
	m.Write(h.prefix[:])
	m.Write(h.id[:])
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	return cipher.NewGCM(block)
}

func (h *Header) nonce(dst []byte, seg int64) []byte {
	dst = append(dst[:0], h.prefix[:]...)
	dst = binary.BigEndian.AppendUint32(dst, uint32(seg))
	last := byte(0)
	if seg == h.Segments()-1 {
		last = 1
	}
	return append(dst, last)
}

// Seal writes plaintext to w as a sealed blob. contentID binds the blob to its
// content address (the SHA-256 of plaintext; only its first 20 bytes are
// kept). segSize 0 means DefaultSegmentSize. It returns the bytes written.
func Seal(w io.Writer, key []byte, plaintext []byte, contentID []byte, segSize int) (int64, error) {
	header, segs, err := SealSegments(key, plaintext, contentID, segSize)
	if err != nil {
		return 0, err
	}
	n, err := w.Write(header)
	total := int64(n)
	for _, seg := range segs {
		if err != nil {
			break
		}
		n, err = w.Write(seg)
		total += int64(n)
	}
	return total, err
}

// SealSegments seals plaintext like Seal but returns the header and each
// sealed segment (ciphertext and tag) apart, for a store that keeps them
// as separate records; concatenated in order they are exactly what Seal
// writes, and StreamOffset says where each sits in that stream. The
// segments share one allocation.
func SealSegments(key []byte, plaintext []byte, contentID []byte, segSize int) (header []byte, segs [][]byte, err error) {
	buf, segs, err := sealBuf(key, plaintext, contentID, segSize)
	if err != nil {
		return nil, nil, err
	}
	return buf[:HeaderSize:HeaderSize], segs, nil
}

// sealBuf seals plaintext into one buffer, the whole sealed stream, and
// returns it and its segments (slices of it).
func sealBuf(key []byte, plaintext []byte, contentID []byte, segSize int) (buf []byte, segs [][]byte, err error) {
	if segSize == 0 {
		segSize = DefaultSegmentSize
	}
	if segSize < 0 || segSize > MaxSegmentSize {
		return nil, nil, fmt.Errorf("sealed: segment size %d out of range", segSize)
	}
	if len(contentID) < idSize {
		return nil, nil, fmt.Errorf("sealed: content id has %d bytes, need %d", len(contentID), idSize)
	}
	h, err := newHeader(segSize, int64(len(plaintext)), contentID)
	if err != nil {
		return nil, nil, err
	}
	aead, err := blobAEAD(key, h)
	if err != nil {
		return nil, nil, err
	}
	buf = make([]byte, h.SealedSize())
	copy(buf, h.raw[:])
	off := int64(HeaderSize)
	var nonce []byte
	for i := int64(0); i < h.Segments(); i++ {
		start := i * int64(segSize)
		end := min(start+int64(segSize), h.Size)
		nonce = h.nonce(nonce, i)
		seg := aead.Seal(buf[off:off], nonce, plaintext[start:end], h.raw[:])
		segs = append(segs, seg)
		off += int64(len(seg))
	}
	return buf, segs, nil
}

// SealStream seals plaintext like Seal into one new buffer holding the
// whole sealed stream (header, then every segment), for a store that
// writes it with one call; the header is its first HeaderSize bytes.
func SealStream(key []byte, plaintext []byte, contentID []byte, segSize int) ([]byte, error) {
	buf, _, err := sealBuf(key, plaintext, contentID, segSize)
	return buf, err
}

// StreamOffset returns where segment i starts in the sealed stream.
func (h *Header) StreamOffset(i int64) int64 {
	return HeaderSize + i*int64(h.SegmentSize+tagSize)
}

// Reader decrypts a sealed blob on demand. It implements io.ReaderAt,
// io.Reader and io.Seeker over the plaintext; each call decrypts only the
// segments it covers and keeps the last one for sequential reads. As
// io.ReaderAt requires, parallel ReadAt calls are safe (they take turns:
// an HTTP client may still be reading one attempt's body while the next
// attempt starts).
type Reader struct {
	mu    sync.Mutex
	src   io.ReaderAt
	aead  cipher.AEAD
	h     *Header
	pos   int64
	seg   int64 // index held in plain, -1 when none
	plain []byte
	cbuf  []byte
	nonce []byte
}

// NewReader reads and checks the header of the sealed blob in src, whose
// total length is srcSize, and verifies that it belongs to contentID (the
// SHA-256 of the plaintext) by authenticating its first segment.
func NewReader(src io.ReaderAt, srcSize int64, key []byte, contentID []byte) (*Reader, error) {
	var hb [HeaderSize]byte
	if _, err := src.ReadAt(hb[:], 0); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: file shorter than a header", ErrFormat)
		}
		return nil, fmt.Errorf("sealed: read header: %w", err)
	}
	h, err := ParseHeader(hb[:])
	if err != nil {
		return nil, err
	}
	if len(contentID) < idSize || !bytes.Equal(h.id[:], contentID[:idSize]) {
		return nil, fmt.Errorf("%w: content address does not match", ErrCorrupt)
	}
	if h.SealedSize() != srcSize {
		return nil, fmt.Errorf("%w: file is %d bytes, header says %d", ErrCorrupt, srcSize, h.SealedSize())
	}
	aead, err := blobAEAD(key, h)
	if err != nil {
		return nil, err
	}
	r := &Reader{src: src, aead: aead, h: h, seg: -1}
	if err := r.load(0); err != nil {
		return nil, err
	}
	return r, nil
}

// Size returns the plaintext size.
func (r *Reader) Size() int64 { return r.h.Size }

// load decrypts segment i into r.plain.
func (r *Reader) load(i int64) error {
	if r.seg == i {
		return nil
	}
	seg := int64(r.h.SegmentSize)
	start := i * seg
	n := min(seg, r.h.Size-start)
	if r.cbuf == nil {
		r.cbuf = make([]byte, seg+tagSize)
	}
	c := r.cbuf[:n+tagSize]
	if _, err := r.src.ReadAt(c, r.h.StreamOffset(i)); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: segment %d truncated", ErrCorrupt, i)
		}
		return fmt.Errorf("sealed: read segment %d: %w", i, err)
	}
	r.nonce = r.h.nonce(r.nonce, i)
	p, err := r.aead.Open(r.plain[:0], r.nonce, c, r.h.raw[:])
	if err != nil {
		r.seg = -1
		return fmt.Errorf("%w: segment %d fails authentication", ErrCorrupt, i)
	}
	r.plain, r.seg = p, i
	return nil
}

// ReadAt reads plaintext at off, decrypting only the segments it needs.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.readAt(p, off)
}

func (r *Reader) readAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("sealed: negative offset")
	}
	n := 0
	for n < len(p) {
		if off >= r.h.Size {
			return n, io.EOF
		}
		i := off / int64(r.h.SegmentSize)
		if err := r.load(i); err != nil {
			return n, err
		}
		c := copy(p[n:], r.plain[off-i*int64(r.h.SegmentSize):])
		n += c
		off += int64(c)
	}
	return n, nil
}

// Read reads plaintext from the current position.
func (r *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.readAt(p, r.pos)
	r.pos += int64(n)
	if n > 0 && errors.Is(err, io.EOF) {
		err = nil
	}
	return n, err
}

// Seek sets the position for the next Read.
func (r *Reader) Seek(offset int64, whence int) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = r.pos + offset
	case io.SeekEnd:
		abs = r.h.Size + offset
	default:
		return 0, fmt.Errorf("sealed: bad whence %d", whence)
	}
	if abs < 0 {
		return 0, errors.New("sealed: negative position")
	}
	r.pos = abs
	return abs, nil
}
