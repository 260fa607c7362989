package api

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"onedoor/pii"
)

// ErrInvalid is wrapped by every validation error: the request can never
// succeed as it is (HTTP 422, CodeValidation).
var ErrInvalid = errors.New("invalid")

// FieldError names the field that failed validation.
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// Limits of a submission, enforced by Validate.
const (
	MaxFormFields   = 200
	MaxFieldBytes   = 4096
	MaxMaterials    = 50
	MaxPages        = 100 // per material
	MaxBlobSize     = 64 << 20
	MaxRequestBytes = 1 << 20 // JSON bodies (not blobs)
	MaxPromiseBytes = 16 << 10
)

// IsUUID reports whether s is a UUID in canonical lowercase 8-4-4-4-12 form.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}

func checkText(field, s string, required bool, max int) error {
	if required && strings.TrimSpace(s) == "" {
		return invalid(field, "is required")
	}
	if len(s) > max {
		return invalid(field, "longer than %d bytes", max)
	}
	if !utf8.ValidString(s) {
		return invalid(field, "not valid UTF-8")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return invalid(field, "contains a NUL character")
	}
	return nil
}

// ValidReceipt reports whether receipt is one kioskID issued:
// {kioskID}-{yyyymmdd}-{seq}, seq 1 to 9 digits. A receipt must carry its
// kiosk's own id so one kiosk cannot take another's numbers.
func ValidReceipt(receipt, kioskID string) bool {
	rest, ok := strings.CutPrefix(receipt, kioskID+"-")
	if !ok || kioskID == "" {
		return false
	}
	day, seq, ok := strings.Cut(rest, "-")
	if !ok || !validDate(day) || len(seq) == 0 || len(seq) > 9 {
		return false
	}
	return allDigits(seq)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validDate reports whether s is a real calendar date written YYYYMMDD.
func validDate(s string) bool {
	if len(s) != 8 || !allDigits(s) {
		return false
	}
	t, err := time.Parse("20060102", s)
	return err == nil && t.Format("20060102") == s
}

// CheckJSONText refuses a JSON body whose strings could not be stored as
// they were sent: bytes that are not UTF-8, the escape \u0000, and UTF-16
// surrogate escapes that do not form a pair. encoding/json would silently
// turn the first and last into U+FFFD, so the check runs on the raw bytes.
// Syntax errors are left to the decoder.
func CheckJSONText(body []byte) error {
	if !utf8.Valid(body) {
		return invalid("body", "not valid UTF-8")
	}
	in := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !in {
			if c == '"' {
				in = true
			}
			continue
		}
		switch c {
		case '"':
			in = false
		case '\\':
			if i+1 >= len(body) {
				return nil
			}
			if body[i+1] != 'u' {
				i++
				continue
			}
			r, ok := hex4(body, i+2)
			if !ok {
				return nil // the decoder reports it
			}
			switch {
			case r == 0:
				return invalid("body", "a string contains \\u0000 (NUL)")
			case r >= 0xDC00 && r <= 0xDFFF:
				return invalid("body", "a string contains a lone UTF-16 surrogate")
			case r >= 0xD800 && r <= 0xDBFF:
				lo, ok := -1, false
				if i+7 < len(body) && body[i+6] == '\\' && body[i+7] == 'u' {
					lo, ok = hex4(body, i+8)
				}
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return invalid("body", "a string contains a lone UTF-16 surrogate")
				}
				i += 6
			}
			i += 5
		}
	}
	return nil
}

func hex4(b []byte, at int) (int, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	n := 0
	for _, c := range b[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			n = n<<4 | int(c-'0')
		case c >= 'a' && c <= 'f':
			n = n<<4 | int(c-'a'+10)
		case c >= 'A' && c <= 'F':
			n = n<<4 | int(c-'A'+10)
		default:
			return 0, false
		}
	}
	return n, true
}

// Validate checks what the platform checks before it gives a case number. A
// kiosk may call it before queueing to catch its own bugs early.
func (s *SubmissionRequest) Validate() error {
	if !IsUUID(s.UUID) {
		return invalid("uuid", "must be a lowercase canonical UUID")
	}
	for _, f := range []struct {
		name, v string
	}{{"receipt", s.Receipt}, {"kiosk_id", s.KioskID}, {"item_id", s.ItemID}, {"item_version", s.ItemVersion}} {
		if err := checkText(f.name, f.v, true, 64); err != nil {
			return err
		}
	}
	if !ValidReceipt(s.Receipt, s.KioskID) {
		return invalid("receipt", "must be {kiosk_id}-{yyyymmdd}-{seq} with this kiosk's own id")
	}
	if s.CreatedAt.IsZero() {
		return invalid("created_at", "is required")
	}
	if err := s.Applicant.validate("applicant", s.CreatedAt); err != nil {
		return err
	}
	if s.Agent != nil {
		if err := s.Agent.validate("agent", s.CreatedAt); err != nil {
			return err
		}
	}
	if s.LookupCodeSHA256 != "" && !IsSHA256Hex(s.LookupCodeSHA256) {
		return invalid("lookup_code_sha256", "must be 64 lowercase hex digits")
	}
	if len(s.Form) > MaxFormFields {
		return invalid("form", "more than %d fields", MaxFormFields)
	}
	for k, v := range s.Form {
		if err := checkText("form key", k, true, 128); err != nil {
			return err
		}
		if err := checkText("form."+k, v, false, MaxFieldBytes); err != nil {
			return err
		}
	}
	if len(s.Materials) > MaxMaterials {
		return invalid("materials", "more than %d materials", MaxMaterials)
	}
	for i, m := range s.Materials {
		field := fmt.Sprintf("materials[%d]", i)
		if err := checkText(field+".material_id", m.MaterialID, true, 64); err != nil {
			return err
		}
		if err := checkText(field+".promise_text", m.PromiseText, false, MaxPromiseBytes); err != nil {
			return err
		}
		if err := checkText(field+".cert_number", m.CertNumber, false, 64); err != nil {
			return err
		}
		if m.CertNumber != "" && m.Kind != KindECert {
			return invalid(field+".cert_number", "only an e-cert material names a certificate")
		}
		switch m.Kind {
		case KindScan:
			if len(m.Pages) == 0 {
				return invalid(field+".pages", "a scan needs at least one page")
			}
		case KindECert, KindPromise:
		default:
			return invalid(field+".kind", "must be %q, %q or %q", KindScan, KindECert, KindPromise)
		}
		if len(m.Pages) > MaxPages {
			return invalid(field+".pages", "more than %d pages", MaxPages)
		}
		for j, p := range m.Pages {
			pf := fmt.Sprintf("%s.pages[%d]", field, j)
			if !IsSHA256Hex(p.SHA256) {
				return invalid(pf+".sha256", "must be 64 lowercase hex digits")
			}
			if p.Size <= 0 || p.Size > MaxBlobSize {
				return invalid(pf+".size", "must be between 1 and %d", MaxBlobSize)
			}
			if err := checkText(pf+".content_type", p.ContentType, true, 128); err != nil {
				return err
			}
		}
	}
	return nil
}

// validate checks a person's data; at is when the application was made,
// the latest birth date an ID number may carry.
func (a *ApplicantData) validate(field string, at time.Time) error {
	if err := checkText(field+".name", a.Name, true, 128); err != nil {
		return err
	}
	if pii.ValidateIDNumber(a.IDNumber, at) != nil {
		// The number itself stays out of the message: messages get logged.
		return invalid(field+".id_number", "not a valid 18-character ID number (length, digits, check character or birth date)")
	}
	for _, f := range []struct {
		name, v string
	}{{".phone", a.Phone}, {".gender", a.Gender}, {".ethnicity", a.Ethnicity}, {".birth_date", a.BirthDate}, {".address", a.Address}} {
		if err := checkText(field+f.name, f.v, false, 256); err != nil {
			return err
		}
	}
	if a.BirthDate != "" && !validDate(a.BirthDate) {
		return invalid(field+".birth_date", "must be a date written YYYYMMDD")
	}
	return nil
}

// Validate checks a rating.
func (r *Rating) Validate() error {
	if !IsUUID(r.UUID) {
		return invalid("uuid", "must be a lowercase canonical UUID")
	}
	if r.Level < 1 || r.Level > 5 {
		return invalid("level", "must be 1..5")
	}
	if err := checkText("receipt", r.Receipt, false, 64); err != nil {
		return err
	}
	if err := checkText("reason", r.Reason, false, 1024); err != nil {
		return err
	}
	if r.At.IsZero() {
		return invalid("at", "is required")
	}
	return nil
}
