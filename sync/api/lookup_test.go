package api

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestValidReceipt(t *testing.T) {
	tests := []struct {
		receipt, kiosk string
		want           bool
	}{
		{"DG-0001-20261125-0001", "DG-0001", true},
		{"K1-20260101-12345", "K1", true},
		{"K1-20260101-0001", "K2", false},       // another kiosk's number
		{"DG-0001-20261125-0001", "DG", false},  // DG-0001's receipt, signed by DG: the day is "0001"
		{"K1-20261301-0001", "K1", false},       // month 13
		{"K1-20260230-0001", "K1", false},       // 30 February
		{"K1-20260101-", "K1", false},           // no sequence
		{"K1-20260101-00a1", "K1", false},       // letters
		{"K1-20260101-0001234567", "K1", false}, // too long
		{"-20260101-0001", "", false},           // empty kiosk
		{"K1-20260101-0001-extra", "K1", false}, // trailing part
		{"k1-20260101-0001", "K1", false},       // case matters
		{"K1-2026-01-01-0001", "K1", false},     // dashed date
	}
	for _, tc := range tests {
		if got := ValidReceipt(tc.receipt, tc.kiosk); got != tc.want {
			t.Errorf("ValidReceipt(%q, %q) = %v, want %v", tc.receipt, tc.kiosk, got, tc.want)
		}
	}
}

func TestCheckJSONText(t *testing.T) {
	tests := []struct {
		name, body string
		ok         bool
	}{
		{"plain", `{"a":"测试","b":["x\n"]}`, true},
		{"pair", `{"a":"\ud83d\ude00"}`, true},
		{"escaped quote then u", `{"a":"\\u0000"}`, true}, // a backslash then the letters u0000
		{"bad utf8", "{\"a\":\"\xff\"}", false},
		{"nul escape", `{"a":"x\u0000y"}`, false},
		{"lone high", `{"a":"\ud83d"}`, false},
		{"lone high then text", `{"a":"\ud83dabcdef"}`, false},
		{"high then high", `{"a":"\ud83d\ud83d"}`, false},
		{"lone low", `{"a":"\ude00"}`, false},
		{"in a key", `{"\udc00":"x"}`, false},
		{"upper hex", `{"a":"\uD83D\uDE00"}`, true},
	}
	for _, tc := range tests {
		err := CheckJSONText([]byte(tc.body))
		if (err == nil) != tc.ok {
			t.Errorf("%s: CheckJSONText(%q) = %v, want ok=%v", tc.name, tc.body, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error %v does not wrap ErrInvalid", tc.name, err)
		}
	}
}

// FuzzCheckJSONText: a body the check lets through decodes to strings that
// hold no NUL and no U+FFFD the sender did not write.
func FuzzCheckJSONText(f *testing.F) {
	for _, s := range []string{`{"a":"\ud83d\ude00"}`, `{"a":"\u0000"}`, `["\ud800"]`, "\"\xff\"", `"\\ud800"`, `{"a":"\ufffd"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if CheckJSONText(b) != nil {
			return
		}
		var v any
		if json.Unmarshal(b, &v) != nil {
			return
		}
		wroteFFFD := strings.Contains(string(b), "\ufffd") || strings.Contains(strings.ToLower(string(b)), `\ufffd`)
		var walk func(any)
		walk = func(x any) {
			switch x := x.(type) {
			case string:
				if strings.ContainsRune(x, 0) {
					t.Fatalf("NUL let through: %q", b)
				}
				if !wroteFFFD && strings.ContainsRune(x, '\ufffd') {
					t.Fatalf("U+FFFD appeared from %q", b)
				}
			case []any:
				for _, e := range x {
					walk(e)
				}
			case map[string]any:
				for k, e := range x {
					walk(k)
					walk(e)
				}
			}
		}
		walk(v)
	})
}

func TestLookupCode(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c, err := NewLookupCode()
		if err != nil {
			t.Fatal(err)
		}
		if !IsLookupCode(c) || seen[c] {
			t.Fatalf("code %q malformed or repeated", c)
		}
		seen[c] = true
		typed := strings.ToLower(FormatLookupCode(c))
		if NormalizeLookupCode(typed) != c || LookupCodeSHA256(typed) != LookupCodeSHA256(c) {
			t.Fatalf("typed %q does not normalize to %q", typed, c)
		}
	}
	if NormalizeLookupCode("ab0o1-il23x") != "AB0011123X" {
		t.Fatalf("normalize = %q", NormalizeLookupCode("ab0o1-il23x"))
	}
	if HolderProof(testID, "K1-20260101-0001") == HolderProof(testID, "K1-20260101-0002") {
		t.Fatal("holder proof not bound to the receipt")
	}
	if HolderProof(" 11010519491231002x", "R") != HolderProof(standardExa, "R") {
		t.Fatal("holder proof depends on the case of X")
	}
}
