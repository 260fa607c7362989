package escpos

import (
	"errors"
	"fmt"

	"github.com/BurntSushi/toml"

	"onedoor/assets"
)

// ErrBadProfile is returned for a profile that is missing fields or has
// values no printer could have.
var ErrBadProfile = errors.New("escpos: invalid printer profile")

// Cut styles a profile may name.
const (
	CutFeedPartial   = "feed-partial"   // GS V 66 n: feed to the cutter, partial cut
	CutFeedFull      = "feed-full"      // GS V 65 n
	CutPartial       = "partial"        // GS V 1
	CutFull          = "full"           // GS V 0
	CutLegacyPartial = "legacy-partial" // ESC m, for clones that ignore GS V
	CutLegacyFull    = "legacy-full"    // ESC i
	CutNone          = "none"           // tear bar only: feed past it
)

// Chinese encodings a profile may name.
const (
	ChineseGB18030 = "gb18030" // two-byte GBK codes, four-byte only with FourByteFont
	ChineseGB2312  = "gb2312"  // only the GB2312 block (A1–F7 / A1–FE)
	ChineseNone    = "none"    // no Chinese font: ASCII only, the rest as images
)

// Profile describes what one printer model can do. Profiles are data
// (assets/printers/*.toml), so a new model needs no code.
type Profile struct {
	Name           string `toml:"name"`
	Description    string `toml:"description"`
	PaperWidthDots int    `toml:"paper_width_dots"` // 384 for 58 mm, 576 for 80 mm
	DPI            int    `toml:"dpi"`
	Columns        int    `toml:"columns"` // Latin columns of font A per line
	NativeQR       bool   `toml:"native_qr"`
	QRModule       int    `toml:"qr_module"` // dots per QR module
	Cut            string `toml:"cut"`
	MaxCharSize    int    `toml:"max_char_size"` // 1..8, for GS !
	Chinese        string `toml:"chinese"`
	FourByteFont   bool   `toml:"four_byte_font"`
	ReceiveBuffer  int    `toml:"receive_buffer"` // bytes
	// TransmitStatus says the printer answers GS r 1 in order from its
	// buffer, which lets the driver know when the job has really printed.
	// Unknown models default to false: the driver then waits a settling
	// time instead of an answer that would never come.
	TransmitStatus bool `toml:"transmit_status"`
}

// ParseProfile reads a profile from TOML and validates it.
func ParseProfile(data []byte) (Profile, error) {
	var p Profile
	md, err := toml.Decode(string(data), &p)
	if err != nil {
		return Profile{}, fmt.Errorf("%w: %w", ErrBadProfile, err)
	}
	if un := md.Undecoded(); len(un) > 0 {
		return Profile{}, fmt.Errorf("%w: unknown key %q", ErrBadProfile, un[0].String())
	}
	return p, p.Validate()
}

// LoadProfile parses the named profile embedded in assets/printers.
func LoadProfile(name string) (Profile, error) {
	if name == "" {
		name = assets.DefaultPrinterProfile
	}
	b, err := assets.PrinterProfile(name)
	if err != nil {
		return Profile{}, fmt.Errorf("%w: %w (known: %v)", ErrBadProfile, err, assets.PrinterProfileNames())
	}
	return ParseProfile(b)
}

// Validate checks that the profile describes a possible printer.
func (p Profile) Validate() error {
	bad := func(f string, a ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrBadProfile, p.Name, fmt.Sprintf(f, a...))
	}
	switch {
	case p.Name == "":
		return bad("name is empty")
	case p.PaperWidthDots < 96 || p.PaperWidthDots > 2048 || p.PaperWidthDots%8 != 0:
		return bad("paper_width_dots %d is not a multiple of 8 in 96..2048", p.PaperWidthDots)
	case p.Columns < 8 || p.Columns*12 > p.PaperWidthDots:
		return bad("columns %d do not fit %d dots of 12-dot characters", p.Columns, p.PaperWidthDots)
	case p.QRModule < 1 || p.QRModule > 16:
		return bad("qr_module %d not in 1..16", p.QRModule)
	case p.MaxCharSize < 1 || p.MaxCharSize > 8:
		return bad("max_char_size %d not in 1..8", p.MaxCharSize)
	case p.ReceiveBuffer < 64:
		return bad("receive_buffer %d is below 64 bytes", p.ReceiveBuffer)
	}
	switch p.Cut {
	case CutFeedPartial, CutFeedFull, CutPartial, CutFull, CutLegacyPartial, CutLegacyFull, CutNone:
	default:
		return bad("unknown cut style %q", p.Cut)
	}
	switch p.Chinese {
	case ChineseGB18030, ChineseGB2312, ChineseNone:
	default:
		return bad("unknown chinese encoding %q", p.Chinese)
	}
	return nil
}
