package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"onedoor/sync/platform/ecert"
)

// TestECertCommands: keygen, import of a draft sealed with the demo agency
// key, list (masked), export, and verify of the intact file (exit 0) and
// of a changed field, a changed seal byte, an unknown agency key and an
// expired certificate, each with its own exit code and reason.
func TestECertCommands(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	const agency, id = "11441900000000103M", "441900199001011231"
	if code, out, errs := runCmd(t, "", "ecert", "keygen", "--data", dir, "--agency", agency, "--name", "东莞市公安局示例镇派出所（示例）"); code != 0 || !strings.Contains(out, `"key_id"`) {
		t.Fatalf("keygen = %d %q %q", code, out, errs)
	}
	if code, _, _ := runCmd(t, "", "ecert", "keygen", "--data", dir, "--agency", agency); code == 0 {
		t.Fatal("a second keygen for the agency replaced its key")
	}
	// The same agency code with another key: a platform that does not
	// trust this one.
	runCmd(t, "", "ecert", "keygen", "--data", other, "--agency", agency)
	draft := filepath.Join(t.TempDir(), "draft.json")
	os.WriteFile(draft, []byte(`{"type_code":"11440000MB2D00001L002","type_name":"广东省居住证","id_number":"`+id+`","name":"测试人",
		"agency_code":"`+agency+`","number":"JZZ-2026-0001","issued_on":"2026-01-05","valid_days":365,
		"fields":[{"name":"居住地址","value":"东莞市示例镇测试路1号"}]}`), 0o600)
	if code, out, errs := runCmd(t, "", "ecert", "import", "--data", dir, draft); code != 0 || strings.Contains(out, id) {
		t.Fatalf("import = %d %q %q", code, out, errs)
	}
	code, out, errs := runCmd(t, "", "ecert", "list", "--data", dir, "--holder-id", id)
	if code != 0 || !strings.Contains(out, "JZZ-2026-0001") || !strings.Contains(out, "4419**********1231") || strings.Contains(out, id) {
		t.Fatalf("list = %d %q %q", code, out, errs)
	}
	code, exported, errs := runCmd(t, "", "ecert", "export", "--data", dir, "JZZ-2026-0001")
	if code != 0 || strings.Contains(exported, id) {
		t.Fatalf("export = %d %q", code, errs)
	}
	write := func(name string, change func(e *ecert.Export)) string {
		var e ecert.Export
		if err := json.Unmarshal([]byte(exported), &e); err != nil {
			t.Fatal(err)
		}
		change(&e)
		b, _ := json.Marshal(e)
		p := filepath.Join(t.TempDir(), name)
		os.WriteFile(p, b, 0o600)
		return p
	}
	intact := filepath.Join(t.TempDir(), "intact.json")
	os.WriteFile(intact, []byte(exported), 0o600)
	tests := []struct {
		name   string
		data   string
		file   string
		at     string
		code   int
		reason string
	}{
		{"intact", dir, intact, "2026-06-01", exitOK, ""},
		{"changed field", dir, write("field.json", func(e *ecert.Export) { e.Certificate.Fields[0].Value = "东莞市示例镇测试路2号" }), "2026-06-01", exitSealMismatch, "seal mismatch"},
		{"changed validity", dir, write("until.json", func(e *ecert.Export) { e.Certificate.ValidUntil = "2099-01-01" }), "2026-06-01", exitSealMismatch, "seal mismatch"},
		{"changed seal byte", dir, write("seal.json", func(e *ecert.Export) { e.Certificate.Seal.Signature[10] ^= 0x01 }), "2026-06-01", exitSealMismatch, "seal mismatch"},
		{"unknown agency key", other, intact, "2026-06-01", exitUnknownAgency, "unknown agency key"},
		{"expired", dir, intact, "2027-01-06", exitExpired, "expired"},
		{"malformed", dir, write("bad.json", func(e *ecert.Export) { e.Format = "x" }), "2026-06-01", exitFailure, "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCmd(t, "", "ecert", "verify", "--data", tt.data, "--at", tt.at, tt.file)
			if code != tt.code || tt.reason != "" && !strings.Contains(errs, tt.reason) || tt.code == 0 && !strings.Contains(out, "verified") {
				t.Fatalf("verify = %d, out %q, err %q; want %d (%s)", code, out, errs, tt.code, tt.reason)
			}
		})
	}
	// A changed byte of the raw file anywhere in the signature's base64.
	raw := []byte(exported)
	i := strings.Index(exported, `"signature": "`) + len(`"signature": "`) + 8
	if raw[i] == 'A' {
		raw[i] = 'B'
	} else {
		raw[i] = 'A'
	}
	p := filepath.Join(t.TempDir(), "byte.json")
	os.WriteFile(p, raw, 0o600)
	if code, _, errs := runCmd(t, "", "ecert", "verify", "--data", dir, "--at", "2026-06-01", p); code != exitSealMismatch && code != exitFailure {
		t.Fatalf("a changed byte of the seal verified: %d %q", code, errs)
	}
}
