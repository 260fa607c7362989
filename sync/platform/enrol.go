package platform

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"onedoor/sync/api"
)

// DefaultEnrolCodeTTL is how long a code from `platformd kiosk add` works.
const DefaultEnrolCodeTTL = 72 * time.Hour

// EnrolCodeHash is what the store keeps of an enrolment code.
func EnrolCodeHash(code string) string { return hashHex(api.NormalizeEnrolCode(code)) }

// AddEnrolment gives kioskID (new, or a token kiosk to migrate) a fresh
// one-time enrolment code, valid for ttl, and returns it for the operator
// to hand to the technician. The platform keeps only its hash.
func AddEnrolment(ctx context.Context, st Store, kioskID string, ttl time.Duration, now time.Time) (string, error) {
	if kioskID == "" || len(kioskID) > 64 || strings.ContainsAny(kioskID, " \t\r\n/") {
		return "", fmt.Errorf("kiosk id %q: must be 1-64 characters without spaces or slashes", kioskID)
	}
	code, err := api.NewEnrolCode()
	if err != nil {
		return "", err
	}
	if ttl <= 0 {
		ttl = DefaultEnrolCodeTTL
	}
	if err := st.AddEnrolment(ctx, kioskID, EnrolCodeHash(code), now.Add(ttl), now); err != nil {
		return "", err
	}
	return code, nil
}

// credential loads a kiosk's credential for the cache, packed in a string.
func (s *Server) credential(ctx context.Context, id string) (string, error) {
	c, err := s.cfg.Store.KioskCredential(ctx, id)
	if err != nil {
		return "", err
	}
	return c.Algorithm + "\x00" + c.Key, nil
}

func unpackCredential(p string) api.Credential {
	alg, key, _ := strings.Cut(p, "\x00")
	return api.Credential{Algorithm: alg, Key: key}
}

// postEnrol registers a kiosk's public key against its one-time code. The
// request is signed with the new private key, so the platform knows the
// kiosk holds it; failures are limited per kiosk id and per address.
func (s *Server) postEnrol(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	now := s.cfg.Clock()
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	kiosk := r.Header.Get(api.HeaderKiosk)
	if s.enrolFails.blocked(now, "kiosk:"+kiosk, "addr:"+host) {
		s.rateLimited(w, "too many failed enrolments; try again later", 15*time.Minute)
		return
	}
	refuse := func(code int, e api.ErrorResponse) {
		s.enrolFails.fail(now, "kiosk:"+kiosk, "addr:"+host)
		s.metrics.count("auth_failures", "enrol", 1)
		s.cfg.Logger.Warn("enrolment refused", "kiosk", truncate(kiosk, 64), "addr", host, "reason", e.Message)
		writeError(w, code, e)
	}
	var req api.EnrolRequest
	if !decodeBody(w, body, &req, "enrolment", true) {
		return
	}
	if req.KioskID == "" || req.KioskID != kiosk {
		validation(w, errors.New("kiosk_id: must be the kiosk the request is signed for"))
		return
	}
	if err := api.ValidPublicKey(req.Algorithm, req.PublicKey); err != nil {
		validation(w, err)
		return
	}
	cred := api.Credential{Algorithm: req.Algorithm, Key: req.PublicKey}
	a, err := api.VerifyCredential(r, cred, api.BodySHA256(body), now, s.verifiers)
	if err != nil {
		refuse(http.StatusUnauthorized, api.ErrorResponse{Code: api.CodeUnauthorized, Message: "enrolment not signed with the key it registers: " + err.Error()})
		return
	}
	if err := s.nonces.use(a.KioskID, a.Nonce, now); err != nil {
		refuse(http.StatusUnauthorized, api.ErrorResponse{Code: api.CodeUnauthorized, Message: err.Error()})
		return
	}
	at, err := s.cfg.Store.Enrol(r.Context(), req.KioskID, EnrolCodeHash(req.Code), cred, now)
	switch {
	case errors.Is(err, ErrNotFound):
		refuse(http.StatusUnauthorized, api.ErrorResponse{Code: api.CodeUnauthorized, Message: "unknown, used or expired enrolment code for this kiosk"})
		return
	case errors.Is(err, ErrExists):
		refuse(http.StatusConflict, api.ErrorResponse{Code: api.CodeIdempotencyConflict, Message: "this enrolment code was already used with another key"})
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	s.tokens.forget(req.KioskID)
	s.cfg.Logger.Info("kiosk enrolled", "kiosk", req.KioskID, "algorithm", req.Algorithm)
	writeJSON(w, http.StatusCreated, api.EnrolResponse{KioskID: req.KioskID, Algorithm: req.Algorithm, EnrolledAt: at.UTC()})
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
