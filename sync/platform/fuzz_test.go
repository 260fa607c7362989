package platform_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"onedoor/sync/api"
)

// FuzzIntakeBody posts arbitrary signed bodies to POST /api/v1/submissions
// through the whole handler and store: the platform must answer 201 or a 4xx
// with a JSON error, never a 5xx or a panic, and a 201 must carry a case.
func FuzzIntakeBody(f *testing.F) {
	good, _ := json.Marshal(newSubmission("K1", 1))
	f.Add(good, "")
	f.Add([]byte(`{"uuid":"0b7e8a6c-6f1e-4f57-9b0a-2f6c1d3e4a5b"}`), "0b7e8a6c-6f1e-4f57-9b0a-2f6c1d3e4a5b")
	f.Add([]byte(`[1,2,3]`), "\"0b7e8a6c-6f1e-4f57-9b0a-2f6c1d3e4a5b\"")
	f.Add([]byte("\xff\xfe"), "x")
	e := newEnv(f, f.TempDir(), "K1")
	f.Fuzz(func(t *testing.T, body []byte, key string) {
		if key == "" {
			var s api.SubmissionRequest
			json.Unmarshal(body, &s)
			key = s.UUID
		}
		r := httptest.NewRequest("POST", api.PathSubmissions, bytes.NewReader(body))
		r.Header.Set(api.HeaderIdempotencyKey, key)
		nonce, _ := api.NewNonce()
		api.Sign(r, "K1", e.tokens["K1"], api.BodySHA256(body), time.Now(), nonce)
		w := httptest.NewRecorder()
		e.server.ServeHTTP(w, r)
		switch {
		case w.Code == http.StatusCreated:
			var sr api.SubmissionResponse
			if err := json.Unmarshal(w.Body.Bytes(), &sr); err != nil || sr.CaseNumber == "" {
				t.Fatalf("201 without a case: %s", w.Body)
			}
		case w.Code >= 400 && w.Code < 500:
			var er api.ErrorResponse
			if err := json.Unmarshal(w.Body.Bytes(), &er); err != nil || er.Code == "" {
				t.Fatalf("%d without a JSON error: %s", w.Code, w.Body)
			}
		default:
			t.Fatalf("answer %d: %s", w.Code, w.Body)
		}
	})
}

// FuzzHandler sends arbitrary requests (method, target, headers, body),
// signed as kiosk K1 or not, through the whole handler: it must never
// panic or answer 5xx, and every answer under /api/ that is an error is
// the JSON error body.
func FuzzHandler(f *testing.F) {
	good, _ := json.Marshal(newSubmission("K1", 1))
	seeds := []struct {
		method, target, headers string
		body                    []byte
		sign                    bool
	}{
		{"POST", api.PathSubmissions, "Idempotency-Key: x\nContent-Type: application/json", good, true},
		{"PATCH", api.PathBlobs + strings.Repeat("ab", 32), "Content-Type: application/offset+octet-stream\nUpload-Offset: 0\nUpload-Length: 3", []byte("abc"), true},
		{"HEAD", api.PathBlobs + strings.Repeat("0", 64), "", nil, true},
		{"GET", api.PathTrack + "K1-20260101-0001", api.HeaderLookupCode + ": ABCDE-12345", nil, true},
		{"GET", api.PathStatuses + "?since=-1", "", nil, true},
		{"POST", api.PathRatings, "Idempotency-Key: \"6f1e0b7e-8a6c-4f57-9b0a-2f6c1d3e4a5b\"", []byte(`{"uuid":"6f1e0b7e-8a6c-4f57-9b0a-2f6c1d3e4a5b","receipt":"K1-20260101-0001","level":5,"at":"2026-01-01T00:00:00Z"}`), true},
		{"POST", api.PathHeartbeat, "", []byte(`{"kiosk_id":"K1","free_disk":1}`), true},
		{"POST", api.PathEnrol, "", []byte(`{"kiosk_id":"K1","code":"x","algorithm":"ed25519","public_key":"00"}`), false},
		{"GET", "//api/v1/./catalog", "", nil, false},
		{"POST", "/login", "Content-Type: application/x-www-form-urlencoded\nCookie: od_login=a", []byte("csrf=a&user=u&password=p"), false},
		{"GET", "/office/submissions/x/blobs/y", "Cookie: od_session=zz", nil, false},
		{"GET", "/metrics", "Authorization: Bearer x", nil, false},
		{"OPTIONS", "*", "", nil, false},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.headers, s.body, s.sign)
	}
	e := newEnv(f, f.TempDir(), "K1")
	f.Fuzz(func(t *testing.T, method, target, headers string, body []byte, sign bool) {
		u, err := url.ParseRequestURI(target)
		if err != nil || method == "" || strings.ContainsAny(method, " \t\r\n") {
			return // net/http never hands the handler such a request line
		}
		r := &http.Request{Method: method, URL: u, RequestURI: target, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{}, Host: "platform.test", RemoteAddr: "192.0.2.1:1234",
			Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body))}
		for _, line := range strings.Split(headers, "\n") {
			k, v, ok := strings.Cut(line, ":")
			if ok && validHeader(k, strings.TrimSpace(v)) {
				r.Header.Add(k, strings.TrimSpace(v))
			}
		}
		if sign {
			nonce, _ := api.NewNonce()
			api.Sign(r, "K1", e.tokens["K1"], api.BodySHA256(body), time.Now(), nonce)
		}
		w := httptest.NewRecorder()
		e.server.ServeHTTP(w, r)
		if w.Code < 100 || w.Code >= 500 {
			t.Fatalf("%s %q: answer %d: %s", method, target, w.Code, w.Body)
		}
		if strings.HasPrefix(u.Path, "/api/") && w.Code >= 400 && method != http.MethodHead {
			var er api.ErrorResponse
			if err := json.Unmarshal(w.Body.Bytes(), &er); err != nil || er.Code == "" {
				t.Fatalf("%s %q: %d without a JSON error: %q", method, target, w.Code, w.Body)
			}
		}
	})
}

// validHeader reports whether net/http's parser would pass this header
// through: a token name and a value without control characters.
func validHeader(k, v string) bool {
	if k == "" {
		return false
	}
	for _, c := range []byte(k) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	for _, c := range []byte(v) {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
