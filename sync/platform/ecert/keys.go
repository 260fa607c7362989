package ecert

import (
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"

	"onedoor/internal/atomicfile"
)

// AgencyKey is an agency's public seal key as the platform configures it:
// the "agency certificate" an exported certificate carries.
type AgencyKey struct {
	Code      string `json:"agency_code"`
	Name      string `json:"agency_name"`
	Algorithm string `json:"algorithm"`  // SealAlgorithm
	PublicKey string `json:"public_key"` // lowercase hex, 65 bytes uncompressed
	KeyID     string `json:"key_id"`     // KeyID(public key)
	pub       *ecdsa.PublicKey
}

// KeyID names a public key: the first 16 bytes of SM3 of its uncompressed
// form, in hex.
func KeyID(pub []byte) string {
	s := sm3.Sum(pub)
	return hex.EncodeToString(s[:16])
}

// ParseAgencyKey checks an agency key record (the public key is on the
// curve, the key id is its own).
func ParseAgencyKey(k AgencyKey) (AgencyKey, error) {
	raw, err := hex.DecodeString(k.PublicKey)
	if err != nil || len(raw) != 65 {
		return k, fmt.Errorf("%w: agency %s: public_key must be 65 bytes in hex", ErrMalformed, k.Code)
	}
	if k.Algorithm != SealAlgorithm || k.Code == "" {
		return k, fmt.Errorf("%w: agency key needs agency_code and algorithm %s", ErrMalformed, SealAlgorithm)
	}
	pub, err := sm2.NewPublicKey(raw)
	if err != nil {
		return k, fmt.Errorf("%w: agency %s: %v", ErrMalformed, k.Code, err)
	}
	if k.KeyID != KeyID(raw) {
		return k, fmt.Errorf("%w: agency %s: key_id is not the key's", ErrMalformed, k.Code)
	}
	k.pub = pub
	return k, nil
}

func (k AgencyKey) verify(msg, sig []byte) bool {
	return k.pub != nil && sm2.VerifyASN1WithSM2(k.pub, nil, msg, sig)
}

// Equal reports whether two records name the same agency and key.
func (k AgencyKey) Equal(o AgencyKey) bool {
	return k.Code == o.Code && k.Algorithm == o.Algorithm && k.PublicKey == o.PublicKey
}

// Trust is the set of agency keys the platform accepts seals from.
type Trust struct {
	keys map[string]AgencyKey // by code + "/" + key id
}

// NewTrust returns a trust set holding keys (each checked).
func NewTrust(keys ...AgencyKey) (*Trust, error) {
	t := &Trust{keys: map[string]AgencyKey{}}
	for _, k := range keys {
		if err := t.Add(k); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Add trusts one more agency key.
func (t *Trust) Add(k AgencyKey) error {
	k, err := ParseAgencyKey(k)
	if err != nil {
		return err
	}
	t.keys[k.Code+"/"+k.KeyID] = k
	return nil
}

// Key returns the trusted key of agency code with this key id.
func (t *Trust) Key(code, keyID string) (AgencyKey, bool) {
	if t == nil {
		return AgencyKey{}, false
	}
	k, ok := t.keys[code+"/"+keyID]
	return k, ok
}

// Keys lists the trusted keys by agency code.
func (t *Trust) Keys() []AgencyKey {
	var out []AgencyKey
	for _, k := range t.keys {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code+out[i].KeyID < out[j].Code+out[j].KeyID })
	return out
}

// Signer seals certificates for one agency.
type Signer struct {
	Key  AgencyKey
	priv *sm2.PrivateKey
}

// NewSigner makes a fresh SM2 key pair for an agency.
func NewSigner(code, name string) (*Signer, error) {
	priv, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("agency key: %w", err)
	}
	return signerFor(code, name, priv)
}

func signerFor(code, name string, priv *sm2.PrivateKey) (*Signer, error) {
	pub, err := sm2.PublicKeyToECDH(&priv.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("agency key: %w", err)
	}
	raw := pub.Bytes()
	k, err := ParseAgencyKey(AgencyKey{Code: code, Name: name, Algorithm: SealAlgorithm, PublicKey: hex.EncodeToString(raw), KeyID: KeyID(raw)})
	if err != nil {
		return nil, err
	}
	return &Signer{Key: k, priv: priv}, nil
}

// Seal sets c's agency and seal: the signature over Canonical(c).
func (s *Signer) Seal(c Certificate) (Certificate, error) {
	c.Agency = Agency{Code: s.Key.Code, Name: s.Key.Name}
	c.Seal = Seal{Algorithm: SealAlgorithm, KeyID: s.Key.KeyID}
	sig, err := s.priv.SignWithSM2(rand.Reader, nil, Canonical(c))
	if err != nil {
		return c, fmt.Errorf("sealing %s: %w", c.Number, err)
	}
	c.Seal.Signature = sig
	return c, nil
}

// signerFile is how an agency's private key is kept (mode 0600).
type signerFile struct {
	AgencyKey
	PrivateKey string `json:"private_key"` // hex, 32 bytes
}

// Keyring is a directory of agency keys: CODE.pub (the public record,
// trusted) and, where the platform issues for the agency, CODE.key (its
// private key, mode 0600).
type Keyring struct{ Dir string }

func codeFile(code string) error {
	if code == "" || len(code) > 64 || strings.ContainsAny(code, "/\\.") || strings.TrimSpace(code) != code {
		return fmt.Errorf("agency code %q: 1-64 characters, no '/', '\\' or '.'", code)
	}
	return nil
}

// Generate makes a key pair for agency code, writes both files and
// returns the public record. An agency that has a key keeps it
// (ErrExists): re-keying would invalidate every seal it made.
func (kr Keyring) Generate(code, name string) (AgencyKey, error) {
	if err := codeFile(code); err != nil {
		return AgencyKey{}, err
	}
	if err := os.MkdirAll(kr.Dir, 0o700); err != nil {
		return AgencyKey{}, fmt.Errorf("keyring: %w", err)
	}
	if _, err := os.Stat(filepath.Join(kr.Dir, code+".pub")); err == nil {
		return AgencyKey{}, fmt.Errorf("agency %s: %w", code, ErrExists)
	}
	s, err := NewSigner(code, name)
	if err != nil {
		return AgencyKey{}, err
	}
	priv, _ := json.MarshalIndent(signerFile{AgencyKey: s.Key, PrivateKey: hex.EncodeToString(s.priv.D.FillBytes(make([]byte, 32)))}, "", "  ")
	// The private key is created exclusively: two processes making the
	// same agency's key at once (platform instances starting together)
	// must not end up signing with different keys.
	if err := atomicfile.WriteNew(filepath.Join(kr.Dir, code+".key"), priv, 0o600); errors.Is(err, fs.ErrExist) {
		return AgencyKey{}, fmt.Errorf("agency %s: %w", code, ErrExists)
	} else if err != nil {
		return AgencyKey{}, err
	}
	pub, _ := json.MarshalIndent(s.Key, "", "  ")
	if err := atomicfile.Write(filepath.Join(kr.Dir, code+".pub"), pub, 0o644); err != nil {
		return AgencyKey{}, err
	}
	return s.Key, nil
}

// Trust reads every CODE.pub of the directory (none: an empty trust).
func (kr Keyring) Trust() (*Trust, error) {
	t, _ := NewTrust()
	files, err := filepath.Glob(filepath.Join(kr.Dir, "*.pub"))
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("keyring: %w", err)
		}
		var k AgencyKey
		if err := json.Unmarshal(b, &k); err != nil {
			return nil, fmt.Errorf("keyring %s: %w", f, err)
		}
		if err := t.Add(k); err != nil {
			return nil, fmt.Errorf("keyring %s: %w", f, err)
		}
	}
	return t, nil
}

// Signer reads agency code's private key, or ErrNoSigner.
func (kr Keyring) Signer(code string) (*Signer, error) {
	if err := codeFile(code); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(kr.Dir, code+".key"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("agency %s: %w", code, ErrNoSigner)
	}
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	var sf signerFile
	if err := json.Unmarshal(b, &sf); err != nil {
		return nil, fmt.Errorf("keyring %s.key: %w", code, err)
	}
	d, err := hex.DecodeString(sf.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("keyring %s.key: %w", code, err)
	}
	priv, err := sm2.NewPrivateKey(d)
	if err != nil {
		return nil, fmt.Errorf("keyring %s.key: %w", code, err)
	}
	return signerFor(sf.Code, sf.Name, priv)
}

// HolderKey is the secret of the keyed hash of holders' ID numbers.
type HolderKey []byte

// LoadOrCreateHolderKey reads the holder key (64 hex digits) from path,
// making it (mode 0600) when absent.
func LoadOrCreateHolderKey(path string) (HolderKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		k := make([]byte, 32)
		if _, err := io.ReadFull(rand.Reader, k); err != nil {
			return nil, fmt.Errorf("holder key: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("holder key: %w", err)
		}
		// Created exclusively: platform instances starting together on one
		// key folder all end up with the first one's key, or their keyed
		// hashes would disagree.
		err := atomicfile.WriteNew(path, []byte(hex.EncodeToString(k)+"\n"), 0o600)
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreateHolderKey(path)
		}
		if err != nil {
			return nil, fmt.Errorf("holder key: %w", err)
		}
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("holder key: %w", err)
	}
	k, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) != 32 {
		return nil, fmt.Errorf("holder key %s: want 64 hex digits", path)
	}
	return k, nil
}

// Hash is the keyed hash (HMAC-SM3) of an ID number, upper case, trimmed.
func (k HolderKey) Hash(idNumber string) string {
	m := hmac.New(sm3.New, k)
	m.Write([]byte("onedoor-ecert-holder-v1\n" + strings.ToUpper(strings.TrimSpace(idNumber))))
	return hex.EncodeToString(m.Sum(nil))
}
