package supervise

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// safeText keeps a spreadsheet from reading a value as a formula: a staff
// or kiosk name starting with = + - @ is prefixed with an apostrophe
// (CSV injection).
func safeText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteCSV writes r as CSV: Header(by) then one line per group and the
// total.
func WriteCSV(w io.Writer, r Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(Header(r.Query.By)); err != nil {
		return fmt.Errorf("csv: %w", err)
	}
	for _, row := range r.Rows() {
		rec := make([]string, len(row))
		for i, v := range row {
			if s, ok := v.(string); ok {
				rec[i] = safeText(s)
			} else {
				rec[i] = FormatCell(v)
			}
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("csv: %w", err)
	}
	return nil
}

// WriteXLSX writes r as an Excel workbook with one sheet holding the same
// rows as WriteCSV, numbers as numbers, and a second sheet naming the
// period and scope.
func WriteXLSX(w io.Writer, r Result) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "stats"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	put := func(sh string, row int, vals []any) error {
		cell, err := excelize.CoordinatesToCellName(1, row)
		if err != nil {
			return err
		}
		return f.SetSheetRow(sh, cell, &vals)
	}
	hdr := Header(r.Query.By)
	h := make([]any, len(hdr))
	for i, s := range hdr {
		h[i] = s
	}
	if err := put(sheet, 1, h); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	for i, row := range r.Rows() {
		// excelize writes strings as inline text, never formulas.
		if err := put(sheet, i+2, row); err != nil {
			return fmt.Errorf("xlsx: %w", err)
		}
	}
	if _, err := f.NewSheet("query"); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	q := r.Query
	for i, kv := range [][]any{{"from", q.From.String()}, {"to", q.To.String()}, {"by", q.By},
		{"town", q.Scope.Town}, {"kiosk", q.Scope.Kiosk}, {"item", q.Scope.ItemID}, {"staff", q.Scope.Staff}} {
		if err := put("query", i+1, kv); err != nil {
			return fmt.Errorf("xlsx: %w", err)
		}
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	return nil
}
