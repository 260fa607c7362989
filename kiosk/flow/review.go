package flow

func (m *Machine) setConsent(agreed bool) []Effect {
	s := &m.s
	if s.step == StepReview {
		if agreed && !s.noticeSeen {
			s.err = Message{Key: "err.read_notice_first"}
			return []Effect{Beep{Kind: BeepError}}
		}
		s.consent = agreed
		if agreed {
			s.consentAt = m.opts.Now()
			s.err = Message{}
		}
	}
	return nil
}

// submit checks everything once more: the review screen is the last gate
// before data leaves the session.
func (m *Machine) submit() []Effect {
	s := &m.s
	if s.step != StepReview || s.busy {
		return nil
	}
	if !s.consent {
		s.err = Message{Key: "err.consent_required"}
		return []Effect{Beep{Kind: BeepError}}
	}
	if !m.validateFields() {
		s.step = StepForm
		s.err = Message{Key: "err.form_incomplete"}
		return []Effect{Beep{Kind: BeepError}}
	}
	if len(m.missingMaterials()) > 0 {
		s.step = StepMaterials
		s.err = Message{Key: "err.materials_incomplete", Args: []any{len(m.missingMaterials())}}
		return []Effect{Beep{Kind: BeepError}}
	}
	app := Application{
		ItemID:      s.item.ID,
		ItemCode:    s.item.Codes.Task,
		ItemVersion: s.item.Version,
		ItemName:    s.item.Name,
		Applicant:   m.applicant(),
		Agent:       s.agent,
		ConsentAt:   s.consentAt,
		StartedAt:   s.startedAt,
	}
	for _, f := range s.fields {
		app.Fields = append(app.Fields, FieldValue{Name: f.Field.Name, Value: f.Value})
	}
	for _, ms := range s.materials {
		if !ms.Satisfied() {
			continue // optional material left out
		}
		sub := MaterialSubmission{MaterialID: ms.Material.ID, Name: ms.Material.Name, How: ms.How}
		if ms.How == ProvidedPromise {
			sub.PromiseText = ms.Material.PromiseText
		}
		if ms.How == ProvidedECert {
			sub.CertNumber = ms.Cert.Number
		}
		for _, p := range ms.Pages {
			sub.PageRefs = append(sub.PageRefs, p.Ref)
		}
		app.Materials = append(app.Materials, sub)
	}
	s.step, s.busy, s.err = StepSubmitting, true, Message{}
	return []Effect{SubmitApplication{Application: app}}
}

func (m *Machine) submitDone(e SubmitDone) []Effect {
	s := &m.s
	if s.step != StepSubmitting {
		return nil
	}
	r := m.buildReceipt(e)
	s.receipt = &r
	s.step, s.busy = StepReceipt, true
	// The timer was held while the outbox worked; the resident gets the
	// full time to read the receipt.
	s.lastActivity, s.countdown = m.opts.Now(), 0
	s.err = Message{}
	m.opts.Logger.Info("application stored", "item", s.item.ID)
	return []Effect{Beep{Kind: BeepOK}, PrintReceipt{Receipt: r}}
}

func (m *Machine) submitFailed(e SubmitFailed) []Effect {
	s := &m.s
	if s.step != StepSubmitting {
		return nil
	}
	s.step, s.busy = StepReview, false
	if e.DiskFull {
		s.err = Message{Key: "err.submit_disk_full"}
	} else {
		s.err = Message{Key: "err.submit_failed"}
	}
	return []Effect{Beep{Kind: BeepError}}
}

// noticeShown records that the whole personal-information notice has been
// on screen: only then may the resident consent to it.
func (m *Machine) noticeShown() []Effect {
	if m.s.step == StepReview {
		m.s.noticeSeen = true
		if m.s.err.Key == "err.read_notice_first" {
			m.s.err = Message{}
		}
	}
	return nil
}
