package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"onedoor/drivers/idcard"
	"onedoor/drivers/printer"
	"onedoor/drivers/scanner"
	"onedoor/kiosk/catalog"
	"onedoor/kiosk/flow"
	"onedoor/sync/api"
	"onedoor/sync/client"
	"onedoor/sync/outbox"
)

// ErrMissingPage is returned by Submission when a scanned page the flow
// names is no longer held: the resident must scan it again, nothing is sent
// half complete.
var ErrMissingPage = errors.New("app: scanned page missing")

// FlowIdentity turns what the card reader decoded into the flow's applicant.
// The card's YYYYMMDD dates are parsed here, once, into flow.Date (长期
// becomes LongTerm); sex and nation keep their printed words.
func FlowIdentity(id idcard.Identity) flow.Identity {
	birth, _ := flow.ParseDate(id.BirthDate)
	from, _ := flow.ParseDate(id.ValidFrom)
	fi := flow.Identity{
		Name:      id.Name,
		Gender:    id.Sex,
		Nation:    id.Nation,
		Birth:     birth,
		Address:   id.Address,
		IDNumber:  id.IDNumber,
		Authority: id.Authority,
		ValidFrom: from,
		LongTerm:  id.ValidTo == idcard.LongTerm,
		FromCard:  true,
	}
	if !fi.LongTerm {
		fi.ValidTo, _ = flow.ParseDate(id.ValidTo)
	}
	return fi
}

// CardEvent turns a card reader event into the flow's: the driver decided
// expiry (ErrExpired) and validity, the flow only hears the verdict.
func CardEvent(ev idcard.Event) flow.Event {
	switch ev.Kind {
	case idcard.IdentityRead:
		if ev.Identity == nil {
			return flow.CardRead{Problem: flow.CardUnreadable}
		}
		cr := flow.CardRead{Identity: FlowIdentity(*ev.Identity)}
		if errors.Is(ev.Err, idcard.ErrExpired) {
			cr.Problem = flow.CardExpired
		}
		return cr
	case idcard.ReadFailed:
		// An unreadable or invalid card: the flow shows its message.
		if errors.Is(ev.Err, idcard.ErrInvalidID) {
			return flow.CardRead{Problem: flow.CardUnsupported}
		}
		return flow.CardRead{Problem: flow.CardUnreadable}
	case idcard.CardRemoved:
		return flow.CardRemoved{}
	}
	return nil
}

// Submission turns the flow's application into the outbox's, taking the
// scanned pages from pages (by the refs the flow holds).
func Submission(a flow.Application, pages map[string]scanner.Page) (outbox.NewSubmission, error) {
	form := make(map[string]string, len(a.Fields))
	phone := ""
	for _, f := range a.Fields {
		form[f.Name] = f.Value
		if f.Name == "phone" {
			phone = f.Value
		}
	}
	sub := outbox.NewSubmission{
		ItemID:      a.ItemID,
		ItemVersion: strconv.Itoa(a.ItemVersion),
		Applicant: outbox.Applicant{
			Name:      a.Applicant.Name,
			IDNumber:  a.Applicant.IDNumber,
			Phone:     phone,
			Gender:    a.Applicant.Gender,
			Ethnicity: a.Applicant.Nation,
			BirthDate: a.Applicant.Birth.Compact(),
			Address:   a.Applicant.Address,
		},
		Form: form,
	}
	if ag := a.Agent; ag != nil {
		sub.Agent = &outbox.Applicant{Name: ag.Name, IDNumber: ag.IDNumber, Gender: ag.Gender,
			Ethnicity: ag.Nation, BirthDate: ag.Birth.Compact(), Address: ag.Address}
	}
	for _, m := range a.Materials {
		om := outbox.Material{MaterialID: m.MaterialID}
		switch m.How {
		case flow.ProvidedScan:
			om.Kind = api.KindScan
			for _, ref := range m.PageRefs {
				p, ok := pages[ref]
				if !ok {
					return outbox.NewSubmission{}, fmt.Errorf("%w: material %s", ErrMissingPage, m.MaterialID)
				}
				om.Pages = append(om.Pages, outbox.Page{Data: p.JPEG, ContentType: "image/jpeg"})
			}
		case flow.ProvidedECert:
			om.Kind = api.KindECert
			om.CertNumber = m.CertNumber
		case flow.ProvidedPromise:
			om.Kind = api.KindPromise
			om.PromiseText = m.PromiseText
		case flow.ProvidedShared:
			// Verified by data sharing between departments: nothing travels.
			continue
		default:
			continue
		}
		sub.Materials = append(sub.Materials, om)
	}
	return sub, nil
}

// PrinterReceipt turns the flow's receipt into the printer's layout input.
// The flow's receipt holds only masked personal data; the printer masks
// again, which leaves masked text as it is. english prints it for a
// resident who used the kiosk in English: English labels and names, the
// Chinese item name beside the English one for the window staff. Times are
// printed in loc, the kiosk's zone (China Standard Time when nil).
func PrinterReceipt(r flow.Receipt, site string, english bool, loc *time.Location) printer.Receipt {
	if loc == nil {
		loc = flow.ChinaStandardTime
	}
	pr := printer.Receipt{
		Number:        r.Number,
		Item:          r.ItemName,
		ApplicantName: r.MaskedName,
		IDNumber:      r.MaskedID,
		AgentName:     r.AgentMaskedName,
		AgentIDNumber: r.AgentMaskedID,
		TrackingURL:   r.QR,
		Site:          site,
		Time:          r.AcceptedAt.In(loc),
		English:       english,
	}
	if !english {
		pr.Title = "受理回执"
	}
	if !r.PromisedDate.IsZero() {
		pr.Promised = r.PromisedDate.In(loc)
	}
	if english && r.ItemNameEN != "" {
		pr.Item = r.ItemNameEN + " (" + r.ItemName + ")"
	}
	if r.Place != "" {
		pr.Site = r.Place
	}
	pr.LookupCode = r.LookupCode
	for _, m := range r.Materials {
		name, promise := m.Name, m.Promise
		if english {
			if m.NameEN != "" {
				name = m.NameEN
			}
			if m.PromiseEN != "" {
				promise = m.PromiseEN
			}
		}
		line := name
		switch m.How {
		case flow.ProvidedScan:
			line += pick(english, fmt.Sprintf("（扫描 %d 页）", m.Pages), fmt.Sprintf(" (scanned, %d pages)", m.Pages))
		case flow.ProvidedECert:
			line += pick(english, "（电子证照）", " (e-certificate)")
			if m.CertMasked != "" {
				// Which certificate: issuer and masked number (issue 13).
				line += " " + m.CertMasked
				if m.CertAgency != "" {
					line += " " + m.CertAgency
				}
			}
		case flow.ProvidedPromise:
			line += pick(english, "（告知承诺）", " (written promise)")
			pr.Promises = append(pr.Promises, printer.Promise{Material: name, Text: promise})
		case flow.ProvidedShared:
			line += pick(english, "（共享核验）", " (checked with the issuing office)")
		}
		pr.Materials = append(pr.Materials, line)
	}
	return pr
}

func pick(english bool, zh, en string) string {
	if english {
		return en
	}
	return zh
}

// LocalStatus maps the outbox's view of a submission to a flow status: what
// the platform said last, or where the submission is on its way there.
func LocalStatus(r outbox.Record) flow.Status {
	if r.PlatformStatus != "" {
		return PlatformStatus(r.PlatformStatus)
	}
	if !r.SentAt.IsZero() {
		return flow.StatusSent
	}
	return flow.StatusReceived
}

// PlatformStatus maps a platform status (sync/api) to the flow's.
func PlatformStatus(s string) flow.Status {
	switch s {
	case api.StatusReceived:
		return flow.StatusSent
	case api.StatusAccepted:
		return flow.StatusAccepted
	case api.StatusReturned:
		return flow.StatusNeedMore
	case api.StatusApproved:
		return flow.StatusApproved
	case api.StatusRejected:
		return flow.StatusRejected
	}
	return flow.Status(s)
}

// Lookup answers a progress lookup: the local store always, the platform's
// live status on top when online (any kiosk's receipt can be tracked there).
// offline is true when the answer is from the local store only.
func Lookup(ctx context.Context, store Store, tracker Tracker, online bool, cat *catalog.Catalog, q flow.LookupProgress) (res []flow.LookupResult, offline bool, err error) {
	var recs []outbox.Record
	switch {
	case q.ReceiptNo != "":
		rec, err := store.Lookup(ctx, q.ReceiptNo)
		switch {
		case err == nil:
			recs = append(recs, rec)
		case errors.Is(err, outbox.ErrNotFound):
		default:
			return nil, false, fmt.Errorf("local lookup: %w", err)
		}
	case q.IDNumber != "":
		recs, err = store.LookupByID(ctx, q.IDNumber)
		if err != nil {
			return nil, false, fmt.Errorf("local lookup: %w", err)
		}
	}
	name := func(itemID string) string {
		if it, ok := cat.Item(itemID); ok {
			return it.Name
		}
		return itemID
	}
	byNo := map[string]int{}
	for _, r := range recs {
		byNo[r.Receipt] = len(res)
		at := r.StatusAt
		if at.IsZero() {
			at = r.CreatedAt
		}
		lr := flow.LookupResult{ReceiptNo: r.Receipt, ItemID: r.ItemID, ItemName: name(r.ItemID), Status: LocalStatus(r), UpdatedAt: at}
		if r.State == outbox.StateRejected && strings.Contains(r.LastError, api.CodeECertInvalid) {
			// The platform refused an e-certificate the application named:
			// the resident applies again and scans that material (issue 13).
			lr.Status, lr.NoteKey = flow.StatusRejected, "lookup.ecert_invalid"
		}
		res = append(res, lr)
	}
	if tracker == nil || !online {
		return res, true, nil
	}
	receipts := []string{q.ReceiptNo}
	if q.ReceiptNo == "" {
		receipts = receipts[:0]
		for _, r := range recs {
			receipts = append(receipts, r.Receipt)
		}
	}
	offline = false
	for _, no := range receipts {
		// The platform answers only with proof the receipt is the
		// resident's: the code they typed with its number, or the card
		// they placed (bound to each receipt by api.HolderProof).
		tr, err := tracker.TrackProven(ctx, no, client.TrackProof{LookupCode: q.LookupCode, IDNumber: q.IDNumber})
		if err != nil {
			// Not known there yet (still queued here) is no link problem;
			// anything else means the answer is local only.
			var ae *client.APIError
			if !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
				offline = true
			}
			continue
		}
		lr := flow.LookupResult{ReceiptNo: tr.Receipt, ItemID: tr.ItemID, ItemName: name(tr.ItemID), Status: PlatformStatus(tr.Status), UpdatedAt: tr.ReceivedAt}
		if n := len(tr.History); n > 0 {
			h := append([]api.StatusUpdate(nil), tr.History...)
			sort.SliceStable(h, func(i, j int) bool { return h[i].At.Before(h[j].At) })
			last := h[n-1]
			lr.Status, lr.Note, lr.UpdatedAt = PlatformStatus(last.Status), last.Note, last.At
		}
		for _, u := range tr.CertificateUses {
			lr.CertUses = append(lr.CertUses, flow.CertUse{At: u.At, Action: u.Action, KioskID: u.KioskID, ItemID: u.ItemID, TypeName: u.TypeName, NumberMasked: u.NumberMasked})
		}
		if i, ok := byNo[tr.Receipt]; ok {
			res[i] = lr
		} else {
			byNo[tr.Receipt] = len(res)
			res = append(res, lr)
		}
	}
	return res, offline, nil
}
