package platform_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"onedoor/sync/api"
	"onedoor/sync/platform"
	"onedoor/sync/platform/supervise"
)

var staffCSRFRe = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// staffClient is a staff member's browser without a browser: a cookie jar
// and the session's CSRF token.
type staffClient struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

func loginHTTP(t *testing.T, base, user string) *staffClient {
	t.Helper()
	return loginHTTPPassword(t, base, user, staffPassword)
}

func loginHTTPPassword(t *testing.T, base, user, password string) *staffClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	sc := &staffClient{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	_, body := sc.get("/login")
	m := staffCSRFRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("login form without a token: %s", body)
	}
	if code, _ := sc.post("/login", url.Values{"csrf": {m[1]}, "user": {user}, "password": {password}}); code != http.StatusSeeOther {
		t.Fatalf("login %s = %d", user, code)
	}
	_, body = sc.get("/office/cases")
	if m = staffCSRFRe.FindStringSubmatch(body); m == nil {
		t.Fatalf("%s: no session token on the cases page", user)
	}
	sc.csrf = m[1]
	return sc
}

func (sc *staffClient) get(path string) (int, string) {
	sc.t.Helper()
	res, err := sc.c.Get(sc.base + path)
	if err != nil {
		sc.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (sc *staffClient) post(path string, v url.Values) (int, string) {
	sc.t.Helper()
	if sc.csrf != "" {
		v.Set("csrf", sc.csrf)
	}
	res, err := sc.c.PostForm(sc.base+path, v)
	if err != nil {
		sc.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestRolesOverHTTP: each role may do its own actions and none of another
// role's, and a town's staff nothing outside the town; every decision
// records who made it.
func TestRolesOverHTTP(t *testing.T) {
	e := newSupEnv(t)
	e.seed(10)
	n := 0
	received := func(town string) *seedCase {
		n++
		kiosk := "K11"
		if town != supTowns[0] {
			kiosk = "K21"
		}
		c := &seedCase{uuid: uuid.NewString(), receipt: fmt.Sprintf("%s-20261130-%04d", kiosk, 9000+n), town: town, kiosk: kiosk}
		req := api.SubmissionRequest{UUID: c.uuid, Receipt: c.receipt, KioskID: kiosk, ItemID: supItems[0].id, ItemVersion: "1", CreatedAt: e.clock.Now(),
			Applicant: api.ApplicantData{Name: "测试人", IDNumber: testID}}
		if _, _, err := e.store.CreateSubmission(t.Context(), platform.IntakeRecord{KioskID: kiosk, IdemKey: c.uuid, BodyHash: c.uuid, Req: req, ReceivedAt: e.clock.Now(), CasePrefix: "DG"},
			func(sr api.SubmissionResponse) (platform.StoredResponse, error) {
				return platform.StoredResponse{Status: 201, Body: []byte("x")}, nil
			}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	decide := func(sc *staffClient, c *seedCase, status string) int {
		code, _ := sc.post("/office/submissions/"+c.uuid+"/decide", url.Values{"status": {status}, "note": {"理由"}, "confirm": {"yes"}})
		return code
	}
	clerk, approver, super, admin := loginHTTP(t, e.http.URL, "clerk1"), loginHTTP(t, e.http.URL, "approver"), loginHTTP(t, e.http.URL, "super"), loginHTTP(t, e.http.URL, "admin")
	town := supTowns[0]
	for _, c := range []struct {
		who    string
		sc     *staffClient
		status string
		want   int
	}{
		{"clerk", clerk, api.StatusAccepted, http.StatusSeeOther},
		{"clerk", clerk, api.StatusReturned, http.StatusSeeOther},
		{"clerk", clerk, api.StatusApproved, http.StatusForbidden},
		{"clerk", clerk, api.StatusRejected, http.StatusForbidden},
		{"approver", approver, api.StatusApproved, http.StatusSeeOther},
		{"approver", approver, api.StatusRejected, http.StatusSeeOther},
		{"approver", approver, api.StatusAccepted, http.StatusForbidden},
		{"approver", approver, api.StatusReturned, http.StatusForbidden},
		{"supervisor", super, api.StatusAccepted, http.StatusForbidden},
		{"supervisor", super, api.StatusApproved, http.StatusForbidden},
		{"admin", admin, api.StatusAccepted, http.StatusForbidden},
		{"admin", admin, api.StatusApproved, http.StatusForbidden},
	} {
		sc := received(town)
		if got := decide(c.sc, sc, c.status); got != c.want {
			t.Errorf("%s deciding %s = %d, want %d", c.who, c.status, got, c.want)
		}
		d, err := e.store.Get(t.Context(), sc.uuid)
		if err != nil {
			t.Fatal(err)
		}
		if c.want == http.StatusSeeOther && (d.Status != c.status || d.Actors[len(d.Actors)-1] != map[string]string{"clerk": "clerk1", "approver": "approver"}[c.who]) {
			t.Errorf("%s's %s recorded as %s by %v", c.who, c.status, d.Status, d.Actors)
		}
		if c.want != http.StatusSeeOther && d.Status != api.StatusReceived {
			t.Errorf("%s's refused %s changed the case to %s", c.who, c.status, d.Status)
		}
	}
	// A town's clerk cannot take in, nor open, another town's case.
	other := received(supTowns[1])
	if got := decide(clerk, other, api.StatusAccepted); got != http.StatusForbidden && got != http.StatusNotFound {
		t.Errorf("clerk of %s accepting in %s = %d", town, supTowns[1], got)
	}
	if got, _ := clerk.get("/office/submissions/" + other.uuid); got != http.StatusNotFound {
		t.Errorf("clerk of %s opening a case of %s = %d", town, supTowns[1], got)
	}
	if got, _ := approver.get("/office/submissions/" + other.uuid); got != http.StatusOK {
		t.Errorf("the city's approver opening a case of %s = %d", supTowns[1], got)
	}
	for _, c := range []struct {
		who  string
		sc   *staffClient
		path string
		want int
	}{
		{"clerk", clerk, "/office/dashboard", http.StatusForbidden},
		{"clerk", clerk, "/office/stats.csv", http.StatusForbidden},
		{"clerk", clerk, "/office/followups", http.StatusForbidden},
		{"clerk", clerk, "/office/accounts", http.StatusForbidden},
		{"approver", approver, "/office/dashboard", http.StatusForbidden},
		{"supervisor", super, "/office/dashboard", http.StatusOK},
		{"supervisor", super, "/office/stats.xlsx", http.StatusOK},
		{"supervisor", super, "/office/followups", http.StatusOK},
		{"supervisor", super, "/office/accounts", http.StatusForbidden},
		{"admin", admin, "/office/accounts", http.StatusOK},
		{"admin", admin, "/office/dashboard", http.StatusForbidden},
		{"admin", admin, "/office/followups", http.StatusForbidden},
	} {
		if got, _ := c.sc.get(c.path); got != c.want {
			t.Errorf("%s GET %s = %d, want %d", c.who, c.path, got, c.want)
		}
	}
	// Only an administrator gives roles, and it is recorded who did.
	if code, _ := super.post("/office/accounts", url.Values{"user": {"clerk1"}, "role": {"admin"}}); code != http.StatusForbidden {
		t.Errorf("supervisor giving a role = %d", code)
	}
	if code, _ := admin.post("/office/accounts", url.Values{"user": {"clerk2"}, "role": {"approver"}, "town": {supTowns[1]}, "name": {"王五"}}); code != http.StatusSeeOther {
		t.Errorf("admin giving a role = %d", code)
	}
	a, err := e.store.StaffRole(t.Context(), "clerk2")
	if err != nil || a.Role != supervise.RoleApprover || a.Town != supTowns[1] || a.SetBy != "admin" || !a.SetAt.Equal(e.clock.Now()) {
		t.Errorf("clerk2's role = %+v %v", a, err)
	}
	_, page := admin.get("/office/accounts")
	if !strings.Contains(page, "王五") {
		t.Error("accounts page does not name clerk2")
	}

	// A town's administrator manages that town's accounts only.
	pw, err := platform.HashPassword(staffPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.AddStaff(t.Context(), "townadmin", pw, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := e.store.SetStaffRole(t.Context(), supervise.Account{User: "townadmin", Role: supervise.RoleAdmin, Town: supTowns[1], SetBy: "admin", SetAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	townAdmin := loginHTTP(t, e.http.URL, "townadmin")
	for _, c := range []struct {
		user, role, town string
		want             int
	}{
		{"clerk2", "clerk", supTowns[1], http.StatusSeeOther},  // clerk2 is in that town (set above)
		{"super", "clerk", supTowns[1], http.StatusForbidden},  // a city account
		{"clerk1", "clerk", supTowns[1], http.StatusForbidden}, // another town's
		{"clerk2", "clerk", "", http.StatusForbidden},          // to the whole city
	} {
		if code, _ := townAdmin.post("/office/accounts", url.Values{"user": {c.user}, "role": {c.role}, "town": {c.town}}); code != c.want {
			t.Errorf("town admin setting %s to %s in %q = %d, want %d", c.user, c.role, c.town, code, c.want)
		}
	}
	if a, _ := e.store.StaffRole(t.Context(), "super"); a.Role != supervise.RoleSupervisor || a.Town != "" {
		t.Errorf("the city supervisor became %+v", a)
	}

	// The history of a case names the staff member.
	if code, _ := admin.post("/office/accounts", url.Values{"user": {"clerk1"}, "role": {"clerk"}, "town": {town}, "name": {"张三"}}); code != http.StatusSeeOther {
		t.Fatalf("naming clerk1 = %d", code)
	}
	c := received(town)
	if got := decide(clerk, c, api.StatusAccepted); got != http.StatusSeeOther {
		t.Fatalf("clerk1 accepting = %d", got)
	}
	if _, page := approver.get("/office/submissions/" + c.uuid); !strings.Contains(page, "张三（clerk1）") {
		t.Error("the history does not name clerk1")
	}
}

// TestTrackShowsRatingReply: the kiosk's progress lookup carries the
// office's reply to the resident's bad rating once it is given.
func TestTrackShowsRatingReply(t *testing.T) {
	e := newSupEnv(t)
	ctx := t.Context()
	now := e.clock.Now()
	req := api.SubmissionRequest{UUID: uuid.NewString(), Receipt: "K11-20261130-0001", KioskID: "K11", ItemID: supItems[0].id, ItemVersion: "1", CreatedAt: now,
		Applicant: api.ApplicantData{Name: "测试人", IDNumber: testID}}
	ok := func(sr api.SubmissionResponse) (platform.StoredResponse, error) {
		return platform.StoredResponse{Status: 201, Body: []byte("x")}, nil
	}
	if _, _, err := e.store.CreateSubmission(ctx, platform.IntakeRecord{KioskID: "K11", IdemKey: req.UUID, BodyHash: "x", Req: req, ReceivedAt: now, CasePrefix: "DG"}, ok); err != nil {
		t.Fatal(err)
	}
	rt := api.Rating{UUID: uuid.NewString(), Receipt: req.Receipt, Level: 1, Reason: "等待时间太长", At: now}
	if _, _, err := e.store.AddRating(ctx, platform.RatingRecord{KioskID: "K11", IdemKey: rt.UUID, BodyHash: "r", Rating: rt, ReceivedAt: now},
		func(r api.RatingResponse) (platform.StoredResponse, error) {
			return platform.StoredResponse{Status: 201, Body: []byte("r")}, nil
		}); err != nil {
		t.Fatal(err)
	}
	track := func() api.TrackResponse {
		t.Helper()
		hr, _ := http.NewRequest("GET", e.http.URL+api.PathTrack+req.Receipt, nil)
		hr.Header.Set(api.HeaderHolderProof, api.HolderProof(testID, req.Receipt))
		nonce, _ := api.NewNonce()
		if err := api.Sign(hr, "K11", "tok-K11", api.EmptySHA256, e.clock.Now(), nonce); err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var tr api.TrackResponse
		if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&tr) != nil {
			t.Fatalf("track = %d", res.StatusCode)
		}
		return tr
	}
	if tr := track(); tr.RatingReply != "" {
		t.Fatalf("reply before one was given: %q", tr.RatingReply)
	}
	ts, err := e.store.FollowUps(ctx, supervise.FollowUpQuery{Receipt: req.Receipt})
	if err != nil || len(ts) != 1 {
		t.Fatalf("follow-up of the rating = %v %v", ts, err)
	}
	for _, k := range []string{supervise.StepAssign, supervise.StepVerify, supervise.StepRectify, supervise.StepReply} {
		if err := e.store.AddStep(ctx, ts[0].ID, supervise.Step{Kind: k, Text: "已增派窗口人员，请致电 13800000000", Actor: "super", At: now}); err != nil {
			t.Fatal(err)
		}
	}
	if tr := track(); tr.RatingReply != "已增派窗口人员，请致电 138****0000" {
		t.Fatalf("reply in the lookup = %q", tr.RatingReply)
	}
}

// TestTownListScoped: a town's staff see their town's cases only in the
// list and its search, as on a case's page; the pages of the merged list
// hold each of the town's cases once. The city's accounts see every case.
func TestTownListScoped(t *testing.T) {
	e := newSupEnv(t)
	e.seed(130)
	receiptRe := regexp.MustCompile(`K\d\d-\d{8}-\d{4}`)
	totalRe := regexp.MustCompile(`办件列表 <small>\((\d+)\)</small>`)
	list := func(sc *staffClient, query string) (receipts []string, total string) {
		t.Helper()
		for page := 0; ; page++ {
			code, body := sc.get("/office/?" + query + "&page=" + fmt.Sprint(page))
			if code != http.StatusOK {
				t.Fatalf("list page %d = %d", page, code)
			}
			m := totalRe.FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("list without a total: %s", body)
			}
			total = m[1]
			got := receiptRe.FindAllString(body, -1)
			if len(got) == 0 {
				return receipts, total
			}
			receipts = append(receipts, got...)
		}
	}
	mine := map[string]bool{}
	var otherName string
	for _, c := range e.cases {
		if c.town == supTowns[0] {
			mine[c.receipt] = true
		}
	}
	for i, c := range e.cases {
		if c.town != supTowns[0] {
			otherName = fmt.Sprintf("居民%03d", i)
			break
		}
	}
	clerk := loginHTTP(t, e.http.URL, "clerk1")
	got, total := list(clerk, "q=")
	seen := map[string]bool{}
	for _, r := range got {
		if !mine[r] {
			t.Errorf("clerk of %s sees %s, a case of another town", supTowns[0], r)
		}
		if seen[r] {
			t.Errorf("%s listed twice", r)
		}
		seen[r] = true
	}
	if len(seen) != len(mine) || total != fmt.Sprint(len(mine)) {
		t.Errorf("clerk's list holds %d cases, total %s; the town has %d", len(seen), total, len(mine))
	}
	if got, total := list(clerk, "q="+url.QueryEscape(otherName)); len(got) != 0 || total != "0" {
		t.Errorf("clerk's search for another town's resident finds %v (total %s)", got, total)
	}
	if got, _ := list(clerk, "kiosk=K21"); len(got) != 0 {
		t.Errorf("clerk's list of another town's kiosk shows %v", got)
	}
	for _, page := range []string{"9223372036854775807", "-1", "99999999999999999999"} {
		if code, _ := clerk.get("/office/?page=" + page); code != http.StatusOK {
			t.Errorf("clerk's list page %s = %d", page, code)
		}
	}
	if got, _ := list(loginHTTP(t, e.http.URL, "approver"), "q="); len(got) != len(e.cases) {
		t.Errorf("the city's approver sees %d cases of %d", len(got), len(e.cases))
	}
}

// TestTownScansScoped: a town's staff cannot fetch the scans of another
// town's case by their address either (the case's page was refused, its
// pages were served).
func TestTownScansScoped(t *testing.T) {
	e := newSupEnv(t)
	scan := []byte("\x89PNG a scanned page of a resident of another town")
	sha := shaHex(scan)
	if _, err := e.blobs.Append(t.Context(), sha, 0, int64(len(scan)), "", bytes.NewReader(scan)); err != nil {
		t.Fatal(err)
	}
	id := uuid.NewString()
	req := api.SubmissionRequest{UUID: id, Receipt: "K21-20261130-0001", KioskID: "K21", ItemID: supItems[0].id, ItemVersion: "1", CreatedAt: e.clock.Now(),
		Applicant: api.ApplicantData{Name: "测试人", IDNumber: testID},
		Materials: []api.MaterialRef{{MaterialID: "id_card", Kind: api.KindScan, Pages: []api.BlobRef{{SHA256: sha, Size: int64(len(scan)), ContentType: "image/png"}}}}}
	if _, _, err := e.store.CreateSubmission(t.Context(), platform.IntakeRecord{KioskID: "K21", IdemKey: id, BodyHash: id, Req: req, ReceivedAt: e.clock.Now(), CasePrefix: "DG"},
		func(sr api.SubmissionResponse) (platform.StoredResponse, error) {
			return platform.StoredResponse{Status: 201, Body: []byte("x")}, nil
		}); err != nil {
		t.Fatal(err)
	}
	path := "/office/submissions/" + id + "/blobs/" + sha
	for _, c := range []struct {
		user string
		want int
	}{{"clerk1", http.StatusNotFound}, {"clerk2", http.StatusOK}, {"approver", http.StatusOK}} {
		if code, body := loginHTTP(t, e.http.URL, c.user).get(path); code != c.want || (code == http.StatusOK) != (body == string(scan)) {
			t.Errorf("%s fetching a scan of a case of %s = %d, want %d", c.user, supTowns[1], code, c.want)
		}
	}
}

// TestRefusedPageLeadsBack: a page a role may not open is refused with a
// page of the office (its header, a way back to the list), not a bare line
// of text that leaves the member of staff nowhere.
func TestRefusedPageLeadsBack(t *testing.T) {
	e := newSupEnv(t)
	clerk := loginHTTP(t, e.http.URL, "clerk1")
	for _, path := range []string{"/office/dashboard", "/office/followups", "/office/accounts"} {
		res, err := clerk.c.Get(e.http.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		body := string(b)
		if res.StatusCode != http.StatusForbidden || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(body, "不能进行此操作") || !strings.Contains(body, `id="back-to-list" href="/office/"`) || !strings.Contains(body, `id="logout"`) {
			t.Errorf("clerk opening %s = %d %s:\n%s", path, res.StatusCode, res.Header.Get("Content-Type"), body)
		}
	}
}

// TestListLinksToSupervision: the page staff land on after logging in (the
// list) and the supervision pages' own header link to the supervision
// pages the account's role may open, and to no others: a supervisor had
// no way to the dashboard but typing its address, and a clerk was offered
// links that each ended on "无权操作".
func TestListLinksToSupervision(t *testing.T) {
	e := newSupEnv(t)
	links := []string{"/office/cases", "/office/dashboard", "/office/followups", "/office/accounts"}
	for _, c := range []struct {
		user  string
		pages []string
		want  []string
	}{
		{"super", []string{"/office/", "/office/kiosks", "/office/cases", "/office/dashboard"}, []string{"/office/cases", "/office/dashboard", "/office/followups"}},
		{"admin", []string{"/office/", "/office/cases", "/office/accounts"}, []string{"/office/cases", "/office/accounts"}},
		{"clerk1", []string{"/office/", "/office/kiosks", "/office/cases"}, []string{"/office/cases"}},
	} {
		sc := loginHTTP(t, e.http.URL, c.user)
		for _, page := range c.pages {
			code, body := sc.get(page)
			if code != http.StatusOK {
				t.Fatalf("%s opening %s: %d", c.user, page, code)
			}
			for _, link := range links {
				if got, want := strings.Contains(body, `href="`+link+`"`), slices.Contains(c.want, link); got != want {
					t.Errorf("%s on %s: link to %s shown=%v, want %v", c.user, page, link, got, want)
				}
			}
		}
	}
}

// TestTownHelpCallsScoped: a town's staff see and answer their own town's
// calls for help only; a call of another town's kiosk is not on their
// fleet page and they cannot take it off the page of the staff who should
// go. The city's accounts see every call.
func TestTownHelpCallsScoped(t *testing.T) {
	e := newSupEnv(t)
	hs, ok := e.store.(platform.HelpStore)
	if !ok {
		t.Fatal("the store keeps no help calls")
	}
	now := e.clock.Now()
	var seqs []int64
	for _, k := range []string{"K11", "K21"} {
		rec, _, err := hs.AddHelp(t.Context(), platform.HelpRecord{ID: uuid.NewString(), KioskID: k, Site: "大厅", Screen: "form", At: now, ReceivedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, rec.Seq)
	}
	calls := func(sc *staffClient) string {
		code, body := sc.get("/office/help")
		if code != http.StatusOK {
			t.Fatalf("/office/help = %d", code)
		}
		return body
	}
	clerk1, approver := loginHTTP(t, e.http.URL, "clerk1"), loginHTTP(t, e.http.URL, "approver")
	if body := calls(clerk1); !strings.Contains(body, `"K11"`) || strings.Contains(body, `"K21"`) {
		t.Errorf("clerk of %s sees calls %s", supTowns[0], body)
	}
	if body := calls(approver); !strings.Contains(body, `"K11"`) || !strings.Contains(body, `"K21"`) {
		t.Errorf("city account sees calls %s", body)
	}
	if code, _ := clerk1.post(fmt.Sprintf("/office/help/%d/ack", seqs[1]), url.Values{}); code != http.StatusNotFound {
		t.Errorf("clerk of %s answering a call of %s = %d, want 404", supTowns[0], supTowns[1], code)
	}
	if body := calls(approver); !strings.Contains(body, `"K21"`) {
		t.Error("another town's clerk took the call off the page")
	}
	if code, _ := clerk1.post(fmt.Sprintf("/office/help/%d/ack", seqs[0]), url.Values{}); code != http.StatusOK && code != http.StatusSeeOther && code != http.StatusNoContent {
		t.Errorf("clerk answering a call of the town = %d", code)
	}
	if body := calls(approver); strings.Contains(body, `"K11"`) {
		t.Error("the answered call is still open")
	}
}
