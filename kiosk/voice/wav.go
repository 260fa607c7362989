package voice

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// ErrNotWAV: the bytes are not a WAV file aplay can play (RIFF/WAVE with
// integer PCM of 8 or 16 bits).
var ErrNotWAV = errors.New("voice: not a playable WAV file")

// Format describes a WAV file's audio.
type Format struct {
	Channels      int
	SampleRate    int
	BitsPerSample int
	// DataOffset and DataLen locate the samples in the file.
	DataOffset, DataLen int
}

// Duration is how long the samples play.
func (f Format) Duration() time.Duration {
	frame := f.Channels * f.BitsPerSample / 8
	if frame <= 0 || f.SampleRate <= 0 {
		return 0
	}
	frames := f.DataLen / frame
	return time.Duration(frames) * time.Second / time.Duration(f.SampleRate)
}

// Limits on what ParseWAV accepts, so that a damaged override file is
// refused before it reaches the sound device.
const (
	maxChannels   = 2
	minSampleRate = 8000
	maxSampleRate = 48000
)

// ParseWAV reads the header of a RIFF/WAVE file (the override folder holds
// files from outside, so every length is checked against the bytes there
// are). A data chunk longer than the file, as some recorders leave it, is
// cut to what is present.
func ParseWAV(b []byte) (Format, error) {
	var f Format
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return f, fmt.Errorf("%w: no RIFF/WAVE header", ErrNotWAV)
	}
	haveFmt := false
	for off := 12; off+8 <= len(b); {
		id := string(b[off : off+4])
		size := int(binary.LittleEndian.Uint32(b[off+4 : off+8]))
		body := off + 8
		if size < 0 || size > len(b)-body {
			if id != "data" {
				return f, fmt.Errorf("%w: chunk %q runs past the end", ErrNotWAV, id)
			}
			size = len(b) - body
		}
		switch id {
		case "fmt ":
			if size < 16 {
				return f, fmt.Errorf("%w: short fmt chunk", ErrNotWAV)
			}
			tag := binary.LittleEndian.Uint16(b[body:])
			f.Channels = int(binary.LittleEndian.Uint16(b[body+2:]))
			f.SampleRate = int(binary.LittleEndian.Uint32(b[body+4:]))
			f.BitsPerSample = int(binary.LittleEndian.Uint16(b[body+14:]))
			const pcm, extensible = 1, 0xFFFE
			if tag != pcm && tag != extensible {
				return f, fmt.Errorf("%w: format tag %#x is not integer PCM", ErrNotWAV, tag)
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return f, fmt.Errorf("%w: data before fmt", ErrNotWAV)
			}
			f.DataOffset, f.DataLen = body, size
			return f, f.check()
		}
		off = body + size + size%2 // chunks are padded to even lengths
	}
	return f, fmt.Errorf("%w: no data chunk", ErrNotWAV)
}

func (f Format) check() error {
	switch {
	case f.Channels < 1 || f.Channels > maxChannels:
		return fmt.Errorf("%w: %d channels", ErrNotWAV, f.Channels)
	case f.SampleRate < minSampleRate || f.SampleRate > maxSampleRate:
		return fmt.Errorf("%w: sample rate %d Hz", ErrNotWAV, f.SampleRate)
	case f.BitsPerSample != 8 && f.BitsPerSample != 16:
		return fmt.Errorf("%w: %d bits per sample", ErrNotWAV, f.BitsPerSample)
	}
	return nil
}

// Scale returns a copy of the WAV file b with its samples at volume percent
// (0–100) of their level. aplay has no volume of its own and the kiosk must
// not turn the system mixer for everyone, so the samples are scaled here:
// 8-bit samples are unsigned around 128, 16-bit ones signed little-endian.
func Scale(b []byte, volume int) ([]byte, error) {
	f, err := ParseWAV(b)
	if err != nil {
		return nil, err
	}
	volume = min(max(volume, 0), 100)
	out := append([]byte(nil), b...)
	if volume == 100 {
		return out, nil
	}
	data := out[f.DataOffset : f.DataOffset+f.DataLen]
	switch f.BitsPerSample {
	case 8:
		for i, s := range data {
			data[i] = byte(128 + (int(s)-128)*volume/100)
		}
	case 16:
		for i := 0; i+1 < len(data); i += 2 {
			s := int(int16(binary.LittleEndian.Uint16(data[i:])))
			binary.LittleEndian.PutUint16(data[i:], uint16(int16(s*volume/100)))
		}
	}
	return out, nil
}
