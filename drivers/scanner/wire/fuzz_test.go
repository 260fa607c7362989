package wire

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecode feeds arbitrary bytes, as a noisy serial line would, through the
// stream decoder: it must never panic, always make progress, and every frame
// it accepts must re-encode to exactly the bytes it came from.
func FuzzDecode(f *testing.F) {
	f.Add(HelloFrame())
	f.Add([]byte{0x16, 0x02, 0x06, 0x01, 0x04, 0x00, 0x00, 0x10, 0x00, 0x00})
	f.Add([]byte{0x16, 0x02, 0x85, 0x01, 0xFF, 0xFF})
	f.Add([]byte{0x10, 0x04, 0x01, 0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x11, 0xFF, 0xED, 0x16})
	f.Fuzz(func(t *testing.T, stream []byte) {
		rest := stream
		for len(rest) > 0 {
			fr, n, skipped, err := Decode(rest)
			if n < 0 || n > len(rest) || skipped > n {
				t.Fatalf("consumed %d skipped %d of %d", n, skipped, len(rest))
			}
			if errors.Is(err, ErrNeedMore) {
				if n == 0 && len(rest) > 0 && !bytes.HasPrefix(rest, []byte(SOF[:1])) {
					t.Fatalf("no progress on % x", rest)
				}
				break
			}
			if n == 0 {
				t.Fatalf("no progress after %v", err)
			}
			if err == nil {
				again, encErr := Encode(fr)
				if encErr != nil {
					t.Fatalf("accepted frame does not re-encode: %v", encErr)
				}
				if !bytes.Equal(again, rest[skipped:n]) {
					t.Fatalf("re-encoded % x, came from % x", again, rest[skipped:n])
				}
				checkPayload(fr)
			}
			rest = rest[n:]
		}
	})
}

// checkPayload runs the payload parser for the frame's type; a parser may
// reject but must not panic, and an accepted payload must re-marshal to
// something the parser accepts again with the same value.
func checkPayload(fr Frame) {
	switch fr.Type {
	case TypeIdent:
		if m, err := ParseIdent(fr.Payload); err == nil {
			if _, err := ParseIdent(m.Marshal()); err != nil {
				panic(err)
			}
		}
	case TypeOptions, TypeOptionsOK:
		if m, err := ParseOptions(fr.Payload); err == nil && !bytes.Equal(m.Marshal(), fr.Payload) {
			panic("options did not round-trip")
		}
	case TypeBegin:
		if m, err := ParseBegin(fr.Payload); err == nil && !bytes.Equal(m.Marshal(), fr.Payload) {
			panic("begin did not round-trip")
		}
	case TypeData:
		if m, err := ParseData(fr.Payload); err == nil && !bytes.Equal(m.Marshal(), fr.Payload) {
			panic("data did not round-trip")
		}
	case TypeEnd:
		_, _ = ParseEnd(fr.Payload)
	case TypeAck:
		_, _ = ParseAck(fr.Payload)
	case TypeNak:
		_, _ = ParseNak(fr.Payload)
	case TypeStatusReply:
		_, _ = ParseStatus(fr.Payload)
	case TypeError:
		if m, err := ParseError(fr.Payload); err == nil && !bytes.Equal(m.Marshal(), fr.Payload) {
			panic("error did not round-trip")
		}
	}
}

// FuzzPayloads checks every payload parser directly on arbitrary bytes, so
// the fuzzer need not first find a valid CRC to reach them.
func FuzzPayloads(f *testing.F) {
	for _, typ := range []byte{TypeIdent, TypeOptions, TypeBegin, TypeData, TypeEnd, TypeAck, TypeNak, TypeStatusReply, TypeError} {
		f.Add(typ, []byte{})
	}
	f.Add(TypeIdent, Ident{Version: 1, MaxChunk: 1024, MinDPI: 100, MaxDPI: 300, Text: "sim"}.Marshal())
	f.Add(TypeBegin, Begin{Total: 10, Format: FormatJPEG, Chunk: 1}.Marshal())
	f.Fuzz(func(t *testing.T, typ byte, payload []byte) {
		checkPayload(Frame{Type: typ, Payload: payload})
	})
}
