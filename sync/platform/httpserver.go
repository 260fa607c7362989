package platform

import (
	"errors"
	"io"
	"log"
	"net/http"
	"time"
)

// Time limits on the connection, so a slow or stalled client holds a file
// descriptor for seconds, not minutes.
const (
	// DefaultHeaderTimeout bounds the arrival of a request's headers.
	DefaultHeaderTimeout = 5 * time.Second
	// DefaultBodyIdleTimeout cuts a request body (JSON, forms, and any
	// body before the request is authenticated) after this long without
	// a byte. A blob PATCH, once authenticated, gets
	// Config.UploadIdleTimeout instead.
	DefaultBodyIdleTimeout = 5 * time.Second
	// DefaultBodyTimeout bounds a whole JSON or form body (at most 1 MiB),
	// however it trickles in; a large declared body gets longer, at
	// MinBodyRate (a village link at 64 kbit/s shares its line).
	DefaultBodyTimeout = 60 * time.Second
	// MinBodyRate is the slowest a declared JSON body may arrive, bytes/s.
	MinBodyRate = 2 << 10
	// DefaultIdleTimeout closes a kept-alive connection without a request.
	DefaultIdleTimeout = 60 * time.Second
)

// NewHTTPServer returns the http.Server platformd serves h with: header,
// idle and header-size limits. Body limits are set per request by the
// Server itself, so they hold under any http.Server (httptest too).
func NewHTTPServer(h http.Handler, errorLog *log.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: DefaultHeaderTimeout,
		IdleTimeout:       DefaultIdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          errorLog,
	}
}

// bodyTimeout is how long a JSON body of n declared bytes (-1: unknown)
// may take in all.
func bodyTimeout(n int64) time.Duration {
	return max(DefaultBodyTimeout, time.Duration(n/MinBodyRate)*time.Second)
}

// deadlineReader pushes the connection's read deadline forward before
// every read, to now+idle but never past end: a body may take its time
// while it moves, up to end, and fails once it has been still for idle.
type deadlineReader struct {
	r    io.Reader
	rc   *http.ResponseController
	idle time.Duration
	end  time.Time // zero: no overall limit
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	dl := time.Now().Add(d.idle)
	if !d.end.IsZero() && dl.After(d.end) {
		dl = d.end
	}
	// An error means the writer cannot set deadlines (not a net/http
	// server); the read then simply has no limit.
	_ = d.rc.SetReadDeadline(dl)
	return d.r.Read(p)
}

// isTimeout reports whether err is a read deadline passing.
func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}
