package wire

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestWriteSeedCorpus regenerates the committed seed corpora under
// testdata/fuzz from real protocol traffic. It only runs when asked:
//
//	ONEDOOR_WRITE_CORPUS=1 go test -run TestWriteSeedCorpus ./drivers/scanner/wire
func TestWriteSeedCorpus(t *testing.T) {
	if os.Getenv("ONEDOOR_WRITE_CORPUS") == "" {
		t.Skip("set ONEDOOR_WRITE_CORPUS=1 to rewrite testdata/fuzz")
	}
	enc := func(typ, seq byte, payload []byte) []byte {
		b, err := Encode(Frame{Type: typ, Seq: seq, Payload: payload})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	img := []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x16\x02\x16\x02 fake jpeg bytes")
	ident := Ident{Version: 1, MaxChunk: MaxChunk, Colour: true, Feeder: true, MinDPI: 100, MaxDPI: 300, Text: "OneDoor SIM-A4 sheet-fed scanner fw 1.0 (simulated)"}
	begin := Begin{Total: uint32(len(img)), Format: FormatJPEG, Width: 1654, Height: 2339, DPI: 200, Mode: ModeGrey, Chunk: 1024}
	data := enc(TypeData, 7, Data{Offset: 0, Bytes: img}.Marshal())
	corrupt := append([]byte(nil), data...)
	corrupt[len(corrupt)/2] ^= 0x5A
	stream := append(append(append([]byte{}, data[:len(data)/2]...), enc(TypeNak, 8, Nak{Offset: 0, Reason: NakTimeout}.Marshal())...), data...)

	decode := map[string][]byte{
		"hello":             HelloFrame(),
		"ident":             enc(TypeIdent, 0, ident.Marshal()),
		"status":            enc(TypeStatusReply, 3, Status{State: StateIdle, Flags: FlagPaper | FlagJam, Sheets: 2}.Marshal()),
		"options":           enc(TypeOptions, 4, Options{DPI: 200, Mode: ModeColour, Page: PageA5, Chunk: 2048}.Marshal()),
		"begin":             enc(TypeBegin, 5, begin.Marshal()),
		"data":              data,
		"data-corrupted":    corrupt,
		"stall-then-resend": stream,
		"end":               enc(TypeEnd, 9, End{Total: uint32(len(img)), Sum: sha256.Sum256(img)}.Marshal()),
		"error-jam":         enc(TypeError, 5, Error{Code: ErrCodePaperJam, Detail: "paper jam at the feed roller"}.Marshal()),
		"probe-noise":       append([]byte{0x10, 0x04, 0x01, 0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x11, 0xFF, 0xED}, HelloFrame()...),
		"huge-length":       {0x16, 0x02, 0x85, 0x01, 0xFF, 0xFF, 0x00},
		"truncated":         data[:9],
	}
	for name, b := range decode {
		writeSeed(t, "FuzzDecode", name, fmt.Sprintf("[]byte(%s)", strconv.Quote(string(b))))
	}
	payloads := map[string][2]string{
		"ident":            {fmt.Sprint(TypeIdent), strconv.Quote(string(ident.Marshal()))},
		"begin":            {fmt.Sprint(TypeBegin), strconv.Quote(string(begin.Marshal()))},
		"data":             {fmt.Sprint(TypeData), strconv.Quote(string(Data{Offset: 1024, Bytes: img}.Marshal()))},
		"error":            {fmt.Sprint(TypeError), strconv.Quote(string(Error{Code: ErrCodeCoverOpen, Detail: "盖子开着"}.Marshal()))},
		"bad-utf8-error":   {fmt.Sprint(TypeError), strconv.Quote("\x03\xff\xfe")},
		"options-bad-mode": {fmt.Sprint(TypeOptions), strconv.Quote("\xc8\x00\x07\x00\x00\x04")},
	}
	for name, p := range payloads {
		writeSeed(t, "FuzzPayloads", name, fmt.Sprintf("byte(%s)\n[]byte(%s)", p[0], p[1]))
	}
}

func writeSeed(t *testing.T, target, name, body string) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte("go test fuzz v1\n"+body+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
