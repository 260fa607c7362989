package flow

import (
	"strings"

	"onedoor/pii"
	"onedoor/sync/api"
)

func (m *Machine) printDone() []Effect {
	s := &m.s
	if s.step == StepReceipt || s.step == StepRating {
		s.busy, s.printed, s.paperOut, s.canReprint = false, true, false, false
		if s.err.Key == "err.paper_out" || s.err.Key == "err.print_failed" {
			s.err = Message{}
		}
	}
	return nil
}

func (m *Machine) printFailed(e PrintFailed) []Effect {
	s := &m.s
	if s.step == StepReceipt || s.step == StepRating {
		s.busy, s.canReprint = false, true
		s.paperOut = e.PaperOut
		if e.PaperOut {
			s.err = Message{Key: "err.paper_out"}
		} else {
			s.err = Message{Key: "err.print_failed"}
		}
		return []Effect{Beep{Kind: BeepError}}
	}
	return nil
}

func (m *Machine) reprint() []Effect {
	s := &m.s
	if (s.step == StepReceipt || s.step == StepRating) && s.receipt != nil && !s.busy {
		s.busy, s.err = true, Message{}
		return []Effect{PrintReceipt{Receipt: *s.receipt}}
	}
	return nil
}

func (m *Machine) buildReceipt(e SubmitDone) Receipt {
	s := &m.s
	it := s.item
	at := e.AcceptedAt
	if at.IsZero() {
		at = m.opts.Now()
	}
	r := Receipt{
		Number:     e.ReceiptNo,
		QR:         m.opts.ReceiptQR(e.ReceiptNo),
		ItemName:   it.Name,
		ItemNameEN: it.NameEN,
		ItemCode:   it.Codes.Task,
		Agency:     it.Agency.Name,
		MaskedName: pii.MaskName(m.applicant().Name),
		MaskedID:   pii.MaskID(m.applicant().IDNumber),
		AcceptedAt: at,
		Instant:    it.CaseKind == "instant",
	}
	if e.LookupCode != "" {
		r.LookupCode = api.FormatLookupCode(e.LookupCode)
	}
	if len(it.Places) > 0 {
		r.Place, r.Hours = it.Places[0].Address+" "+it.Places[0].Window, it.Places[0].Hours
		r.Place = strings.TrimSpace(r.Place)
	}
	if len(it.Consult) > 0 {
		r.Consult = it.Consult[0].Value
	}
	for _, ms := range s.materials {
		if ms.Satisfied() {
			rm := ReceiptMaterial{Name: ms.Material.Name, NameEN: ms.Material.NameEN, How: ms.How, Pages: len(ms.Pages)}
			if ms.How == ProvidedPromise {
				rm.Promise, rm.PromiseEN = ms.Material.PromiseText, ms.Material.PromiseTextEN
			}
			if ms.How == ProvidedECert {
				rm.CertMasked, rm.CertAgency = ms.Cert.NumberMasked, ms.Cert.Agency
			}
			r.Materials = append(r.Materials, rm)
		}
	}
	if s.agent != nil {
		r.AgentMaskedName, r.AgentMaskedID = pii.MaskName(s.agent.Name), pii.MaskID(s.agent.IDNumber)
	}
	if m.opts.Calendar != nil {
		// Counted from the day of acceptance where the kiosk is: a
		// submission accepted at 03:00 Beijing time (19:00 UTC the day
		// before) counts from that day, not the day before.
		due, err := m.opts.Calendar.DueDate(at.In(m.opts.Location), it.TimeLimit.Promised)
		if err == nil {
			r.PromisedDate = due
		} else {
			m.opts.Logger.Warn("no promised date on receipt", "item", it.ID, "err", err)
		}
	}
	return r
}
