package platform

import (
	"context"
	_ "embed"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"onedoor/sync/api"
)

// HelpRecord is a resident's call for staff from a kiosk (issue 17): where
// and when, never who.
type HelpRecord struct {
	// Seq is the store's number for the call, the handle staff
	// acknowledge it by.
	Seq        int64
	ID         string // the kiosk's UUID for the press of the button
	KioskID    string
	Site       string
	Screen     string
	At         time.Time // the kiosk's clock
	ReceivedAt time.Time // the platform's clock
	AckedBy    string
	AckedAt    time.Time
}

// HelpStore keeps calls for staff. It is declared here, where the help
// endpoint and the fleet page use it, apart from Store, so a store that
// lacks it still serves everything else (the endpoint then answers 501);
// sqlitestore implements it, storetest.RunHelp checks an implementation.
type HelpStore interface {
	// AddHelp records a call. The same (kiosk, ID) again is the same call:
	// the first record comes back with replay true.
	AddHelp(ctx context.Context, rec HelpRecord) (HelpRecord, bool, error)
	// OpenHelp lists the calls no one has acknowledged, oldest first.
	OpenHelp(ctx context.Context) ([]HelpRecord, error)
	// AckHelp marks call seq acknowledged by user; ErrNotFound when there
	// is no such open call (already acknowledged by someone else).
	AckHelp(ctx context.Context, seq int64, user string, at time.Time) error
}

// helpScreens names the kiosk's steps as staff read them.
var helpScreens = map[string]string{
	"home": "首页", "catalog": "选择事项", "guide": "办事指南", "identify": "身份确认",
	"eligibility": "受理条件", "form": "填写信息", "materials": "提交材料", "review": "核对提交",
	"submitting": "正在提交", "receipt": "受理回执", "rating": "服务评价", "lookup": "办件查询", "thanks": "办理完成",
}

func helpScreen(name string) string {
	if s, ok := helpScreens[name]; ok {
		return s
	}
	return name
}

//go:embed templates/help.js
var helpJS []byte

// helpRoutes serves the kiosks' help calls and the fleet page's live list.
func (s *Server) helpRoutes() {
	s.route("POST "+api.PathHelp, "help", s.postHelp)
	s.route("GET /office/help", "office", s.staff(s.openHelp))
	s.route("POST /office/help/{seq}/ack", "office", s.staff(s.ackHelp))
	s.route("GET /office/help.js", "office", func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w)
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(helpJS)
	})
}

// helpStoreOf finds the HelpStore behind st. Help calls hold no personal
// data, so they bypass the sealing wrapper to the store beneath.
func helpStoreOf(st Store) (HelpStore, bool) {
	for {
		if hs, ok := st.(HelpStore); ok {
			return hs, true
		}
		ss, ok := st.(*sealedStore)
		if !ok {
			return nil, false
		}
		st = ss.Store
	}
}

func (s *Server) helpStore(w http.ResponseWriter) (HelpStore, bool) {
	hs, ok := helpStoreOf(s.cfg.Store)
	if !ok {
		writeError(w, http.StatusNotImplemented, api.ErrorResponse{Code: api.CodeNotFound, Message: "this platform's store keeps no help calls"})
	}
	return hs, ok
}

// postHelp takes a call for staff from a kiosk: signed, validated, kept
// until a member of staff acknowledges it on the fleet page.
func (s *Server) postHelp(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	a, ok := s.authenticate(w, r, api.BodySHA256(body), false)
	if !ok {
		return
	}
	var h api.HelpRequest
	if !decodeBody(w, body, &h, "help request", true) {
		return
	}
	if h.KioskID == "" {
		h.KioskID = a.KioskID
	}
	if err := h.Validate(); err != nil {
		validation(w, err)
		return
	}
	if h.KioskID != a.KioskID {
		validation(w, errors.New("kiosk_id: must be the signing kiosk"))
		return
	}
	hs, ok := s.helpStore(w)
	if !ok {
		return
	}
	rec, replay, err := hs.AddHelp(r.Context(), HelpRecord{ID: h.ID, KioskID: h.KioskID, Site: h.Site, Screen: h.Screen, At: h.At.UTC(), ReceivedAt: s.cfg.Clock().UTC()})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	code := http.StatusCreated
	if replay {
		code = http.StatusOK
	} else {
		s.cfg.Logger.Info("help requested", "kiosk", rec.KioskID, "screen", rec.Screen, "seq", rec.Seq)
	}
	writeJSON(w, code, api.HelpResponse{ID: rec.ID, ReceivedAt: rec.ReceivedAt})
}

// helpCall is one open call as the fleet page's script reads it.
type helpCall struct {
	Seq         int64  `json:"seq"`
	Kiosk       string `json:"kiosk"`
	Site        string `json:"site"`
	Screen      string `json:"screen"`
	ScreenLabel string `json:"screen_label"`
	At          string `json:"at"`      // when pressed, platform zone, HH:MM:SS
	Waiting     int64  `json:"waiting"` // seconds since the platform received it
}

// openHelp lists the open calls for the fleet page, which asks twice a
// second.
func (s *Server) openHelp(w http.ResponseWriter, r *http.Request, se Session) {
	hs, ok := s.helpStore(w)
	if !ok {
		return
	}
	recs, err := s.visibleHelp(r.Context(), hs, se)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	now := s.cfg.Clock()
	out := make([]helpCall, 0, len(recs))
	for _, h := range recs {
		out = append(out, helpCall{Seq: h.Seq, Kiosk: h.KioskID, Site: h.Site, Screen: h.Screen, ScreenLabel: helpScreen(h.Screen),
			At: h.ReceivedAt.In(chinaTime).Format("15:04:05"), Waiting: int64(max(0, now.Sub(h.ReceivedAt)).Seconds())})
	}
	securityHeaders(w)
	writeJSON(w, http.StatusOK, out)
}

// visibleHelp is the open calls se may see: a town's staff see their
// town's kiosks' calls, the city's accounts every call.
func (s *Server) visibleHelp(ctx context.Context, hs HelpStore, se Session) ([]HelpRecord, error) {
	recs, err := hs.OpenHelp(ctx)
	if err != nil || s.sup == nil {
		return recs, err
	}
	a, err := s.sup.account(ctx, se.User)
	if err != nil || a.Town == "" {
		return recs, err
	}
	towns, err := s.sup.store.KioskTowns(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(recs, func(h HelpRecord) bool { return towns[h.KioskID] != a.Town }), nil
}

// chinaTime is the zone staff read times in.
var chinaTime = time.FixedZone("CST", 8*3600)

// ackHelp: a member of staff is on the way. The call leaves every open
// fleet page within half a second; a second acknowledgement of the same call
// (two staff at once) is refused with 404 so the second knows.
func (s *Server) ackHelp(w http.ResponseWriter, r *http.Request, se Session) {
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil || seq <= 0 {
		securityHeaders(w)
		http.Error(w, "bad call number", http.StatusBadRequest)
		return
	}
	hs, ok := s.helpStore(w)
	if !ok {
		return
	}
	// A town's staff answer their town's calls: one they cannot see is
	// answered as one already gone, so nobody else's call disappears from
	// the page of the staff who should go.
	recs, err := s.visibleHelp(r.Context(), hs, se)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if !slices.ContainsFunc(recs, func(h HelpRecord) bool { return h.Seq == seq }) {
		securityHeaders(w)
		http.Error(w, "this call was already answered", http.StatusNotFound)
		return
	}
	switch err := hs.AckHelp(r.Context(), seq, se.User, s.cfg.Clock().UTC()); {
	case errors.Is(err, ErrNotFound):
		securityHeaders(w)
		http.Error(w, "this call was already answered", http.StatusNotFound)
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	s.cfg.Logger.Info("help acknowledged", "seq", seq, "user", se.User)
	if r.Header.Get("X-Requested-With") == "fetch" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, "/office/kiosks", http.StatusSeeOther)
}
