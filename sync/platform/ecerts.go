package platform

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"sync"
	"time"

	"onedoor/sync/api"
	"onedoor/sync/platform/ecert"
)

// ECertConfig connects the platform to an e-certificate library (issue
// 13). Library answers queries and verifies; Issuer, when set, issues the
// certificate an approved item yields; Log keeps the access log and the
// reusable materials.
type ECertConfig struct {
	Library ecert.Library
	Issuer  ecert.Issuer
	Log     ECertStore
	// AgencyKey returns the trusted key a certificate was sealed with,
	// for exports; nil leaves the export without it.
	AgencyKey func(ecert.Certificate) (ecert.AgencyKey, bool)

	once sync.Once
	cat  ecertCatalog
}

// ecertCatalog is what e-certificates need of the service catalog: which
// material an e-certificate type stands for, which materials may be
// reused for how long, and what each item's approval yields.
type ecertCatalog struct {
	items map[string]ecertItem
}

type ecertItem struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Agency struct {
		Name string `json:"name"`
		USCC string `json:"uscc"`
	} `json:"agency"`
	Materials []struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		ELicence *struct {
			TypeCode *string `json:"type_code"`
		} `json:"e_licence"`
		ReusableDays int `json:"reusable_days"`
	} `json:"materials"`
	Yields *ItemYield `json:"yields"`
}

// ItemYield is the catalog's "yields" of an item: the certificate its
// approval issues, sealed by the item's agency. Fields copies form values
// into the certificate: certificate field name -> form field name
// (applicant_name for the applicant's name).
type ItemYield struct {
	TypeCode  string            `json:"type_code"`
	TypeName  string            `json:"type_name"`
	ValidDays int               `json:"valid_days"`
	Fields    map[string]string `json:"fields"`
	Order     []string          `json:"field_order"`
}

func (c *ECertConfig) catalog(raw []byte) ecertCatalog {
	c.once.Do(func() {
		c.cat.items = map[string]ecertItem{}
		var doc struct {
			Items []ecertItem `json:"items"`
		}
		if json.Unmarshal(raw, &doc) == nil {
			for _, it := range doc.Items {
				c.cat.items[it.ID] = it
			}
		}
	})
	return c.cat
}

func (s *Server) ecertRoutes() {
	if s.cfg.ECerts == nil {
		return
	}
	s.route("POST "+api.PathECertQuery, "ecerts", s.postECertQuery)
	s.route("GET /office/submissions/{uuid}/ecerts/{number}/image", "office", s.staff(s.serveECertImage))
}

func (s *Server) ecerts() *ECertConfig { return s.cfg.ECerts }

// postECertQuery answers which of an item's materials the resident holds:
// valid e-certificates (verified now) and reusable earlier materials. Only
// with the proof of the card read at this kiosk in this session; each
// certificate shown is logged.
func (s *Server) postECertQuery(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	a, ok := s.authenticate(w, r, api.BodySHA256(body), false)
	if !ok {
		return
	}
	now := s.cfg.Clock()
	if s.lookups.blocked(now, a.KioskID) {
		s.rateLimited(w, "too many lookups from this kiosk; try again later", s.limits.LookupWindow)
		return
	}
	s.lookups.fail(now, a.KioskID)
	var q api.ECertQueryRequest
	if !decodeBody(w, body, &q, "e-certificate query", true) {
		return
	}
	if err := q.Validate(); err != nil {
		validation(w, err)
		return
	}
	proof := r.Header.Get(api.HeaderHolderProof)
	want := api.ECertHolderProof(q.IDNumber, a.KioskID, q.Session, q.CardReadAt)
	age := now.Sub(q.CardReadAt)
	if proof == "" || subtle.ConstantTimeCompare([]byte(proof), []byte(want)) != 1 || age > api.ECertCardMaxAge || age < -api.MaxSkew {
		s.cfg.Logger.Warn("e-certificate query refused: no card read in this session", "kiosk", a.KioskID, "item", q.ItemID)
		writeError(w, http.StatusForbidden, api.ErrorResponse{Code: api.CodeHolderProof, Message: "the resident's card must be read at this kiosk in this session"})
		return
	}
	ec := s.ecerts()
	it, ok := ec.catalog(s.catalog.body).items[q.ItemID]
	if !ok {
		writeError(w, http.StatusNotFound, api.ErrorResponse{Code: api.CodeNotFound, Message: "no such item in the platform's catalog"})
		return
	}
	certs, err := ec.Library.Query(r.Context(), q.IDNumber)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	holder := ec.Library.HolderHash(q.IDNumber)
	resp := api.ECertQueryResponse{Offers: []api.ECertOffer{}}
	for _, m := range it.Materials {
		if m.ELicence == nil || m.ELicence.TypeCode == nil {
			continue
		}
		for _, c := range certs { // newest first: offer the newest valid one
			if c.TypeCode != *m.ELicence.TypeCode || c.Holder.IDHash != holder {
				continue
			}
			if err := ec.Library.Verify(r.Context(), c, now); err != nil {
				continue
			}
			o := api.ECertOffer{MaterialID: m.ID, Kind: api.OfferECert, Number: c.Number, NumberMasked: ecert.MaskNumber(c.Number),
				TypeCode: c.TypeCode, TypeName: c.TypeName, Agency: c.Agency.Name, IssuedOn: c.IssuedOn, ValidUntil: c.ValidUntil}
			for _, f := range c.Fields {
				o.Fields = append(o.Fields, api.ECertField{Name: f.Name, Value: f.Value})
			}
			resp.Offers = append(resp.Offers, o)
			if err := ec.Log.LogAccess(r.Context(), ecert.Access{At: now, HolderHash: holder, KioskID: a.KioskID, ItemID: q.ItemID,
				Number: c.Number, TypeName: c.TypeName, Action: ecert.ActionQuery}); err != nil {
				s.internal(w, r, err)
				return
			}
			break
		}
	}
	reuse, err := ec.Log.Reusables(r.Context(), holder, now)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	for _, m := range it.Materials {
		if m.ReusableDays <= 0 || offered(resp.Offers, m.ID) {
			continue
		}
		for _, ru := range reuse {
			if ru.MaterialID == m.ID && len(ru.Pages) > 0 && now.Sub(ru.AcceptedAt) <= time.Duration(m.ReusableDays)*24*time.Hour {
				resp.Offers = append(resp.Offers, api.ECertOffer{MaterialID: m.ID, Kind: api.OfferReuse, Receipt: ru.Receipt, AcceptedAt: ru.AcceptedAt, Pages: ru.Pages})
				break
			}
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

func offered(offers []api.ECertOffer, material string) bool {
	for _, o := range offers {
		if o.MaterialID == material {
			return true
		}
	}
	return false
}

// checkECerts verifies every e-certificate a submission names, at intake:
// it must exist, be the applicant's, carry a trusted intact seal and be
// valid today. It writes the 422 itself and returns false otherwise.
func (s *Server) checkECerts(w http.ResponseWriter, r *http.Request, req *api.SubmissionRequest) bool {
	for i, m := range req.Materials {
		if m.Kind != api.KindECert || m.CertNumber == "" {
			continue
		}
		refuse := func(reason string) bool {
			s.metrics.count("ecert_refused", ecert.Reason(errors.New(reason)), 1)
			s.cfg.Logger.Warn("submission refused: e-certificate", "kiosk", req.KioskID, "receipt", req.Receipt, "material", m.MaterialID, "reason", reason)
			writeError(w, http.StatusUnprocessableEntity, api.ErrorResponse{Code: api.CodeECertInvalid,
				Message: fmt.Sprintf("materials[%d] (%s): e-certificate %s %s; scan the material instead", i, m.MaterialID, ecert.MaskNumber(m.CertNumber), reason)})
			return false
		}
		ec := s.ecerts()
		if ec == nil {
			return refuse("cannot be checked: this platform has no e-certificate library")
		}
		c, err := ec.Library.Fetch(r.Context(), m.CertNumber)
		if errors.Is(err, ecert.ErrNotFound) {
			return refuse("not found")
		}
		if err != nil {
			s.internal(w, r, err)
			return false
		}
		if c.Holder.IDHash != ec.Library.HolderHash(req.Applicant.IDNumber) {
			return refuse("is not the applicant's")
		}
		if err := ec.Library.Verify(r.Context(), c, s.cfg.Clock()); err != nil {
			return refuse("failed verification: " + ecert.Reason(err))
		}
	}
	return true
}

// logECertUses records one "use" line per e-certificate a newly stored
// submission names (a replay logs nothing again).
func (s *Server) logECertUses(ctx context.Context, kioskID string, req *api.SubmissionRequest) {
	ec := s.ecerts()
	if ec == nil {
		return
	}
	for _, m := range req.Materials {
		if m.Kind != api.KindECert || m.CertNumber == "" {
			continue
		}
		c, err := ec.Library.Fetch(ctx, m.CertNumber)
		if err != nil {
			s.cfg.Logger.Error("e-certificate access log", "err", err)
			continue
		}
		if err := ec.Log.LogAccess(ctx, ecert.Access{At: s.cfg.Clock(), HolderHash: c.Holder.IDHash, KioskID: kioskID, ItemID: req.ItemID,
			Receipt: req.Receipt, Number: c.Number, TypeName: c.TypeName, Action: ecert.ActionUse}); err != nil {
			s.cfg.Logger.Error("e-certificate access log", "err", err)
		}
	}
}

// certificateUses is "who used my certificates" for the applicant of a
// case looked up with proof.
func (s *Server) certificateUses(ctx context.Context, idNumber string) []api.CertificateUse {
	ec := s.ecerts()
	if ec == nil || idNumber == "" {
		return nil
	}
	acc, err := ec.Log.Accesses(ctx, ec.Library.HolderHash(idNumber), 50)
	if err != nil {
		s.cfg.Logger.Error("e-certificate access log", "err", err)
		return nil
	}
	var out []api.CertificateUse
	for _, a := range acc {
		out = append(out, api.CertificateUse{At: a.At, Action: a.Action, KioskID: a.KioskID, ItemID: a.ItemID, TypeName: a.TypeName, NumberMasked: ecert.MaskNumber(a.Number)})
	}
	return out
}

// afterDecision runs what a decision sets off: an approved item that
// yields a certificate gets it issued (sealed by the item's agency), and
// an accepted or approved case's reusable materials are kept for their
// holder. Failures are logged: the decision itself stands.
func (s *Server) afterDecision(ctx context.Context, u api.StatusUpdate) {
	ec := s.ecerts()
	if ec == nil || (u.Status != api.StatusApproved && u.Status != api.StatusAccepted) {
		return
	}
	d, err := s.cfg.Store.Get(ctx, u.UUID)
	if err != nil {
		s.cfg.Logger.Error("after decision", "case", u.CaseNumber, "err", err)
		return
	}
	it, ok := ec.catalog(s.catalog.body).items[d.ItemID]
	if !ok {
		return
	}
	holder := ec.Library.HolderHash(d.Request.Applicant.IDNumber)
	for _, m := range it.Materials {
		if m.ReusableDays <= 0 {
			continue
		}
		for _, mr := range d.Request.Materials {
			if mr.MaterialID != m.ID || mr.Kind != api.KindScan || len(mr.Pages) == 0 {
				continue
			}
			if err := ec.Log.PutReusable(ctx, ecert.Reusable{HolderHash: holder, ItemID: d.ItemID, MaterialID: m.ID, MaterialName: m.Name,
				Receipt: d.Receipt, CaseNumber: d.CaseNumber, Pages: mr.Pages, AcceptedAt: u.At, Until: u.At.AddDate(0, 0, m.ReusableDays)}); err != nil {
				s.cfg.Logger.Error("reusable material", "case", u.CaseNumber, "err", err)
			}
		}
	}
	if u.Status != api.StatusApproved || it.Yields == nil || ec.Issuer == nil {
		return
	}
	y := it.Yields
	var fields []ecert.Field
	names := y.Order
	if len(names) == 0 {
		for k := range y.Fields {
			names = append(names, k)
		}
	}
	for _, name := range names {
		src := y.Fields[name]
		v := d.Request.Form[src]
		if src == "applicant_name" {
			v = d.Request.Applicant.Name
		}
		fields = append(fields, ecert.Field{Name: name, Value: v})
	}
	c, err := ec.Issuer.Issue(ctx, ecert.Draft{TypeCode: y.TypeCode, TypeName: y.TypeName, IDNumber: d.Request.Applicant.IDNumber, Name: d.Request.Applicant.Name,
		Agency: ecert.Agency{Code: it.Agency.USCC, Name: it.Agency.Name}, Number: "EC-" + d.CaseNumber, IssuedOn: u.At, ValidDays: y.ValidDays, Fields: fields})
	if err != nil {
		s.cfg.Logger.Error("issuing the certificate of an approval", "case", u.CaseNumber, "item", d.ItemID, "err", err)
		return
	}
	s.metrics.count("ecerts_issued", y.TypeCode, 1)
	s.cfg.Logger.Info("certificate issued", "case", u.CaseNumber, "type", y.TypeName, "number", c.Number)
	if err := ec.Log.LogAccess(ctx, ecert.Access{At: u.At, HolderHash: holder, ItemID: d.ItemID, Receipt: d.Receipt, Number: c.Number, TypeName: c.TypeName, Action: ecert.ActionIssue}); err != nil {
		s.cfg.Logger.Error("e-certificate access log", "err", err)
	}
}

// ecertView is one referenced certificate as the back office shows it,
// verified when the page is drawn.
type ecertView struct {
	MaterialID, Number string
	Found              bool
	Cert               ecert.Certificate
	Verified           bool
	Reason             string
	ImageURL           template.URL
}

// ecertViews fetches and re-verifies every certificate a case names.
func (s *Server) ecertViews(ctx context.Context, d Detail) map[string]ecertView {
	out := map[string]ecertView{}
	ec := s.ecerts()
	for _, m := range d.Request.Materials {
		if m.Kind != api.KindECert || m.CertNumber == "" {
			continue
		}
		v := ecertView{MaterialID: m.MaterialID, Number: m.CertNumber}
		if ec == nil {
			v.Reason = "本平台未接入电子证照库"
			out[m.MaterialID] = v
			continue
		}
		c, err := ec.Library.Fetch(ctx, m.CertNumber)
		switch {
		case errors.Is(err, ecert.ErrNotFound):
			v.Reason = "证照库中没有此证照"
		case err != nil:
			v.Reason = "证照库暂不可用"
			s.cfg.Logger.Error("e-certificate for the back office", "err", err)
		default:
			v.Found, v.Cert = true, c
			v.ImageURL = template.URL("/office/submissions/" + d.UUID + "/ecerts/" + c.Number + "/image")
			if err := ec.Library.Verify(ctx, c, s.cfg.Clock()); err != nil {
				v.Reason = reasonZH(err)
			} else {
				v.Verified = true
			}
		}
		out[m.MaterialID] = v
	}
	return out
}

func reasonZH(err error) string {
	switch ecert.Reason(err) {
	case "unknown agency key":
		return "签章机关密钥未配置（未知机关）"
	case "seal mismatch":
		return "签章与证照内容不符（证照被改动或签章损坏）"
	case "expired":
		return "证照已过有效期"
	case "not yet valid":
		return "证照尚未生效"
	case "malformed":
		return "证照格式错误"
	}
	return "无法核验"
}

// serveECertImage serves a certificate's image to staff, only for a
// certificate the case names.
func (s *Server) serveECertImage(w http.ResponseWriter, r *http.Request, se Session) {
	securityHeaders(w)
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
	number := r.PathValue("number")
	named := false
	for _, m := range d.Request.Materials {
		named = named || (m.Kind == api.KindECert && m.CertNumber == number)
	}
	ec := s.ecerts()
	if !named || ec == nil {
		http.Error(w, "no such certificate in this submission", http.StatusNotFound)
		return
	}
	c, err := ec.Library.Fetch(r.Context(), number)
	if err != nil {
		http.Error(w, "no such certificate", http.StatusNotFound)
		return
	}
	mt, ok := inlineType(c.Image.ContentType)
	if !ok {
		mt = "application/octet-stream"
	}
	w.Header().Set("Content-Type", mt)
	w.Header().Set("Content-Disposition", "inline")
	w.Write(c.Image.Data)
}

// maskedCertNumber is for templates.
func maskedCertNumber(n string) string { return ecert.MaskNumber(n) }
