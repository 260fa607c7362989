package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"onedoor/sync/api"
	"onedoor/sync/platform"
)

// CheckFeed has writers goroutines store each submissions for one kiosk
// and accept every other one, while a reader follows the kiosk's statuses
// feed from cursor 0 as a kiosk does. It returns an error when the reader
// missed an update or saw one twice. A feed whose cursor is a row id
// assigned before commit fails this under PostgreSQL: a writer that
// commits late lands behind a cursor the reader has already moved past.
func CheckFeed(ctx context.Context, s platform.Store, writers, each int) error {
	const kiosk = "KF"
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	want := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				n := 500000 + w*each + i
				if _, _, err := create(ctx, s, kiosk, n, "h", at); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				want[sub(kiosk, n).UUID+"/"+api.StatusReceived] = true
				mu.Unlock()
				if i%2 == 1 {
					if _, err := s.Decide(ctx, sub(kiosk, n).UUID, api.StatusAccepted, "", "clerk", at); err != nil {
						errs <- err
						return
					}
					mu.Lock()
					want[sub(kiosk, n).UUID+"/"+api.StatusAccepted] = true
					mu.Unlock()
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	got := map[string]int{}
	var cursor int64
	poll := func() error {
		for {
			ups, next, err := s.Statuses(ctx, kiosk, cursor, 20)
			if err != nil {
				return err
			}
			if next < cursor {
				return fmt.Errorf("cursor went back from %d to %d", cursor, next)
			}
			cursor = next
			for _, u := range ups {
				got[u.UUID+"/"+u.Status]++
			}
			if len(ups) < 20 {
				return nil
			}
		}
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		if err := poll(); err != nil {
			return err
		}
	}
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	if err := poll(); err != nil { // everything is committed now
		return err
	}
	var problems []error
	for k := range want {
		if got[k] == 0 {
			problems = append(problems, fmt.Errorf("missed %s", k))
		}
	}
	for k, n := range got {
		if n > 1 {
			problems = append(problems, fmt.Errorf("%s seen %d times", k, n))
		}
		if !want[k] {
			problems = append(problems, fmt.Errorf("unexpected %s", k))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("statuses feed with %d concurrent writers (%d updates): %d wrong, first: %w", writers, len(want), len(problems), errors.Join(problems[:min(3, len(problems))]...))
	}
	return nil
}
