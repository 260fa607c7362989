package platform_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"onedoor/pii"
)

// TestDetailMasksIDUntilRevealed: the detail page shows the ID number
// masked; the full number appears only in the answer to the CSRF-protected
// reveal action, which leaves an audit line naming the staff member and
// the submission but not the number.
func TestDetailMasksIDUntilRevealed(t *testing.T) {
	e := newEnv(t, t.TempDir(), "K1")
	e.addStaff("clerk")
	sub := newSubmission("K1", 1)
	if r := e.submit("K1", sub); r.code != http.StatusCreated {
		t.Fatalf("submit = %d %s", r.code, r.body)
	}
	c := browser(t)
	if code := login(t, e, c, "clerk", staffPassword); code != http.StatusSeeOther {
		t.Fatalf("login = %d", code)
	}
	detail := e.http.URL + "/office/submissions/" + sub.UUID
	masked := pii.MaskID(testID)

	code, page, _ := get(t, c, detail)
	if code != http.StatusOK || strings.Contains(page, testID) || !strings.Contains(page, masked) {
		t.Fatalf("detail before reveal = %d; want only %q:\n%s", code, masked, page)
	}
	m := csrfRe.FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, `action="/office/submissions/`+sub.UUID+`/reveal-id"`) {
		t.Fatalf("detail page without a reveal form:\n%s", page)
	}
	csrf := m[1]

	refused := []struct {
		name   string
		client *http.Client
		uuid   string
		csrf   string
		want   int
	}{
		{"anonymous", browser(t), sub.UUID, csrf, http.StatusUnauthorized},
		{"no CSRF token", c, sub.UUID, "", http.StatusForbidden},
		{"wrong CSRF token", c, sub.UUID, "00", http.StatusForbidden},
		{"unknown submission", c, uuid.NewString(), csrf, http.StatusNotFound},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			code, body, _ := post(t, tc.client, e.http.URL+"/office/submissions/"+tc.uuid+"/reveal-id", url.Values{"csrf": {tc.csrf}})
			if code != tc.want || strings.Contains(body, testID) {
				t.Fatalf("reveal = %d, want %d; body holds the number: %v", code, tc.want, strings.Contains(body, testID))
			}
			if strings.Contains(e.logs.String(), "id_reveal") {
				t.Fatalf("a refused reveal was audited:\n%s", e.logs)
			}
		})
	}

	code, page, h := post(t, c, detail+"/reveal-id", url.Values{"csrf": {csrf}})
	if code != http.StatusOK || !strings.Contains(page, `<span id="id-number">`+testID+`</span>`) {
		t.Fatalf("reveal = %d; want the full number:\n%s", code, page)
	}
	if cc := h.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("revealed page Cache-Control = %q, want no-store", cc)
	}
	logs := e.logs.String()
	var line string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "event=id_reveal") {
			line = l
		}
	}
	for _, want := range []string{"user=clerk", "submission=" + sub.UUID, "time="} {
		if !strings.Contains(line, want) {
			t.Errorf("audit line %q lacks %q", line, want)
		}
	}
	if strings.Contains(logs, testID) {
		t.Errorf("the log holds the full ID number:\n%s", logs)
	}

	// The reveal was for that answer only: the page is masked again.
	if code, page, _ := get(t, c, detail); code != http.StatusOK || strings.Contains(page, testID) || !strings.Contains(page, masked) {
		t.Fatalf("detail after reveal = %d, shows the full number again", code)
	}
}
