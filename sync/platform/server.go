// Package platform is the reference central platform of OneDoor: the sync
// API kiosks push submissions and scans to (docs/sync-api.md), the statuses
// feed that carries staff decisions back, and a small server-rendered back
// office where staff log in, look at scans and decide. It exists so the
// kiosk can be run, tested and demonstrated end to end; storage sits behind
// the Store interface (SQLite in sync/platform/sqlitestore) and blob bytes
// behind BlobStore (a local folder in sync/platform/blobdir).
package platform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"onedoor/pii"
	"onedoor/sync/api"
)

// Config wires a Server.
type Config struct {
	Store  Store
	Blobs  BlobStore
	Clock  func() time.Time // defaults to time.Now
	Logger *slog.Logger     // defaults to slog.Default
	// CasePrefix starts every case number, e.g. "DG" gives DG-2026-000123.
	CasePrefix string
	// Catalog is served opaque at GET /api/v1/catalog; nil answers 404.
	Catalog []byte
	// Calendar is the working-day calendar (the kiosk's holiday-file
	// format) served opaque at GET /api/v1/calendar; nil answers 404 and
	// kiosks keep the calendar they were built with. Publish the next
	// year's here when the State Council announces it.
	Calendar []byte
	// SecureCookies marks the session cookie Secure (set when serving TLS).
	SecureCookies bool
	// SessionTTL is how long a staff login lasts; default 8 hours.
	SessionTTL time.Duration
	// UploadIdleTimeout cuts a blob PATCH whose body makes no progress for
	// this long (default 30 s), so a half-open village link cannot hold the
	// blob's lock and block the kiosk's own resume.
	UploadIdleTimeout time.Duration
	// Fleet are the alert rules of the fleet page and metrics.
	Fleet FleetRules
	// NonceFile, when set, keeps the replay cache across a clean restart:
	// Close writes it, New reads it.
	NonceFile string
	// Shared, when set, keeps the replay cache and the login and lookup
	// limits in the database that several instances share (NonceFile is
	// then not needed).
	Shared Shared
	// Limits bound what one kiosk may do: lookups, unfinished uploads.
	Limits Limits
	// MetricsToken, when set, lets GET /metrics on this handler through
	// with "Authorization: Bearer TOKEN"; without it /metrics is served
	// only by MetricsHandler (platformd --metrics-addr). Its per-kiosk
	// series are not for anyone who can reach the kiosks' port.
	MetricsToken string
	// ECerts, when set, connects the e-certificate library (issue 13).
	ECerts *ECertConfig
}

// Server is the platform's HTTP handler.
type Server struct {
	cfg               Config
	catalog, calendar document
	nonces            *nonceCache
	tokens            *tokenCache
	metrics           *metrics
	mux               *http.ServeMux
	pages             *template.Template
	// dummyHash is compared against when a login names an unknown user, so
	// that takes as long as a wrong password.
	dummyHash string
	logins    *loginLimits
	limits    Limits
	// lookups counts every track request per kiosk, lookupFails those
	// answered "not found".
	lookups, lookupFails *loginLimiter
	// enrolFails counts refused enrolments per kiosk id and per address.
	enrolFails *loginLimiter
	// verifiers check signatures of key algorithms beyond Ed25519.
	verifiers map[string]api.KeyVerifier
	// sup is the supervision side (supervision.go), nil when the Store
	// keeps no supervision.
	sup *supervision
}

// New checks cfg and builds the routes.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Blobs == nil {
		return nil, errors.New("platform: Store and Blobs are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Logger = slog.New(NewMaskingHandler(cfg.Logger.Handler()))
	if cfg.CasePrefix == "" {
		cfg.CasePrefix = "DG"
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 8 * time.Hour
	}
	if cfg.UploadIdleTimeout <= 0 {
		cfg.UploadIdleTimeout = 30 * time.Second
	}
	pages, err := parsePages(parseOfficeCatalog(cfg.Catalog))
	if err != nil {
		return nil, err
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte(randomHex(16)), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("platform: %w", err)
	}
	s := &Server{cfg: cfg, nonces: newNonceCache(), tokens: newTokenCache(), metrics: newMetrics(), mux: http.NewServeMux(), pages: pages, dummyHash: string(dummy), logins: newLoginLimits()}
	s.limits = cfg.Limits.withDefaults()
	s.lookups = &loginLimiter{fails: map[string][]time.Time{}, maxFails: s.limits.LookupLimit, window: s.limits.LookupWindow}
	s.lookupFails = &loginLimiter{fails: map[string][]time.Time{}, maxFails: s.limits.LookupFailLimit, window: s.limits.LookupWindow}
	s.enrolFails = &loginLimiter{fails: map[string][]time.Time{}, maxFails: 5, window: 15 * time.Minute}
	s.verifiers = map[string]api.KeyVerifier{api.AlgSM2: verifySM2}
	if cfg.Shared != nil {
		s.nonces.shared = cfg.Shared
		s.logins.share(cfg.Shared)
		s.lookups.share(cfg.Shared, "lookup:")
		s.lookupFails.share(cfg.Shared, "lookup-fail:")
	}
	if cfg.NonceFile != "" {
		// A damaged file costs only the replay protection of the last
		// five minutes before the restart; it must not keep the
		// platform from starting.
		if err := s.nonces.load(cfg.NonceFile, cfg.Clock()); err != nil {
			cfg.Logger.Warn("replay cache not restored", "err", err)
			os.Remove(cfg.NonceFile)
		}
	}
	s.catalog = newDocument("catalog", cfg.Catalog)
	s.calendar = newDocument("calendar", cfg.Calendar)
	s.route("HEAD "+api.PathBlobs+"{sha}", "blobs", s.headBlob)
	s.route("PATCH "+api.PathBlobs+"{sha}", "blobs", s.patchBlob)
	s.route("POST "+api.PathSubmissions, "submissions", s.postSubmission)
	s.route("POST "+api.PathBatch, "batch", s.postBatch)
	s.route("GET "+api.PathCatalog, "catalog", s.getDocument(&s.catalog))
	s.route("GET "+api.PathCalendar, "calendar", s.getDocument(&s.calendar))
	s.route("GET "+api.PathStatuses, "statuses", s.getStatuses)
	s.route("GET "+api.PathTrack+"{receipt}", "track", s.getTrack)
	s.route("POST "+api.PathRatings, "ratings", s.postRating)
	s.route("POST "+api.PathHeartbeat, "heartbeat", s.postHeartbeat)
	s.route("POST "+api.PathEnrol, "enrol", s.postEnrol)
	s.helpRoutes()
	s.route(api.Base+"/", "unknown", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, api.ErrorResponse{Code: api.CodeNotFound, Message: "no such endpoint"})
	})
	s.route("GET /healthz", "healthz", s.healthz)
	s.route("GET /metrics", "metrics", func(w http.ResponseWriter, r *http.Request) {
		if !s.metricsAuthorized(r) {
			writeError(w, http.StatusNotFound, api.ErrorResponse{Code: api.CodeNotFound, Message: "metrics are served on the metrics address, or here with its bearer token"})
			return
		}
		s.serveMetrics(w, r)
	})
	s.officeRoutes()
	s.ecertRoutes()
	return s, nil
}

// Close saves the replay cache to Config.NonceFile, if set. Call it after
// the HTTP server has stopped taking requests.
func (s *Server) Close() error {
	if s.cfg.NonceFile == "" {
		return nil
	}
	return s.nonces.save(s.cfg.NonceFile, s.cfg.Clock())
}

func (s *Server) route(pattern, name string, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		// Until a handler says otherwise (an authenticated blob PATCH,
		// a body being read), a client has a few seconds to send its body:
		// unauthenticated requests cannot hold a connection open.
		_ = http.NewResponseController(w).SetReadDeadline(start.Add(DefaultBodyIdleTimeout))
		s.hsts(w, r)
		rec := &statusRecorder{ResponseWriter: w}
		h(rec, r)
		if rec.code == 0 {
			rec.code = http.StatusOK
		}
		s.metrics.observe(name, r.Method, rec.code, time.Since(start))
	})
}

// ServeHTTP serves the API, health, metrics and back office.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.serveUnrouted(w, r) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, code int, e api.ErrorResponse) { writeJSON(w, code, e) }

func writeStored(w http.ResponseWriter, r StoredResponse) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(r.Status)
	w.Write(r.Body)
}

func renderJSON(code int, v any) (StoredResponse, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return StoredResponse{}, fmt.Errorf("encoding response: %w", err)
	}
	return StoredResponse{Status: code, Body: append(b, '\n')}, nil
}

func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.cfg.Logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, api.ErrorResponse{Code: api.CodeInternal, Message: "internal error; retry later"})
}

// authenticate checks the signature headers. bodySHA is the hash of a body
// already read, or "" when the handler streams it and checks later. It
// writes the 401 itself and returns ok=false.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, bodySHA string, allowUnsigned bool) (api.Auth, bool) {
	fail := func(reason string, err error) (api.Auth, bool) {
		s.metrics.count("auth_failures", reason, 1)
		kiosk := r.Header.Get(api.HeaderKiosk)
		if len(kiosk) > 64 { // attacker-controlled: keep log lines short
			kiosk = kiosk[:64] + "…"
		}
		s.cfg.Logger.Warn("unauthorized request", "reason", reason, "kiosk", kiosk, "path", r.URL.Path)
		writeError(w, http.StatusUnauthorized, api.ErrorResponse{Code: api.CodeUnauthorized, Message: err.Error()})
		return api.Auth{}, false
	}
	a, err := api.ParseAuth(r)
	if err != nil {
		return fail("unsigned", err)
	}
	now := s.cfg.Clock()
	var packed string
	for fresh := false; ; fresh = true {
		packed, err = s.tokens.get(r.Context(), a.KioskID, now, fresh, s.credential)
		if errors.Is(err, ErrNotFound) {
			return fail("unknown_kiosk", api.ErrUnknownKiosk)
		}
		if err != nil {
			s.internal(w, r, err)
			return api.Auth{}, false
		}
		a, err = api.VerifyCredential(r, unpackCredential(packed), bodySHA, now, s.verifiers)
		// A bad signature against a cached credential is checked once
		// more against the store, in case it changed there (enrolment).
		if fresh || !errors.Is(err, api.ErrBadSignature) {
			break
		}
	}
	switch {
	case errors.Is(err, api.ErrBadSignature):
		return fail("bad_signature", err)
	case errors.Is(err, api.ErrClockSkew):
		return fail("clock_skew", err)
	case errors.Is(err, api.ErrBodyHash):
		return fail("body_hash", err)
	case err != nil:
		return fail("other", err)
	}
	if a.ContentSHA256 == api.UnsignedPayload && !allowUnsigned {
		return fail("unsigned_payload", errors.New("UNSIGNED-PAYLOAD is accepted on blob PATCH only"))
	}
	if err := s.nonces.use(a.KioskID, a.Nonce, now); err != nil {
		return fail("replay", err)
	}
	return a, true
}

// readBody reads a JSON body up to api.MaxRequestBytes: a larger declared
// Content-Length is refused before reading, and a body still for
// DefaultBodyIdleTimeout or slower than DefaultBodyTimeout in all gets 408.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	return readBodyMax(w, r, api.MaxRequestBytes)
}

func (s *Server) blobSHA(w http.ResponseWriter, r *http.Request) (string, bool) {
	sha := r.PathValue("sha")
	if !api.IsSHA256Hex(sha) {
		writeError(w, http.StatusBadRequest, api.ErrorResponse{Code: api.CodeBadRequest, Message: "blob address must be 64 lowercase hex digits"})
		return "", false
	}
	return sha, true
}

func (s *Server) headBlob(w http.ResponseWriter, r *http.Request) {
	a, ok := s.authenticate(w, r, api.EmptySHA256, false)
	if !ok {
		return
	}
	sha, ok := s.blobSHA(w, r)
	if !ok {
		return
	}
	// HEAD answers only for blobs this kiosk uploaded or named: it must
	// not tell any kiosk whether some page exists on the platform.
	known, err := s.cfg.Store.KioskKnowsBlob(r.Context(), a.KioskID, sha)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if !known {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNotFound)
		return
	}
	off, started, err := s.cfg.Blobs.Offset(r.Context(), sha)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if !started {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.Header().Set(api.HeaderUploadOffset, strconv.FormatInt(off, 10))
	if done, n, _ := s.cfg.Blobs.Complete(r.Context(), sha); done {
		w.Header().Set(api.HeaderUploadLength, strconv.FormatInt(n, 10))
	}
	w.WriteHeader(http.StatusOK)
}

func parseNonNeg(h string) (int64, bool) {
	n, err := strconv.ParseInt(h, 10, 64)
	return n, err == nil && n >= 0
}

func (s *Server) patchBlob(w http.ResponseWriter, r *http.Request) {
	a, ok := s.authenticate(w, r, "", true)
	if !ok {
		return
	}
	sha, ok := s.blobSHA(w, r)
	if !ok {
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != api.ContentTypeOffset {
		writeError(w, http.StatusUnsupportedMediaType, api.ErrorResponse{Code: api.CodeBadRequest, Message: "Content-Type must be " + api.ContentTypeOffset})
		return
	}
	offset, ok1 := parseNonNeg(r.Header.Get(api.HeaderUploadOffset))
	length, ok2 := parseNonNeg(r.Header.Get(api.HeaderUploadLength))
	if !ok1 || !ok2 || length == 0 {
		writeError(w, http.StatusBadRequest, api.ErrorResponse{Code: api.CodeBadRequest, Message: "Upload-Offset and a positive Upload-Length are required"})
		return
	}
	if length > api.MaxBlobSize {
		writeError(w, http.StatusRequestEntityTooLarge, api.ErrorResponse{Code: api.CodeTooLarge, Message: fmt.Sprintf("blobs are limited to %d bytes", api.MaxBlobSize)})
		return
	}
	if r.ContentLength > length-min(offset, length) {
		// Refused before a byte of the body is read.
		writeError(w, http.StatusRequestEntityTooLarge, api.ErrorResponse{Code: api.CodeTooLarge, Message: "Content-Length goes past Upload-Length"})
		return
	}
	now := s.cfg.Clock()
	msg, err := s.uploadQuota(r.Context(), a.KioskID, sha, length, now)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if msg != "" {
		s.cfg.Logger.Warn("blob upload refused: quota", "kiosk", a.KioskID, "sha256", sha)
		w.Header().Set("Retry-After", "3600")
		writeError(w, http.StatusTooManyRequests, api.ErrorResponse{Code: api.CodeQuota, Message: msg})
		return
	}
	if err := s.cfg.Store.NoteUpload(r.Context(), a.KioskID, sha, length, now); err != nil {
		s.internal(w, r, err)
		return
	}
	chunkSHA := a.ContentSHA256
	if chunkSHA == api.UnsignedPayload {
		chunkSHA = ""
	}
	// An append that is not refused for its offset starts where the store
	// was, so the offset the kiosk sent is what the store held before: no
	// extra round trip to the store (an object store's costs two) just to
	// count the bytes kept.
	before := offset
	body := &deadlineReader{r: r.Body, rc: http.NewResponseController(w), idle: s.cfg.UploadIdleTimeout}
	newOff, err := s.cfg.Blobs.Append(r.Context(), sha, offset, length, chunkSHA, body)
	if newOff > before && !errors.Is(err, ErrOffsetMismatch) {
		s.metrics.count("blob_bytes_received", "kept", uint64(newOff-before))
	}
	w.Header().Set(api.HeaderUploadOffset, strconv.FormatInt(newOff, 10))
	switch {
	case err == nil:
		if newOff == length && before < length {
			s.metrics.count("blobs_completed", "ok", 1)
		}
		if newOff == length {
			if err := s.cfg.Store.UploadDone(r.Context(), sha); err != nil {
				// Only the quota's bookkeeping: uploadQuota finds the
				// blob complete next time and marks it then.
				s.cfg.Logger.Warn("marking an upload done", "sha256", sha, "err", err)
			}
		}
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, ErrOffsetMismatch):
		writeError(w, http.StatusConflict, api.ErrorResponse{Code: api.CodeOffsetMismatch, Message: fmt.Sprintf("platform holds %d bytes; resume from there", newOff), Offset: &newOff})
	case errors.Is(err, ErrHashMismatch):
		// The upload is gone; it no longer counts against the quota.
		if err := s.cfg.Store.UploadDone(context.WithoutCancel(r.Context()), sha); err != nil {
			s.cfg.Logger.Warn("marking a discarded upload done", "sha256", sha, "err", err)
		}
		s.metrics.count("blobs_completed", "hash_mismatch", 1)
		s.cfg.Logger.Warn("blob discarded: hash mismatch", "kiosk", a.KioskID, "sha256", sha)
		writeError(w, http.StatusUnprocessableEntity, api.ErrorResponse{Code: api.CodeHashMismatch, Message: "the uploaded bytes do not hash to the blob's address; upload discarded, start again from 0"})
	case errors.Is(err, ErrChunkHash):
		s.metrics.count("auth_failures", "body_hash", 1)
		writeError(w, http.StatusUnauthorized, api.ErrorResponse{Code: api.CodeUnauthorized, Message: api.ErrBodyHash.Error()})
	case errors.Is(err, ErrBlobTooLong):
		writeError(w, http.StatusBadRequest, api.ErrorResponse{Code: api.CodeBadRequest, Message: err.Error()})
	case errors.Is(err, ErrBodyRead):
		// The link dropped mid-body; nobody may be listening.
		// A 408 is what a kiosk retries (a 400 reads as a permanent
		// rejection of the application).
		s.cfg.Logger.Info("blob upload interrupted", "kiosk", a.KioskID, "sha256", sha, "offset", newOff, "err", err)
		writeError(w, http.StatusRequestTimeout, api.ErrorResponse{Code: api.CodeTimeout, Message: "upload interrupted or stalled; HEAD for the offset and resume", Offset: &newOff})
	default:
		// The platform's own storage failed (disk full, I/O error): a
		// 5xx, so the kiosk keeps the blob and tries again later; a 4xx
		// would read as a verdict on the resident's application.
		s.internal(w, r, err)
	}
}

// idempotencyKey reads the header, accepting the structured-field string
// form ("...") of the IETF draft as well as the bare token.
func idempotencyKey(r *http.Request) string {
	k := strings.TrimSpace(r.Header.Get(api.HeaderIdempotencyKey))
	if len(k) >= 2 && k[0] == '"' && k[len(k)-1] == '"' {
		k = k[1 : len(k)-1]
	}
	return k
}

// idempotent handles the common head of POST /submissions and /ratings:
// authentication, key, and the replay of a stored answer. It returns the
// body, its hash and the key when the handler should go on.
func (s *Server) idempotent(w http.ResponseWriter, r *http.Request, endpoint string) (api.Auth, []byte, string, string, bool) {
	body, ok := readBody(w, r)
	if !ok {
		return api.Auth{}, nil, "", "", false
	}
	hash := api.BodySHA256(body)
	a, ok := s.authenticate(w, r, hash, false)
	if !ok {
		return a, nil, "", "", false
	}
	key := idempotencyKey(r)
	if !api.IsUUID(key) {
		writeError(w, http.StatusBadRequest, api.ErrorResponse{Code: api.CodeBadRequest, Message: "Idempotency-Key must be the lowercase UUID of the " + strings.TrimSuffix(endpoint, "s")})
		return a, nil, "", "", false
	}
	h, stored, err := s.cfg.Store.Idempotent(r.Context(), a.KioskID, key)
	switch {
	case errors.Is(err, ErrNotFound):
		return a, body, hash, key, true
	case err != nil:
		s.internal(w, r, err)
	case h != hash:
		s.conflict(w)
	default:
		s.metrics.count("idempotent_replays", endpoint, 1)
		writeStored(w, stored)
	}
	return a, nil, "", "", false
}

func (s *Server) conflict(w http.ResponseWriter) {
	writeError(w, http.StatusConflict, api.ErrorResponse{Code: api.CodeIdempotencyConflict, Message: "this Idempotency-Key was used with a different body"})
}

func validation(w http.ResponseWriter, err error) {
	writeError(w, http.StatusUnprocessableEntity, api.ErrorResponse{Code: api.CodeValidation, Message: err.Error()})
}

func (s *Server) postSubmission(w http.ResponseWriter, r *http.Request) {
	a, body, hash, key, ok := s.idempotent(w, r, "submissions")
	if !ok {
		return
	}
	s.intake(w, r, a, body, hash, key)
}

func (s *Server) postRating(w http.ResponseWriter, r *http.Request) {
	a, body, hash, key, ok := s.idempotent(w, r, "ratings")
	if !ok {
		return
	}
	var rt api.Rating
	if !decodeBody(w, body, &rt, "rating", false) {
		return
	}
	if err := rt.Validate(); err != nil {
		validation(w, err)
		return
	}
	if rt.UUID != key {
		validation(w, errors.New("uuid: must equal the Idempotency-Key"))
		return
	}
	if rt.Receipt == "" {
		validation(w, errors.New("receipt: is required"))
		return
	}
	exists, allowed, err := s.cfg.Store.MayRate(r.Context(), a.KioskID, rt.Receipt)
	switch {
	case err != nil:
		s.internal(w, r, err)
		return
	case !exists:
		// Not permanent: the submission may still be on its way.
		writeError(w, http.StatusNotFound, api.ErrorResponse{Code: api.CodeNotFound, Message: "no submission with this receipt number (yet)"})
		return
	case !allowed:
		validation(w, errors.New("receipt: not issued by this kiosk nor looked up at it"))
		return
	}
	resp, replay, err := s.cfg.Store.AddRating(r.Context(), RatingRecord{KioskID: a.KioskID, IdemKey: key, BodyHash: hash, Rating: rt, ReceivedAt: s.cfg.Clock()},
		func(rr api.RatingResponse) (StoredResponse, error) { return renderJSON(http.StatusCreated, rr) })
	switch {
	case errors.Is(err, ErrIdempotencyConflict), errors.Is(err, ErrExists):
		s.conflict(w)
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	if replay {
		s.metrics.count("idempotent_replays", "ratings", 1)
	}
	writeStored(w, resp)
}

func (s *Server) postHeartbeat(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	a, ok := s.authenticate(w, r, api.BodySHA256(body), false)
	if !ok {
		return
	}
	var hb api.Heartbeat
	if !decodeBody(w, body, &hb, "heartbeat", true) {
		return
	}
	if err := hb.Validate(); err != nil {
		validation(w, err)
		return
	}
	if hb.KioskID == "" {
		hb.KioskID = a.KioskID
	}
	if hb.KioskID != a.KioskID {
		validation(w, errors.New("kiosk_id: must be the signing kiosk"))
		return
	}
	now := s.cfg.Clock()
	if err := s.cfg.Store.RecordHeartbeat(r.Context(), hb, now); err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.HeartbeatResponse{ServerTime: now.UTC()})
}

// document is a JSON document served opaque with a strong ETag.
type document struct {
	name string
	body []byte // nil: not published, 404
	etag string
}

func newDocument(name string, body []byte) document {
	d := document{name: name, body: body}
	if body != nil {
		sum := sha256.Sum256(body)
		d.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
	}
	return d
}

// getDocument serves d to kiosks, answering 304 to an If-None-Match that
// names its ETag (a weak W/ form too: an intermediary may have weakened
// it, and the body is the same).
func (s *Server) getDocument(d *document) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, ok := s.authenticate(w, r, api.EmptySHA256, false); !ok {
			return
		}
		if d.body == nil {
			writeError(w, http.StatusNotFound, api.ErrorResponse{Code: api.CodeNotFound, Message: "this platform publishes no " + d.name})
			return
		}
		w.Header().Set("ETag", d.etag)
		w.Header().Set("Cache-Control", "no-cache")
		for _, tag := range strings.Split(r.Header.Get("If-None-Match"), ",") {
			if t := strings.TrimPrefix(strings.TrimSpace(tag), "W/"); t == d.etag || t == "*" {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(d.body)
	}
}

// statusesPage bounds one statuses answer; More tells the kiosk to ask again.
const statusesPage = 500

func (s *Server) getStatuses(w http.ResponseWriter, r *http.Request) {
	a, ok := s.authenticate(w, r, api.EmptySHA256, false)
	if !ok {
		return
	}
	var after int64
	if c := r.URL.Query().Get("since"); c != "" {
		n, ok := parseNonNeg(c)
		if !ok {
			writeError(w, http.StatusBadRequest, api.ErrorResponse{Code: api.CodeBadRequest, Message: "since must be a cursor returned by this endpoint"})
			return
		}
		after = n
	}
	ups, last, err := s.cfg.Store.Statuses(r.Context(), a.KioskID, after, statusesPage)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	// A full page may have more behind it; the kiosk asks again at once
	// (at worst one extra empty answer).
	resp := api.StatusesResponse{Updates: maskNotes(ups), Cursor: strconv.FormatInt(last, 10), More: len(ups) == statusesPage}
	if resp.Updates == nil {
		resp.Updates = []api.StatusUpdate{}
	}
	writeJSON(w, http.StatusOK, resp)
}

// getTrack answers a lookup only with proof that the resident asking owns
// the receipt (see proven); anything else, an unknown receipt included, is
// the same "not found", so a kiosk learns nothing about other residents.
// Lookups are limited per kiosk, unproven ones more tightly.
func (s *Server) getTrack(w http.ResponseWriter, r *http.Request) {
	a, ok := s.authenticate(w, r, api.EmptySHA256, false)
	if !ok {
		return
	}
	now := s.cfg.Clock()
	if s.lookups.blocked(now, a.KioskID) || s.lookupFails.blocked(now, a.KioskID) {
		s.metrics.count("auth_failures", "lookup_limited", 1)
		s.rateLimited(w, "too many lookups from this kiosk; try again later", s.limits.LookupWindow)
		return
	}
	s.lookups.fail(now, a.KioskID)
	d, err := s.cfg.Store.Track(r.Context(), r.PathValue("receipt"))
	if err != nil && !errors.Is(err, ErrNotFound) {
		s.internal(w, r, err)
		return
	}
	if err != nil || !proven(r, d) {
		s.lookupFails.fail(now, a.KioskID)
		writeError(w, http.StatusNotFound, api.ErrorResponse{Code: api.CodeNotFound, Message: "no submission with this receipt number and lookup code or card"})
		return
	}
	if err := s.cfg.Store.RecordLookup(r.Context(), a.KioskID, d.Receipt, now); err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.TrackResponse{
		Receipt: d.Receipt, CaseNumber: d.CaseNumber, ItemID: d.ItemID, ApplicantName: pii.MaskName(d.ApplicantName),
		Status: d.Status, ReceivedAt: d.ReceivedAt, History: maskNotes(d.History),
		CertificateUses: s.certificateUses(r.Context(), d.Request.Applicant.IDNumber),
		RatingReply:     s.ratingReply(r.Context(), d.Receipt),
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.cfg.Store.Ping(ctx); err != nil {
		s.cfg.Logger.Error("health check failed", "err", err)
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	// An instance that cannot reach the object store cannot take scans:
	// the load balancer must send kiosks elsewhere.
	if p, ok := s.cfg.Blobs.(pinger); ok {
		if err := p.Ping(ctx); err != nil {
			s.cfg.Logger.Error("health check failed", "err", err)
			http.Error(w, "blob store unavailable", http.StatusServiceUnavailable)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	by, err := s.cfg.Store.CountByStatus(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	ks, err := s.cfg.Store.Kiosks(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	now := s.cfg.Clock()
	s.metrics.serve(w, r, storeSnapshot{byStatus: by, fleet: Fleet(ks, now, s.cfg.Fleet), now: now})
}
