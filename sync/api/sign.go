package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Authentication headers. Every request to /api/v1 carries all five.
const (
	HeaderKiosk         = "X-OneDoor-Kiosk"
	HeaderTimestamp     = "X-OneDoor-Timestamp"      // unix seconds
	HeaderNonce         = "X-OneDoor-Nonce"          // 16 random bytes, lowercase hex
	HeaderContentSHA256 = "X-OneDoor-Content-SHA256" // hex SHA-256 of the body
	HeaderSignature     = "X-OneDoor-Signature"      // hex HMAC-SHA256, see StringToSign
)

// EmptySHA256 is the hex SHA-256 of the empty string: the content hash of a
// request without a body.
const EmptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// UnsignedPayload may stand in for the content hash on a blob PATCH only.
// The blob is content-addressed and verified as a whole on completion, so the
// platform can keep a body cut short by a dropped link (tus semantics) instead
// of discarding the whole chunk because its hash no longer matches.
const UnsignedPayload = "UNSIGNED-PAYLOAD"

// MaxSkew is how far a request's timestamp may be from the platform's clock.
// The platform remembers nonces for this long on each side, so a captured
// request cannot be replayed.
const MaxSkew = 5 * time.Minute

// Sentinel errors of Verify (and of the platform's nonce check). The platform
// answers 401 for all of them; the kiosk acts on ErrClockSkew by warning the
// technician.
var (
	ErrUnsigned     = errors.New("request is not signed")
	ErrBadSignature = errors.New("bad signature")
	ErrClockSkew    = errors.New("clock skew: timestamp more than 5 minutes from the platform's clock")
	ErrBodyHash     = errors.New("body does not match X-OneDoor-Content-SHA256")
	ErrReplay       = errors.New("nonce already used (replayed request)")
	ErrUnknownKiosk = errors.New("unknown kiosk")
)

// Auth is the parsed authentication headers of a request.
type Auth struct {
	KioskID       string
	Timestamp     time.Time
	Nonce         string
	ContentSHA256 string
	Signature     string
}

// BodySHA256 returns the lowercase hex SHA-256 of b, the value of
// X-OneDoor-Content-SHA256.
func BodySHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// NewNonce returns 16 random bytes as lowercase hex. Each attempt of a
// request, retries included, needs a fresh one.
func NewNonce() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("nonce: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// StringToSign is the canonical text the signature covers:
// METHOD "\n" RequestURI "\n" timestamp "\n" nonce "\n" contentSHA256.
func StringToSign(method, requestURI, timestamp, nonce, contentSHA256 string) string {
	return method + "\n" + requestURI + "\n" + timestamp + "\n" + nonce + "\n" + contentSHA256
}

// Signature returns hex(HMAC-SHA256(token, stringToSign)); the key is the
// token exactly as issued (its hex text, not the decoded bytes).
func Signature(token, stringToSign string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte(stringToSign))
	return hex.EncodeToString(m.Sum(nil))
}

// requestURI is the path and query as they travel on the wire: what the
// client's transport writes and what the server sees in r.RequestURI.
func requestURI(req *http.Request) string {
	if req.RequestURI != "" {
		return req.RequestURI
	}
	return req.URL.RequestURI()
}

// Sign sets the five authentication headers on req. bodySHA256 is the hex
// SHA-256 of the body that will be sent (EmptySHA256 when none, or
// UnsignedPayload on a blob PATCH). Call it again for every attempt with a
// fresh nonce and the current time.
func Sign(req *http.Request, kioskID, token string, bodySHA256 string, now time.Time, nonce string) error {
	if kioskID == "" || token == "" {
		return fmt.Errorf("sign: kiosk id and token are required")
	}
	return SignWith(req, kioskID, HMACSigner(token), bodySHA256, now, nonce)
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// IsSHA256Hex reports whether s is 64 lowercase hex digits.
func IsSHA256Hex(s string) bool { return isHex(s, 64) }

// ParseAuth reads the authentication headers without checking the
// signature, so the platform can look up the kiosk's token first.
func ParseAuth(req *http.Request) (Auth, error) {
	a := Auth{
		KioskID:       req.Header.Get(HeaderKiosk),
		Nonce:         req.Header.Get(HeaderNonce),
		ContentSHA256: req.Header.Get(HeaderContentSHA256),
		Signature:     req.Header.Get(HeaderSignature),
	}
	ts := req.Header.Get(HeaderTimestamp)
	if a.KioskID == "" || ts == "" || a.Nonce == "" || a.ContentSHA256 == "" || a.Signature == "" {
		return Auth{}, ErrUnsigned
	}
	if len(a.KioskID) > 64 || strings.ContainsAny(a.KioskID, "\r\n") {
		return Auth{}, fmt.Errorf("%w: malformed %s", ErrUnsigned, HeaderKiosk)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return Auth{}, fmt.Errorf("%w: malformed %s", ErrUnsigned, HeaderTimestamp)
	}
	a.Timestamp = time.Unix(sec, 0)
	if !isHex(a.Nonce, 32) {
		return Auth{}, fmt.Errorf("%w: %s must be 32 lowercase hex digits", ErrUnsigned, HeaderNonce)
	}
	if a.ContentSHA256 != UnsignedPayload && !IsSHA256Hex(a.ContentSHA256) {
		return Auth{}, fmt.Errorf("%w: malformed %s", ErrUnsigned, HeaderContentSHA256)
	}
	// 64 hex digits for HMAC-SHA256, 128 for Ed25519, up to 144 for a
	// DER-encoded SM2 signature.
	if n := len(a.Signature); n < 64 || n > 160 || n%2 != 0 || !isHex(a.Signature, n) {
		return Auth{}, fmt.Errorf("%w: malformed %s", ErrUnsigned, HeaderSignature)
	}
	return a, nil
}

// Verify checks req's signature with the kiosk's token and its timestamp
// against now. When bodySHA256 is not empty it must equal the signed content
// hash (unless the request was signed with UnsignedPayload, which the caller
// must then reject or handle itself). A server that streams the body passes ""
// and compares Auth.ContentSHA256 once the body is read. Verify does not
// remember nonces: the caller checks Auth.Nonce for replay.
func Verify(req *http.Request, token string, bodySHA256 string, now time.Time) (Auth, error) {
	return VerifyCredential(req, Credential{Algorithm: AlgHMAC, Key: token}, bodySHA256, now, nil)
}
