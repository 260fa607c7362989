package platform

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"onedoor/pii"
	"onedoor/sync/api"
)

//go:embed templates/pages.html templates/ecert.html
var templateFS embed.FS

const (
	sessionCookie = "od_session"
	loginCookie   = "od_login" // pre-login CSRF token (double submit)
)

func statusLabel(s string) string {
	switch s {
	case api.StatusReceived:
		return "已接收"
	case api.StatusAccepted:
		return "已受理"
	case api.StatusReturned:
		return "退回补正"
	case api.StatusApproved:
		return "准予办结"
	case api.StatusRejected:
		return "不予受理"
	}
	return s
}

func parsePages(cat *officeCatalog) (*template.Template, error) {
	t, err := template.New("pages").Funcs(template.FuncMap{
		"statusLabel": statusLabel,
		// supervised: whether the supervision pages exist, and may
		// whether user's role may do an action (both rebound by
		// superviseRoutes), so the header links to the pages the
		// account can open and no others.
		"supervised":   func() bool { return false },
		"may":          func(user, act string) bool { return false },
		"itemName":     cat.itemName,
		"materialName": cat.materialName,
		"formRows":     cat.formRows,
		"maskText":     pii.MaskText,
		"maskID":       pii.MaskID,
		"fmtTime": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04:05")
		},
		"isImage":        func(ct string) bool { mt, ok := inlineType(ct); return ok && strings.HasPrefix(mt, "image/") },
		"fmtDur":         fmtDur,
		"mb":             func(b int64) int64 { return b >> 20 },
		"secs":           func(n int64) time.Duration { return time.Duration(n) * time.Second },
		"maskCertNumber": maskedCertNumber,
	}).ParseFS(templateFS, "templates/pages.html", "templates/ecert.html")
	if err != nil {
		return nil, fmt.Errorf("back-office templates: %w", err)
	}
	return t, nil
}

// HashPassword hashes a staff password for AddStaff.
func HashPassword(pw string) (string, error) {
	if len(pw) < 8 {
		return "", errors.New("password must be at least 8 characters")
	}
	if len(pw) > 72 {
		return "", errors.New("password must be at most 72 bytes (bcrypt limit)")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // the OS RNG does not fail on Linux
	}
	return hex.EncodeToString(b)
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func (s *Server) officeRoutes() {
	s.route("GET /{$}", "office", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/office/", http.StatusSeeOther)
	})
	s.route("GET /login", "office", s.loginPage)
	s.route("POST /login", "office", s.login)
	s.route("POST /logout", "office", s.staff(s.logout))
	s.route("GET /office/{$}", "office", s.staff(s.listPage))
	s.route("GET /office/kiosks", "office", s.staff(s.kiosksPage))
	s.route("GET /office/submissions/{uuid}", "office", s.staff(s.detailPage))
	s.route("POST /office/submissions/{uuid}/decide", "office", s.staff(s.decide))
	s.route("POST /office/submissions/{uuid}/reveal-id", "office", s.staff(s.revealID))
	s.route("GET /office/submissions/{uuid}/blobs/{sha}", "office", s.staff(s.serveScan))
	s.superviseRoutes()
}

func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

func (s *Server) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.cfg.SecureCookies})
}

type pageData struct {
	Title, User, CSRF, Error string
}

func (s *Server) render(w http.ResponseWriter, code int, name string, data any) {
	securityHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var b strings.Builder
	if err := s.pages.ExecuteTemplate(&b, name, data); err != nil {
		s.cfg.Logger.Error("rendering page", "page", name, "err", err)
		http.Error(w, "page error", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(code)
	io.WriteString(w, b.String())
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.showLogin(w, http.StatusOK, "")
}

func (s *Server) showLogin(w http.ResponseWriter, code int, msg string) {
	tok := randomHex(16)
	s.setCookie(w, loginCookie, tok, 600)
	s.render(w, code, "login", pageData{Title: "登录", CSRF: tok, Error: msg})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > 16<<10 {
		securityHeaders(w)
		http.Error(w, "form too large", http.StatusRequestEntityTooLarge)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.showLogin(w, http.StatusBadRequest, "表单无效")
		return
	}
	c, err := r.Cookie(loginCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		s.showLogin(w, http.StatusForbidden, "页面已过期，请重新登录")
		return
	}
	user, pw := r.PostFormValue("user"), r.PostFormValue("password")
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	now := s.cfg.Clock()
	if s.logins.blocked(now, user, host) {
		s.metrics.count("auth_failures", "staff_login_blocked", 1)
		s.cfg.Logger.Warn("staff login refused: too many failures", "user", user, "addr", host)
		s.showLogin(w, http.StatusTooManyRequests, "失败次数过多，请 15 分钟后再试")
		return
	}
	hash, err := s.cfg.Store.StaffHash(r.Context(), user)
	if err != nil && !errors.Is(err, ErrNotFound) {
		s.internal(w, r, err)
		return
	}
	if errors.Is(err, ErrNotFound) {
		hash = s.dummyHash
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) != nil || errors.Is(err, ErrNotFound) {
		s.logins.fail(now, user, host)
		s.metrics.count("auth_failures", "staff_login", 1)
		s.cfg.Logger.Warn("staff login failed", "user", user)
		s.showLogin(w, http.StatusUnauthorized, "用户名或密码错误")
		return
	}
	s.logins.succeed(user, host)
	id := randomHex(32)
	se := Session{IDHash: hashHex(id), User: user, CSRF: randomHex(16), Expires: s.cfg.Clock().Add(s.cfg.SessionTTL)}
	if err := s.cfg.Store.CreateSession(r.Context(), se); err != nil {
		s.internal(w, r, err)
		return
	}
	s.setCookie(w, loginCookie, "", -1)
	s.setCookie(w, sessionCookie, id, int(s.cfg.SessionTTL.Seconds()))
	s.cfg.Logger.Info("staff logged in", "user", user)
	http.Redirect(w, r, "/office/", http.StatusSeeOther)
}

// staff wraps a handler that needs a logged-in session; POSTs also need the
// session's CSRF token in the form.
func (s *Server) staff(h func(http.ResponseWriter, *http.Request, Session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var se Session
		c, err := r.Cookie(sessionCookie)
		if err == nil {
			se, err = s.cfg.Store.Session(r.Context(), hashHex(c.Value), s.cfg.Clock())
		}
		if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, http.ErrNoCookie) {
			s.internal(w, r, err)
			return
		}
		if err != nil {
			if r.Method == http.MethodGet && !strings.Contains(r.URL.Path, "/blobs/") {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			securityHeaders(w)
			http.Error(w, "login required", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost {
			if r.ContentLength > 64<<10 {
				securityHeaders(w)
				http.Error(w, "form too large", http.StatusRequestEntityTooLarge)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if err := r.ParseForm(); err != nil || subtle.ConstantTimeCompare([]byte(se.CSRF), []byte(r.PostFormValue("csrf"))) != 1 {
				securityHeaders(w)
				http.Error(w, "missing or wrong CSRF token", http.StatusForbidden)
				return
			}
		}
		h(w, r, se)
	}
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, se Session) {
	if err := s.cfg.Store.DeleteSession(r.Context(), se.IDHash); err != nil {
		s.internal(w, r, err)
		return
	}
	s.setCookie(w, sessionCookie, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

const listPageSize = 50

func (s *Server) listPage(w http.ResponseWriter, r *http.Request, se Session) {
	q := r.URL.Query()
	page, _ := strconv.Atoi(q.Get("page"))
	page = min(max(page, 0), math.MaxInt32/listPageSize) // page*listPageSize must not overflow
	f := Filter{Status: q.Get("status"), ItemID: q.Get("item"), KioskID: q.Get("kiosk"), Query: q.Get("q"), Limit: listPageSize, Offset: page * listPageSize}
	rows, total, err := s.scopedList(r.Context(), se, f)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	link := func(p int) string {
		v := url.Values{}
		for _, k := range []string{"status", "item", "kiosk", "q"} {
			if q.Get(k) != "" {
				v.Set(k, q.Get(k))
			}
		}
		v.Set("page", strconv.Itoa(p))
		return "/office/?" + v.Encode()
	}
	data := struct {
		pageData
		Filter   Filter
		Statuses []string
		Rows     []Summary
		Total    int
		Prev     string
		Next     string
	}{pageData: pageData{Title: "办件列表", User: se.User, CSRF: se.CSRF}, Filter: f, Rows: rows, Total: total,
		Statuses: []string{api.StatusReceived, api.StatusAccepted, api.StatusReturned, api.StatusApproved, api.StatusRejected}}
	if page > 0 {
		data.Prev = link(page - 1)
	}
	if (page+1)*listPageSize < total {
		data.Next = link(page + 1)
	}
	s.render(w, http.StatusOK, "list", data)
}

// scopedList is Store.List within what se may see: a town's staff see
// their town's cases only, in the list and its search (by name or ID
// number) as on a case's page. The store filters by one kiosk at a time,
// so a town's list is the merge of its kiosks' lists, newest first.
func (s *Server) scopedList(ctx context.Context, se Session, f Filter) ([]Summary, int, error) {
	if s.sup == nil {
		return s.cfg.Store.List(ctx, f)
	}
	a, err := s.sup.account(ctx, se.User)
	if err != nil || a.Town == "" {
		if err != nil {
			return nil, 0, err
		}
		return s.cfg.Store.List(ctx, f)
	}
	towns, err := s.sup.store.KioskTowns(ctx)
	if err != nil {
		return nil, 0, err
	}
	var kiosks []string
	for k, t := range towns {
		if t == a.Town && (f.KioskID == "" || f.KioskID == k) {
			kiosks = append(kiosks, k)
		}
	}
	if len(kiosks) == 1 {
		f.KioskID = kiosks[0]
		return s.cfg.Store.List(ctx, f)
	}
	// Each kiosk's first Offset+Limit rows hold the merged page's.
	var all []Summary
	total := 0
	g := f
	g.Offset, g.Limit = 0, f.Offset+f.Limit
	for _, k := range kiosks {
		g.KioskID = k
		rows, n, err := s.cfg.Store.List(ctx, g)
		if err != nil {
			return nil, 0, err
		}
		all = append(all, rows...)
		total += n
	}
	slices.SortStableFunc(all, func(x, y Summary) int {
		if c := y.ReceivedAt.Compare(x.ReceivedAt); c != 0 {
			return c
		}
		return strings.Compare(y.CaseNumber, x.CaseNumber)
	})
	if f.Offset >= len(all) {
		return nil, total, nil
	}
	return all[f.Offset:min(len(all), f.Offset+f.Limit)], total, nil
}

func (s *Server) kiosksPage(w http.ResponseWriter, r *http.Request, se Session) {
	ks, err := s.cfg.Store.Kiosks(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	now := s.cfg.Clock()
	rows := Fleet(ks, now, s.cfg.Fleet)
	alerting := 0
	for _, r := range rows {
		if len(r.Alerts) > 0 {
			alerting++
		}
	}
	s.render(w, http.StatusOK, "kiosks", struct {
		pageData
		Rows     []FleetRow
		Alerting int
		Now      time.Time
		Rules    FleetRules
	}{pageData{Title: "终端", User: se.User, CSRF: se.CSRF}, rows, alerting, now, s.cfg.Fleet.withDefaults()})
}

func (s *Server) showDetail(w http.ResponseWriter, r *http.Request, se Session, code int, msg string) {
	s.renderDetail(w, r, se, code, msg, false)
}

// renderDetail draws a submission. The ID number is masked unless reveal
// is set, which only the reveal action does: staff need the full number
// only now and then, and each time it is shown is audited.
func (s *Server) renderDetail(w http.ResponseWriter, r *http.Request, se Session, code int, msg string, reveal bool) {
	d, err := s.cfg.Store.Get(r.Context(), r.PathValue("uuid"))
	if err == nil {
		err = s.inScope(r.Context(), se, d) // a town's staff see their town's cases only
	}
	if errors.Is(err, ErrNotFound) {
		securityHeaders(w)
		http.Error(w, "no such submission", http.StatusNotFound)
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	var next []string
	for _, st := range []string{api.StatusAccepted, api.StatusReturned, api.StatusApproved, api.StatusRejected} {
		if Allowed(d.Status, st) {
			next = append(next, st)
		}
	}
	next = s.decisionsFor(r.Context(), se, d, next)
	if reveal {
		// The Store has no audit table, so the audit trail of reveals is
		// this log line: who, when and which submission, never the number.
		s.cfg.Logger.Info("audit: staff revealed a full ID number", "event", "id_reveal",
			"user", se.User, "submission", d.UUID, "case", d.CaseNumber, "at", s.cfg.Clock().UTC())
	}
	s.render(w, code, "detail", struct {
		pageData
		D        Detail
		Next     []string
		RevealID bool
		History  []historyRow
		ECerts   map[string]ecertView
	}{pageData{Title: d.CaseNumber, User: se.User, CSRF: se.CSRF, Error: msg}, d, next, reveal, s.namedHistory(r.Context(), historyRows(d)), s.ecertViews(r.Context(), d)})
}

// revealID answers the "show full number" button with the detail page
// holding the full ID number. It is a POST (with the session's CSRF token)
// so a link or a prefetch cannot reveal it, and the answer is the page
// itself rather than a redirect: the number is shown once, in this
// response, and a reload asks to send (and audit) the request again.
func (s *Server) revealID(w http.ResponseWriter, r *http.Request, se Session) {
	s.renderDetail(w, r, se, http.StatusOK, "", true)
}

func (s *Server) detailPage(w http.ResponseWriter, r *http.Request, se Session) {
	s.showDetail(w, r, se, http.StatusOK, "")
}

func (s *Server) decide(w http.ResponseWriter, r *http.Request, se Session) {
	status, note := r.PostFormValue("status"), strings.TrimSpace(r.PostFormValue("note"))
	if len(note) > 2000 {
		s.showDetail(w, r, se, http.StatusUnprocessableEntity, "意见过长（最多 2000 字节）")
		return
	}
	if (status == api.StatusReturned || status == api.StatusRejected) && note == "" {
		s.showDetail(w, r, se, http.StatusUnprocessableEntity, "退回或不予受理必须写明理由")
		return
	}
	if d, err := s.cfg.Store.Get(r.Context(), r.PathValue("uuid")); err == nil {
		// Roles (issue 14): who may record which decision, in which town.
		msg, err := s.mayDecide(r.Context(), se, status, d)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		if msg != "" {
			s.cfg.Logger.Warn("staff decision refused by role", "user", se.User, "case", d.CaseNumber, "status", status)
			s.showDetail(w, r, se, http.StatusForbidden, msg)
			return
		}
	}
	if finalDecision(status) && r.PostFormValue("confirm") != "yes" {
		// A final decision goes to the resident and cannot be undone:
		// the first POST answers with a page that asks, the second
		// (confirm=yes, same CSRF token) decides.
		d, err := s.cfg.Store.Get(r.Context(), r.PathValue("uuid"))
		if errors.Is(err, ErrNotFound) {
			securityHeaders(w)
			http.Error(w, "no such submission", http.StatusNotFound)
			return
		}
		if err != nil {
			s.internal(w, r, err)
			return
		}
		s.render(w, http.StatusOK, "confirm", struct {
			pageData
			D      Detail
			Status string
			Note   string
		}{pageData{Title: "确认决定", User: se.User, CSRF: se.CSRF}, d, status, note})
		return
	}
	u, err := s.cfg.Store.Decide(r.Context(), r.PathValue("uuid"), status, note, se.User, s.cfg.Clock())
	switch {
	case errors.Is(err, ErrNotFound):
		securityHeaders(w)
		http.Error(w, "no such submission", http.StatusNotFound)
		return
	case errors.Is(err, ErrBadTransition):
		s.showDetail(w, r, se, http.StatusConflict, "当前状态不能作此决定（可能已被他人办理）")
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	s.metrics.count("decisions", status, 1)
	s.afterDecision(r.Context(), u)
	s.cfg.Logger.Info("staff decision", "user", se.User, "case", u.CaseNumber, "status", status)
	http.Redirect(w, r, "/office/submissions/"+url.PathEscape(u.UUID), http.StatusSeeOther)
}
