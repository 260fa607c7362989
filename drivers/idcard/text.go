package idcard

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
)

// CardType says which of the four documents the SAM read.
type CardType string

const (
	Resident    CardType = "resident"     // 居民身份证
	HKMOTW      CardType = "hk_mo_tw"     // 港澳台居民居住证, marker 'J'
	Foreign2017 CardType = "foreign_2017" // 外国人永久居留身份证 (2017), marker 'I'
	Foreign2023 CardType = "foreign_2023" // 外国人永久居留身份证 (2023), marker 'Y'
)

// LongTerm is how a card without an end of validity says so.
const LongTerm = "长期"

// ErrTextBlock means the text block could not be decoded.
var ErrTextBlock = errors.New("idcard: bad text block")

// Identity is what one card holds. Dates are the card's own YYYYMMDD
// strings; ValidTo may be LongTerm. Fields a card type does not have are
// empty.
type Identity struct {
	Type       CardType `json:"type"`
	Name       string   `json:"name"` // Chinese name (may be empty on a 2017 foreigner card)
	SexCode    string   `json:"sex_code"`
	Sex        string   `json:"sex"`
	NationCode string   `json:"nation_code,omitempty"`
	Nation     string   `json:"nation,omitempty"`
	BirthDate  string   `json:"birth_date"`
	Address    string   `json:"address,omitempty"`
	IDNumber   string   `json:"id_number"`
	Authority  string   `json:"authority,omitempty"`
	ValidFrom  string   `json:"valid_from"`
	ValidTo    string   `json:"valid_to"`

	// HK/Macau/Taiwan residence permit.
	PermitNumber string `json:"permit_number,omitempty"` // 通行证号码
	IssueCount   string `json:"issue_count,omitempty"`   // 签发次数
	// Foreigner permanent residence cards.
	EnglishName   string `json:"english_name,omitempty"`
	Nationality   string `json:"nationality,omitempty"`     // 国籍/所在国家和地区代码
	CardVersion   string `json:"card_version,omitempty"`    // 2017: 证件版本号
	AuthorityCode string `json:"authority_code,omitempty"`  // 2017: 受理机关代码
	RenewalCount  string `json:"renewal_count,omitempty"`   // 2023: 换证次数
	OldNumberLink string `json:"old_number_link,omitempty"` // 2023: 既往版本证件号码关联项

	// Raw blobs, never decoded here (see PhotoDecoder).
	PhotoWLT    []byte `json:"-"`
	Fingerprint []byte `json:"-"`
	// AdditionalAddress is the newest 追加住址, when it was read.
	AdditionalAddress string `json:"additional_address,omitempty"`
}

// field reads a fixed-width UTF-16LE field and trims trailing padding. Only
// trailing U+0020 and U+0000 go: inner spaces belong to foreign names.
func field(b []byte, off, size int) string {
	u := make([]uint16, size/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[off+2*i:])
	}
	return strings.TrimRight(string(utf16.Decode(u)), " \x00")
}

// rawField is field without trimming, for the first half of a split name.
func rawField(b []byte, off, size int) string {
	u := make([]uint16, size/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[off+2*i:])
	}
	return string(utf16.Decode(u))
}

// DecodeText decodes the 256-byte text block of any of the four card types.
// It does not validate the contents; see Identity.Validate.
func DecodeText(block []byte) (Identity, error) {
	if len(block) != textBlockSize {
		return Identity{}, fmt.Errorf("%w: %d bytes, want %d", ErrTextBlock, len(block), textBlockSize)
	}
	var id Identity
	switch marker := binary.LittleEndian.Uint16(block[248:]); marker {
	case ' ', 0:
		id = Identity{
			Type:       Resident,
			Name:       field(block, 0, 30),
			SexCode:    field(block, 30, 2),
			NationCode: field(block, 32, 4),
			BirthDate:  field(block, 36, 16),
			Address:    field(block, 52, 70),
			IDNumber:   field(block, 122, 36),
			Authority:  field(block, 158, 30),
			ValidFrom:  field(block, 188, 16),
			ValidTo:    field(block, 204, 16),
		}
		id.Nation = NationName(id.NationCode)
	case 'J':
		id = Identity{
			Type:         HKMOTW,
			Name:         field(block, 0, 30),
			SexCode:      field(block, 30, 2),
			BirthDate:    field(block, 36, 16),
			Address:      field(block, 52, 70),
			IDNumber:     field(block, 122, 36),
			Authority:    field(block, 158, 30),
			ValidFrom:    field(block, 188, 16),
			ValidTo:      field(block, 204, 16),
			PermitNumber: field(block, 220, 18),
			IssueCount:   field(block, 238, 4),
		}
	case 'I':
		id = Identity{
			Type:          Foreign2017,
			EnglishName:   field(block, 0, 120),
			SexCode:       field(block, 120, 2),
			IDNumber:      field(block, 122, 30),
			Nationality:   field(block, 152, 6),
			Name:          field(block, 158, 30),
			ValidFrom:     field(block, 188, 16),
			ValidTo:       field(block, 204, 16),
			BirthDate:     field(block, 220, 16),
			CardVersion:   field(block, 236, 4),
			AuthorityCode: field(block, 240, 8),
		}
	case 'Y':
		id = Identity{
			Type:          Foreign2023,
			Name:          field(block, 0, 30),
			SexCode:       field(block, 30, 2),
			RenewalCount:  field(block, 32, 4),
			BirthDate:     field(block, 36, 16),
			EnglishName:   joinEnglishName(rawField(block, 52, 70), field(block, 220, 22)),
			IDNumber:      field(block, 122, 36),
			ValidFrom:     field(block, 188, 16),
			ValidTo:       field(block, 204, 16),
			Nationality:   field(block, 242, 6),
			OldNumberLink: field(block, 250, 6),
		}
	default:
		return Identity{}, fmt.Errorf("%w: card type marker %q", ErrUnknownCardType, rune(marker))
	}
	id.Sex = SexName(id.SexCode)
	return id, nil
}

// joinEnglishName joins the 2023 card's two English-name fields. The
// second is used only when the first is full (35 characters), so the first
// is kept untrimmed then: a space at position 35 is part of the name.
func joinEnglishName(first, rest string) string {
	if rest == "" {
		return strings.TrimRight(first, " \x00")
	}
	return first + rest
}

// SexName names a GB/T 2261.1 sex code.
func SexName(code string) string {
	switch code {
	case "0":
		return "未知"
	case "1":
		return "男"
	case "2":
		return "女"
	case "9":
		return "未说明"
	}
	return ""
}

// nationList is GB/T 3304 codes 01..56 in order.
const nationList = "汉 蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 " +
	"佤 畲 高山 拉祜 水 东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 " +
	"塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺"

// NationName names a GB/T 3304 nation code ("01" 汉 … "56" 基诺, "97"
// 其他, "98" 外国血统), or "" for an unknown code.
func NationName(code string) string {
	switch code {
	case "97":
		return "其他"
	case "98":
		return "外国血统"
	}
	if len(code) != 2 || code[0] < '0' || code[0] > '9' || code[1] < '0' || code[1] > '9' {
		return ""
	}
	n := int(code[0]-'0')*10 + int(code[1]-'0')
	names := strings.Fields(nationList)
	if n < 1 || n > len(names) {
		return ""
	}
	return names[n-1]
}
