package flow

import (
	"slices"
	"strings"

	"onedoor/pii"
	"onedoor/sync/api"
)

func (m *Machine) lookupDone(e LookupDone) []Effect {
	s := &m.s
	if m.lookupOrphans.take(e.Seq) {
		return nil
	}
	if s.step == StepLookup && s.lookup.Pending && (e.Seq == 0 || e.Seq == s.lookupSeq) {
		s.lookup.Pending, s.busy = false, false
		s.lookup.Done, s.lookup.Offline = true, e.Offline
		s.lookup.Results = slices.Clone(e.Results)
		for i := range s.lookup.Results {
			m.nameLookupResult(&s.lookup.Results[i])
		}
		if len(e.Results) == 0 {
			s.err = Message{Key: "err.lookup_none"}
		}
	}
	return nil
}

func (m *Machine) lookupFailed(e LookupFailed) []Effect {
	s := &m.s
	if m.lookupOrphans.take(e.Seq) {
		return nil
	}
	if s.step == StepLookup && s.lookup.Pending && (e.Seq == 0 || e.Seq == s.lookupSeq) {
		s.lookup.Pending, s.busy = false, false
		s.err = Message{Key: "err.lookup_failed"}
	}
	return nil
}

// lookupByCard starts the progress lookup for the card's ID number, or
// says why the card cannot be used.
func (m *Machine) lookupByCard(id Identity) []Effect {
	s := &m.s
	num, err := ValidateIDNumber(id.IDNumber, m.opts.Now())
	if err != nil {
		s.err = Message{Key: "err.card_not_supported"}
		if strings.TrimSpace(id.IDNumber) == "" {
			s.err = Message{Key: "err.card_unreadable"}
		}
		return []Effect{Beep{Kind: BeepError}}
	}
	s.lookup = LookupState{MaskedID: pii.MaskID(num), Pending: true}
	s.busy, s.err = true, Message{}
	return []Effect{Beep{Kind: BeepOK}, LookupProgress{IDNumber: num, Seq: m.nextLookup()}}
}

// nameLookupResult completes a lookup result's item names from the
// catalog, so an English-mode resident reads the item's English name. The
// records and the platform name items by ID, but a result may carry only
// the Chinese name, which identifies the item as well.
func (m *Machine) nameLookupResult(r *LookupResult) {
	if m.cat == nil || r.ItemNameEN != "" {
		return
	}
	it, ok := m.cat.Item(r.ItemID)
	if !ok && r.ItemName != "" {
		for i := range m.cat.Items {
			if m.cat.Items[i].Name == r.ItemName {
				it, ok = &m.cat.Items[i], true
				break
			}
		}
	}
	if !ok {
		return
	}
	if r.ItemName == "" {
		r.ItemName = it.Name
	}
	r.ItemNameEN = it.NameEN
}

// enterReceiptNo starts the lookup of a typed receipt number; the lookup
// code printed on the receipt must come with it.
func (m *Machine) enterReceiptNo(no, code string) []Effect {
	s := &m.s
	if s.step != StepLookup || s.lookup.Pending {
		return nil
	}
	no = strings.ToUpper(strings.TrimSpace(no))
	if !plausibleReceiptNo(no) {
		s.err = Message{Key: "err.receipt_no_invalid"}
		return []Effect{Beep{Kind: BeepError}}
	}
	code = api.NormalizeLookupCode(code)
	if !api.IsLookupCode(code) {
		s.err = Message{Key: "err.lookup_code_invalid"}
		return []Effect{Beep{Kind: BeepError}}
	}
	s.lookup = LookupState{ReceiptNo: no, Pending: true}
	s.busy, s.err = true, Message{}
	return []Effect{LookupProgress{ReceiptNo: no, LookupCode: code, Seq: m.nextLookup()}}
}

// nextLookup numbers a LookupProgress effect.
func (m *Machine) nextLookup() uint64 {
	m.lookupSeq++
	m.s.lookupSeq = m.lookupSeq
	return m.lookupSeq
}

// plausibleReceiptNo accepts the local {kiosk}-{yyyymmdd}-{seq} numbers and
// platform numbers: 6 to 64 letters, digits and hyphens.
func plausibleReceiptNo(s string) bool {
	if len(s) < 6 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}
