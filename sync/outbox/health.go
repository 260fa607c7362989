package outbox

import (
	"fmt"
	"time"
)

// HealthRules say when the queue needs a technician. Zero fields take the
// defaults below.
type HealthRules struct {
	// MaxAge: the oldest undelivered submission may wait this long
	// (default 24 h: a village link is up at least once a day).
	MaxAge time.Duration
	// MinFreeBytes: free space the data directory must keep (default
	// 200 MB: about a hundred submissions of scans).
	MinFreeBytes int64
	// AllowRejected: rejected submissions alone do not make the queue
	// unhealthy (by default they do: each needs a person to act).
	AllowRejected bool
}

// Default health thresholds.
const (
	DefaultMaxAge       = 24 * time.Hour
	DefaultMinFreeBytes = 200 << 20
)

// Problems lists, in words, why the queue is unhealthy under rules; empty
// means healthy.
func (st Stats) Problems(rules HealthRules) []string {
	if rules.MaxAge <= 0 {
		rules.MaxAge = DefaultMaxAge
	}
	if rules.MinFreeBytes <= 0 {
		rules.MinFreeBytes = DefaultMinFreeBytes
	}
	var out []string
	if n := st.Counts[StateRejected]; n > 0 && !rules.AllowRejected {
		out = append(out, fmt.Sprintf("%d submission(s) rejected by the platform", n))
	}
	if st.Unreadable > 0 {
		out = append(out, fmt.Sprintf("%d queued submission(s) cannot be decrypted: wrong data key file, or damaged data", st.Unreadable))
	}
	if st.Queued > 0 && st.OldestAge > rules.MaxAge {
		out = append(out, fmt.Sprintf("oldest queued submission is %s old (limit %s)",
			st.OldestAge.Round(time.Minute), rules.MaxAge))
	}
	if st.FreeDiskBytes < rules.MinFreeBytes {
		out = append(out, fmt.Sprintf("only %d MB free on the data disk (limit %d MB)",
			st.FreeDiskBytes>>20, rules.MinFreeBytes>>20))
	}
	return out
}
