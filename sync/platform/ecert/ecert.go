// Package ecert is the platform's e-certificate (电子证照) library: the
// certificate model, its electronic seal (电子签章) and the narrow interface
// the platform uses to reach a library, so the province's library can
// replace the reference one kept in the platform's own store.
//
// A certificate carries its issuing agency's seal: an SM2 signature (GB/T
// 32918, with the default user id) over SM3 of the certificate's canonical
// encoding (Canonical). The holder's ID number is never kept: only a keyed
// hash (for lookup) and the masked form (for people). Agencies' public
// keys are configured in the platform (Trust); Verify names why a
// certificate fails: ErrUnknownAgency, ErrBadSeal, ErrExpired,
// ErrNotYetValid or ErrMalformed.
package ecert

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"
)

// Reasons a certificate fails verification. Callers show the error's text,
// which names the reason and the certificate.
var (
	ErrMalformed     = errors.New("malformed certificate")
	ErrUnknownAgency = errors.New("unknown agency key")
	ErrBadSeal       = errors.New("seal does not match the certificate (changed or damaged)")
	ErrExpired       = errors.New("certificate expired")
	ErrNotYetValid   = errors.New("certificate not yet valid")
	// ErrNotFound: no certificate with that number (or holder).
	ErrNotFound = errors.New("certificate not found")
	// ErrExists: a different certificate already has that number.
	ErrExists = errors.New("another certificate has this number")
	// ErrNoSigner: the platform holds no private key of the agency, so it
	// cannot issue for it.
	ErrNoSigner = errors.New("no signing key for the agency")
)

// SealAlgorithm is the only seal algorithm: SM2 signature, SM3 digest.
const SealAlgorithm = "SM2-SM3"

// DateLayout is the form of every date of a certificate.
const DateLayout = "2006-01-02"

// China is the time zone certificate dates are read in.
var china = time.FixedZone("CST", 8*3600)

// Certificate is one e-certificate.
type Certificate struct {
	TypeCode string `json:"type_code"` // 证照类型代码, e.g. 11440000MB2D00001L002
	TypeName string `json:"type_name"` // e.g. 广东省居住证
	Number   string `json:"number"`    // 证照编号, unique in the library
	Holder   Holder `json:"holder"`
	Agency   Agency `json:"agency"`
	// IssuedOn, ValidFrom and ValidUntil are DateLayout dates; an empty
	// ValidUntil is 长期 (no end).
	IssuedOn   string  `json:"issued_on"`
	ValidFrom  string  `json:"valid_from"`
	ValidUntil string  `json:"valid_until,omitempty"`
	Fields     []Field `json:"fields,omitempty"`
	Image      Image   `json:"image"`
	Seal       Seal    `json:"seal"`
}

// Holder is whom the certificate belongs to, without the ID number.
type Holder struct {
	IDHash   string `json:"id_hash"`   // HolderHash of the ID number (lowercase hex)
	IDMasked string `json:"id_masked"` // e.g. 4419**********1231
	Name     string `json:"name"`      // masked, e.g. 张*
}

// Agency is the issuing body.
type Agency struct {
	Code string `json:"code"` // 统一社会信用代码
	Name string `json:"name"`
}

// Field is one data field of a certificate, in the order issued.
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Image is the rendered certificate people read.
type Image struct {
	ContentType string `json:"content_type"` // image/png or application/pdf
	Data        []byte `json:"data"`
}

// Seal is the agency's electronic seal over the certificate.
type Seal struct {
	Algorithm string `json:"algorithm"` // SealAlgorithm
	KeyID     string `json:"key_id"`    // KeyID of the agency's public key
	Signature []byte `json:"signature"` // ASN.1 DER SM2 signature
}

// Library is what the platform asks of an e-certificate library: a
// holder's certificates, one certificate, and whether one is intact and
// valid. The reference implementation is Reference; a provincial library
// reached over its own API is another.
type Library interface {
	// Query returns the certificates of the holder with this ID number
	// (valid or not; the caller verifies).
	Query(ctx context.Context, idNumber string) ([]Certificate, error)
	// Fetch returns the certificate with this number, or ErrNotFound.
	Fetch(ctx context.Context, number string) (Certificate, error)
	// Verify checks the seal against the configured agency keys and the
	// validity on the day of at.
	Verify(ctx context.Context, c Certificate, at time.Time) error
	// HolderHash is the holder key a certificate of idNumber carries.
	HolderHash(idNumber string) string
}

// Issuer issues sealed certificates (approvals yield them).
type Issuer interface {
	Issue(ctx context.Context, d Draft) (Certificate, error)
}

// Draft is a certificate to issue: the library fills the holder from the
// ID number, numbers it, renders its image and seals it.
type Draft struct {
	TypeCode, TypeName string
	IDNumber, Name     string
	Agency             Agency
	Number             string // empty: the library makes one
	IssuedOn           time.Time
	ValidDays          int // 0: 长期
	Fields             []Field
}

// Canonical is the byte string the seal signs: a version tag, then every
// signed value length-prefixed (unsigned varint) in a fixed order, the
// image by its SM3 digest. Any change of a signed value changes it, and no
// two different certificates encode alike.
func Canonical(c Certificate) []byte {
	var b bytes.Buffer
	b.WriteString("onedoor-ecert-v1\n")
	put := func(s string) {
		var n [binary.MaxVarintLen64]byte
		b.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		b.WriteString(s)
	}
	put(c.TypeCode)
	put(c.TypeName)
	put(c.Number)
	put(c.Holder.IDHash)
	put(c.Holder.IDMasked)
	put(c.Holder.Name)
	put(c.Agency.Code)
	put(c.Agency.Name)
	put(c.IssuedOn)
	put(c.ValidFrom)
	put(c.ValidUntil)
	put(fmt.Sprint(len(c.Fields)))
	for _, f := range c.Fields {
		put(f.Name)
		put(f.Value)
	}
	put(c.Image.ContentType)
	img := sm3.Sum(c.Image.Data)
	put(string(img[:]))
	put(c.Seal.Algorithm)
	put(c.Seal.KeyID)
	return b.Bytes()
}

// Check reports what is missing or misshapen, as ErrMalformed.
func Check(c Certificate) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, a...))
	}
	switch {
	case c.TypeCode == "" || c.TypeName == "":
		return bad("no type")
	case c.Number == "" || len(c.Number) > 64:
		return bad("number must be 1 to 64 bytes")
	case len(c.Holder.IDHash) != 64:
		return bad("holder id_hash must be 64 hex digits")
	case c.Agency.Code == "":
		return bad("no agency code")
	case c.Seal.Algorithm != SealAlgorithm:
		return bad("seal algorithm must be %s", SealAlgorithm)
	case len(c.Seal.Signature) == 0 || c.Seal.KeyID == "":
		return bad("no seal")
	}
	for _, d := range []struct{ name, v string }{{"issued_on", c.IssuedOn}, {"valid_from", c.ValidFrom}, {"valid_until", c.ValidUntil}} {
		if d.v == "" && d.name == "valid_until" {
			continue
		}
		if _, err := time.ParseInLocation(DateLayout, d.v, china); err != nil {
			return bad("%s: %q is not a date", d.name, d.v)
		}
	}
	return nil
}

// Validity checks the certificate's dates on the day (China time) of at.
func Validity(c Certificate, at time.Time) error {
	day := at.In(china).Format(DateLayout)
	if c.ValidFrom != "" && day < c.ValidFrom {
		return fmt.Errorf("%w: %s is valid from %s", ErrNotYetValid, c.Number, c.ValidFrom)
	}
	if c.ValidUntil != "" && day > c.ValidUntil {
		return fmt.Errorf("%w: %s was valid until %s", ErrExpired, c.Number, c.ValidUntil)
	}
	return nil
}

// Verify checks c's shape, its seal against trust and its validity on the
// day of at. The error names the first reason it fails.
func Verify(c Certificate, trust *Trust, at time.Time) error {
	if err := Check(c); err != nil {
		return err
	}
	k, ok := trust.Key(c.Agency.Code, c.Seal.KeyID)
	if !ok {
		return fmt.Errorf("%w: agency %s key %s is not configured on this platform", ErrUnknownAgency, c.Agency.Code, c.Seal.KeyID)
	}
	if !k.verify(Canonical(c), c.Seal.Signature) {
		return fmt.Errorf("%w: %s", ErrBadSeal, c.Number)
	}
	return Validity(c, at)
}

// Reason is a short name of why err failed verification, for logs, exit
// messages and the back office: "unknown agency key", "seal mismatch",
// "expired", "not yet valid", "malformed", or "" for nil.
func Reason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrUnknownAgency):
		return "unknown agency key"
	case errors.Is(err, ErrBadSeal):
		return "seal mismatch"
	case errors.Is(err, ErrExpired):
		return "expired"
	case errors.Is(err, ErrNotYetValid):
		return "not yet valid"
	case errors.Is(err, ErrMalformed):
		return "malformed"
	case errors.Is(err, ErrNotFound):
		return "not found"
	}
	return "error"
}

// Summary is what a kiosk and the resident see of a certificate: no image,
// no seal, the number masked.
func MaskNumber(n string) string {
	r := []rune(n)
	if len(r) <= 6 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:3]) + strings.Repeat("*", len(r)-6) + string(r[len(r)-3:])
}
