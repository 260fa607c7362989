package flow

import (
	"math"
	"time"
)

// tick advances the idle timer. Home with nothing entered never times out;
// while the outbox is storing a submission the timer is held, since
// wiping then would lose the receipt number.
func (m *Machine) tick(now time.Time) []Effect {
	s := &m.s
	if s.pristine && s.step == StepHome {
		s.lastActivity = now
		return nil
	}
	if s.step == StepSubmitting {
		s.lastActivity = now
		s.countdown = 0
		return nil
	}
	limit := m.opts.IdleTimeout
	if s.elder {
		limit = m.opts.ElderIdleTimeout
	}
	idle := now.Sub(s.lastActivity)
	if s.step == StepThanks {
		// The session was wiped when it ended; a card left behind does not
		// hold the screen for ever.
		if idle >= limit {
			s.step, s.pristine, s.lastActivity = StepHome, true, now
		}
		return nil
	}
	if idle >= limit {
		return m.end(EndTimeout)
	}
	left := limit - idle
	if left <= m.opts.Warning && s.step == StepHome && !m.hasPersonalData() {
		// Home with nothing entered (only the language or elder mode
		// chosen): no "your details will be cleared" warning, nothing
		// to clear; the session still ends quietly, resetting them.
		s.countdown = 0
		return nil
	}
	if left <= m.opts.Warning {
		was := s.countdown
		s.countdown = int(math.Ceil(left.Seconds()))
		if was == 0 {
			return []Effect{Beep{Kind: BeepWarn}}
		}
		return nil
	}
	s.countdown = 0
	return nil
}

// end wipes the session and returns to Home.
func (m *Machine) end(reason EndReason) []Effect {
	var refs []string
	for _, ms := range m.s.materials {
		for _, p := range ms.Pages {
			refs = append(refs, p.Ref)
		}
	}
	m.orphanOutstanding()
	var fx []Effect
	if len(refs) > 0 {
		fx = append(fx, DiscardScans{Refs: refs})
	}
	fx = append(fx, SessionEnded{Reason: reason})
	m.opts.Logger.Info("session ended", "reason", string(reason), "step", m.s.step.String())
	elder := m.s.elder
	m.s = m.fresh()
	if reason == EndDone && m.cardIn {
		// 请取走身份证和回执 until the reader reports the card gone, in
		// the type size the resident chose.
		m.s.step, m.s.pristine, m.s.elder = StepThanks, false, elder
	}
	return fx
}

// cardRemoved notes the card left the reader; on the thank-you screen it
// means the resident took it, and Home comes back.
func (m *Machine) cardRemoved() []Effect {
	m.cardIn = false
	if m.s.step == StepThanks {
		m.s = m.fresh()
	}
	return nil
}

// printerStatus records the printer's report.
func (m *Machine) printerStatus(e PrinterStatus) []Effect {
	m.printer = PrinterState{Known: true, Ready: e.Ready, PaperOut: e.PaperOut, CoverOpen: e.CoverOpen}
	return nil
}

// orphanOutstanding remembers the scans in flight for materials about to be
// dropped.
func (m *Machine) orphanOutstanding() {
	for _, ms := range m.s.materials {
		if ms.Scanning {
			m.orphans = append(m.orphans, ms.scanSeq)
		}
	}
	if m.s.lookup.Pending {
		m.lookupOrphans = append(m.lookupOrphans, m.s.lookupSeq)
		m.s.lookup.Pending = false
	}
}

func (m *Machine) hasPersonalData() bool {
	s := &m.s
	if s.identity != nil || s.agent != nil || s.receipt != nil || s.lookup.ReceiptNo != "" || s.lookup.MaskedID != "" || len(s.lookup.Results) > 0 {
		return true
	}
	for _, f := range s.fields {
		if f.Value != "" {
			return true
		}
	}
	for _, ms := range s.materials {
		if len(ms.Pages) > 0 {
			return true
		}
	}
	return false
}
