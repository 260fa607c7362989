package platform_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
