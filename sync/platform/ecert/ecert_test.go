package ecert

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

var testDay = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func testCert(t testing.TB) (Certificate, *Signer, *Trust) {
	t.Helper()
	s, err := NewSigner("11441900MB2C12345X", "东莞市公安局")
	if err != nil {
		t.Fatal(err)
	}
	hk := HolderKey(bytes.Repeat([]byte{7}, 32))
	c, err := Build(Draft{TypeCode: "11440000MB2D00001L002", TypeName: "广东省居住证", IDNumber: "441900199001011231", Name: "测试人",
		Agency: Agency{Code: s.Key.Code}, IssuedOn: testDay, ValidDays: 365, Fields: []Field{{"居住地址", "东莞市莞城街道测试路1号"}}}, hk, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c, err = s.Seal(c); err != nil {
		t.Fatal(err)
	}
	trust, err := NewTrust(s.Key)
	if err != nil {
		t.Fatal(err)
	}
	return c, s, trust
}

func TestVerify(t *testing.T) {
	c, _, trust := testCert(t)
	other, err := NewSigner(c.Agency.Code, "冒名机关")
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := other.Seal(c)
	tests := []struct {
		name   string
		change func(*Certificate)
		at     time.Time
		want   error
	}{
		{"intact", func(*Certificate) {}, testDay, nil},
		{"changed field", func(c *Certificate) { c.Fields[0].Value += "号" }, testDay, ErrBadSeal},
		{"changed holder hash", func(c *Certificate) { c.Holder.IDHash = strings.Repeat("0", 64) }, testDay, ErrBadSeal},
		{"changed image byte", func(c *Certificate) { c.Image.Data[len(c.Image.Data)/2] ^= 1 }, testDay, ErrBadSeal},
		{"changed seal byte", func(c *Certificate) { c.Seal.Signature[len(c.Seal.Signature)-3] ^= 0x40 }, testDay, ErrBadSeal},
		{"unknown agency key", func(c *Certificate) { *c = forged }, testDay, ErrUnknownAgency},
		{"expired", func(*Certificate) {}, testDay.AddDate(1, 0, 1), ErrExpired},
		{"not yet valid", func(*Certificate) {}, testDay.AddDate(0, 0, -1), ErrNotYetValid},
		{"no seal", func(c *Certificate) { c.Seal.Signature = nil }, testDay, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc := c
			cc.Fields = append([]Field(nil), c.Fields...)
			cc.Image.Data = append([]byte(nil), c.Image.Data...)
			cc.Seal.Signature = append([]byte(nil), c.Seal.Signature...)
			tt.change(&cc)
			err := Verify(cc, trust, tt.at)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestExportRoundTrip(t *testing.T) {
	c, s, trust := testCert(t)
	b, err := MarshalExport(c, s.Key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyExport(b, trust, testDay); err != nil {
		t.Fatalf("intact export: %v", err)
	}
	empty, _ := NewTrust()
	if _, err := VerifyExport(b, empty, testDay); !errors.Is(err, ErrUnknownAgency) {
		t.Fatalf("untrusted agency: %v", err)
	}
	if strings.Contains(string(b), "441900199001011231") {
		t.Fatal("export holds the plaintext ID number")
	}
	// Every single-byte change of the file fails (or is the same JSON).
	for i := 0; i < len(b); i += 97 {
		bad := append([]byte(nil), b...)
		bad[i] ^= 0x01
		if _, err := VerifyExport(bad, trust, testDay); err == nil && !bytes.Equal(bad, b) {
			e1, _ := ParseExport(b)
			e2, _ := ParseExport(bad)
			if !bytes.Equal(Canonical(e1.Certificate), Canonical(e2.Certificate)) || !bytes.Equal(e1.Certificate.Seal.Signature, e2.Certificate.Seal.Signature) {
				t.Fatalf("byte %d changed (%q) and the export still verifies", i, b[max(0, i-10):min(len(b), i+10)])
			}
		}
	}
}

func TestKeyring(t *testing.T) {
	kr := Keyring{Dir: t.TempDir()}
	k, err := kr.Generate("A1", "测试机关")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Generate("A1", "again"); !errors.Is(err, ErrExists) {
		t.Fatalf("second keygen: %v", err)
	}
	if _, err := kr.Generate("../x", "bad"); err == nil {
		t.Fatal("path in agency code accepted")
	}
	trust, err := kr.Trust()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := trust.Key("A1", k.KeyID); !ok {
		t.Fatal("generated key not trusted")
	}
	s, err := kr.Signer("A1")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := Build(Draft{TypeCode: "T", TypeName: "测试证", IDNumber: "441900199001011231", Agency: Agency{Code: "A1"}, IssuedOn: testDay}, HolderKey(make([]byte, 32)), nil)
	c, _ = s.Seal(c)
	if err := Verify(c, trust, testDay.AddDate(30, 0, 0)); err != nil {
		t.Fatalf("long-term certificate from the keyring: %v", err)
	}
	if _, err := kr.Signer("B2"); !errors.Is(err, ErrNoSigner) {
		t.Fatalf("unknown agency signer: %v", err)
	}
	_ = context.Background()
}

func FuzzParseExport(f *testing.F) {
	c, s, _ := testCert(f)
	b, _ := MarshalExport(c, s.Key)
	f.Add(b)
	f.Add([]byte(`{"format":"onedoor-ecert-export-v1"}`))
	f.Add([]byte(`{}`))
	trust, _ := NewTrust(s.Key)
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := VerifyExport(b, trust, testDay)
		if err == nil {
			if Verify(e.Certificate, trust, testDay) != nil {
				t.Fatal("VerifyExport accepted what Verify refuses")
			}
		}
	})
}
