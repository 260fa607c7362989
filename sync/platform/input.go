package platform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"reflect"
	"strconv"
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
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return true
	case errors.As(err, &pe):
		// Name the field, never echo the value: it may be anything the
		// kiosk put there (an ID number, a megabyte of text).
		validation(w, fmt.Errorf("%s: must be an RFC 3339 time like 2026-11-25T09:00:00+08:00", badTimeField(body, v)))
	case errors.As(err, &te):
		// Say where and what kind, not the value: encoding/json's message
		// repeats a number as sent (an ID number sent as one).
		kind, _, _ := strings.Cut(te.Value, " ")
		field := te.Field
		if field == "" {
			field = "the body"
		}
		writeError(w, http.StatusBadRequest, api.ErrorResponse{Code: api.CodeBadRequest, Message: fmt.Sprintf("body is not a %s: %s cannot be a JSON %s (want %s)", what, field, kind, te.Type)})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		validation(w, fmt.Errorf("%s: %s", what, strings.TrimPrefix(err.Error(), "json: ")))
	default:
		writeError(w, http.StatusBadRequest, api.ErrorResponse{Code: api.CodeBadRequest, Message: "body is not a " + what + ": " + err.Error()})
	}
	return false
}

var timeType = reflect.TypeFor[time.Time]()

// badTimeField returns the JSON path (created_at, items[2].at) of the
// first time field of v's type whose value in body is not an RFC 3339
// time, or "a time" when it cannot tell.
func badTimeField(body []byte, v any) string {
	var doc any
	if json.Unmarshal(body, &doc) != nil {
		return "a time"
	}
	if p, ok := findBadTime(reflect.TypeOf(v), doc, ""); ok {
		return p
	}
	return "a time"
}

func findBadTime(t reflect.Type, doc any, path string) (string, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if doc == nil {
		return "", false // JSON null leaves a time zero, as the decoder does
	}
	switch {
	case t == timeType:
		s, isString := doc.(string)
		var tm time.Time
		if !isString || tm.UnmarshalJSON(strconv.AppendQuote(nil, s)) != nil {
			return path, true
		}
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		items, _ := doc.([]any)
		for i, it := range items {
			if p, ok := findBadTime(t.Elem(), it, fmt.Sprintf("%s[%d]", path, i)); ok {
				return p, true
			}
		}
	case t.Kind() == reflect.Map:
		obj, _ := doc.(map[string]any)
		for _, it := range obj {
			if p, ok := findBadTime(t.Elem(), it, path+"{}"); ok { // a key may be anything: not echoed
				return p, true
			}
		}
	case t.Kind() == reflect.Struct:
		obj, _ := doc.(map[string]any)
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if f.Anonymous && name == "" {
				if q, ok := findBadTime(f.Type, doc, path); ok {
					return q, true
				}
				continue
			}
			if name == "" {
				name = f.Name
			}
			sub, present := lookupFold(obj, name)
			if !present {
				continue
			}
			if path != "" {
				name = path + "." + name
			}
			if q, ok := findBadTime(f.Type, sub, name); ok {
				return q, true
			}
		}
	}
	return "", false
}

// lookupFold finds key in obj as encoding/json does: exactly, else
// case-insensitively.
func lookupFold(obj map[string]any, key string) (any, bool) {
	if v, ok := obj[key]; ok {
		return v, true
	}
	for k, v := range obj {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
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
