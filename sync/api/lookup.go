package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// lookupAlphabet is Crockford's base32: no I, L, O or U, so a code read
// off paper and typed on a keypad is not misread.
const lookupAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// LookupCodeLen is the number of characters of a lookup code: 10 base32
// characters carry 50 random bits (at least 40 are required so a kiosk
// cannot guess another resident's code within its lookup rate limit).
const LookupCodeLen = 10

// NewLookupCode returns a fresh random lookup code, printed on the receipt
// as two groups of five (FormatLookupCode).
func NewLookupCode() (string, error) {
	var b [LookupCodeLen]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("lookup code: %w", err)
	}
	out := make([]byte, LookupCodeLen)
	for i, c := range b {
		out[i] = lookupAlphabet[c&31]
	}
	return string(out), nil
}

// FormatLookupCode prints a code as XXXXX-XXXXX.
func FormatLookupCode(code string) string {
	code = NormalizeLookupCode(code)
	if len(code) != LookupCodeLen {
		return code
	}
	return code[:5] + "-" + code[5:]
}

// NormalizeLookupCode turns what a resident typed into the code's canonical
// form: upper case, without spaces or dashes, with the letters Crockford
// base32 reads as digits (O→0, I and L→1) mapped.
func NormalizeLookupCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch r {
		case ' ', '-', '\t':
			continue
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// IsLookupCode reports whether s (normalized) is a well-formed lookup code.
func IsLookupCode(s string) bool {
	if len(s) != LookupCodeLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(lookupAlphabet, rune(s[i])) {
			return false
		}
	}
	return true
}

// LookupCodeSHA256 is the value of SubmissionRequest.LookupCodeSHA256 for a
// code: the lowercase hex SHA-256 of its normalized form.
func LookupCodeSHA256(code string) string {
	sum := sha256.Sum256([]byte(NormalizeLookupCode(code)))
	return hex.EncodeToString(sum[:])
}

// HolderProof is the value of HeaderHolderProof: lowercase hex
// HMAC-SHA256 keyed with the ID number read from the card (upper case, as
// printed) over "onedoor-holder-v1\n" + receipt. The platform computes the
// same from the numbers it holds for the receipt (applicant and agent); the
// proof is bound to one receipt, so it cannot be replayed for another.
func HolderProof(idNumber, receipt string) string {
	m := hmac.New(sha256.New, []byte(strings.ToUpper(strings.TrimSpace(idNumber))))
	m.Write([]byte("onedoor-holder-v1\n" + receipt))
	return hex.EncodeToString(m.Sum(nil))
}
