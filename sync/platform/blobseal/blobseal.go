// Package blobseal is the one rule by which the platform's blob stores
// (sync/platform/blobdir, sync/platform/s3blobs) keep scanned pages
// encrypted at rest, so a copy of the blob folder or of the bucket holds
// no resident's ID card or household register.
//
// # The rule
//
// Every stored unit of blob bytes (a partial upload, a complete blob, a
// record in a pack, a piece of an upload in a bucket) is a sealed unit:
//
//	header (HeaderSize = 32 bytes)
//	    magic "ODSB" | version 1 | 3 zero bytes | nonce (16 random bytes) | check (8)
//	ciphertext, exactly as long as the plaintext
//
// Plaintext byte p is ciphertext byte HeaderSize+p, encrypted with AES-256
// in CTR mode under a key of its own for the unit:
// HMAC-SHA256(blobKey, "unit" | sha | nonce), where blobKey is
// HMAC-SHA256(dataKey, "onedoor-platform-blobs-v1") of the platform's data
// key (platform.LoadOrCreateDataKey) and sha the blob's address. The
// counter of byte p's block is p/16, so any position can be encrypted or
// decrypted by itself: a kiosk resumes an upload at any offset, with
// chunks of any size, and a reader seeks, without re-encrypting anything.
// Sizes and offsets stay those of the plaintext plus the constant header.
// Blobs are still addressed by the SHA-256 of their plaintext.
//
// # Why a random nonce per unit, when content addressing alone would do
//
// A keystream derived from the address alone would only ever encrypt the
// blob's one true content, except that the bytes of an upload in progress
// are not verified yet: a kiosk (or whoever holds its credentials) may
// send anything under an address, and the same positions are later
// written with the true page. Two copies taken at different times (daily
// backups, a versioned bucket) would then give away the page by XOR. A
// fresh random nonce for every unit written (each partial file, each
// piece object, each complete blob or pack record) means one key stream
// is only ever used for one upload's bytes. It costs 32 bytes per unit.
//
// # Why no authentication tag
//
// CTR is malleable, and an AEAD over a whole blob would not let a kiosk
// append at any offset or a reader seek; one tag per fixed frame would,
// but needs a frame format that re-encrypts the torn last frame of every
// resumed upload. The plaintext's SHA-256, the blob's address, already
// authenticates a complete blob: each store checks it on the decrypted
// bytes before a blob counts complete, pack recovery checks it before it
// re-indexes a record, and `platformd verify` re-hashes the decrypted
// bytes of every blob, so a changed ciphertext byte shows up as a damaged
// blob there. Without the key nobody can forge a ciphertext that decrypts
// to chosen bytes of a given address. Open does not re-hash (nor did it
// before: the bytes were checked when they were stored), so tampering
// with the storage between two verify runs is found by the next run, as
// it was with plaintext.
//
// The header's check (HMAC(blobKey, "check" | nonce), 8 bytes) tells a
// wrong or lost data key (ErrWrongKey) from damaged bytes, and a store
// keeps one more check value for the whole folder or bucket (Key.Check),
// so a platform started with another key refuses to start instead of
// writing under the new key beside blobs nobody can read. There is no
// keyless mode: a store opened without a key is an error (ErrNoKey), never
// plaintext.
//
// What stays visible: the blobs' addresses (file and object names, pack
// headers) and sizes, as they are in the records database. Someone who
// already holds a copy of a page can tell whether the platform has it;
// nothing of a page they do not hold is revealed.
package blobseal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// HeaderSize is the length of a sealed unit's header.
const HeaderSize = 32

// version is the only format so far; a reader refuses any other.
const version = 1

var magic = [4]byte{'O', 'D', 'S', 'B'}

var (
	// ErrNoKey means a blob store was opened without the data key.
	ErrNoKey = errors.New("the platform's data key is required for the blob store: scanned pages are kept encrypted")
	// ErrWrongKey means the bytes were sealed under another data key: the
	// key file is lost, replaced, or another platform's.
	ErrWrongKey = errors.New("sealed with another data key (the data key file is lost or wrong: restore it from its backup)")
	// ErrHeader means a sealed unit's header is damaged or not one.
	ErrHeader = errors.New("sealed blob header is damaged")
)

// Key is the blob key derived from the platform's data key.
type Key struct {
	blob []byte
}

// NewKey derives the blob key from the platform's 32-byte data key.
func NewKey(dataKey []byte) (*Key, error) {
	if len(dataKey) != 32 {
		return nil, errors.New("blobseal: the data key must be 32 bytes")
	}
	return &Key{blob: mac(dataKey, []byte("onedoor-platform-blobs-v1"))}, nil
}

func mac(key []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// Check is the key check value a store keeps once (a file in the folder,
// an object in the bucket), so opening it with another key fails at once.
// It is a MAC of a constant: it reveals nothing of the key.
func (k *Key) Check() string {
	return hex.EncodeToString(mac(k.blob, []byte("onedoor-blob-folder-check"))[:16])
}

// VerifyCheck compares a stored check value with this key's.
func (k *Key) VerifyCheck(stored string) error {
	if subtle.ConstantTimeCompare([]byte(stored), []byte(k.Check())) != 1 {
		return ErrWrongKey
	}
	return nil
}

// Header is a sealed unit's header.
type Header struct {
	Nonce [16]byte
	Check [8]byte
}

// NewHeader makes the header of a new unit, with a fresh random nonce.
func (k *Key) NewHeader() (Header, error) {
	var h Header
	if _, err := rand.Read(h.Nonce[:]); err != nil {
		return h, fmt.Errorf("blobseal: %w", err)
	}
	copy(h.Check[:], mac(k.blob, []byte("check"), h.Nonce[:]))
	return h, nil
}

// Marshal encodes the header.
func (h Header) Marshal() []byte {
	b := make([]byte, HeaderSize)
	copy(b, magic[:])
	b[4] = version
	copy(b[8:24], h.Nonce[:])
	copy(b[24:32], h.Check[:])
	return b
}

// ParseHeader decodes the first HeaderSize bytes of b.
func ParseHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < HeaderSize || [4]byte(b[:4]) != magic {
		return h, ErrHeader
	}
	if b[4] != version || b[5]|b[6]|b[7] != 0 {
		return h, fmt.Errorf("%w: version %d", ErrHeader, b[4])
	}
	copy(h.Nonce[:], b[8:24])
	copy(h.Check[:], b[24:32])
	return h, nil
}

// Stream encrypts and decrypts the bytes of one unit at any position.
type Stream struct {
	block cipher.Block
}

// Stream returns the stream of the unit with header h of blob sha (hex),
// or ErrWrongKey when h was made under another key.
func (k *Key) Stream(sha string, h Header) (*Stream, error) {
	if !hmac.Equal(h.Check[:], mac(k.blob, []byte("check"), h.Nonce[:])[:8]) {
		return nil, ErrWrongKey
	}
	addr, err := hex.DecodeString(sha)
	if err != nil || len(addr) != sha256.Size {
		return nil, fmt.Errorf("blobseal: blob address %q", sha)
	}
	block, err := aes.NewCipher(mac(k.blob, []byte("unit"), addr, h.Nonce[:]))
	if err != nil {
		return nil, fmt.Errorf("blobseal: %w", err)
	}
	return &Stream{block: block}, nil
}

// XORAt encrypts (or decrypts: it is the same) src, the plaintext bytes
// at position off, into dst, which may be src.
func (s *Stream) XORAt(dst, src []byte, off int64) {
	if len(src) == 0 {
		return
	}
	var iv [aes.BlockSize]byte
	binary.BigEndian.PutUint64(iv[8:], uint64(off)/aes.BlockSize)
	ctr := cipher.NewCTR(s.block, iv[:])
	if skip := int(off % aes.BlockSize); skip > 0 {
		var pad [aes.BlockSize]byte
		ctr.XORKeyStream(pad[:skip], pad[:skip])
	}
	ctr.XORKeyStream(dst[:len(src)], src)
}

// Seal returns the sealed unit of a whole blob held in memory.
func (k *Key) Seal(sha string, plain []byte) ([]byte, error) {
	h, err := k.NewHeader()
	if err != nil {
		return nil, err
	}
	s, err := k.Stream(sha, h)
	if err != nil {
		return nil, err
	}
	out := make([]byte, HeaderSize+len(plain))
	copy(out, h.Marshal())
	s.XORAt(out[HeaderSize:], plain, 0)
	return out, nil
}

// Open decrypts a sealed unit held in memory (header included). It does
// not check the plaintext against sha: callers that need it hash it.
func (k *Key) Open(sha string, unit []byte) ([]byte, error) {
	h, err := ParseHeader(unit)
	if err != nil {
		return nil, err
	}
	s, err := k.Stream(sha, h)
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(unit)-HeaderSize)
	s.XORAt(out, unit[HeaderSize:], 0)
	return out, nil
}

// OpenAt reads the header of the unit that starts at base in ra and
// returns its stream.
func (k *Key) OpenAt(sha string, ra io.ReaderAt, base int64) (*Stream, error) {
	var b [HeaderSize]byte
	if _, err := ra.ReadAt(b[:], base); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: too short", ErrHeader)
		}
		return nil, err
	}
	h, err := ParseHeader(b[:])
	if err != nil {
		return nil, err
	}
	return k.Stream(sha, h)
}

// Reader returns a reader of the plaintext of the unit whose ciphertext
// starts at base in ra and holds size plaintext bytes; it seeks.
func (s *Stream) Reader(ra io.ReaderAt, base, size int64) io.ReadSeeker {
	return &reader{s: s, ra: ra, base: base, size: size}
}

type reader struct {
	s          *Stream
	ra         io.ReaderAt
	base, size int64
	pos        int64
}

func (r *reader) Read(p []byte) (int, error) {
	if r.pos >= r.size {
		return 0, io.EOF
	}
	if rest := r.size - r.pos; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := r.ra.ReadAt(p, r.base+r.pos)
	r.s.XORAt(p[:n], p[:n], r.pos)
	r.pos += int64(n)
	if errors.Is(err, io.EOF) {
		if r.pos < r.size {
			err = io.ErrUnexpectedEOF // the unit is shorter than it says
		} else {
			err = nil
		}
	}
	return n, err
}

func (r *reader) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += r.pos
	case io.SeekEnd:
		off += r.size
	default:
		return r.pos, errors.New("blobseal: bad whence")
	}
	if off < 0 {
		return r.pos, errors.New("blobseal: negative position")
	}
	r.pos = off
	return off, nil
}

// Writer returns a writer that encrypts what it is given as the plaintext
// from position off on and writes it at base+off of w.
func (s *Stream) Writer(w io.WriterAt, base, off int64) io.Writer {
	return &writer{s: s, w: w, base: base, pos: off}
}

type writer struct {
	s         *Stream
	w         io.WriterAt
	base, pos int64
	buf       []byte
}

func (w *writer) Write(p []byte) (int, error) {
	if cap(w.buf) < len(p) {
		w.buf = make([]byte, len(p))
	}
	ct := w.buf[:len(p)]
	w.s.XORAt(ct, p, w.pos)
	n, err := w.w.WriteAt(ct, w.base+w.pos)
	w.pos += int64(n)
	return n, err
}
