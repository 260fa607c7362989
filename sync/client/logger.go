package client

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"

	"onedoor/pii"
)

// redactor scrubs text before it is logged: the kiosk token, query strings
// (which go-retryablehttp prints as they are) and ID-shaped numbers.
type redactor struct {
	secrets []string
}

func (r redactor) scrub(s string) string {
	for _, sec := range r.secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	// An ID number should never reach the client's log calls; if one does
	// through an error text it is masked anyway.
	return pii.MaskText(s)
}

func (r redactor) value(v any) any {
	switch x := v.(type) {
	case string:
		return r.scrub(stripQuery(x))
	case *url.URL:
		if x == nil {
			return ""
		}
		u := *x
		u.RawQuery = ""
		u.User = nil
		return r.scrub(u.String())
	case error:
		return r.scrub(stripQueryIn(x.Error()))
	case fmt.Stringer:
		return r.scrub(stripQueryIn(x.String()))
	case int, int64, bool, float64:
		return x
	default:
		return r.scrub(fmt.Sprint(x))
	}
}

// stripQuery drops the query of something that looks like a URL.
func stripQuery(s string) string {
	if strings.Contains(s, "://") || strings.HasPrefix(s, "/") {
		return stripQueryIn(s)
	}
	return s
}

var queryPart = regexp.MustCompile(`\?[^\s"]*`)

func stripQueryIn(s string) string { return queryPart.ReplaceAllString(s, "") }

// leveledLogger adapts slog to retryablehttp.LeveledLogger. The library logs
// a line per attempt at debug level; failures go out as warnings because the
// caller decides what is an error.
type leveledLogger struct {
	log *slog.Logger
	r   redactor
}

func (l leveledLogger) args(kv []any) []any {
	out := make([]any, 0, len(kv))
	for i := 0; i < len(kv); i++ {
		if i%2 == 0 {
			out = append(out, fmt.Sprint(kv[i]))
			continue
		}
		out = append(out, l.r.value(kv[i]))
	}
	return out
}

func (l leveledLogger) Error(msg string, kv ...any) { l.emit(slog.LevelWarn, msg, kv) }
func (l leveledLogger) Warn(msg string, kv ...any)  { l.emit(slog.LevelWarn, msg, kv) }
func (l leveledLogger) Info(msg string, kv ...any)  { l.emit(slog.LevelInfo, msg, kv) }
func (l leveledLogger) Debug(msg string, kv ...any) { l.emit(slog.LevelDebug, msg, kv) }

// emit scrubs and logs only when the level is on: go-retryablehttp logs
// every request at debug level, and scrubbing (regular expressions over
// each value) showed in the drain profile while nothing was written.
func (l leveledLogger) emit(level slog.Level, msg string, kv []any) {
	if !l.log.Enabled(context.Background(), level) {
		return
	}
	l.log.Log(context.Background(), level, l.r.scrub(msg), l.args(kv)...)
}

// RedactIDs masks anything shaped like an ID number in s.
func RedactIDs(s string) string { return pii.MaskText(s) }
