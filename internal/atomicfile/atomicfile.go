// Package atomicfile writes files so that a crash or power cut leaves
// either the old content or the new one under the name, never a torn or
// empty file: a temporary file in the same directory is written, fsynced
// and renamed over the name (or linked to it, for a file that must not be
// replaced), then the directory is fsynced so the rename itself survives.
// It is the one place the kiosk does this; config, PIN state, scan-test
// output, the data key and the outbox's directories go through it.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Write replaces path with data, created with mode perm.
func Write(path string, data []byte, perm fs.FileMode) error {
	return write(path, data, perm, false)
}

// WriteNew creates path with data and mode perm, failing with an error
// matching fs.ErrExist if path already exists: two processes racing to
// create the same file (a data key) agree on the one that got there
// first, and nobody sees it half written.
func WriteNew(path string, data []byte, perm fs.FileMode) error {
	return write(path, data, perm, true)
}

func write(path string, data []byte, perm fs.FileMode, exclusive bool) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	name := tmp.Name()
	// The temporary name goes in every case: after a rename it no longer
	// exists, after a link it is a second name of the file.
	defer os.Remove(name)
	err = tmp.Chmod(perm)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if exclusive {
		err = os.Link(name, path)
	} else {
		err = os.Rename(name, path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := SyncDir(dir); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// SyncDir fsyncs a directory, making the names created, renamed or
// removed in it durable. File systems that cannot fsync a directory
// (EINVAL) have nothing more to make durable: that is not an error.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}
