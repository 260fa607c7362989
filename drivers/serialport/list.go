package serialport

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Candidate is a serial port worth probing.
type Candidate struct {
	Path   string // as listed or configured
	Target string // where a symlink (by-id name) points; "" if Path is no symlink
	Exists bool   // false for a configured path whose device is not there now
}

// defaultPatterns are where Linux puts serial ports: on-board UARTs, USB
// adapters (FTDI/CH340/PL2303 as ttyUSB, CDC as ttyACM) and udev's stable
// by-id names.
func defaultPatterns() []string {
	return []string{"/dev/ttyS*", "/dev/ttyUSB*", "/dev/ttyACM*", "/dev/serial/by-id/*"}
}

// ListCandidates lists serial ports on this machine plus the configured
// extra paths (which are listed even when absent, so a technician sees that
// a configured device is missing). On-board ttyS ports are listed only when
// the kernel found a UART behind them: most machines have 4–32 ttyS nodes
// with nothing attached.
func ListCandidates(extra []string) []Candidate {
	return listCandidates(defaultPatterns(), extra, "/sys/class/tty")
}

func listCandidates(patterns, extra []string, sysTTY string) []Candidate {
	seen := map[string]bool{}
	var out []Candidate
	add := func(path string, mustExist bool) {
		if seen[path] {
			return
		}
		c := Candidate{Path: path}
		if fi, err := os.Lstat(path); err == nil {
			c.Exists = true
			if fi.Mode()&os.ModeSymlink != 0 {
				if t, err := filepath.EvalSymlinks(path); err == nil {
					c.Target = t
				} else {
					c.Exists = false
				}
			}
		}
		if mustExist && !c.Exists {
			return
		}
		seen[path] = true
		out = append(out, c)
	}
	for _, pat := range patterns {
		matches, _ := filepath.Glob(pat)
		sort.Strings(matches)
		for _, m := range matches {
			if strings.HasPrefix(filepath.Base(m), "ttyS") && !uartPresent(sysTTY, filepath.Base(m)) {
				continue
			}
			add(m, true)
		}
	}
	for _, e := range extra {
		if e != "" {
			add(e, false)
		}
	}
	return out
}

// uartPresent reads the serial core's "type" attribute: 0 means no UART
// was detected at that port address.
func uartPresent(sysTTY, name string) bool {
	b, err := os.ReadFile(filepath.Join(sysTTY, name, "type"))
	if err != nil {
		return false
	}
	t := strings.TrimSpace(string(b))
	return t != "" && t != "0"
}
