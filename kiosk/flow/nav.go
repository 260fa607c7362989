package flow

import (
	"slices"
	"time"
)

func (m *Machine) cancel() []Effect {
	s := &m.s
	if s.step == StepSubmitting {
		// The outbox is committing; the answer will come as an event.
		return nil
	}
	if m.hasPersonalData() {
		s.confirm = ConfirmCancel
		return nil
	}
	return m.end(EndCancel)
}

func (m *Machine) back() []Effect {
	s := &m.s
	s.err = Message{}
	switch s.step {
	case StepCatalog:
		s.step, s.theme, s.query = StepHome, "", ""
	case StepGuide:
		s.step, s.item = s.guideFrom, nil
	case StepIdentify:
		if s.agentMode {
			// Back from 代办 is back to applying for oneself.
			s.agentMode, s.agent = false, nil
			return nil
		}
		s.step = StepGuide
	case StepEligibility:
		// Nothing was typed yet: straight back to Identify.
		return m.discardApplicant()
	case StepThanks:
		s.step = StepHome
	case StepForm:
		if len(s.rules) > 0 && !allMet(s.rules) {
			s.step = StepEligibility // the conditions the resident confirmed
			return nil
		}
		if m.hasPersonalData() {
			s.confirm = ConfirmDiscard
			return nil
		}
		return m.discardApplicant()
	case StepMaterials:
		s.step = StepForm
	case StepReview:
		s.step = StepMaterials
	case StepRating:
		s.step = StepReceipt
	case StepLookup:
		if s.lookup.Pending {
			return nil
		}
		s.lookup = LookupState{}
		s.step = StepHome
	}
	return nil
}

// discardApplicant drops the applicant and everything entered for them and
// returns to Identify.
func (m *Machine) discardApplicant() []Effect {
	s := &m.s
	var refs []string
	for _, ms := range s.materials {
		for _, p := range ms.Pages {
			refs = append(refs, p.Ref)
		}
	}
	m.orphanOutstanding()
	s.identity, s.fields, s.materials, s.consent = nil, nil, nil, false
	s.agent, s.agentMode, s.rules, s.noticeSeen = nil, false, nil, false
	s.consentAt = time.Time{}
	s.step = StepIdentify
	if len(refs) > 0 {
		return []Effect{DiscardScans{Refs: refs}}
	}
	return nil
}

func (m *Machine) next() []Effect {
	s := &m.s
	switch s.step {
	case StepGuide:
		if !canApply(s.item) {
			s.err = Message{Key: "err.not_at_kiosk"}
			return []Effect{Beep{Kind: BeepError}}
		}
		s.step, s.err = StepIdentify, Message{}
		if s.identity != nil {
			// Coming forward again after Back: keep what was entered.
			s.step = StepForm
		}
	case StepIdentify:
		if s.identity == nil {
			s.err = Message{Key: "err.identify_first"}
			return []Effect{Beep{Kind: BeepError}}
		}
		s.step = StepForm
	case StepEligibility:
		return m.leaveEligibility()
	case StepForm:
		if !m.validateFields() {
			s.err = Message{Key: "err.form_incomplete"}
			return []Effect{Beep{Kind: BeepError}}
		}
		s.err = Message{}
		s.step = StepMaterials
	case StepMaterials:
		if missing := m.missingMaterials(); len(missing) > 0 {
			for i := range s.materials {
				if slices.Contains(missing, s.materials[i].Material.ID) {
					s.materials[i].Error = Message{Key: "err.material_missing"}
				}
			}
			s.err = Message{Key: "err.materials_incomplete", Args: []any{len(missing)}}
			return []Effect{Beep{Kind: BeepError}}
		}
		for i := range s.materials {
			if s.materials[i].Scanning {
				s.err = Message{Key: "err.scan_in_progress"}
				return nil
			}
		}
		s.err = Message{}
		s.step = StepReview
	case StepReview:
		return m.submit()
	case StepReceipt:
		s.err = Message{}
		s.step = StepRating
	}
	return nil
}
