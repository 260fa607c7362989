package outbox

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"
)

// TestClockJumpDuringSubmit: a kiosk's RTC reset to 2020 stored a
// submission, then NTP set the clock years forward. Another process
// purging with the new clock while a Submit (still on the old clock) sits
// between finding or writing its pages and committing its rows must not
// remove any blob that submission names: neither the page it wrote nor
// the page it found already stored from an earlier submission that the
// purge expires. (Blobs live in the database: the Submit's lookup and its
// commit are one immediate transaction, and the purge, another one, waits
// for it; nothing compares clocks or file times.)
func TestClockJumpDuringSubmit(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	dir := filepath.Join(root, "data")
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	old := time.Date(2020, 3, 1, 10, 0, 0, 0, time.UTC)
	later := old.AddDate(6, 9, 0)
	a, err := Open(ctx, Options{Dir: dir, KeyFile: filepath.Join(root, "k"), KioskID: "K9",
		Clock: func() time.Time { return old }, Logger: quiet})
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

	// The second process, on the corrected clock.
	b, err := Open(ctx, Options{Dir: dir, KeyFile: filepath.Join(root, "k"), KioskID: "K9",
		Clock: func() time.Time { return later }, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })

	reached, release := make(chan struct{}), make(chan struct{})
	a.hooks = &submitHooks{beforeCommit: func() {
		close(reached)
		<-release
	}}
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
	purged := make(chan PurgeReport, 1)
	go func() {
		rep, err := b.Purge(ctx, later)
		if err != nil {
			t.Errorf("purge: %v", err)
		}
		purged <- rep
	}()
	// Give the purge every chance to run into the submit's window. If it
	// could, it would remove the shared page now.
	select {
	case rep := <-purged:
		t.Fatalf("purge finished while a submit was between its blobs and its rows: %+v", rep)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	res := <-submitted
	if res.err != nil {
		t.Fatalf("submit: %v", res.err)
	}
	rep := <-purged
	if rep.Submissions != 1 || rep.BlobFiles != 1 {
		t.Errorf("purge report %+v; want the first submission and its own page only", rep)
	}
	for _, data := range [][]byte{shared, fresh} {
		if got := ReadBlobForTest(t, b, shaOf(data)); !bytes.Equal(got, data) {
			t.Fatalf("blob the second submission names read back %q", got)
		}
	}
	if _, err := b.OpenBlob(ctx, shaOf(own)); err == nil {
		t.Error("the purged submission's own page is still stored")
	}
}
