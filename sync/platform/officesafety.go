package platform

import (
	"crypto/subtle"
	"errors"

	"mime"
	"net/http"
	"strings"
	"time"

	"onedoor/sync/api"
)

// scanTypes are the content types the back office shows in the browser;
// any other declared type is served as a download, so a "scan" that is
// really HTML or SVG never renders on the back office's origin.
var scanTypes = map[string]string{"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}

// inlineType returns the normalised declared type and whether it is on the
// allow-list.
func inlineType(declared string) (string, bool) {
	mt, _, err := mime.ParseMediaType(declared)
	if err != nil {
		return "", false
	}
	_, ok := scanTypes[mt]
	return mt, ok
}

// serveScan serves one page of a submission with the content type the
// submission declared for it, from the allow-list, or as a download.
func (s *Server) serveScan(w http.ResponseWriter, r *http.Request, se Session) {
	securityHeaders(w)
	sha := r.PathValue("sha")
	if !api.IsSHA256Hex(sha) {
		http.Error(w, "bad blob address", http.StatusBadRequest)
		return
	}
	d, err := s.cfg.Store.Get(r.Context(), r.PathValue("uuid"))
	if err == nil {
		err = s.inScope(r.Context(), se, d) // as the case's page: a town's staff, their town's cases only
	}
	if errors.Is(err, ErrNotFound) {
		http.Error(w, "no such submission", http.StatusNotFound)
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	declared, found := "", false
	for _, m := range d.Request.Materials {
		for _, p := range m.Pages {
			if p.SHA256 == sha && !found {
				declared, found = p.ContentType, true
			}
		}
	}
	if !found {
		http.Error(w, "no such scan in this submission", http.StatusNotFound)
		return
	}
	f, err := s.cfg.Blobs.Open(r.Context(), sha)
	if errors.Is(err, ErrNotFound) {
		http.Error(w, "no such scan", http.StatusNotFound)
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	defer f.Close()
	name := d.CaseNumber + "-" + sha[:12]
	if mt, ok := inlineType(declared); ok {
		w.Header().Set("Content-Type", mt)
		w.Header().Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": name + scanTypes[mt]}))
	} else {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name + ".bin"}))
	}
	// A scan is no page: no script, no form, whatever it holds. (A PDF
	// needs the browser's viewer, which a sandboxed document may not load.)
	if mt, _ := inlineType(declared); mt != "application/pdf" {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; sandbox")
	}
	w.Header().Set("Cache-Control", "private, no-store")
	http.ServeContent(w, r, "", time.Time{}, f)
}

// hsts marks responses served over TLS (or behind a TLS proxy, which
// SecureCookies says) so browsers never fall back to plain HTTP.
func (s *Server) hsts(w http.ResponseWriter, r *http.Request) {
	if r.TLS != nil || s.cfg.SecureCookies {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
	}
}

// loginLimits count failed staff logins three ways: per (user, address)
// pair tightly, so one stranger behind a NAT locks out only the account
// they guess at from there; per account more loosely, against guessing
// from many addresses; and per address loosely, against one address
// trying many accounts.
type loginLimits struct {
	pair, account, client *loginLimiter
}

func newLoginLimits() *loginLimits {
	mk := func(n int) *loginLimiter {
		return &loginLimiter{fails: map[string][]time.Time{}, maxFails: n, window: 15 * time.Minute}
	}
	return &loginLimits{pair: mk(5), account: mk(20), client: mk(50)}
}

func (l *loginLimits) blocked(now time.Time, user, addr string) bool {
	return l.pair.blocked(now, user+"\x00"+addr) || l.account.blocked(now, user) || l.client.blocked(now, addr)
}

func (l *loginLimits) fail(now time.Time, user, addr string) {
	l.pair.fail(now, user+"\x00"+addr)
	l.account.fail(now, user)
	l.client.fail(now, addr)
}

func (l *loginLimits) succeed(user, addr string) {
	l.pair.forget(user + "\x00" + addr)
	l.account.forget(user)
}

// share moves the three counts to sh (several instances, one database).
func (l *loginLimits) share(sh Shared) {
	l.pair.share(sh, "login-pair:")
	l.account.share(sh, "login-account:")
	l.client.share(sh, "login-client:")
}

// MetricsHandler serves /metrics without a token, for a listen address of
// its own (platformd --metrics-addr) that only the monitoring network
// reaches. On the main handler /metrics needs Config.MetricsToken.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", s.serveMetrics)
	return mux
}

// metricsAuthorized checks the bearer token of a /metrics request on the
// main handler; without a configured token /metrics is not served there.
func (s *Server) metricsAuthorized(r *http.Request) bool {
	if s.cfg.MetricsToken == "" {
		return false
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.MetricsToken)) == 1
}
