package storesql

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"onedoor/sync/platform/ecert"
)

// CertDoc is certificate c as stored (its JSON).
func CertDoc(c ecert.Certificate) ([]byte, error) {
	doc, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", c.Number, err)
	}
	return doc, nil
}

// TakenNumber decides a certificate put under a number already stored
// with document old: the same certificate again is a no-op, a different
// one ErrExists.
func TakenNumber(number string, old, doc []byte) error {
	if bytes.Equal(old, doc) {
		return nil
	}
	return fmt.Errorf("certificate %s: %w", number, ecert.ErrExists)
}

// Certificate decodes the document the query for number returned (doc,
// err), where noRows is the driver's error for no row.
func Certificate(number string, doc []byte, err, noRows error) (ecert.Certificate, error) {
	if errors.Is(err, noRows) {
		return ecert.Certificate{}, fmt.Errorf("certificate %q: %w", number, ecert.ErrNotFound)
	}
	if err != nil {
		return ecert.Certificate{}, fmt.Errorf("certificate: %w", err)
	}
	var c ecert.Certificate
	if err := json.Unmarshal(doc, &c); err != nil {
		return c, fmt.Errorf("certificate %s: %w", number, err)
	}
	return c, nil
}

// ScanCertificates decodes rows of certificate documents.
func ScanCertificates(rows Rows) ([]ecert.Certificate, error) {
	var out []ecert.Certificate
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("certificates: %w", err)
		}
		var c ecert.Certificate
		if err := json.Unmarshal(doc, &c); err != nil {
			return nil, fmt.Errorf("certificates: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// AccessLimit is how many accesses a list of at most limit returns.
func AccessLimit(limit int) int {
	if limit <= 0 {
		return 100
	}
	return limit
}

// AccessArgs are a's values for ecert_access(holder_hash, at, kiosk,
// item_id, receipt, number, type_name, action), at as the dialect stores
// it.
func AccessArgs(a ecert.Access, at any) []any {
	return []any{a.HolderHash, at, a.KioskID, a.ItemID, a.Receipt, a.Number, a.TypeName, a.Action}
}

// ScanAccesses reads (at, kiosk, item_id, receipt, number, type_name,
// action) rows of the holder's access log.
func ScanAccesses(d Dialect, rows Rows, idHash string) ([]ecert.Access, error) {
	var out []ecert.Access
	for rows.Next() {
		a := ecert.Access{HolderHash: idHash}
		at, get := d.Time()
		if err := rows.Scan(at, &a.KioskID, &a.ItemID, &a.Receipt, &a.Number, &a.TypeName, &a.Action); err != nil {
			return nil, fmt.Errorf("certificate access log: %w", err)
		}
		a.At = get()
		out = append(out, a)
	}
	return out, rows.Err()
}

// ReusableDoc is reusable material r as stored (its JSON).
func ReusableDoc(r ecert.Reusable) ([]byte, error) {
	doc, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("reusable material: %w", err)
	}
	return doc, nil
}

// ScanReusables decodes rows of the holder's reusable material documents.
func ScanReusables(rows Rows, idHash string) ([]ecert.Reusable, error) {
	var out []ecert.Reusable
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("reusable materials: %w", err)
		}
		r := ecert.Reusable{HolderHash: idHash}
		if err := json.Unmarshal(doc, &r); err != nil {
			return nil, fmt.Errorf("reusable materials: %w", err)
		}
		r.HolderHash = idHash
		out = append(out, r)
	}
	return out, rows.Err()
}
