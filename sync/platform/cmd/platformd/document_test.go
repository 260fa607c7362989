package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadDocument: the catalog and the calendar come from the named file
// or DATA/<name>.json; a missing default is no document, a missing named
// file or one that is not JSON stops the server with the name in the error.
func TestLoadDocument(t *testing.T) {
	data := t.TempDir()
	if b, err := loadDocument("calendar", "", data); b != nil || err != nil {
		t.Fatalf("no default file: %q %v", b, err)
	}
	cal := `{"years":[2031]}`
	os.WriteFile(filepath.Join(data, "calendar.json"), []byte(cal), 0o600)
	if b, err := loadDocument("calendar", "", data); string(b) != cal || err != nil {
		t.Fatalf("default file: %q %v", b, err)
	}
	bad := filepath.Join(data, "bad.json")
	os.WriteFile(bad, []byte(`{"years":`), 0o600)
	if _, err := loadDocument("calendar", bad, data); err == nil || !strings.Contains(err.Error(), "calendar") {
		t.Errorf("not JSON: %v", err)
	}
	// JSON, but not a calendar: a holiday outside its declared years.
	os.WriteFile(bad, []byte(`{"years":[2031],"holidays":[{"name":"x","from":"2032-01-01","to":"2032-01-01"}]}`), 0o600)
	if _, err := loadDocument("calendar", bad, data); err == nil || !strings.Contains(err.Error(), "outside the declared years") {
		t.Errorf("invalid calendar: %v", err)
	}
	if _, err := loadDocument("catalog", filepath.Join(data, "missing.json"), data); err == nil || !strings.Contains(err.Error(), "catalog") {
		t.Errorf("named file missing: %v", err)
	}
}
