package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// retryable reports whether a status code is a transient condition worth
// another attempt. Every other 4xx is the platform's verdict on this request
// and repeating it cannot change the answer.
func retryable(status int) bool {
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusTooEarly, status == http.StatusTooManyRequests:
		return true
	case status == http.StatusNotImplemented:
		return false
	case status >= 500 && status <= 599:
		return true
	}
	return false
}

// checkRetry is the retryablehttp.CheckRetry of every request. It differs
// from the library default in retrying 408 and 425, and in propagating why it
// gave up so the engine can record a useful reason.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		if errors.Is(err, errNoRetry) {
			return false, err
		}
		// The library knows which transport errors are hopeless (bad
		// scheme, untrusted certificate, too many redirects); everything
		// else is a link problem and worth another try.
		retry, _ := retryablehttp.ErrorPropagatedRetryPolicy(ctx, nil, err)
		return retry, err
	}
	return retryable(resp.StatusCode), nil
}

// errNoRetry marks an error from a response handler that another attempt
// cannot fix.
var errNoRetry = errors.New("not retryable")

// backoff is exponential with "equal jitter": half the window is fixed, half
// random, so kiosks coming back after a regional outage spread out instead of
// retrying in lockstep. A Retry-After from the platform wins, clamped to
// maxRetryAfter so a misbehaving proxy cannot park the queue for days.
type backoff struct {
	maxRetryAfter time.Duration
	now           func() time.Time
	rand          func() float64
}

func (b backoff) wait(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), b.now()); ok {
			return min2(d, b.maxRetryAfter)
		}
	}
	return Jitter(Exponential(min, max, attempt), b.rand)
}

// Exponential returns min·2^attempt capped at max (attempt counts from 0).
func Exponential(min, max time.Duration, attempt int) time.Duration {
	if min <= 0 {
		min = time.Millisecond
	}
	d := min
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	return min2(d, max)
}

// Jitter returns a duration in [d/2, d]; rnd returns values in [0,1), nil
// means math/rand/v2.
func Jitter(d time.Duration, rnd func() float64) time.Duration {
	if rnd == nil {
		rnd = rand.Float64
	}
	half := d / 2
	return half + time.Duration(rnd()*float64(d-half))
}

// parseRetryAfter understands both forms of RFC 9110 Retry-After:
// delta-seconds and an HTTP-date. A date in the past means "now".
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(365*24*time.Hour/time.Second) {
			secs = int64(365 * 24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d := t.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}

func min2(a, b time.Duration) time.Duration {
	if a < b {
		return a
	}
	return b
}
