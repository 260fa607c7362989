package api

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
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

// ValidIDNumber reports whether s is an 18-character resident identity card
// number (GB 11643) with a correct ISO 7064 MOD 11-2 check character.
func ValidIDNumber(s string) bool {
	if len(s) != 18 {
		return false
	}
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 17; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		sum += int(c-'0') * weights[i]
	}
	return s[17] == "10X98765432"[sum%11]
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
	return nil
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
	if s.CreatedAt.IsZero() {
		return invalid("created_at", "is required")
	}
	a := s.Applicant
	if err := checkText("applicant.name", a.Name, true, 128); err != nil {
		return err
	}
	if !ValidIDNumber(a.IDNumber) {
		// The number itself stays out of the message: messages get logged.
		return invalid("applicant.id_number", "not a valid 18-character ID number (length, digits or check character)")
	}
	for _, f := range []struct {
		name, v string
	}{{"applicant.phone", a.Phone}, {"applicant.gender", a.Gender}, {"applicant.ethnicity", a.Ethnicity}, {"applicant.birth_date", a.BirthDate}, {"applicant.address", a.Address}} {
		if err := checkText(f.name, f.v, false, 256); err != nil {
			return err
		}
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
