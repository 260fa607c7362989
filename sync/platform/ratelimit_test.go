package platform

import (
	"onedoor/internal/testdate"
	"testing"
	"time"
)

func TestLoginLimiterWindow(t *testing.T) {
	l := newLoginLimiter()
	t0 := testdate.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 5; i++ {
		if l.blocked(t0, "user:a") {
			t.Fatalf("blocked after %d failures", i)
		}
		l.fail(t0.Add(time.Duration(i)*time.Minute), "user:a", "addr:1")
	}
	tests := []struct {
		at   time.Duration
		keys []string
		want bool
	}{
		{5 * time.Minute, []string{"user:a"}, true},
		{5 * time.Minute, []string{"user:b", "addr:1"}, true}, // same address, other user
		{5 * time.Minute, []string{"user:b", "addr:2"}, false},
		{15*time.Minute + time.Second, []string{"user:a"}, false}, // the first failure aged out
	}
	for _, tc := range tests {
		if got := l.blocked(t0.Add(tc.at), tc.keys...); got != tc.want {
			t.Errorf("blocked(+%v, %v) = %v, want %v", tc.at, tc.keys, got, tc.want)
		}
	}
	l.succeed("a")
	if l.blocked(t0.Add(5*time.Minute), "user:a") {
		t.Error("still blocked after a successful login")
	}
}
