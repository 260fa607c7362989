package client

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"onedoor/sync/api"
)

// FuzzReadAPIError feeds arbitrary error answers to the classifier: it must
// never panic, and it may call something a permanent rejection only when the
// body is the protocol's JSON error with a code.
func FuzzReadAPIError(f *testing.F) {
	f.Add(422, []byte(`{"code":"validation","message":"bad"}`), "")
	f.Add(422, []byte(`{"code":"missing_blobs","missing_blobs":["aa"]}`), "")
	f.Add(409, []byte(`{"code":"offset_mismatch","offset":12}`), "7")
	f.Add(403, []byte("<html>login</html>"), "")
	f.Add(429, []byte(""), "")
	f.Add(503, []byte("\x00\xff"), "")
	f.Add(400, []byte(`{"code":""}`), "")
	f.Fuzz(func(t *testing.T, status int, body []byte, offset string) {
		if status < 100 || status > 999 {
			return
		}
		h := http.Header{}
		h.Set(api.HeaderUploadOffset, offset)
		h.Set("Retry-After", offset)
		resp := &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body)),
			Request: &http.Request{Method: http.MethodPost}}
		ae, err := readAPIError(resp, time.Unix(0, 0))
		if err != nil {
			if !errors.Is(err, ErrBadResponse) {
				t.Fatalf("error %v is not ErrBadResponse", err)
			}
			return
		}
		if IsPermanent(ae) && ae.Code == "" {
			t.Fatalf("permanent rejection without a code: %+v", ae)
		}
		if IsPermanent(ae) && retryable(status) {
			t.Fatalf("retryable status %d classified permanent", status)
		}
		_ = ae.Error()
	})
}

// FuzzParseRetryAfter: never panics, never negative.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "120", "-1", "Wed, 21 Oct 2015 07:28:00 GMT", "9999999999999999999", "", "1e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseRetryAfter(s, time.Unix(1_700_000_000, 0))
		if d < 0 || (!ok && d != 0) {
			t.Fatalf("parseRetryAfter(%q) = %v, %v", s, d, ok)
		}
	})
}

// FuzzDecodeSubmissionResponse: a body either decodes into a response for
// the right UUID with a case number, or is rejected as not the protocol.
func FuzzDecodeSubmissionResponse(f *testing.F) {
	f.Add([]byte(`{"case_number":"C-1","uuid":"u1","receipt":"K-1","status":"received"}`), "application/json")
	f.Add([]byte(`{"case_number":"","uuid":"u1"}`), "application/json")
	f.Add([]byte(`<html></html>`), "text/html")
	f.Add([]byte(`{"case_number":"C-1","uuid":"u2"}`), "")
	f.Fuzz(func(t *testing.T, body []byte, ct string) {
		var out api.SubmissionResponse
		dec := decodeJSON(&out, func(r *api.SubmissionResponse) error {
			if r.UUID != "u1" || r.CaseNumber == "" {
				return errors.New("wrong answer")
			}
			return nil
		})
		h := http.Header{}
		h.Set("Content-Type", ct)
		err := dec(&http.Response{StatusCode: 201, Header: h, Body: io.NopCloser(bytes.NewReader(body))})
		if err == nil && (out.UUID != "u1" || out.CaseNumber == "") {
			t.Fatalf("accepted %q as %+v", body, out)
		}
	})
}
