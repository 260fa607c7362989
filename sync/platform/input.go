package platform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"time"

	"onedoor/sync/api"
)

// decodeBody decodes a JSON request body into v. Text the platform could
// not store as sent (bad UTF-8, NUL, lone surrogates) and malformed dates
// are 422 validation errors like any other; with strict, so are unknown
// fields (a misspelt heartbeat field would silently turn an alert off).
// Anything else that is not JSON of the right shape is 400.
func decodeBody(w http.ResponseWriter, body []byte, v any, what string, strict bool) bool {
	if err := api.CheckJSONText(body); err != nil {
		validation(w, err)
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("data after the JSON value")
	}
	if err == nil {
		if _, e := dec.Token(); e != io.EOF {
			err = errors.New("data after the JSON value")
		}
	}
	var pe *time.ParseError
	switch {
	case err == nil:
		return true
	case errors.As(err, &pe):
		validation(w, fmt.Errorf("a time is not RFC 3339: %s", pe.Message+" in "+pe.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		validation(w, fmt.Errorf("%s: %s", what, strings.TrimPrefix(err.Error(), "json: ")))
	default:
		writeError(w, http.StatusBadRequest, api.ErrorResponse{Code: api.CodeBadRequest, Message: "body is not a " + what + ": " + err.Error()})
	}
	return false
}

// canonicalPath reports whether p is a path the routes can match as it is:
// absolute, without empty, "." or ".." segments. ServeMux would answer
// others with an HTML redirect, which a kiosk cannot act on.
func canonicalPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	c := path.Clean(p)
	return c == p || c+"/" == p
}

// errorCapture records what ServeMux answers for a request no route
// matches (404, or 405 with Allow), so the answer can be sent as the JSON
// error body instead of ServeMux's plain text.
type errorCapture struct {
	h    http.Header
	code int
}

func (e *errorCapture) Header() http.Header { return e.h }
func (e *errorCapture) WriteHeader(code int) {
	if e.code == 0 {
		e.code = code
	}
}
func (e *errorCapture) Write(b []byte) (int, error) {
	e.WriteHeader(http.StatusOK)
	return len(b), nil
}

// serveUnrouted answers a request that no route takes with the JSON error
// body, and reports whether it did.
func (s *Server) serveUnrouted(w http.ResponseWriter, r *http.Request) bool {
	if !canonicalPath(r.URL.Path) {
		s.metrics.observe("unknown", r.Method, http.StatusBadRequest, 0)
		writeError(w, http.StatusBadRequest, api.ErrorResponse{Code: api.CodeBadRequest, Message: "path not in canonical form (no //, /./, /../)"})
		return true
	}
	if _, pattern := s.mux.Handler(r); pattern != "" {
		return false
	}
	ec := &errorCapture{h: http.Header{}}
	s.mux.ServeHTTP(ec, r)
	code := ec.code
	if code < 400 {
		code = http.StatusNotFound
	}
	if allow := ec.h.Get("Allow"); allow != "" {
		w.Header().Set("Allow", allow)
	}
	s.metrics.observe("unknown", r.Method, code, 0)
	if code == http.StatusMethodNotAllowed {
		writeError(w, code, api.ErrorResponse{Code: api.CodeBadRequest, Message: "method not allowed here"})
	} else {
		writeError(w, http.StatusNotFound, api.ErrorResponse{Code: api.CodeNotFound, Message: "no such endpoint (paths are lower case)"})
	}
	return true
}
