package platform

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"onedoor/pii"
	"onedoor/sync/api"
	"onedoor/sync/platform/supervise"
)

//go:embed templates/pages.html templates/supervise.html templates/phone.html
var superviseFS embed.FS

// supervision is the back office's supervision side (issue 14): roles on
// decisions, the case list with due dates, the dashboard and its files,
// follow-up tasks of bad ratings, staff roles, and the residents' phone
// page. It exists only when the Store also implements supervise.Store.
type supervision struct {
	s       *Server
	store   supervise.Store
	ref     supervise.Refresher
	pages   *template.Template
	catalog *officeCatalog
	// places are where each item's results are collected, for the phone
	// page's "what to do next".
	places map[string]itemPlace
	// phoneFails counts wrong codes on the phone page per receipt (5 in
	// 15 minutes), phoneAddrFails per client address (20: a service
	// hall's residents may share one).
	phoneFails, phoneAddrFails *loginLimiter
}

// supervisor returns the Server's supervision, nil when its Store has none.
func (s *Server) supervisor() *supervision {
	st, ok := beneath[supervise.Store](s.cfg.Store)
	if !ok {
		return nil
	}
	wd, err := supervise.ParseWorkdays(s.cfg.Calendar)
	if err != nil {
		// The calendar is checked when served too; supervision then
		// counts Monday to Friday rather than stopping.
		s.cfg.Logger.Warn("supervision: holiday calendar not usable, counting Monday to Friday", "err", err)
		wd = supervise.NewWorkdays(nil)
	}
	cat := parseOfficeCatalog(s.cfg.Catalog)
	sv := &supervision{s: s, store: st, catalog: cat, places: parsePlaces(s.cfg.Catalog),
		ref: supervise.Refresher{Store: st, Workdays: wd, Limits: supervise.ParseLimits(s.cfg.Catalog),
			// Statistics come from memory: a GROUP BY over a million
			// cases costs SQLite seconds, a scan of the cache milliseconds.
			Cache: supervise.NewCache()},
		phoneFails:     &loginLimiter{fails: map[string][]time.Time{}, maxFails: 5, window: 15 * time.Minute},
		phoneAddrFails: &loginLimiter{fails: map[string][]time.Time{}, maxFails: 20, window: 15 * time.Minute}}
	if s.cfg.Shared != nil {
		sv.phoneFails.share(s.cfg.Shared, "phone:")
		sv.phoneAddrFails.share(s.cfg.Shared, "phone-addr:")
	}
	sv.pages = template.Must(template.New("supervise").Funcs(template.FuncMap{
		"statusLabel": statusLabel,
		"itemName":    cat.itemName,
		"roleLabel":   func(r supervise.Role) string { return r.Label() },
		"levelLabel":  supervise.LevelLabel,
		"stepLabel":   supervise.StepLabel,
		"pct":         func(f float64) string { return fmt.Sprintf("%.1f%%", f*100) },
		"days": func(n int) string {
			if n < 0 {
				return "—"
			}
			return strconv.Itoa(n)
		},
		"fmtTime": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04")
		},
		"maskText": pii.MaskText,
	}).ParseFS(superviseFS, "templates/supervise.html", "templates/phone.html"))
	return sv
}

// superviseRoutes registers the supervision pages when the Store keeps
// supervision.
func (s *Server) superviseRoutes() {
	sv := s.supervisor()
	if sv == nil {
		return
	}
	s.sup = sv
	s.pages.Funcs(template.FuncMap{"supervised": func() bool { return true }, "may": sv.may})
	s.route("GET /office/cases", "office", s.staff(sv.casesPage))
	s.route("GET /office/dashboard", "office", s.staff(sv.need(supervise.ActSupervise, sv.dashboard)))
	s.route("GET /office/stats.csv", "office", s.staff(sv.need(supervise.ActSupervise, sv.statsFile("csv"))))
	s.route("GET /office/stats.xlsx", "office", s.staff(sv.need(supervise.ActSupervise, sv.statsFile("xlsx"))))
	s.route("GET /office/followups", "office", s.staff(sv.need(supervise.ActFollowUp, sv.followUpsPage)))
	s.route("GET /office/followups/{id}", "office", s.staff(sv.need(supervise.ActFollowUp, sv.followUpPage)))
	s.route("POST /office/followups/{id}/step", "office", s.staff(sv.need(supervise.ActFollowUp, sv.followUpStep)))
	s.route("GET /office/accounts", "office", s.staff(sv.need(supervise.ActAccounts, sv.accountsPage)))
	s.route("POST /office/accounts", "office", s.staff(sv.need(supervise.ActAccounts, sv.setAccount)))
	s.route("POST /office/kiosk-towns", "office", s.staff(sv.need(supervise.ActAccounts, sv.setKioskTown)))
	s.route("GET /m/{receipt}", "phone", sv.phonePage)
	s.route("POST /m/{receipt}", "phone", sv.phoneLookup)
}

// account is the staff member's role; an account given none has Role "".
func (sv *supervision) account(ctx context.Context, user string) (supervise.Account, error) {
	a, err := sv.store.StaffRole(ctx, user)
	if errors.Is(err, ErrNotFound) {
		return supervise.Account{User: user}, nil
	}
	return a, err
}

// may reports whether user's role allows act, for the header's links: a
// clerk was shown the dashboard, follow-up and accounts links and landed
// on "无权操作" behind each. A failed lookup shows no link; the page itself
// still decides.
func (sv *supervision) may(user, act string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a, err := sv.account(ctx, user)
	return err == nil && a.Role.May(supervise.Action(act))
}

// need wraps a staff handler that only a role allowed act may use.
func (sv *supervision) need(act supervise.Action, h func(http.ResponseWriter, *http.Request, Session, supervise.Account)) func(http.ResponseWriter, *http.Request, Session) {
	return func(w http.ResponseWriter, r *http.Request, se Session) {
		if r.Method == http.MethodGet {
			// A GET has no body to wait for; the first statistics after
			// a start load every case's facts (seconds for a million),
			// and the 5 s body deadline would cancel the request.
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(2 * time.Minute))
		}
		a, err := sv.account(r.Context(), se.User)
		if err != nil {
			sv.s.internal(w, r, err)
			return
		}
		if !a.Role.May(act) {
			sv.s.cfg.Logger.Warn("staff action refused by role", "user", se.User, "role", string(a.Role), "action", string(act))
			// A page with the way back, not a bare line of text.
			sv.s.render(w, http.StatusForbidden, "refused", pageData{Title: "无权操作", User: se.User, CSRF: se.CSRF,
				Error: "你的角色（" + a.Role.Label() + "）不能进行此操作"})
			return
		}
		h(w, r, se, a)
	}
}

// mayDecide says why se may not record status on the case d ("" when
// allowed): the role must allow the decision and the case's town be in
// the account's scope. With no supervision store every decision is
// allowed, as before roles.
func (s *Server) mayDecide(ctx context.Context, se Session, status string, d Detail) (string, error) {
	if s.sup == nil {
		return "", nil
	}
	a, err := s.sup.account(ctx, se.User)
	if err != nil {
		return "", err
	}
	if !a.Role.May(supervise.Action(status)) {
		return "你的角色（" + a.Role.Label() + "）不能作出“" + statusLabel(status) + "”决定", nil
	}
	if a.Town != "" {
		towns, err := s.sup.store.KioskTowns(ctx)
		if err != nil {
			return "", err
		}
		if towns[d.KioskID] != a.Town {
			return "此办件不在你的办理范围（" + a.Town + "）内", nil
		}
	}
	return "", nil
}

func (sv *supervision) render(w http.ResponseWriter, code int, name string, data any) {
	securityHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var b bytes.Buffer
	if err := sv.pages.ExecuteTemplate(&b, name, data); err != nil {
		sv.s.cfg.Logger.Error("rendering page", "page", name, "err", err)
		http.Error(w, "page error", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(code)
	w.Write(b.Bytes())
}

func (sv *supervision) today() supervise.Day { return supervise.DayOf(sv.s.cfg.Clock()) }

// scope is the scope a request asks for, narrowed to the account's town.
func scopeOf(q url.Values, a supervise.Account) supervise.Scope {
	sc := supervise.Scope{Town: q.Get("town"), Kiosk: q.Get("kiosk"), ItemID: q.Get("item"), Staff: q.Get("staff")}
	if a.Town != "" {
		sc.Town = a.Town
	}
	return sc
}

type supPage struct {
	Title, User, CSRF, Error string
	Account                  supervise.Account
	Today                    supervise.Day
}

func (sv *supervision) page(title string, se Session, a supervise.Account) supPage {
	return supPage{Title: title, User: se.User, CSRF: se.CSRF, Account: a, Today: sv.today()}
}

// caseRow is a case list line with its days left.
type caseRow struct {
	supervise.CaseRow
	Left             int
	Overdue, DueSoon bool
}

func (sv *supervision) casesPage(w http.ResponseWriter, r *http.Request, se Session) {
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(2 * time.Minute))
	a, err := sv.account(r.Context(), se.User)
	if err != nil {
		sv.s.internal(w, r, err)
		return
	}
	if err := sv.ref.Refresh(r.Context()); err != nil {
		sv.s.internal(w, r, err)
		return
	}
	q := r.URL.Query()
	today := sv.today()
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 0)
	cq := supervise.CaseQuery{Scope: scopeOf(q, a), Open: q.Get("open") == "1", Overdue: q.Get("overdue") == "1", DueSoon: q.Get("due_soon") == "1",
		Today: today, DueSoonBy: sv.ref.Workdays.Add(today, 2), Sort: q.Get("sort"), Limit: 50, Offset: page * 50}
	rows, total, err := sv.store.Cases(r.Context(), cq)
	if err != nil {
		sv.s.internal(w, r, err)
		return
	}
	out := make([]caseRow, len(rows))
	for i, c := range rows {
		out[i] = caseRow{CaseRow: c}
		if c.Open && c.Due != 0 {
			out[i].Left = sv.ref.Workdays.Left(today, c.Due)
			out[i].Overdue = c.Overdue(today)
			out[i].DueSoon = !out[i].Overdue && c.Due <= cq.DueSoonBy
		}
	}
	link := func(p int) string {
		v := url.Values{}
		for k := range q {
			v.Set(k, q.Get(k))
		}
		v.Set("page", strconv.Itoa(p))
		return "/office/cases?" + v.Encode()
	}
	var prev, next string
	if page > 0 {
		prev = link(page - 1)
	}
	if (page+1)*50 < total {
		next = link(page + 1)
	}
	sv.render(w, http.StatusOK, "cases", struct {
		supPage
		Q          CaseFilter
		Rows       []caseRow
		Total      int
		Prev, Next string
	}{sv.page("办件时限", se, a), CaseFilter{cq, q.Get("town"), q.Get("item"), q.Get("kiosk")}, out, total, prev, next})
}

// CaseFilter is the case list's filter as the form shows it.
type CaseFilter struct {
	supervise.CaseQuery
	Town, Item, Kiosk string
}

// statsQuery reads from, to, by and the scope; the period defaults to the
// month so far.
func (sv *supervision) statsQuery(r *http.Request, a supervise.Account) (supervise.Query, error) {
	q := r.URL.Query()
	today := sv.today()
	first := today - supervise.Day(today.Date().Day()-1)
	sq := supervise.Query{From: first, To: today, By: q.Get("by"), Scope: scopeOf(q, a)}
	if sq.By == "" {
		sq.By = supervise.ByTown
	}
	if !supervise.ValidBy(sq.By) {
		return sq, fmt.Errorf("by must be item, town, kiosk or staff")
	}
	var err error
	if v := q.Get("from"); v != "" {
		if sq.From, err = supervise.ParseDay(v); err != nil {
			return sq, err
		}
	}
	if v := q.Get("to"); v != "" {
		if sq.To, err = supervise.ParseDay(v); err != nil {
			return sq, err
		}
	}
	if sq.To < sq.From {
		return sq, fmt.Errorf("the period ends before it starts")
	}
	return sq, nil
}

// result is the numbers of a query with the open counts of its scope.
func (sv *supervision) result(ctx context.Context, q supervise.Query) (supervise.Result, error) {
	if err := sv.ref.Refresh(ctx); err != nil {
		return supervise.Result{}, err
	}
	res, err := sv.ref.Cache.Stats(q)
	if err != nil {
		return res, err
	}
	today := sv.today()
	if res.OpenOverdue, err = sv.store.CountCases(ctx, supervise.CaseQuery{Scope: q.Scope, Overdue: true, Today: today}); err != nil {
		return res, err
	}
	if res.OpenDueSoon, err = sv.store.CountCases(ctx, supervise.CaseQuery{Scope: q.Scope, DueSoon: true, Today: today, DueSoonBy: sv.ref.Workdays.Add(today, 2)}); err != nil {
		return res, err
	}
	fq := supervise.FollowUpQuery{Scope: q.Scope, Open: true, Today: today}
	if res.FollowUpsOpen, err = sv.store.CountFollowUps(ctx, fq); err != nil {
		return res, err
	}
	fq.Overdue = true
	res.FollowUpsOverdue, err = sv.store.CountFollowUps(ctx, fq)
	return res, err
}

func (sv *supervision) dashboard(w http.ResponseWriter, r *http.Request, se Session, a supervise.Account) {
	q, err := sv.statsQuery(r, a)
	if err != nil {
		securityHeaders(w)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	res, err := sv.result(r.Context(), q)
	if err != nil {
		sv.s.internal(w, r, err)
		return
	}
	label := func(k string) string {
		if q.By == supervise.ByItem {
			return sv.catalog.itemName(k)
		}
		if k == "" {
			return "（未设置）"
		}
		return k
	}
	var labels []string
	var recv, dec, first, ontime []float64
	for _, g := range res.Groups {
		labels = append(labels, label(g.Key))
		recv = append(recv, float64(g.Received))
		dec = append(dec, float64(g.Decided))
		first = append(first, g.FirstTimeRate()*100)
		ontime = append(ontime, g.OnTimeRate()*100)
	}
	var lv []string
	var rv []float64
	for l := 5; l >= 1; l-- {
		lv = append(lv, supervise.LevelLabel(l))
		rv = append(rv, float64(res.Total.Ratings[l]))
	}
	var dl []string
	var dv []float64
	maxDay := 0
	for d := range res.Total.Days {
		maxDay = max(maxDay, d)
	}
	if len(res.Total.Days) > 0 {
		for d := 0; d <= min(maxDay, 40); d++ {
			dl = append(dl, strconv.Itoa(d))
			dv = append(dv, float64(res.Total.Days[d]))
		}
	}
	qs := r.URL.Query()
	qs.Del("page")
	sv.render(w, http.StatusOK, "dashboard", struct {
		supPage
		Q       supervise.Query
		R       supervise.Result
		Label   func(string) string
		Files   string
		Charts  []template.HTML
		Towns   []string
		ItemIDs []string
	}{sv.page("监督统计", se, a), q, res, label, qs.Encode(), []template.HTML{
		supervise.BarChart("受理与办结（件）", labels, [][]float64{recv, dec}, []string{"收件", "办结"}, "%.0f"),
		supervise.BarChart("收件及格率与按时办结率（%）", labels, [][]float64{first, ontime}, []string{"收件及格率", "按时办结率"}, "%.1f"),
		supervise.BarChart("评价等级（件）", lv, [][]float64{rv}, []string{"评价"}, "%.0f"),
		supervise.BarChart("办理用时分布（工作日）", dl, [][]float64{dv}, []string{"办结件数"}, "%.0f"),
	}, nil, nil})
}

func (sv *supervision) statsFile(kind string) func(http.ResponseWriter, *http.Request, Session, supervise.Account) {
	return func(w http.ResponseWriter, r *http.Request, se Session, a supervise.Account) {
		q, err := sv.statsQuery(r, a)
		if err != nil {
			securityHeaders(w)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		res, err := sv.result(r.Context(), q)
		if err != nil {
			sv.s.internal(w, r, err)
			return
		}
		var b bytes.Buffer
		name := fmt.Sprintf("stats-%s-%s-by-%s", q.From, q.To, q.By)
		securityHeaders(w)
		if kind == "csv" {
			err = supervise.WriteCSV(&b, res)
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			name += ".csv"
		} else {
			err = supervise.WriteXLSX(&b, res)
			w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
			name += ".xlsx"
		}
		if err != nil {
			sv.s.internal(w, r, err)
			return
		}
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		sv.s.cfg.Logger.Info("statistics exported", "user", se.User, "format", kind, "from", q.From.String(), "to", q.To.String(), "by", q.By)
		w.Write(b.Bytes())
	}
}

type followUpRow struct {
	supervise.FollowUp
	Overdue bool
}

func (sv *supervision) followUpsPage(w http.ResponseWriter, r *http.Request, se Session, a supervise.Account) {
	if err := sv.ref.Refresh(r.Context()); err != nil {
		sv.s.internal(w, r, err)
		return
	}
	q := r.URL.Query()
	today := sv.today()
	ts, err := sv.store.FollowUps(r.Context(), supervise.FollowUpQuery{Scope: scopeOf(q, a), Open: q.Get("open") == "1", Overdue: q.Get("overdue") == "1", Today: today, Limit: 200})
	if err != nil {
		sv.s.internal(w, r, err)
		return
	}
	rows := make([]followUpRow, len(ts))
	for i, t := range ts {
		rows[i] = followUpRow{t, t.Overdue(today)}
	}
	sv.render(w, http.StatusOK, "followups", struct {
		supPage
		Rows []followUpRow
	}{sv.page("差评整改", se, a), rows})
}

func (sv *supervision) loadFollowUp(w http.ResponseWriter, r *http.Request, a supervise.Account) (supervise.FollowUp, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var t supervise.FollowUp
	if err == nil {
		t, err = sv.store.FollowUp(r.Context(), id)
	}
	if err == nil && !a.InScope(t.Town) {
		err = ErrNotFound
	}
	if err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, strconv.ErrSyntax) || errors.Is(err, strconv.ErrRange) {
			securityHeaders(w)
			http.Error(w, "no such follow-up", http.StatusNotFound)
			return t, false
		}
		sv.s.internal(w, r, err)
		return t, false
	}
	return t, true
}

func (sv *supervision) showFollowUp(w http.ResponseWriter, r *http.Request, se Session, a supervise.Account, code int, msg string) {
	t, ok := sv.loadFollowUp(w, r, a)
	if !ok {
		return
	}
	p := sv.page("整改任务", se, a)
	p.Error = msg
	sv.render(w, code, "followup", struct {
		supPage
		T       supervise.FollowUp
		Overdue bool
		Next    string
	}{p, t, t.Overdue(sv.today()), t.Next()})
}

func (sv *supervision) followUpPage(w http.ResponseWriter, r *http.Request, se Session, a supervise.Account) {
	sv.showFollowUp(w, r, se, a, http.StatusOK, "")
}

func (sv *supervision) followUpStep(w http.ResponseWriter, r *http.Request, se Session, a supervise.Account) {
	t, ok := sv.loadFollowUp(w, r, a)
	if !ok {
		return
	}
	text := strings.TrimSpace(r.PostFormValue("text"))
	if len(text) > 2000 {
		sv.showFollowUp(w, r, se, a, http.StatusUnprocessableEntity, "内容过长（最多 2000 字节）")
		return
	}
	if text == "" {
		sv.showFollowUp(w, r, se, a, http.StatusUnprocessableEntity, "请填写"+supervise.StepLabel(r.PostFormValue("kind"))+"内容")
		return
	}
	err := sv.store.AddStep(r.Context(), t.ID, supervise.Step{Kind: r.PostFormValue("kind"), Text: text, Actor: se.User, At: sv.s.cfg.Clock()})
	if errors.Is(err, ErrBadTransition) {
		sv.showFollowUp(w, r, se, a, http.StatusConflict, "此步骤不能现在记录（可能已被他人记录）")
		return
	}
	if err != nil {
		sv.s.internal(w, r, err)
		return
	}
	sv.s.cfg.Logger.Info("follow-up step", "user", se.User, "followup", t.ID, "step", r.PostFormValue("kind"))
	http.Redirect(w, r, "/office/followups/"+strconv.FormatInt(t.ID, 10), http.StatusSeeOther)
}

func (sv *supervision) showAccounts(w http.ResponseWriter, r *http.Request, se Session, a supervise.Account, code int, msg string) {
	accts, err := sv.store.StaffAccounts(r.Context())
	if err != nil {
		sv.s.internal(w, r, err)
		return
	}
	towns, err := sv.store.KioskTowns(r.Context())
	if err != nil {
		sv.s.internal(w, r, err)
		return
	}
	ks, err := sv.s.cfg.Store.Kiosks(r.Context())
	if err != nil {
		sv.s.internal(w, r, err)
		return
	}
	type kioskTown struct{ ID, Town string }
	var kt []kioskTown
	for _, k := range ks {
		kt = append(kt, kioskTown{k.ID, towns[k.ID]})
	}
	p := sv.page("账号与角色", se, a)
	p.Error = msg
	sv.render(w, code, "accounts", struct {
		supPage
		Accounts []supervise.Account
		Roles    []supervise.Role
		Kiosks   []kioskTown
	}{p, accts, supervise.Roles, kt})
}

func (sv *supervision) accountsPage(w http.ResponseWriter, r *http.Request, se Session, a supervise.Account) {
	sv.showAccounts(w, r, se, a, http.StatusOK, "")
}

func (sv *supervision) setAccount(w http.ResponseWriter, r *http.Request, se Session, a supervise.Account) {
	acct := supervise.Account{User: r.PostFormValue("user"), Name: strings.TrimSpace(r.PostFormValue("name")),
		Role: supervise.Role(r.PostFormValue("role")), Town: strings.TrimSpace(r.PostFormValue("town")), SetBy: se.User, SetAt: sv.s.cfg.Clock()}
	if a.Town != "" {
		// A town's administrator manages its own town's accounts and
		// unassigned ones only: not the city's, nor another town's.
		cur, err := sv.store.StaffRole(r.Context(), acct.User)
		if err != nil && !errors.Is(err, ErrNotFound) {
			sv.s.internal(w, r, err)
			return
		}
		if acct.Town != a.Town || err == nil && cur.Town != a.Town {
			sv.showAccounts(w, r, se, a, http.StatusForbidden, "只能管理本镇（"+a.Town+"）的账号")
			return
		}
	}
	if !acct.Role.Valid() {
		sv.showAccounts(w, r, se, a, http.StatusUnprocessableEntity, "请选择角色")
		return
	}
	if err := sv.store.SetStaffRole(r.Context(), acct); errors.Is(err, ErrNotFound) {
		sv.showAccounts(w, r, se, a, http.StatusNotFound, "没有此账号")
		return
	} else if err != nil {
		sv.s.internal(w, r, err)
		return
	}
	sv.s.cfg.Logger.Info("audit: staff role set", "event", "staff_role", "by", se.User, "user", acct.User, "role", string(acct.Role), "town", acct.Town)
	http.Redirect(w, r, "/office/accounts", http.StatusSeeOther)
}

func (sv *supervision) setKioskTown(w http.ResponseWriter, r *http.Request, se Session, a supervise.Account) {
	if a.Town != "" {
		sv.showAccounts(w, r, se, a, http.StatusForbidden, "只有全市管理员能设置终端所属镇街")
		return
	}
	kiosk, town := r.PostFormValue("kiosk"), strings.TrimSpace(r.PostFormValue("town"))
	if err := sv.store.SetKioskTown(r.Context(), kiosk, town); err != nil {
		sv.s.internal(w, r, err)
		return
	}
	sv.s.cfg.Logger.Info("audit: kiosk town set", "event", "kiosk_town", "by", se.User, "kiosk", kiosk, "town", town)
	http.Redirect(w, r, "/office/accounts", http.StatusSeeOther)
}

// phoneView is what the phone page shows after the code.
type phoneView struct {
	Receipt, CaseNumber, Item, Status, StatusKey string
	Received                                     time.Time
	Due                                          supervise.Day
	Next                                         string
	Reply                                        string
	Rating                                       int
}

func phoneLang(r *http.Request) string {
	if r.URL.Query().Get("lang") == "en" || r.PostFormValue("lang") == "en" {
		return "en"
	}
	return "zh"
}

func (sv *supervision) phonePage(w http.ResponseWriter, r *http.Request) {
	sv.renderPhone(w, http.StatusOK, phoneLang(r), r.PathValue("receipt"), "", nil)
}

func (sv *supervision) renderPhone(w http.ResponseWriter, code int, lang, receipt, msg string, v *phoneView) {
	securityHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var b bytes.Buffer
	if err := sv.pages.ExecuteTemplate(&b, "phone", struct {
		Lang, Receipt, Error string
		V                    *phoneView
	}{lang, receipt, msg, v}); err != nil {
		sv.s.cfg.Logger.Error("rendering page", "page", "phone", "err", err)
		http.Error(w, "page error", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(code)
	w.Write(b.Bytes())
}

// phoneProven reports whether what the resident typed proves the case is
// theirs: the receipt's lookup code, or the last 6 characters of the
// applicant's (or agent's) ID number.
func phoneProven(typed string, d Detail) bool {
	typed = strings.ToUpper(strings.TrimSpace(typed))
	if code := api.NormalizeLookupCode(typed); api.IsLookupCode(code) && d.Request.LookupCodeSHA256 != "" &&
		subtle.ConstantTimeCompare([]byte(api.LookupCodeSHA256(code)), []byte(d.Request.LookupCodeSHA256)) == 1 {
		return true
	}
	if len(typed) != 6 {
		return false
	}
	ids := []string{d.Request.Applicant.IDNumber}
	if d.Request.Agent != nil {
		ids = append(ids, d.Request.Agent.IDNumber)
	}
	for _, id := range ids {
		id = strings.ToUpper(id)
		if len(id) >= 6 && subtle.ConstantTimeCompare([]byte(id[len(id)-6:]), []byte(typed)) == 1 {
			return true
		}
	}
	return false
}

func (sv *supervision) phoneLookup(w http.ResponseWriter, r *http.Request) {
	receipt := r.PathValue("receipt")
	if r.ContentLength > 4<<10 {
		securityHeaders(w)
		http.Error(w, "form too large", http.StatusRequestEntityTooLarge)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		// A form that did not arrive (stalled, cut, malformed) is no
		// lookup: no wrong code counted, and no 500 from going on with
		// a request whose connection is gone.
		code, lang := http.StatusBadRequest, phoneLang(r)
		var mbe *http.MaxBytesError
		switch {
		case isTimeout(err):
			code = http.StatusRequestTimeout
		case errors.As(err, &mbe):
			code = http.StatusRequestEntityTooLarge
		}
		msg := "表单没有完整送达，请重新查询。"
		if lang == "en" {
			msg = "The form did not arrive whole. Please try again."
		}
		sv.renderPhone(w, code, lang, receipt, msg, nil)
		return
	}
	lang := phoneLang(r)
	en := lang == "en"
	t := func(zh, eng string) string {
		if en {
			return eng
		}
		return zh
	}
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	now := sv.s.cfg.Clock()
	if sv.phoneFails.blocked(now, receipt) || sv.phoneAddrFails.blocked(now, host) {
		w.Header().Set("Retry-After", strconv.Itoa(int(sv.phoneFails.window.Seconds())))
		sv.renderPhone(w, http.StatusTooManyRequests, lang, receipt, t("输错次数过多，请 15 分钟后再试。", "Too many wrong codes. Please try again in 15 minutes."), nil)
		return
	}
	d, err := sv.s.cfg.Store.Track(r.Context(), receipt)
	if err != nil && !errors.Is(err, ErrNotFound) {
		sv.s.internal(w, r, err)
		return
	}
	if err != nil || !phoneProven(r.PostFormValue("code"), d) {
		// An unknown receipt and a wrong code answer alike.
		sv.phoneFails.fail(now, receipt)
		sv.phoneAddrFails.fail(now, host)
		sv.renderPhone(w, http.StatusOK, lang, receipt, t("查询码或身份证号后 6 位不正确。", "The lookup code or the last 6 characters of the ID number are not right."), nil)
		return
	}
	sv.phoneFails.forget(receipt)
	if err := sv.refreshRecords(r.Context()); err != nil {
		sv.s.internal(w, r, err)
		return
	}
	v := &phoneView{Receipt: d.Receipt, CaseNumber: d.CaseNumber, Item: sv.catalog.itemName(d.ItemID), StatusKey: d.Status, Received: d.ReceivedAt}
	v.Status = statusLabel(d.Status)
	if en {
		v.Status = map[string]string{api.StatusReceived: "Received", api.StatusAccepted: "Accepted, in progress", api.StatusReturned: "Returned for correction",
			api.StatusApproved: "Approved", api.StatusRejected: "Not approved"}[d.Status]
	}
	lastNote := ""
	for _, u := range d.History {
		if u.Status == d.Status {
			lastNote = pii.MaskText(u.Note)
		}
	}
	switch d.Status {
	case api.StatusReceived:
		v.Next = t("等待窗口工作人员受理，无需再提交材料。", "Waiting for the service window to accept it; nothing more to bring.")
	case api.StatusAccepted:
		v.Next = t("正在审批，请在办结期限内留意短信或再次查询。", "Under review; check again or wait for a message before the due date.")
	case api.StatusReturned:
		v.Next = t("请按以下意见补正材料后重新申请：", "Please correct the application as follows and apply again: ") + lastNote
	case api.StatusApproved:
		v.Next = t("已办结，请携带身份证和回执按事项说明领取结果。", "Done. Bring your ID card and the receipt to collect the result as the item describes.")
		if p, ok := sv.places[d.ItemID]; ok && p.Address != "" {
			v.Next = t("已办结，请携带身份证和回执到"+p.Address+" "+p.Window+"领取结果（"+p.Hours+"）。",
				"Done. Bring your ID card and the receipt to "+p.AddressEN+", "+p.WindowEN+" to collect the result ("+p.HoursEN+").")
		}
	case api.StatusRejected:
		v.Next = t("不予办理，理由：", "Not approved. Reason: ") + lastNote
	}
	if cs, _, err := sv.store.Cases(r.Context(), supervise.CaseQuery{Receipt: d.Receipt, Limit: 1}); err == nil && len(cs) == 1 && cs[0].Open {
		v.Due = cs[0].Due
	}
	if ts, err := sv.store.FollowUps(r.Context(), supervise.FollowUpQuery{Receipt: d.Receipt, Limit: 1}); err == nil && len(ts) == 1 {
		v.Rating = ts[0].Level
		if st, ok := ts[0].Get(supervise.StepReply); ok {
			v.Reply = pii.MaskText(st.Text)
		}
	}
	sv.renderPhone(w, http.StatusOK, lang, receipt, "", v)
}

// namedHistory shows each staff member in a case's history by the name
// their role record gives, with the user name, so the history names people
// (issue 14); without supervision, or for a name not known, the user name
// stays.
func (s *Server) namedHistory(ctx context.Context, rows []historyRow) []historyRow {
	if s.sup == nil {
		return rows
	}
	accts, err := s.sup.store.StaffAccounts(ctx)
	if err != nil {
		s.cfg.Logger.Warn("staff names for a history", "err", err)
		return rows
	}
	names := map[string]string{}
	for _, a := range accts {
		if a.Name != "" {
			names[a.User] = a.Name
		}
	}
	for i, r := range rows {
		if n, ok := names[r.Actor]; ok {
			rows[i].Actor = n + "（" + r.Actor + "）"
		}
	}
	return rows
}

// WarmSupervision loads the supervision statistics' cache now (every
// case's facts; seconds for a million cases), so the first supervisor of
// the day does not wait for it. platformd serve runs it in the background
// at start; nothing needs it to finish.
func (s *Server) WarmSupervision(ctx context.Context) error {
	if s.sup == nil {
		return nil
	}
	start := time.Now()
	if err := s.sup.ref.Refresh(ctx); err != nil {
		return fmt.Errorf("warming supervision: %w", err)
	}
	s.cfg.Logger.Info("supervision statistics ready", "cases", s.sup.ref.Cache.Len(), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// ratingReply is the reply recorded on the follow-up of receipt's bad
// rating, masked, for the kiosk's progress lookup; "" when there is none
// or no supervision.
func (s *Server) ratingReply(ctx context.Context, receipt string) string {
	if s.sup == nil {
		return ""
	}
	if err := s.sup.refreshRecords(ctx); err != nil {
		s.cfg.Logger.Warn("supervision refresh for a lookup", "err", err)
	}
	ts, err := s.sup.store.FollowUps(ctx, supervise.FollowUpQuery{Receipt: receipt, Limit: 1})
	if err != nil || len(ts) == 0 {
		return ""
	}
	if st, ok := ts[0].Get(supervise.StepReply); ok {
		return pii.MaskText(st.Text)
	}
	return ""
}

// refreshRecords brings the stored facts and follow-up tasks up to date
// without the statistics' cache: residents' lookups must not wait for the
// cache's first load (seconds for a million cases).
func (sv *supervision) refreshRecords(ctx context.Context) error {
	r := sv.ref
	r.Cache = nil
	return r.Refresh(ctx)
}

// decisionsFor keeps of next the decisions se's role may make on d, so the
// form offers a clerk 受理 and 退回 only (mayDecide still checks the POST).
func (s *Server) decisionsFor(ctx context.Context, se Session, d Detail, next []string) []string {
	if s.sup == nil {
		return next
	}
	var out []string
	for _, st := range next {
		if msg, err := s.mayDecide(ctx, se, st, d); err == nil && msg == "" {
			out = append(out, st)
		}
	}
	return out
}

// inScope answers ErrNotFound when se's account is limited to a town and
// d came from a kiosk of another town.
func (s *Server) inScope(ctx context.Context, se Session, d Detail) error {
	if s.sup == nil {
		return nil
	}
	a, err := s.sup.account(ctx, se.User)
	if err != nil || a.Town == "" {
		return err
	}
	towns, err := s.sup.store.KioskTowns(ctx)
	if err != nil {
		return err
	}
	if towns[d.KioskID] != a.Town {
		return fmt.Errorf("case of another town: %w", ErrNotFound)
	}
	return nil
}

// itemPlace is where an item's result is collected (the catalog's first
// place), in both languages.
type itemPlace struct {
	Address   string `json:"address"`
	AddressEN string `json:"address_en"`
	Window    string `json:"window"`
	WindowEN  string `json:"window_en"`
	Hours     string `json:"hours"`
	HoursEN   string `json:"hours_en"`
}

// parsePlaces reads each item's first place from the catalog the platform
// serves; a catalog it cannot read gives none (the page then says where in
// general terms).
func parsePlaces(catalogJSON []byte) map[string]itemPlace {
	var raw struct {
		Items []struct {
			ID     string      `json:"id"`
			Places []itemPlace `json:"places"`
		} `json:"items"`
	}
	out := map[string]itemPlace{}
	if len(catalogJSON) == 0 || json.Unmarshal(catalogJSON, &raw) != nil {
		return out
	}
	for _, it := range raw.Items {
		if len(it.Places) > 0 {
			p := it.Places[0]
			for _, f := range [][2]*string{{&p.AddressEN, &p.Address}, {&p.WindowEN, &p.Window}, {&p.HoursEN, &p.Hours}} {
				if *f[0] == "" {
					*f[0] = *f[1]
				}
			}
			out[it.ID] = p
		}
	}
	return out
}
