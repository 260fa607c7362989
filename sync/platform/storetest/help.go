package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"onedoor/internal/testdate"
	"onedoor/sync/platform"
)

// HelpOpener returns a fresh, empty store that keeps help calls; the
// suite closes it.
type HelpOpener func(t *testing.T) interface {
	platform.HelpStore
	Close() error
}

// RunHelp checks a platform.HelpStore (issue 17): calls kept in order,
// the same call twice is one call, an acknowledged call leaves the open
// list, and of two staff acknowledging one call at once exactly one wins.
func RunHelp(t *testing.T, open HelpOpener) {
	ctx := context.Background()
	at := testdate.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	s := open(t)
	t.Cleanup(func() { s.Close() })

	call := func(kiosk, id, screen string, d time.Duration) platform.HelpRecord {
		return platform.HelpRecord{ID: id, KioskID: kiosk, Site: "东城便民服务站", Screen: screen, At: at.Add(d - time.Second), ReceivedAt: at.Add(d)}
	}
	a, replay, err := s.AddHelp(ctx, call("K1", "00000000-0000-4000-8000-000000000001", "identify", 0))
	if err != nil || replay || a.Seq <= 0 {
		t.Fatalf("AddHelp = %+v %v %v", a, replay, err)
	}
	// The kiosk lost the answer and sends the same call again, later.
	again, replay, err := s.AddHelp(ctx, call("K1", "00000000-0000-4000-8000-000000000001", "materials", time.Minute))
	if err != nil || !replay || again.Seq != a.Seq || again.Screen != "identify" || !again.ReceivedAt.Equal(at) {
		t.Fatalf("repeated call = %+v replay %v, %v; want the first", again, replay, err)
	}
	// Another kiosk may use the same ID: calls are per kiosk.
	b, _, err := s.AddHelp(ctx, call("K2", "00000000-0000-4000-8000-000000000001", "form", 2*time.Second))
	if err != nil || b.Seq == a.Seq {
		t.Fatalf("second kiosk's call = %+v %v", b, err)
	}
	open1, err := s.OpenHelp(ctx)
	if err != nil || len(open1) != 2 || open1[0].Seq != a.Seq || open1[1].Seq != b.Seq {
		t.Fatalf("OpenHelp = %+v %v", open1, err)
	}
	got := open1[0]
	if got.KioskID != "K1" || got.Site != "东城便民服务站" || got.Screen != "identify" || !got.At.Equal(at.Add(-time.Second)) || !got.AckedAt.IsZero() || got.AckedBy != "" {
		t.Errorf("stored call %+v", got)
	}

	// Two members of staff press 我去处理 at once: one wins.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, user := range []string{"clerk1", "clerk2"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.AckHelp(ctx, a.Seq, user, at.Add(time.Minute))
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("two acknowledgements: %v, %v; want one success, one ErrNotFound", errs[0], errs[1])
	}
	for _, err := range errs {
		if err != nil && !errors.Is(err, platform.ErrNotFound) {
			t.Fatalf("losing acknowledgement: %v", err)
		}
	}
	if err := s.AckHelp(ctx, 999999, "clerk1", at); !errors.Is(err, platform.ErrNotFound) {
		t.Errorf("unknown call: %v", err)
	}
	open2, err := s.OpenHelp(ctx)
	if err != nil || len(open2) != 1 || open2[0].Seq != b.Seq {
		t.Fatalf("after acknowledgement OpenHelp = %+v %v", open2, err)
	}
	// The acknowledged call pressed again (same ID) stays answered: the
	// kiosk's retry must not ring the bell a second time.
	if r, replay, err := s.AddHelp(ctx, call("K1", "00000000-0000-4000-8000-000000000001", "identify", 3*time.Minute)); err != nil || !replay || r.AckedAt.IsZero() {
		t.Fatalf("retry after acknowledgement = %+v %v %v", r, replay, err)
	}
	if open3, _ := s.OpenHelp(ctx); len(open3) != 1 {
		t.Fatalf("retry reopened the call: %+v", open3)
	}
}
