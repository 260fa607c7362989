package outbox

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// blobLockName is the lock file, beside the database rather than in
// blobs/, so blob collection never sees it.
const blobLockName = "blobs.lock"

// blobLock keeps blob garbage collection out of the window between a
// Submit writing (or finding) a blob file and committing the row that
// names it, across processes: `onedoor` and `onedoor dev enqueue` can share
// one outbox. A Submit holds the lock shared for that window; collection
// takes it exclusively, so while it runs no Submit is in the window and
// every file no committed row names is garbage, whatever its age.
//
// Nothing here reads a clock. An earlier design spared files younger than
// a grace period, comparing the store's clock with file modification
// times; that broke once the injected test clock fell behind the real
// date, and it is unsafe on a kiosk whose RTC resets to an old date and
// NTP then sets it forward by years: a blob written a moment ago would look
// years old and be removed under a Submit about to name it.
//
// flock locks belong to the open file description, so two goroutines of
// one process sharing this descriptor do not exclude each other: blobMu
// does that inside the process, and every holder of the flock holds blobMu
// first. A crashed process's lock goes with its descriptors.
type blobLock struct{ f *os.File }

func openBlobLock(dir string) (*blobLock, error) {
	f, err := os.OpenFile(filepath.Join(dir, blobLockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("outbox: open blob lock: %w", mapDiskFull(err))
	}
	return &blobLock{f: f}, nil
}

func (l *blobLock) flock(how int) error {
	for {
		err := syscall.Flock(int(l.f.Fd()), how)
		if err != syscall.EINTR {
			if err != nil {
				return fmt.Errorf("outbox: blob lock: %w", err)
			}
			return nil
		}
	}
}

// shared is held by Submit from before its first blob file is written or
// found until its row commits or its new files are dropped.
func (l *blobLock) shared() error { return l.flock(syscall.LOCK_SH) }

// exclusive is held by collection for its whole pass.
func (l *blobLock) exclusive() error { return l.flock(syscall.LOCK_EX) }

func (l *blobLock) unlock() { _ = l.flock(syscall.LOCK_UN) }

func (l *blobLock) Close() error { return l.f.Close() }
