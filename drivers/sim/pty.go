// Package sim holds byte-exact simulators of OneDoor's serial devices. Each
// simulator speaks its device's protocol on the master side of a
// pseudo-terminal, so drivers are exercised through the real kernel tty layer
// and tarm/serial exactly as they would be against hardware.
package sim

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// PTY is one pseudo-terminal pair. The simulator reads and writes Master; the
// driver under test opens SlavePath (or a stable symlink to it).
type PTY struct {
	Master    *os.File
	slave     *os.File // held open so the master never sees EIO between driver opens
	SlavePath string
	link      string // the stable name pointing at SlavePath, if any
}

// OpenPTY creates a raw pseudo-terminal pair. If link is not empty a symlink
// at that path is (re)pointed at the slave, as udev's stable names would be.
func OpenPTY(link string) (*PTY, error) {
	m, s, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("open pty: %w", err)
	}
	if _, err := term.MakeRaw(int(s.Fd())); err != nil {
		m.Close()
		s.Close()
		return nil, fmt.Errorf("raw mode on %s: %w", s.Name(), err)
	}
	p := &PTY{Master: m, slave: s, SlavePath: s.Name(), link: link}
	if link != "" {
		if err := relink(s.Name(), link); err != nil {
			p.Close()
			return nil, err
		}
	}
	return p, nil
}

// relink atomically points link at target.
func relink(target, link string) error {
	tmp := link + ".tmp"
	_ = os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("symlink %s: %w", link, err)
	}
	if err := os.Rename(tmp, filepath.Clean(link)); err != nil {
		return fmt.Errorf("symlink %s: %w", link, err)
	}
	return nil
}

// Close closes both sides; the slave device node disappears, as when a USB
// adapter is unplugged, and so does the stable name, as udev removes it.
// Left behind, the name would point at a /dev/pts number the kernel soon
// gives to another pseudo-terminal (another test's device), and a driver
// reopening it would talk to a stranger.
func (p *PTY) Close() error {
	if p.link != "" {
		if t, err := os.Readlink(p.link); err == nil && t == p.SlavePath {
			_ = os.Remove(p.link)
		}
	}
	err1 := p.Master.Close()
	err2 := p.slave.Close()
	if err1 != nil {
		return err1
	}
	return err2
}

// ByteTime is how long one byte takes on the wire at baud with 8N1 framing
// (start bit, 8 data bits, stop bit).
func ByteTime(baud int) time.Duration {
	return time.Duration(float64(time.Second) * 10 / float64(baud))
}

// PacedWrite writes b to w no faster than a real UART at baud would, in
// small bursts so that timing stays realistic without a syscall per byte.
func PacedWrite(ctx context.Context, w *os.File, b []byte, baud int) error {
	const burst = 16
	start := time.Now()
	for off := 0; off < len(b); off += burst {
		end := min(off+burst, len(b))
		if _, err := w.Write(b[off:end]); err != nil {
			return fmt.Errorf("write to pty: %w", err)
		}
		due := start.Add(time.Duration(end) * ByteTime(baud))
		if d := time.Until(due); d > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(d):
			}
		}
	}
	return nil
}

// HostBaudMatches reports whether the host set baud on its end of the pty
// (tarm/serial writes the rate into the termios the master shares), so a
// simulator can stay silent when probed at the wrong rate, as a real UART
// would answer only with garbage. Rates termios cannot name, and a pty whose
// settings cannot be read, count as matching.
func HostBaudMatches(master *os.File, baud int) bool {
	want, ok := termiosRate(baud)
	if !ok {
		return true
	}
	rc, err := master.SyscallConn()
	if err != nil {
		return true
	}
	match := true
	rc.Control(func(fd uintptr) {
		if t, err := unix.IoctlGetTermios(int(fd), unix.TCGETS); err == nil {
			match = t.Cflag&unix.CBAUD == want
		}
	})
	return match
}

// termiosRate is the termios speed code of baud.
func termiosRate(baud int) (uint32, bool) {
	switch baud {
	case 9600:
		return unix.B9600, true
	case 19200:
		return unix.B19200, true
	case 38400:
		return unix.B38400, true
	case 57600:
		return unix.B57600, true
	case 115200:
		return unix.B115200, true
	case 230400:
		return unix.B230400, true
	case 460800:
		return unix.B460800, true
	case 921600:
		return unix.B921600, true
	}
	return 0, false
}
