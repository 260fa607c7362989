package voice

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

func TestParseWAV(t *testing.T) {
	pcm8 := WAV(16000, 8, 1, bytes.Repeat([]byte{128}, 16000))
	pcm16 := WAV(8000, 16, 2, make([]byte, 8000*4/2))
	withList := func() []byte {
		// A LIST chunk (odd length, padded) before data, as recorders write.
		b := append([]byte(nil), pcm8[:36]...)
		b = append(b, "LIST"...)
		b = binary.LittleEndian.AppendUint32(b, 3)
		b = append(b, 'a', 'b', 'c', 0)
		return append(b, pcm8[36:]...)
	}()
	long := append([]byte(nil), pcm8...)
	binary.LittleEndian.PutUint32(long[40:], 1<<30) // data longer than the file
	alaw := append([]byte(nil), pcm8...)
	binary.LittleEndian.PutUint16(alaw[20:], 6)
	bits24 := append([]byte(nil), pcm8...)
	binary.LittleEndian.PutUint16(bits24[34:], 24)
	rate := append([]byte(nil), pcm8...)
	binary.LittleEndian.PutUint32(rate[24:], 1000)

	tests := []struct {
		name string
		in   []byte
		want time.Duration
		err  bool
	}{
		{"8-bit mono 1 s", pcm8, time.Second, false},
		{"16-bit stereo 0.5 s", pcm16, 500 * time.Millisecond, false},
		{"LIST chunk before data", withList, time.Second, false},
		{"data chunk longer than the file", long, time.Second, false},
		{"empty", nil, 0, true},
		{"not RIFF", []byte("RIFX....WAVEfmt "), 0, true},
		{"a-law", alaw, 0, true},
		{"24-bit", bits24, 0, true},
		{"1000 Hz", rate, 0, true},
		{"header only", pcm8[:36], 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseWAV(tc.in)
			if tc.err {
				if !errors.Is(err, ErrNotWAV) {
					t.Fatalf("ParseWAV = %+v, %v; want ErrNotWAV", f, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Duration(); got != tc.want {
				t.Errorf("duration %v, want %v", got, tc.want)
			}
		})
	}
}

func TestScale(t *testing.T) {
	in8 := WAV(8000, 8, 1, []byte{0, 128, 255, 64})
	in16 := WAV(8000, 16, 1, []byte{0x00, 0x80, 0xff, 0x7f, 0x10, 0x00}) // -32768, 32767, 16
	tests := []struct {
		name   string
		in     []byte
		volume int
		want   []byte
	}{
		{"8-bit full", in8, 100, []byte{0, 128, 255, 64}},
		{"8-bit half", in8, 50, []byte{64, 128, 191, 96}},
		{"8-bit mute", in8, 0, []byte{128, 128, 128, 128}},
		{"8-bit above 100 is 100", in8, 150, []byte{0, 128, 255, 64}},
		{"16-bit half", in16, 50, []byte{0x00, 0xc0, 0xff, 0x3f, 0x08, 0x00}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Scale(tc.in, tc.volume)
			if err != nil {
				t.Fatal(err)
			}
			f, _ := ParseWAV(out)
			if got := out[f.DataOffset : f.DataOffset+f.DataLen]; !bytes.Equal(got, tc.want) {
				t.Errorf("samples % x, want % x", got, tc.want)
			}
			if &out[0] == &tc.in[0] {
				t.Error("Scale changed its input in place")
			}
		})
	}
}

// FuzzParseWAV: override files come from outside; no input may panic, and
// what is accepted must lie within the bytes given and scale safely.
func FuzzParseWAV(f *testing.F) {
	f.Add(WAV(16000, 8, 1, []byte{1, 2, 3}))
	f.Add(WAV(8000, 16, 2, []byte{1, 2, 3, 4}))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fm, err := ParseWAV(b)
		if err != nil {
			return
		}
		if fm.DataOffset < 0 || fm.DataLen < 0 || fm.DataOffset+fm.DataLen > len(b) {
			t.Fatalf("data %d+%d outside %d bytes", fm.DataOffset, fm.DataLen, len(b))
		}
		if _, err := Scale(b, 37); err != nil {
			t.Fatalf("Scale refused what ParseWAV accepted: %v", err)
		}
	})
}
