package outbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"onedoor/internal/atomicfile"
	"onedoor/pii"
)

// keyring holds the keys derived from the data key. Separate keys per use
// mean a flaw in one use (say, the lookup hash) cannot be turned against
// another (the sealed rows).
type keyring struct {
	blob  []byte      // master key of blob files (package sealed derives one per blob)
	row   cipher.AEAD // sealed columns
	idMAC []byte      // HMAC key for the ID-number lookup hash
}

// DefaultKeyFile is where the data key goes when no path is configured: a
// sibling of the data directory, never inside it, so copying the data
// directory does not copy the key.
func DefaultKeyFile(dataDir string) string {
	return filepath.Clean(dataDir) + ".key"
}

// loadOrCreateKey reads the hex-encoded 32-byte data key from path, creating
// it with 0600 permissions if it does not exist and mayCreate is set. A key file that group or
// others may read is refused: that would leak every resident's data.
func loadOrCreateKey(path, dataDir string, mayCreate bool) (key []byte, created bool, err error) {
	if path == "" {
		return nil, false, fmt.Errorf("%w: no key file configured", ErrKey)
	}
	absKey, err := filepath.Abs(path)
	if err != nil {
		return nil, false, fmt.Errorf("outbox: key file path: %w", err)
	}
	absDir, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, false, fmt.Errorf("outbox: data dir path: %w", err)
	}
	if rel, err := filepath.Rel(absDir, absKey); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, false, fmt.Errorf("%w: key file %s is inside the data directory %s", ErrKey, path, dataDir)
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && mayCreate {
		key, err := createKey(path)
		if errors.Is(err, fs.ErrExist) {
			// Another process created it a moment ago: use theirs.
			return loadOrCreateKey(path, dataDir, false)
		}
		return key, err == nil, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrKey, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrKey, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("%w: key file %s has mode %04o; it must be readable by its owner only (chmod 600)",
			ErrKeyPermissions, path, st.Mode().Perm())
	}
	if !st.Mode().IsRegular() {
		return nil, false, fmt.Errorf("%w: key file %s is not a regular file", ErrKey, path)
	}
	buf := make([]byte, 200)
	n, _ := f.Read(buf)
	key, err = hex.DecodeString(strings.TrimSpace(string(buf[:n])))
	if err != nil || len(key) != 32 {
		return nil, false, fmt.Errorf("%w: key file %s must hold 64 hex digits (32 bytes)", ErrKey, path)
	}
	return key, false, nil
}

func createKey(path string) ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("outbox: generate data key: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	// Written whole under a temporary name, then linked into place: the
	// link fails if another process got there first, and nobody ever sees
	// a key file that is empty or half written.
	if err := atomicfile.WriteNew(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: write key file: %w", ErrKey, mapDiskFull(err))
	}
	return key, nil
}

func newKeyring(dataKey []byte) (*keyring, error) {
	derive := func(info string) ([]byte, error) {
		return hkdf.Key(sha256.New, dataKey, nil, "onedoor outbox v1 "+info, 32)
	}
	gcm := func(info string) (cipher.AEAD, error) {
		k, err := derive(info)
		if err != nil {
			return nil, err
		}
		b, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		return cipher.NewGCM(b)
	}
	blob, err := derive("blob")
	if err != nil {
		return nil, fmt.Errorf("outbox: derive blob key: %w", err)
	}
	row, err := gcm("row")
	if err != nil {
		return nil, fmt.Errorf("outbox: derive row key: %w", err)
	}
	idMAC, err := derive("id-lookup")
	if err != nil {
		return nil, fmt.Errorf("outbox: derive lookup key: %w", err)
	}
	return &keyring{blob: blob, row: row, idMAC: idMAC}, nil
}

// sealRow encrypts a column value; aad binds it to its row (the submission
// UUID) so a sealed value copied into another row does not decrypt.
func (k *keyring) sealRow(plain []byte, aad string) ([]byte, error) {
	nonce := make([]byte, k.row.NonceSize(), k.row.NonceSize()+len(plain)+k.row.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("outbox: nonce: %w", err)
	}
	return k.row.Seal(nonce, nonce, plain, []byte(aad)), nil
}

func (k *keyring) openRow(sealed []byte, aad string) ([]byte, error) {
	ns := k.row.NonceSize()
	if len(sealed) < ns+k.row.Overhead() {
		return nil, fmt.Errorf("%w: sealed value too short", ErrCorrupt)
	}
	p, err := k.row.Open(nil, sealed[:ns], sealed[ns:], []byte(aad))
	if err != nil {
		return nil, fmt.Errorf("%w: sealed value fails authentication", ErrCorrupt)
	}
	return p, nil
}

// idHash is the lookup key for an ID number: an HMAC, so someone holding
// the database but not the key cannot test candidate numbers against it.
func (k *keyring) idHash(idNumber string) []byte {
	m := hmac.New(sha256.New, k.idMAC)
	m.Write([]byte(normalizeID(idNumber)))
	return m.Sum(nil)
}

func normalizeID(s string) string {
	return strings.ToUpper(strings.TrimSpace(s))
}

// MaskPersonal masks anything shaped like an ID number or a mobile phone
// number in free text (error reasons from the platform, for instance)
// before it is stored in clear or shown: defence in depth, in case a
// message echoes what the resident typed.
func MaskPersonal(text string) string { return pii.MaskText(text) }
