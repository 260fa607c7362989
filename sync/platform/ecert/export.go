package ecert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// ExportFormat tags an exported certificate file.
const ExportFormat = "onedoor-ecert-export-v1"

// Export is one self-contained certificate file: the certificate with its
// data, image and seal, and the agency's public key record it was sealed
// with. Whoever verifies it still decides whether to trust that agency key.
type Export struct {
	Format      string      `json:"format"`
	Certificate Certificate `json:"certificate"`
	Agency      AgencyKey   `json:"agency"`
}

// MarshalExport encodes c with its agency key as an export file.
func MarshalExport(c Certificate, k AgencyKey) ([]byte, error) {
	b, err := json.MarshalIndent(Export{Format: ExportFormat, Certificate: c, Agency: k}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", c.Number, err)
	}
	return append(b, '\n'), nil
}

// ParseExport decodes an export file strictly: unknown fields, trailing
// data or another format are ErrMalformed.
func ParseExport(b []byte) (Export, error) {
	var e Export
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return e, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return e, fmt.Errorf("%w: data after the certificate", ErrMalformed)
	}
	if e.Format != ExportFormat {
		return e, fmt.Errorf("%w: format is not %s", ErrMalformed, ExportFormat)
	}
	return e, nil
}

// VerifyExport checks an export file against trust on the day of at: the
// file must be well formed, its agency key must be one trust holds (a key
// the file merely carries is not trusted), and the certificate must verify.
func VerifyExport(b []byte, trust *Trust, at time.Time) (Export, error) {
	e, err := ParseExport(b)
	if err != nil {
		return e, err
	}
	c := e.Certificate
	if err := Check(c); err != nil {
		return e, err
	}
	k, ok := trust.Key(c.Agency.Code, c.Seal.KeyID)
	if !ok || !k.Equal(e.Agency) || e.Agency.KeyID != c.Seal.KeyID {
		return e, fmt.Errorf("%w: agency %s key %s is not configured on this platform", ErrUnknownAgency, c.Agency.Code, c.Seal.KeyID)
	}
	return e, Verify(c, trust, at)
}
