// Package idcard drives China's second-generation resident ID-card readers:
// the SAM module (SAM_V / SAM_A, GA/T 467) that the reader exposes on a
// serial port. It frames commands, reads and checks answers, turns SAM
// status codes into typed errors, decodes the 256-byte text block of all
// four card types that the SAM reads (resident ID card, HK/Macau/Taiwan
// residence permit, foreigner permanent residence card 2017 and 2023),
// validates the ID number and validity dates, and runs a Watch loop that
// reports cards being placed, read and removed.
//
// The photo is handed out as the raw 1,024-byte WLT blob. Its compression is
// proprietary and decoders are licensed per deployment, so a deployment
// plugs its vendor library in through PhotoDecoder; this package never
// pretends to decode it.
//
// Personal data (names, ID numbers, addresses) never goes to the log; show
// ID numbers to people through pii.MaskID.
package idcard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// preamble starts every frame in both directions.
const preamble = "\xAA\xAA\xAA\x96\x69"

const (
	headerLen = len(preamble) + 2 // preamble + big-endian length
	// maxFrameLen bounds the length field; the longest real answer (text,
	// photo and two fingerprints) is 2,314 bytes after the header.
	maxFrameLen = 4096
	minRespLen  = 4 // SW1 SW2 SW3 CHK
)

var (
	// ErrChecksum means a frame's XOR check byte did not match.
	ErrChecksum = errors.New("idcard: frame checksum mismatch")
	// ErrFrame means a frame was malformed (impossible length, too short).
	ErrFrame = errors.New("idcard: malformed frame")
)

// Command bytes (CMD, Para) of the SAM host protocol.
const (
	cmdReset      = 0x10
	cmdStatus     = 0x11
	cmdSAMID      = 0x12
	cmdCard       = 0x20
	paraFind      = 0x01
	paraSelect    = 0x02
	cmdRead       = 0x30
	paraReadBase  = 0x01
	paraReadAddr  = 0x03
	paraReadFP    = 0x10
	cmdSetBaud    = 0x60
	cmdSetMaxRF   = 0x61
	paraAnything  = 0xFF
	sw3OK         = 0x90
	sw3NoContent  = 0x91
	sw3FindOK     = 0x9F
	sw3NoCard     = 0x80
	textBlockSize = 256
	photoSize     = 1024
)

// xor is the frame check: XOR of everything between the preamble and the
// check byte itself.
func xor(b []byte) byte {
	var c byte
	for _, x := range b {
		c ^= x
	}
	return c
}

// EncodeCommand builds a host→SAM frame.
func EncodeCommand(cmd, para byte, data []byte) []byte {
	return appendCommand(make([]byte, 0, headerLen+3+len(data)), cmd, para, data)
}

// appendCommand appends a host→SAM frame to f, so that a Reader can build
// every command in one buffer of its own (the idle find poll allocates
// nothing).
func appendCommand(f []byte, cmd, para byte, data []byte) []byte {
	n := 3 + len(data) // CMD Para Data CHK
	start := len(f)
	f = append(f, preamble...)
	f = append(f, byte(n>>8), byte(n), cmd, para)
	f = append(f, data...)
	return append(f, xor(f[start+len(preamble):]))
}

// Response is a decoded SAM→host frame.
type Response struct {
	SW1, SW2, SW3 byte
	Data          []byte
}

// encodeResponse builds a SAM→host frame; the tests use it to round-trip
// golden frames.
func encodeResponse(r Response) []byte {
	n := 4 + len(r.Data)
	f := make([]byte, 0, headerLen+n)
	f = append(f, preamble...)
	f = append(f, byte(n>>8), byte(n), r.SW1, r.SW2, r.SW3)
	f = append(f, r.Data...)
	return append(f, xor(f[len(preamble):]))
}

// DecodeFrame checks and decodes one complete SAM→host frame, preamble
// through check byte.
func DecodeFrame(f []byte) (Response, error) {
	if len(f) < headerLen+minRespLen || string(f[:len(preamble)]) != preamble {
		return Response{}, fmt.Errorf("%w: %d bytes, no preamble or too short", ErrFrame, len(f))
	}
	n := int(f[5])<<8 | int(f[6])
	if n < minRespLen || n > maxFrameLen {
		return Response{}, fmt.Errorf("%w: length field %d", ErrFrame, n)
	}
	if len(f) != headerLen+n {
		return Response{}, fmt.Errorf("%w: length field says %d bytes, frame has %d", ErrFrame, n, len(f)-headerLen)
	}
	if got, want := f[len(f)-1], xor(f[len(preamble):len(f)-1]); got != want {
		return Response{}, fmt.Errorf("%w: check byte %02X, computed %02X", ErrChecksum, got, want)
	}
	return Response{SW1: f[7], SW2: f[8], SW3: f[9], Data: append([]byte(nil), f[10:len(f)-1]...)}, nil
}

// frameReader is what reading a frame needs from a port; *serialport.Port
// has it.
type frameReader interface {
	Resync(ctx context.Context, preamble []byte, deadline time.Time) (int, error)
	ReadFull(ctx context.Context, buf []byte, deadline time.Time) error
}

// readFrame reads one SAM→host frame: it skips noise up to the preamble,
// reads the length, refuses impossible lengths before waiting for them,
// then reads the rest and checks it. The frame is read into buf, grown as
// needed and returned for the next call; the Response does not share it.
func readFrame(ctx context.Context, src frameReader, deadline time.Time, buf []byte) (Response, []byte, error) {
	f := append(append(buf[:0], preamble...), 0, 0)
	// f's preamble is the pattern: a []byte(preamble) here would be a
	// fresh allocation on every poll.
	if _, err := src.Resync(ctx, f[:len(preamble)], deadline); err != nil {
		return Response{}, f, err
	}
	if err := src.ReadFull(ctx, f[len(preamble):headerLen], deadline); err != nil {
		return Response{}, f, err
	}
	n := int(f[5])<<8 | int(f[6])
	if n < minRespLen || n > maxFrameLen {
		return Response{}, f, fmt.Errorf("%w: length field %d", ErrFrame, n)
	}
	f = slices.Grow(f, n)[:headerLen+n]
	if err := src.ReadFull(ctx, f[headerLen:], deadline); err != nil {
		return Response{}, f, err
	}
	resp, err := DecodeFrame(f)
	return resp, f, err
}
