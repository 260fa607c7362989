package idcard

import (
	"errors"
	"onedoor/internal/testdate"
	"testing"
	"time"

	"onedoor/pii"
)

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
	now := testdate.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	base := Identity{Type: Resident, Name: "测试", SexCode: "1", Sex: "男", NationCode: "01", BirthDate: "19491231",
		IDNumber: "110105194912310038", ValidFrom: "20200101", ValidTo: "20400101"}
	if c, _ := pii.CheckChar(base.IDNumber[:17]); c != base.IDNumber[17] {
		t.Fatalf("fixture number: check digit is %c", c)
	}
	tests := []struct {
		name   string
		change func(*Identity)
		want   error
	}{
		{"valid", func(*Identity) {}, nil},
		{"long-term validity", func(id *Identity) { id.ValidTo = LongTerm }, nil},
		{"expires today is still valid", func(id *Identity) { id.ValidTo = now.Format("20060102") }, nil},
		{"expired yesterday", func(id *Identity) { id.ValidTo = now.AddDate(0, 0, -1).Format("20060102") }, ErrExpired},
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
