package sim

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"
)

// Card is one fictional card the ID-card simulator can hold. Every name,
// number and address is invented; the numbers carry valid GB 11643 check
// digits (except the card made to fail validation) so drivers see what
// real cards look like. The fields are the values a correct driver must
// decode, in the card's own formats (YYYYMMDD dates, code digits).
type Card struct {
	Key  string // what `idcard place <key>` takes
	Type string // "resident", "hk_mo_tw", "foreign_2017", "foreign_2023"

	Name      string // Chinese name
	Sex       string // GB/T 2261.1 code
	Nation    string // GB/T 3304 code (resident card only)
	Birth     string
	Address   string
	Number    string
	Authority string
	ValidFrom string
	ValidTo   string // YYYYMMDD or 长期

	PermitNumber  string // 'J'
	IssueCount    string // 'J'
	EnglishName   string // 'I', 'Y'
	Nationality   string // 'I', 'Y'
	CardVersion   string // 'I'
	AuthorityCode string // 'I'
	RenewalCount  string // 'Y'
	OldNumberLink string // 'Y'

	AdditionalAddress string // newest 追加住址, "" for none
	WithFingerprint   bool   // 30 10 returns two 512-byte templates
}

// FictionalCards returns the simulator's card set, fresh each call.
func FictionalCards() []Card {
	return []Card{
		{Key: "resident", Type: "resident", Name: "王晓梅", Sex: "2", Nation: "01", Birth: "19900612",
			Address: "广东省深圳市南山区示例大道100号测试小区3栋", Number: "440305199006120240",
			Authority: "深圳市公安局南山分局", ValidFrom: "20200301", ValidTo: "20400301", WithFingerprint: true},
		{Key: "elder", Type: "resident", Name: "艾尔肯·测试", Sex: "1", Nation: "05", Birth: "19520108",
			Address: "新疆维吾尔自治区乌鲁木齐市天山区示例路8号", Number: "650102195201080134",
			Authority: "乌鲁木齐市公安局天山区分局", ValidFrom: "20120515", ValidTo: "长期",
			AdditionalAddress: "新疆维吾尔自治区乌鲁木齐市沙依巴克区样例街2号"},
		{Key: "expired", Type: "resident", Name: "李示例", Sex: "1", Nation: "01", Birth: "19800101",
			Address: "北京市东城区演示胡同1号", Number: "110101198001010512",
			Authority: "北京市公安局东城分局", ValidFrom: "20050101", ValidTo: "20150101"},
		{Key: "badnumber", Type: "resident", Name: "赵错号", Sex: "1", Nation: "01", Birth: "19800101",
			Address: "北京市东城区演示胡同2号", Number: "110101198001010513", // check digit should be 2
			Authority: "北京市公安局东城分局", ValidFrom: "20200101", ValidTo: "20400101"},
		{Key: "hkmotw", Type: "hk_mo_tw", Name: "陈测试", Sex: "2", Birth: "19950823",
			Address: "广东省珠海市香洲区示例路6号", Number: "810000199508230029",
			Authority: "珠海市公安局", ValidFrom: "20240101", ValidTo: "20290101",
			PermitNumber: "H87654321", IssueCount: "01"},
		{Key: "foreign2017", Type: "foreign_2017", Name: "约翰", Sex: "1", Birth: "19750315",
			Number: "USA110075123456", ValidFrom: "20200101", ValidTo: "20300101",
			EnglishName: "SAMPLE JOHN TESTER", Nationality: "USA", CardVersion: "01", AuthorityCode: "1100"},
		{Key: "foreign2023", Type: "foreign_2023", Name: "玛丽亚", Sex: "2", Birth: "19880704",
			Number: "944724198807040126", ValidFrom: "20231201", ValidTo: "20331201",
			EnglishName: "GARCIA LOPEZ MARIA FERNANDA DE LAS NIEVES", Nationality: "724", RenewalCount: "00"},
	}
}

// putField writes s as UTF-16LE into a fixed-width field padded with
// spaces, as the card stores it.
func putField(block []byte, off, size int, s string) error {
	u := utf16.Encode([]rune(s))
	if 2*len(u) > size {
		return fmt.Errorf("%q needs %d bytes, field has %d", s, 2*len(u), size)
	}
	for i := 0; i < size/2; i++ {
		c := uint16(' ')
		if i < len(u) {
			c = u[i]
		}
		binary.LittleEndian.PutUint16(block[off+2*i:], c)
	}
	return nil
}

// TextBlock lays the card out as the 256-byte block the SAM returns.
func (c Card) TextBlock() ([]byte, error) {
	b := make([]byte, 256)
	type f struct {
		off, size int
		v         string
	}
	var fs []f
	switch c.Type {
	case "resident":
		fs = []f{{0, 30, c.Name}, {30, 2, c.Sex}, {32, 4, c.Nation}, {36, 16, c.Birth}, {52, 70, c.Address},
			{122, 36, c.Number}, {158, 30, c.Authority}, {188, 16, c.ValidFrom}, {204, 16, c.ValidTo}, {220, 36, ""}}
	case "hk_mo_tw":
		fs = []f{{0, 30, c.Name}, {30, 2, c.Sex}, {32, 4, ""}, {36, 16, c.Birth}, {52, 70, c.Address},
			{122, 36, c.Number}, {158, 30, c.Authority}, {188, 16, c.ValidFrom}, {204, 16, c.ValidTo},
			{220, 18, c.PermitNumber}, {238, 4, c.IssueCount}, {242, 6, ""}, {248, 2, "J"}, {250, 6, ""}}
	case "foreign_2017":
		fs = []f{{0, 120, c.EnglishName}, {120, 2, c.Sex}, {122, 30, c.Number}, {152, 6, c.Nationality},
			{158, 30, c.Name}, {188, 16, c.ValidFrom}, {204, 16, c.ValidTo}, {220, 16, c.Birth},
			{236, 4, c.CardVersion}, {240, 8, c.AuthorityCode}, {248, 2, "I"}, {250, 6, ""}}
	case "foreign_2023":
		en1, en2 := c.EnglishName, ""
		if r := []rune(en1); len(r) > 35 {
			en1, en2 = string(r[:35]), string(r[35:])
		}
		fs = []f{{0, 30, c.Name}, {30, 2, c.Sex}, {32, 4, c.RenewalCount}, {36, 16, c.Birth}, {52, 70, en1},
			{122, 36, c.Number}, {158, 30, ""}, {188, 16, c.ValidFrom}, {204, 16, c.ValidTo},
			{220, 22, en2}, {242, 6, c.Nationality}, {248, 2, "Y"}, {250, 6, c.OldNumberLink}}
	default:
		return nil, fmt.Errorf("card %s: unknown type %q", c.Key, c.Type)
	}
	for _, x := range fs {
		if err := putField(b, x.off, x.size, x.v); err != nil {
			return nil, fmt.Errorf("card %s: %w", c.Key, err)
		}
	}
	return b, nil
}

// Photo is a stand-in WLT blob: 1,024 bytes derived from the card key, so
// tests can check that the driver passes it through untouched.
func (c Card) Photo() []byte { return filler("wlt:"+c.Key, 1024) }

// Fingerprints are two stand-in 512-byte minutiae templates, or nil.
func (c Card) Fingerprints() []byte {
	if !c.WithFingerprint {
		return nil
	}
	return filler("fp:"+c.Key, 1024)
}

func filler(seed string, n int) []byte {
	var out []byte
	for i := 0; len(out) < n; i++ {
		h := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", seed, i)))
		out = append(out, h[:]...)
	}
	return out[:n]
}

// AddressBlock is the 70-byte answer to 30 03, or nil when there is none.
func (c Card) AddressBlock() []byte {
	if c.AdditionalAddress == "" {
		return nil
	}
	b := make([]byte, 70)
	if err := putField(b, 0, 70, c.AdditionalAddress); err != nil {
		return nil
	}
	return b
}

// checkDigit is ISO 7064 MOD 11-2 as the standard states it (weights
// 2^(17-i) mod 11, check value (12 - sum mod 11) mod 11, 10 written X),
// computed here without pii's table so that a mistake in the table cannot
// hide behind a simulator that shares it.
func checkDigit(first17 string) byte {
	s := 0
	for i, c := range first17 {
		s += int(c-'0') * (1 << (17 - i) % 11)
	}
	v := (12 - s%11) % 11
	if v == 10 {
		return 'X'
	}
	return byte('0' + v)
}

func cardKeys(cards []Card) string {
	var k []string
	for _, c := range cards {
		k = append(k, c.Key)
	}
	return strings.Join(k, ", ")
}
