package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"onedoor/internal/testdate"
	"onedoor/sync/api"
	"onedoor/sync/platform"
	"onedoor/sync/platform/supervise"
)

// CheckSuperviseFeed has writers concurrently take in submissions, accept
// every other one and rate every third, while a refresher brings the
// supervision facts up to date over and over, as an instance's pages do.
// After a last refresh every case's facts must show its last status and its
// rating. It returns an error when they do not: a refresh whose cursors are
// row ids assigned before commit passes over a writer that commits late
// under PostgreSQL, and that case's facts stay stale.
func CheckSuperviseFeed(ctx context.Context, s SuperviseStore, writers, each int) error {
	const kiosk = "KS"
	at := testdate.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	type want struct {
		status string
		rating int
	}
	wants := map[string]want{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	rr := func(r api.RatingResponse) (platform.StoredResponse, error) {
		return platform.StoredResponse{Status: 201, Body: []byte(r.UUID)}, nil
	}
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				n := 700000 + w*each + i
				req := sub(kiosk, n)
				if _, _, err := create(ctx, s, kiosk, n, "h", at); err != nil {
					errs <- err
					return
				}
				wt := want{status: api.StatusReceived}
				if i%2 == 1 {
					if _, err := s.Decide(ctx, req.UUID, api.StatusAccepted, "", "clerk", at); err != nil {
						errs <- err
						return
					}
					wt.status = api.StatusAccepted
				}
				if i%3 == 0 {
					rt := api.Rating{UUID: fmt.Sprintf("00000000-0000-4000-9000-%012d", n), Receipt: req.Receipt, Level: 1 + n%5, At: at}
					if _, _, err := s.AddRating(ctx, platform.RatingRecord{KioskID: kiosk, IdemKey: rt.UUID, BodyHash: "r", Rating: rt, ReceivedAt: at}, rr); err != nil {
						errs <- err
						return
					}
					wt.rating = rt.Level
				}
				mu.Lock()
				wants[req.Receipt] = wt
				mu.Unlock()
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	ref := supervise.Refresher{Store: s, Workdays: supervise.NewWorkdays(nil)}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		if err := ref.Refresh(ctx); err != nil {
			return err
		}
	}
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	if err := ref.Refresh(ctx); err != nil {
		return err
	}
	got := map[string]supervise.FactRow{}
	if err := s.EachFact(ctx, func(f supervise.FactRow) error {
		got[f.Receipt] = f
		return nil
	}); err != nil {
		return err
	}
	var stale []string
	for receipt, w := range wants {
		f, ok := got[receipt]
		if !ok || f.Status != w.status || f.Rating != w.rating {
			stale = append(stale, fmt.Sprintf("%s: facts %q rating %d, want %q %d (present %v)", receipt, f.Status, f.Rating, w.status, w.rating, ok))
		}
	}
	if len(stale) > 0 {
		return fmt.Errorf("%d of %d cases' facts are stale after the last refresh, e.g. %s", len(stale), len(wants), stale[0])
	}
	return nil
}

// RunSuperviseFeed runs CheckSuperviseFeed on a store from open.
func RunSuperviseFeed(t *testing.T, open Opener) {
	s, ok := open(t).(SuperviseStore)
	if !ok {
		t.Skip("the store does not implement supervise.Store")
	}
	defer s.Close()
	if err := CheckSuperviseFeed(context.Background(), s, 16, 30); err != nil {
		t.Fatal(err)
	}
}
