package flow

import (
	"strings"

	"onedoor/kiosk/catalog"
)

// cardRead handles a card on the reader. In Identify it is the only way to
// name the applicant (人证合一): the chip data the reader's SAM module
// authenticated. On the 代办 path it names the agent, whose principal is
// typed next. On Home and in Lookup it looks up the holder's applications.
func (m *Machine) cardRead(e CardRead) []Effect {
	s := &m.s
	m.cardIn = true
	id := e.Identity
	switch s.step {
	case StepIdentify:
		if s.agentMode && s.agent != nil {
			return nil // the agent's card is already read; the principal is typed
		}
		if msg := m.checkCard(e); !msg.IsZero() {
			s.err = msg
			return []Effect{Beep{Kind: BeepError}}
		}
		id.FromCard = true
		if s.agentMode {
			s.agent, s.err = &id, Message{}
			return []Effect{Beep{Kind: BeepOK}}
		}
		m.identify(id)
		return append([]Effect{Beep{Kind: BeepOK}}, m.queryECerts()...)
	case StepHome:
		// On Home a card can only mean "what became of my applications?":
		// it opens the progress lookup by ID card, as choosing 办件查询 and
		// then placing the card would. Back (or the idle timeout) returns
		// Home and drops the lookup, as after any lookup.
		s.step = StepLookup
		s.lookup = LookupState{}
		s.err = Message{}
		return m.lookupByCard(id)
	case StepLookup:
		if s.lookup.Pending {
			return nil
		}
		return m.lookupByCard(id)
	}
	// A card placed elsewhere is ignored: it must not replace the applicant
	// halfway through an application.
	return nil
}

// checkCard decides whether a card read can identify an applicant. What the
// reader found wrong it says in e.Problem (expiry is decided there, once,
// by the driver's ErrExpired). A card with no number was misread; one whose
// number is not an 18-character resident number (e.g. a 2017 foreigner's
// permanent residence card) is a document the kiosk cannot handle. Each of
// these sends the resident to the window: there is no typed fallback for
// an application. A card without a Chinese name is accepted: the resident
// types the name into the form.
func (m *Machine) checkCard(e CardRead) Message {
	switch e.Problem {
	case CardExpired:
		return Message{Key: "err.card_expired"}
	case CardUnsupported:
		return Message{Key: "err.card_not_supported"}
	case CardUnreadable:
		return Message{Key: "err.card_unreadable"}
	}
	if strings.TrimSpace(e.Identity.IDNumber) == "" {
		return Message{Key: "err.card_unreadable"}
	}
	if _, err := ValidateIDNumber(e.Identity.IDNumber, m.opts.Now()); err != nil {
		return Message{Key: "err.card_not_supported"}
	}
	return Message{}
}

// enterIDNumber refuses a typed number in Identify: a typed number proves
// nothing about who stands at the kiosk, so it may look up progress but
// never start an application.
func (m *Machine) enterIDNumber(string) []Effect {
	if m.s.step != StepIdentify {
		return nil
	}
	m.s.err = Message{Key: "err.card_required"}
	return []Effect{Beep{Kind: BeepError}}
}

// setAgentMode switches Identify between applying for oneself and 代办,
// where the item allows it.
func (m *Machine) setAgentMode(on bool) []Effect {
	s := &m.s
	if s.step != StepIdentify {
		return nil
	}
	if on && (s.item == nil || !s.item.AgentAllowed) {
		s.err = Message{Key: "err.agent_not_allowed"}
		return []Effect{Beep{Kind: BeepError}}
	}
	s.agentMode, s.agent, s.err = on, nil, Message{}
	return nil
}

// enterPrincipal names the person a card-verified agent applies for: the
// name and ID number the agent types (checked with the check character).
func (m *Machine) enterPrincipal(e EnterPrincipal) []Effect {
	s := &m.s
	if s.step != StepIdentify || !s.agentMode {
		return nil
	}
	if s.agent == nil {
		s.err = Message{Key: "err.agent_card_first"}
		return []Effect{Beep{Kind: BeepError}}
	}
	name := strings.TrimSpace(e.Name)
	if name == "" {
		s.err = Message{Key: "err.principal_name"}
		return []Effect{Beep{Kind: BeepError}}
	}
	num, err := ValidateIDNumber(e.IDNumber, m.opts.Now())
	if err != nil {
		s.err = Message{Key: "err.id_invalid"}
		return []Effect{Beep{Kind: BeepError}}
	}
	if num == s.agent.IDNumber {
		s.err = Message{Key: "err.principal_is_agent"}
		return []Effect{Beep{Kind: BeepError}}
	}
	birth, _ := ParseDate(num[6:14]) // checked by ValidateIDNumber
	m.identify(Identity{Name: name, IDNumber: num, Birth: birth, Gender: genderFromID(num)})
	return []Effect{Beep{Kind: BeepOK}}
}

// identify records the applicant, builds the item's form pre-filled from
// the identity and its materials list, checks the item's eligibility rules
// and moves on: to Eligibility when a rule fails or needs the resident's
// confirmation, else to Form.
func (m *Machine) identify(id Identity) {
	s := &m.s
	s.identity = &id
	s.startedAt = m.opts.Now()
	s.err = Message{}
	// E-certificates answer for one holder: a new applicant starts with
	// none (an answer to the earlier query is dropped by its Seq).
	s.ecert, s.ecertSeq = ECertLookup{}, 0
	s.fields = make([]FieldState, len(s.item.Form))
	for i, f := range s.item.Form {
		fs := FieldState{Field: f}
		if v := prefillValue(f, id); v != "" {
			fs.Value = v
			// Card data is authoritative: changing it means reading
			// another card. What an agent typed stays editable.
			fs.Locked = id.FromCard
		}
		s.fields[i] = fs
	}
	s.materials = make([]MaterialState, len(s.item.Materials))
	for i, mat := range s.item.Materials {
		ms := MaterialState{Material: mat, How: ProvidedScan}
		if mat.SharedVerification {
			ms.How = ProvidedShared
		}
		s.materials[i] = ms
	}
	s.rules = m.evaluate(s.item, id)
	s.step = StepForm
	if len(s.rules) > 0 && !allMet(s.rules) {
		s.step = StepEligibility
	}
}

func prefillValue(f catalog.Field, id Identity) string {
	var v string
	switch f.Prefill {
	case catalog.PrefillName:
		v = id.Name
	case catalog.PrefillIDNumber:
		v = id.IDNumber
	case catalog.PrefillGender:
		v = id.Gender
	case catalog.PrefillBirth:
		v = id.Birth.String()
	case catalog.PrefillCardAddress:
		v = id.Address
	case catalog.PrefillNation:
		v = id.Nation
	}
	if f.Kind == catalog.KindSelect && v != "" {
		for _, o := range f.Options {
			if o.Value == v || o.Label == v {
				return o.Value
			}
		}
		return ""
	}
	return v
}

// applicant is the identity completed from the form: a card without a
// Chinese name leaves the name to the form, and on the 代办 path what the
// agent typed (and may correct in the form) is the principal's data.
func (m *Machine) applicant() Identity {
	id := *m.s.identity
	for _, f := range m.s.fields {
		v := strings.TrimSpace(f.Value)
		if v == "" {
			continue
		}
		switch f.Field.Prefill {
		case catalog.PrefillName:
			if id.Name == "" || !id.FromCard {
				id.Name = v
			}
		case catalog.PrefillIDNumber:
			if !id.FromCard {
				if n, err := ValidateIDNumber(v, m.opts.Now()); err == nil {
					id.IDNumber = n
				}
			}
		case catalog.PrefillCardAddress:
			if id.Address == "" {
				id.Address = v
			}
		case catalog.PrefillNation:
			if id.Nation == "" {
				id.Nation = v
			}
		case catalog.PrefillGender:
			if id.Gender == "" {
				id.Gender = v
			}
		case catalog.PrefillBirth:
			if d, err := ParseDate(v); err == nil && (id.Birth.IsZero() || !id.FromCard) {
				id.Birth = d
			}
		}
	}
	return id
}
