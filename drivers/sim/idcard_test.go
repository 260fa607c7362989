package sim

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// openHost opens the driver's end of the pty at 115200 baud without the
// serial driver, so the simulator is tested on its own.
func openHost(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var ioErr error
	rc.Control(func(fd uintptr) {
		tio, err := unix.IoctlGetTermios(int(fd), unix.TCGETS)
		if err != nil {
			ioErr = err
			return
		}
		tio.Cflag = tio.Cflag&^unix.CBAUD | unix.B115200
		ioErr = unix.IoctlSetTermios(int(fd), unix.TCSETS, tio)
	})
	return f, ioErr
}

func TestFictionalCardsAreWellFormed(t *testing.T) {
	for _, c := range FictionalCards() {
		t.Run(c.Key, func(t *testing.T) {
			block, err := c.TextBlock()
			if err != nil {
				t.Fatal(err)
			}
			if len(block) != 256 {
				t.Fatalf("block %d bytes", len(block))
			}
			if len(c.Number) == 18 {
				valid := checkDigit(c.Number[:17]) == c.Number[17]
				if valid == (c.Key == "badnumber") {
					t.Fatalf("number %s: check digit valid=%v", c.Number, valid)
				}
				if c.Number[6:14] != c.Birth {
					t.Fatalf("birth %s not in number %s", c.Birth, c.Number)
				}
			}
		})
	}
}

// TestIDCardSimGoldenExchange drives the simulator with the reference's
// exact frames and compares its exact answers.
func TestIDCardSimGoldenExchange(t *testing.T) {
	p, err := OpenPTY("")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s := NewIDCard(IDCardConfig{Baud: 115200})
	// Open the slave side at the simulator's rate, as a host would.
	host, err := openHost(p.SlavePath)
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Serve(ctx, p)

	tests := []struct {
		name     string
		before   func()
		req, ans string
	}{
		{"status", nil, "AAAAAA9669000311FFED", "AAAAAA96690004000090" + "94"},
		{"find with no card", nil, "AAAAAA96690003200122", "AAAAAA96690004000080" + "84"},
		{"find", func() { s.Place("resident") }, "AAAAAA96690003200122", "AAAAAA966900080000" + "9F0000000097"},
		{"select", nil, "AAAAAA96690003200221", "AAAAAA9669000C000090" + "00000000000000009C"},
		{"SAM ID", nil, "AAAAAA9669000312FFEE", "AAAAAA96690014000090" + "0500010005293501" + "2A000000" + "15CD5B07" + "36"},
		{"bad checksum from host", nil, "AAAAAA9669000311FF00", "AAAAAA96690004000010" + "14"},
		{"unknown command", nil, "AAAAAA966900037777" + "03", "AAAAAA96690004000021" + "25"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before()
			}
			req, ans := unhex(t, tc.req), unhex(t, tc.ans)
			if _, err := host.Write(req); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(ans))
			host.SetReadDeadline(time.Now().Add(2 * time.Second))
			if _, err := io.ReadFull(host, got); err != nil {
				t.Fatalf("answer: %v (got % X)", err, got)
			}
			if !bytes.Equal(got, ans) {
				t.Fatalf("answer % X\n want   % X", got, ans)
			}
		})
	}
}

// FuzzIDCardHostFrames feeds arbitrary host bytes to the simulator's frame
// splitter: it must never panic, and every frame it cuts must be whole.
func FuzzIDCardHostFrames(f *testing.F) {
	for _, h := range []string{"AAAAAA9669000311FFED", "00AAAAAA96690003200122AAAAAA", "AAAAAA9669FFFF", "AAAAAA966900"} {
		b, _ := hex.DecodeString(h)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		buf := in
		for range len(in) + 1 {
			frame, rest, ok := nextFrame(buf)
			if len(rest) > len(buf) {
				t.Fatalf("rest grew from %d to %d", len(buf), len(rest))
			}
			if ok {
				n := int(frame[5])<<8 | int(frame[6])
				if string(frame[:5]) != samPreamble || len(frame) != 7+n {
					t.Fatalf("cut a broken frame % X", frame)
				}
			} else if len(rest) == len(buf) {
				return // needs more bytes
			}
			buf = rest
		}
	})
}
