package flow

import (
	"slices"
)

func (m *Machine) material(id string) *MaterialState {
	for i := range m.s.materials {
		if m.s.materials[i].Material.ID == id {
			return &m.s.materials[i]
		}
	}
	return nil
}

// missingMaterials lists the required materials not yet provided.
func (m *Machine) missingMaterials() []string {
	var out []string
	for _, ms := range m.s.materials {
		if ms.Material.IsRequired() && !ms.Satisfied() {
			out = append(out, ms.Material.ID)
		}
	}
	return out
}

func (m *Machine) scan(e Scan) []Effect {
	s := &m.s
	if s.step != StepMaterials {
		return nil
	}
	ms := m.material(e.MaterialID)
	if ms == nil {
		s.err = Message{Key: "err.unknown_material"}
		return nil
	}
	if ms.Scanning {
		return nil
	}
	page := len(ms.Pages)
	if e.Retake {
		if e.Page < 0 || e.Page >= len(ms.Pages) {
			ms.Error = Message{Key: "err.no_such_page"}
			return nil
		}
		page = e.Page
	} else if len(ms.Pages) >= ms.Material.PageLimit() {
		ms.Error = Message{Key: "err.too_many_pages", Args: []any{ms.Material.PageLimit()}}
		return []Effect{Beep{Kind: BeepError}}
	}
	ms.How = ProvidedScan
	ms.Scanning = true
	m.scanSeq++
	ms.scanPage, ms.retake, ms.scanSeq = page, e.Retake, m.scanSeq
	ms.Error = Message{}
	s.err = Message{}
	return []Effect{ScanPage{MaterialID: ms.Material.ID, Page: page, Seq: m.scanSeq}}
}

func (m *Machine) scanDone(e ScanDone) []Effect {
	s := &m.s
	discard := []Effect{DiscardScans{Refs: []string{e.Ref}}}
	if m.orphans.take(e.Seq) || s.step != StepMaterials {
		return discard
	}
	ms := m.material(e.MaterialID)
	// A result that does not answer the outstanding ScanPage (late, or for
	// another page) must not slip into the application.
	if ms == nil || !ms.Scanning || e.Page != ms.scanPage || e.Page > len(ms.Pages) || (e.Seq != 0 && e.Seq != ms.scanSeq) {
		return discard
	}
	ms.Scanning = false
	if e.BlankScore >= m.opts.BlankThreshold {
		ms.Error = Message{Key: "err.page_blank"}
		return append(discard, Beep{Kind: BeepError})
	}
	if e.BlurScore >= m.opts.BlurThreshold {
		ms.Error = Message{Key: "err.page_blurred"}
		return append(discard, Beep{Kind: BeepError})
	}
	p := Page{Ref: e.Ref, BlankScore: e.BlankScore, BlurScore: e.BlurScore}
	ms.Error = Message{}
	if ms.retake && e.Page < len(ms.Pages) {
		old := ms.Pages[e.Page].Ref
		ms.Pages[e.Page] = p
		return []Effect{DiscardScans{Refs: []string{old}}, Beep{Kind: BeepOK}}
	}
	ms.Pages = append(ms.Pages, p)
	if s.err.Key == "err.materials_incomplete" && len(m.missingMaterials()) == 0 {
		s.err = Message{}
	}
	return []Effect{Beep{Kind: BeepOK}}
}

func (m *Machine) scanFailed(e ScanFailed) []Effect {
	if m.orphans.take(e.Seq) || m.s.step != StepMaterials {
		return nil
	}
	ms := m.material(e.MaterialID)
	if ms == nil || !ms.Scanning || (e.Seq != 0 && e.Seq != ms.scanSeq) {
		return nil
	}
	ms.Scanning = false
	if e.NoPaper {
		ms.Error = Message{Key: "err.scan_no_paper"}
	} else {
		ms.Error = Message{Key: "err.scan_failed"}
	}
	return []Effect{Beep{Kind: BeepError}}
}

func (m *Machine) removePage(e RemovePage) []Effect {
	if m.s.step != StepMaterials {
		return nil
	}
	ms := m.material(e.MaterialID)
	if ms == nil || ms.Scanning || e.Page < 0 || e.Page >= len(ms.Pages) {
		return nil
	}
	ref := ms.Pages[e.Page].Ref
	ms.Pages = slices.Delete(ms.Pages, e.Page, e.Page+1)
	return []Effect{DiscardScans{Refs: []string{ref}}}
}

func (m *Machine) choose(id string, how Provision) []Effect {
	s := &m.s
	if s.step != StepMaterials {
		return nil
	}
	ms := m.material(id)
	if ms == nil {
		s.err = Message{Key: "err.unknown_material"}
		return nil
	}
	if ms.Scanning {
		return nil
	}
	switch how {
	case ProvidedECert:
		if !ms.Material.ECertAllowed() {
			ms.Error = Message{Key: "err.ecert_not_allowed"}
			return []Effect{Beep{Kind: BeepError}}
		}
		if m.offer(id) == nil {
			ms.Error = m.ecertRefusal()
			return []Effect{Beep{Kind: BeepError}}
		}
	case ProvidedPromise:
		if !ms.Material.PromiseAllowed {
			ms.Error = Message{Key: "err.promise_not_allowed"}
			return []Effect{Beep{Kind: BeepError}}
		}
	}
	var fx []Effect
	if how != ProvidedScan && len(ms.Pages) > 0 {
		// Pages scanned before choosing another way are not needed any more.
		refs := make([]string, len(ms.Pages))
		for i, p := range ms.Pages {
			refs[i] = p.Ref
		}
		ms.Pages = nil
		fx = append(fx, DiscardScans{Refs: refs})
	}
	ms.How, ms.PromiseAccepted, ms.Cert = how, false, nil
	if how == ProvidedECert {
		o := *m.offer(id)
		ms.Cert = &o
	}
	ms.Error = Message{}
	if s.err.Key == "err.materials_incomplete" && len(m.missingMaterials()) == 0 {
		s.err = Message{}
	}
	return fx
}

// acceptPromise accepts the promise text of a material provided by
// promise: shown in full, accepted explicitly, stored with the submission.
func (m *Machine) acceptPromise(id string) []Effect {
	s := &m.s
	if s.step != StepMaterials {
		return nil
	}
	ms := m.material(id)
	if ms == nil || ms.How != ProvidedPromise {
		return nil
	}
	ms.PromiseAccepted, ms.Error = true, Message{}
	if s.err.Key == "err.materials_incomplete" && len(m.missingMaterials()) == 0 {
		s.err = Message{}
	}
	return nil
}
