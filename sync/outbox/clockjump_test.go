package outbox

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"onedoor/internal/atomicfile"
)

// pausingFS stops a Submit after its blob files are renamed into place and
// before the directory sync (so before the row commits), until released.
type pausingFS struct {
	osFS
	reached chan struct{}
	release chan struct{}
}

func (p *pausingFS) SyncDir(dir string) error {
	if p.reached != nil {
		close(p.reached)
		p.reached = nil
		<-p.release
	}
	return atomicfile.SyncDir(dir)
}

// TestClockJumpDuringSubmit: a kiosk's RTC reset to 2020 wrote blob files,
// then NTP set the clock years forward. Another process purging with the
// new clock while a Submit (still on the old clock) sits between writing
// its blobs and committing its row must not remove any blob that
// submission names: neither the page it wrote nor the page it found
// already stored from an earlier submission that the purge expires.
func TestClockJumpDuringSubmit(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	dir := filepath.Join(root, "data")
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	old := time.Date(2020, 3, 1, 10, 0, 0, 0, time.UTC)
	later := old.AddDate(6, 9, 0)
	pause := &pausingFS{}
	a, err := open(ctx, Options{Dir: dir, KeyFile: filepath.Join(root, "k"), KioskID: "K9",
		Clock: func() time.Time { return old }, Logger: quiet}, pause)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })

	shared, own, fresh := []byte("page both submissions name"), []byte("first submission's own page"), []byte("second submission's new page")
	first, err := a.Submit(ctx, fictional(shared, own))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.MarkSent(ctx, first.UUID, "C-1", old); err != nil {
		t.Fatal(err)
	}
	// Every file the 2020 clock wrote looks six years old now.
	ageAll := func() {
		entries, _ := os.ReadDir(filepath.Join(dir, "blobs"))
		for _, e := range entries {
			os.Chtimes(filepath.Join(dir, "blobs", e.Name()), old, old)
		}
	}
	ageAll()

	// The second process, on the corrected clock. Opening it collects
	// garbage too, which must leave the first submission's files alone.
	b, err := open(ctx, Options{Dir: dir, KeyFile: filepath.Join(root, "k"), KioskID: "K9",
		Clock: func() time.Time { return later }, Logger: quiet}, osFS{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })

	pause.reached, pause.release = make(chan struct{}), make(chan struct{})
	reached := pause.reached
	type result struct {
		r   Receipt
		err error
	}
	submitted := make(chan result, 1)
	go func() {
		r, err := a.Submit(ctx, fictional(shared, fresh))
		submitted <- result{r, err}
	}()
	<-reached
	ageAll()
	purged := make(chan PurgeReport, 1)
	go func() {
		rep, err := b.Purge(ctx, later)
		if err != nil {
			t.Errorf("purge: %v", err)
		}
		purged <- rep
	}()
	// Give the purge every chance to run into the submit's window. If it
	// could, it would remove the shared and the fresh page now.
	select {
	case rep := <-purged:
		t.Fatalf("purge finished while a submit was between its blobs and its row: %+v", rep)
	case <-time.After(300 * time.Millisecond):
	}
	for _, data := range [][]byte{shared, fresh} {
		if _, err := os.Stat(filepath.Join(dir, "blobs", shaOf(data))); err != nil {
			t.Fatalf("blob of the submission in progress removed: %v", err)
		}
	}
	close(pause.release)
	res := <-submitted
	if res.err != nil {
		t.Fatalf("submit: %v", res.err)
	}
	rep := <-purged
	if rep.Submissions != 1 || rep.BlobFiles != 1 {
		t.Errorf("purge report %+v; want the first submission and its own page only", rep)
	}
	for _, data := range [][]byte{shared, fresh} {
		r, err := b.OpenBlob(ctx, shaOf(data))
		if err != nil {
			t.Fatalf("blob the second submission names: %v", err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("blob read back: %q %v", got, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "blobs", shaOf(own))); !os.IsNotExist(err) {
		t.Errorf("the purged submission's own page: %v, want removed", err)
	}
}
