package api

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Credential algorithms. A kiosk enrolled with a key pair signs with its
// private key and the platform keeps only the public key; AlgHMAC is the
// shared token of kiosks added before key pairs, kept until they enrol.
const (
	AlgHMAC    = "hmac-sha256"
	AlgEd25519 = "ed25519"
	AlgSM2     = "sm2" // SM2 with SM3 (GB/T 32918), where 国密 is required
)

// PathEnrol is where a kiosk trades its one-time enrolment code for
// registering its public key.
const PathEnrol = Base + "/enrol"

// EnrolRequest is the body of POST /api/v1/enrol. The request carries the
// usual five authentication headers, signed with the new private key: the
// platform checks that signature against PublicKey (proof the kiosk holds
// the key) and Code against the code `platformd kiosk add` printed.
type EnrolRequest struct {
	KioskID   string `json:"kiosk_id"`
	Code      string `json:"code"`       // as printed; NormalizeEnrolCode applies
	Algorithm string `json:"algorithm"`  // AlgEd25519 or AlgSM2
	PublicKey string `json:"public_key"` // lowercase hex: 32 bytes (Ed25519) or 65 (SM2, uncompressed)
}

// EnrolResponse is the 201 body of POST /api/v1/enrol (also the answer to
// the same request repeated after a lost answer).
type EnrolResponse struct {
	KioskID    string    `json:"kiosk_id"`
	Algorithm  string    `json:"algorithm"`
	EnrolledAt time.Time `json:"enrolled_at"`
}

// EnrolCodeLen is the number of Crockford base32 characters of an
// enrolment code: 20, 100 random bits, printed as four groups of five.
const EnrolCodeLen = 20

// NewEnrolCode returns a fresh one-time enrolment code, formatted.
func NewEnrolCode() (string, error) {
	var b [EnrolCodeLen]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("enrolment code: %w", err)
	}
	var out strings.Builder
	for i, c := range b {
		if i > 0 && i%5 == 0 {
			out.WriteByte('-')
		}
		out.WriteByte(lookupAlphabet[c&31])
	}
	return out.String(), nil
}

// NormalizeEnrolCode is NormalizeLookupCode: codes are typed by people.
func NormalizeEnrolCode(s string) string { return NormalizeLookupCode(s) }

// Signer makes the X-OneDoor-Signature of a string to sign.
type Signer interface {
	Algorithm() string
	Sign(stringToSign string) (string, error)
}

// HMACSigner signs with a shared token (AlgHMAC).
type HMACSigner string

func (t HMACSigner) Algorithm() string { return AlgHMAC }

func (t HMACSigner) Sign(s string) (string, error) { return Signature(string(t), s), nil }

// Ed25519Signer signs with an Ed25519 private key: the signature header is
// the 64-byte signature in lowercase hex.
type Ed25519Signer struct{ Key ed25519.PrivateKey }

func (e Ed25519Signer) Algorithm() string { return AlgEd25519 }

func (e Ed25519Signer) Sign(s string) (string, error) {
	if len(e.Key) != ed25519.PrivateKeySize {
		return "", errors.New("sign: not an Ed25519 private key")
	}
	return hex.EncodeToString(ed25519.Sign(e.Key, []byte(s))), nil
}

// PublicKeyHex is the value of EnrolRequest.PublicKey for e's key.
func (e Ed25519Signer) PublicKeyHex() string {
	return hex.EncodeToString(e.Key.Public().(ed25519.PublicKey))
}

// SignWith sets the five authentication headers on req with signer; see
// Sign.
func SignWith(req *http.Request, kioskID string, signer Signer, bodySHA256 string, now time.Time, nonce string) error {
	if kioskID == "" || signer == nil {
		return fmt.Errorf("sign: kiosk id and credential are required")
	}
	if bodySHA256 == "" {
		bodySHA256 = EmptySHA256
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	sig, err := signer.Sign(StringToSign(req.Method, requestURI(req), ts, nonce, bodySHA256))
	if err != nil {
		return err
	}
	req.Header.Set(HeaderKiosk, kioskID)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderContentSHA256, bodySHA256)
	req.Header.Set(HeaderSignature, sig)
	return nil
}

// Credential is what the platform holds to check one kiosk's signatures:
// the token (AlgHMAC, legacy) or the public key in hex.
type Credential struct {
	Algorithm string
	Key       string
}

// KeyVerifier checks a signature made with a public key of an algorithm
// other than Ed25519 (SM2 is plugged in by the platform, which imports the
// library, so this package stays standard-library only).
type KeyVerifier func(publicKeyHex, stringToSign, signatureHex string) bool

// VerifyCredential is Verify for any credential: HMAC tokens, Ed25519
// public keys, and others through extra (by algorithm).
func VerifyCredential(req *http.Request, c Credential, bodySHA256 string, now time.Time, extra map[string]KeyVerifier) (Auth, error) {
	a, err := ParseAuth(req)
	if err != nil {
		return Auth{}, err
	}
	sts := StringToSign(req.Method, requestURI(req), req.Header.Get(HeaderTimestamp), a.Nonce, a.ContentSHA256)
	ok := false
	switch c.Algorithm {
	case AlgHMAC, "":
		ok = hmac.Equal([]byte(Signature(c.Key, sts)), []byte(a.Signature))
	case AlgEd25519:
		ok = VerifyEd25519(c.Key, sts, a.Signature)
	default:
		if v := extra[c.Algorithm]; v != nil {
			ok = v(c.Key, sts, a.Signature)
		}
	}
	if !ok {
		return a, ErrBadSignature
	}
	if d := now.Sub(a.Timestamp); d > MaxSkew || d < -MaxSkew {
		return a, fmt.Errorf("%w (off by %s)", ErrClockSkew, d.Round(time.Second))
	}
	if bodySHA256 != "" && a.ContentSHA256 != UnsignedPayload && a.ContentSHA256 != bodySHA256 {
		return a, ErrBodyHash
	}
	return a, nil
}

// VerifyEd25519 checks a hex Ed25519 signature with a hex public key.
func VerifyEd25519(publicKeyHex, stringToSign, signatureHex string) bool {
	pub, err := hex.DecodeString(publicKeyHex)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return false
	}
	sig, err := hex.DecodeString(signatureHex)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return false
	}
	return ed25519.Verify(ed25519.PublicKey(pub), []byte(stringToSign), sig)
}

// ValidPublicKey checks the form of an enrolling key.
func ValidPublicKey(alg, keyHex string) error {
	b, err := hex.DecodeString(keyHex)
	if err != nil || strings.ToLower(keyHex) != keyHex {
		return invalid("public_key", "must be lowercase hex")
	}
	switch alg {
	case AlgEd25519:
		if len(b) != ed25519.PublicKeySize {
			return invalid("public_key", "an Ed25519 key is 32 bytes")
		}
	case AlgSM2:
		if len(b) != 65 || b[0] != 4 {
			return invalid("public_key", "an SM2 key is 65 bytes, uncompressed (04 X Y)")
		}
	default:
		return invalid("algorithm", "must be %q or %q", AlgEd25519, AlgSM2)
	}
	return nil
}
