package sim

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// An unplugged device's stable name goes with it: the kernel hands the
// freed /dev/pts number to the next pseudo-terminal opened (often at once),
// and a name left behind would lead a reconnecting driver to that stranger.
func TestClosedPTYTakesItsNameAlong(t *testing.T) {
	link := filepath.Join(t.TempDir(), "scanner")
	p, err := OpenPTY(link)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.Readlink(link); err != nil || got != p.SlavePath {
		t.Fatalf("link -> %q, %v; want %s", got, err, p.SlavePath)
	}
	p.Close()
	stranger, err := OpenPTY("")
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	if _, err := os.Lstat(link); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("link still there after Close (%v); the freed pty is now %s", err, stranger.SlavePath)
	}
	// A name already repointed at a new device is left alone.
	p1, err := OpenPTY(link)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := OpenPTY(link)
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Close()
	p1.Close()
	if got, err := os.Readlink(link); err != nil || got != p2.SlavePath {
		t.Fatalf("closing the old device moved the new one's name: %q, %v", got, err)
	}
}
