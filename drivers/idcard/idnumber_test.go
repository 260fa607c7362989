package idcard

import (
	"errors"
	"testing"
	"time"
)

func TestCheckDigitVectors(t *testing.T) {
	// Known-good numbers from the reference (GB 11643 summaries).
	for _, num := range []string{"11010519491231002X", "440524188001010014", "810000199408230021", "830000199201300022"} {
		t.Run(num, func(t *testing.T) {
			c, err := CheckDigit(num[:17])
			if err != nil || c != num[17] {
				t.Fatalf("CheckDigit = %q, %v; want %q", c, err, num[17])
			}
			if err := ValidateIDNumber(num); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestValidateIDNumberRejects(t *testing.T) {
	tests := []struct{ name, num string }{
		{"wrong check digit", "110105194912310021"},
		{"lower-case x", "11010519491231002x"},
		{"17 characters", "11010519491231002"},
		{"letter inside", "1101051949A231002X"},
		{"30 February", "110105194902300028"},
		{"month 13", "110105194913310025"},
		{"empty", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := ValidateIDNumber(tc.num); !errors.Is(err, ErrInvalidID) {
				t.Fatalf("err = %v, want ErrInvalidID", err)
			}
		})
	}
}

func TestMaskID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"44190019900101123X", "4419**********123X"},
		{"USA110075123456", "USA1*******3456"},
		{"H8765432", "********"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := MaskID(tc.in); got != tc.want {
			t.Errorf("MaskID(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNationAndSexTables(t *testing.T) {
	tests := []struct{ code, want string }{
		{"01", "汉"}, {"05", "维吾尔"}, {"10", "朝鲜"}, {"46", "德昂"}, {"56", "基诺"},
		{"97", "其他"}, {"98", "外国血统"}, {"00", ""}, {"57", ""}, {"1", ""}, {"ab", ""},
	}
	for _, tc := range tests {
		if got := NationName(tc.code); got != tc.want {
			t.Errorf("NationName(%q) = %q, want %q", tc.code, got, tc.want)
		}
	}
	for code, want := range map[string]string{"0": "未知", "1": "男", "2": "女", "9": "未说明", "3": ""} {
		if got := SexName(code); got != want {
			t.Errorf("SexName(%q) = %q, want %q", code, got, want)
		}
	}
}

func TestValidate(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	base := Identity{Type: Resident, Name: "测试", SexCode: "1", Sex: "男", NationCode: "01", BirthDate: "19491231",
		IDNumber: "110105194912310038", ValidFrom: "20200101", ValidTo: "20400101"}
	if c, _ := CheckDigit(base.IDNumber[:17]); c != base.IDNumber[17] {
		t.Fatalf("fixture number: check digit is %c", c)
	}
	tests := []struct {
		name   string
		change func(*Identity)
		want   error
	}{
		{"valid", func(*Identity) {}, nil},
		{"long-term validity", func(id *Identity) { id.ValidTo = LongTerm }, nil},
		{"expires today is still valid", func(id *Identity) { id.ValidTo = "20261125" }, nil},
		{"expired yesterday", func(id *Identity) { id.ValidTo = "20261124" }, ErrExpired},
		{"sex parity", func(id *Identity) { id.SexCode, id.Sex = "2", "女" }, ErrInvalidID},
		{"birth differs from number", func(id *Identity) { id.BirthDate = "19491230" }, ErrInvalidID},
		{"region 99 on a resident card", func(id *Identity) { id.IDNumber = "990105194912310031" }, ErrInvalidID},
		{"check digit", func(id *Identity) { id.IDNumber = "110105194912310037" }, ErrInvalidID},
		{"unknown nation", func(id *Identity) { id.NationCode = "77" }, ErrInvalidCard},
		{"no name", func(id *Identity) { id.Name = "" }, ErrInvalidCard},
		{"unreal valid-to date", func(id *Identity) { id.ValidTo = "20400231" }, ErrInvalidCard},
		{"validity reversed", func(id *Identity) { id.ValidFrom, id.ValidTo = "20400101", "20300101" }, ErrInvalidCard},
		{"sex code 5", func(id *Identity) { id.SexCode = "5" }, ErrInvalidCard},
		{"permit number not 81-83", func(id *Identity) { id.Type, id.PermitNumber = HKMOTW, "H1" }, ErrInvalidID},
		{"foreign 2017 number shape", func(id *Identity) { id.Type, id.IDNumber = Foreign2017, "US1110075123456" }, ErrInvalidID},
		{"foreign 2017 nationality mismatch", func(id *Identity) {
			id.Type, id.IDNumber, id.Nationality = Foreign2017, "USA110075123456", "CAN"
		}, ErrInvalidID},
		{"foreign 2017 ok", func(id *Identity) {
			id.Type, id.IDNumber, id.Nationality = Foreign2017, "USA110075123456", "USA"
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := base
			tc.change(&id)
			err := id.Validate(now)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("unexpected %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.want != ErrExpired && errors.Is(err, ErrExpired) {
				t.Fatalf("bad data reported as expiry: %v", err)
			}
		})
	}
}

func TestDecodeTextRejects(t *testing.T) {
	if _, err := DecodeText(make([]byte, 255)); !errors.Is(err, ErrTextBlock) {
		t.Fatalf("short block: %v", err)
	}
	b := make([]byte, 256)
	b[248] = 'Q'
	if _, err := DecodeText(b); !errors.Is(err, ErrUnknownCardType) {
		t.Fatalf("marker Q: %v", err)
	}
}
