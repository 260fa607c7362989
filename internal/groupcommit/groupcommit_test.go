package groupcommit

import (
	"testing"
	"testing/synctest"
)

func TestNext(t *testing.T) {
	tests := []struct {
		name    string
		waiting int // requests queued before Next
		max     int
		want    int
	}{
		{"one alone does not wait for company", 1, 8, 1},
		{"all that piled up go together", 5, 8, 5},
		{"bounded", 12, 8, 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := make(chan int, 16)
			for i := range tc.waiting {
				in <- i
			}
			group, ok := Next(in, nil, tc.max)
			if !ok || len(group) != tc.want {
				t.Fatalf("Next = %v, %v; want %d requests", group, ok, tc.want)
			}
			for i, r := range group {
				if r != i {
					t.Fatalf("group %v out of arrival order", group)
				}
			}
		})
	}
}

// Senders blocked on an unbuffered channel (as the stores' callers are)
// are taken into the group too.
func TestNextTakesBlockedSenders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := make(chan int)
		for i := range 3 {
			go func() { in <- i }()
		}
		// All three wait to hand over: Wait returns once every other
		// goroutine in the bubble is blocked (a fixed 50 ms here was a
		// guess a starved goroutine could miss).
		synctest.Wait()
		group, ok := Next(in, nil, 8)
		if !ok || len(group) != 3 {
			t.Fatalf("Next = %v, %v; want the 3 waiting senders", group, ok)
		}
	})
}

func TestNextStopsOnQuit(t *testing.T) {
	quit := make(chan struct{})
	close(quit)
	if group, ok := Next(make(chan int), quit, 8); ok || group != nil {
		t.Fatalf("Next after quit = %v, %v", group, ok)
	}
}
