package pii

import (
	"bytes"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"testing"
)

func TestMask(t *testing.T) {
	tests := []struct {
		name string
		fn   func(string) string
		in   string
		want string
	}{
		{"id 18", MaskID, "44190019900101123X", "4419**********123X"},
		{"id spaces trimmed", MaskID, " 441900199001011231 ", "4419**********1231"},
		{"id 15 (first generation)", MaskID, "441900900101123", "4419*******1123"},
		{"id too short shows nothing", MaskID, "12345678", "********"},
		{"id empty", MaskID, "", ""},
		{"name 1", MaskName, "张", "*"},
		{"name 2", MaskName, "李四", "李*"},
		{"name 3", MaskName, "张小明", "张*明"},
		{"name 4", MaskName, "欧阳小华", "欧**华"},
		{"name latin", MaskName, "Anna Li", "A*****i"},
		{"name empty", MaskName, "  ", ""},
		{"phone", MaskPhone, "13812345678", "138****5678"},
		{"phone wrong length", MaskPhone, "0769-1234", "*********"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.fn(tc.in); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestMaskText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"applicant 44190019900101123X refused", "applicant 4419**********123X refused"},
		{"id=441900199001011231,phone=13812345678", "id=4419**********1231,phone=138****5678"},
		{"two 13812345678 13987654321", "two 138****5678 139****4321"},
		// A longer run is masked whole: no 18-digit window survives.
		{"run 4419001990010112311234", "run 4419**************1234"},
		{"receipt K01-20261125-0001 stays", "receipt K01-20261125-0001 stays"},
		{"landline 076912345678 is not a mobile", "landline 076912345678 is not a mobile"},
	}
	for _, tc := range tests {
		if got := MaskText(tc.in); got != tc.want {
			t.Errorf("MaskText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

func TestMaskingHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewMaskingHandler(slog.NewTextHandler(&buf, nil)))
	id := "441900199001011231"
	log.With("who", id).WithGroup("g").Info("read card "+id,
		"id", id, "err", errors.New("bad "+id), "s", stringer{id},
		slog.Group("inner", "phone", "13812345678"))
	out := buf.String()
	if strings.Contains(out, id) || strings.Contains(out, "13812345678") {
		t.Fatalf("personal data in log: %s", out)
	}
	if n := strings.Count(out, "4419**********1231"); n != 5 {
		t.Errorf("want 5 masked IDs, got %d: %s", n, out)
	}
}

var clearID = regexp.MustCompile(`\d{17}[\dXx]`)

// FuzzMaskText: whatever the text, no ID-shaped run survives masking, and
// text without long digit runs or phone numbers passes unchanged.
func FuzzMaskText(f *testing.F) {
	for _, s := range []string{"44190019900101123X", "x4419001990010112311234y", "13812345678", "plain", "电话13812345678身份证441900199001011231"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := MaskText(s)
		if clearID.MatchString(got) {
			t.Fatalf("MaskText(%q) = %q leaves an ID-shaped run", s, got)
		}
		if !regexp.MustCompile(`\d{11}`).MatchString(s) && got != s {
			t.Fatalf("MaskText(%q) changed text without long digit runs: %q", s, got)
		}
	})
}

func TestCheckChar(t *testing.T) {
	tests := []struct {
		first17 string
		want    byte
		err     bool
	}{
		{"11010519491231002", 'X', false}, // the worked example of GB 11643
		{"44190019900101123", '1', false},
		{"4419001990010112", 0, true},
		{"4419001990010112A", 0, true},
	}
	for _, tc := range tests {
		got, err := CheckChar(tc.first17)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("CheckChar(%q) = %q, %v; want %q, error %v", tc.first17, got, err, tc.want, tc.err)
		}
	}
}
