package flow

import "time"

// E-certificates (电子证照, issue 13). After the applicant's own card is
// read, the flow asks the platform which of the item's materials the
// resident already holds as e-certificates (QueryECerts); the answer
// (ECertsFound, or ECertsUnavailable offline) is kept for this session
// only. UseECert is accepted only for a material the platform offered a
// certificate for in this session, and the submission names that
// certificate by number, so the platform can verify it at intake. Nothing
// else makes a material count as provided by an e-certificate.

// ECertOffer is one e-certificate the platform returned for the applicant
// in this session: what the materials screen shows (type, issuer, date,
// masked number) and the number the submission names.
type ECertOffer struct {
	MaterialID   string
	Number       string // full number: sent to the platform, never shown
	NumberMasked string
	TypeName     string
	Agency       string
	IssuedOn     string // YYYY-MM-DD
	ValidUntil   string // YYYY-MM-DD, "" for 长期
	// TypeCode and Fields are the certificate's type and data fields:
	// empty form fields the catalog ties to them are filled (prefill).
	TypeCode string
	Fields   []ECertField
}

// ECertField is one data field of a certificate.
type ECertField struct{ Name, Value string }

// ECertStatus is where the session's e-certificate query stands.
type ECertStatus string

// E-certificate query states.
const (
	ECertNotAsked ECertStatus = ""        // no query: no card read, 代办, or no material allows it
	ECertPending  ECertStatus = "pending" // asked, no answer yet
	ECertReady    ECertStatus = "ready"   // the platform answered (Offers may be empty)
	ECertOffline  ECertStatus = "offline" // the platform could not be asked: scan or promise instead
	ECertRefused  ECertStatus = "refused" // the platform refused the query
)

// ECertLookup is what the materials screen shows about e-certificates.
type ECertLookup struct {
	Status ECertStatus
	Offers []ECertOffer
}

// QueryECerts asks kiosk/app to query the platform for the applicant's
// e-certificates for the item (client.ECertQuery with the proof of this
// card read); answer with ECertsFound or ECertsUnavailable carrying Seq.
// When the link is down, answer ECertsUnavailable at once.
type QueryECerts struct {
	ItemID     string
	IDNumber   string    // read from the card just now
	CardReadAt time.Time // when it was read
	Seq        uint64
}

// ECertsFound is the platform's answer to QueryECerts.
type ECertsFound struct {
	Seq    uint64
	Offers []ECertOffer
}

// ECertsUnavailable says QueryECerts got no answer: Offline when the
// platform could not be reached, otherwise it refused (Reason).
type ECertsUnavailable struct {
	Seq     uint64
	Offline bool
	Reason  string
}

func (QueryECerts) isEffect()      {}
func (ECertsFound) isEvent()       {}
func (ECertsUnavailable) isEvent() {}

// queryECerts starts the session's e-certificate query when the
// applicant's own card was just read and a material of the item may be
// provided as an e-certificate. On the 代办 path the card read is the
// agent's, which proves nothing about the principal: no query.
func (m *Machine) queryECerts() []Effect {
	s := &m.s
	if s.identity == nil || !s.identity.FromCard || s.agent != nil || s.item == nil {
		return nil
	}
	wanted := false
	for _, mat := range s.item.Materials {
		wanted = wanted || mat.ECertAllowed()
	}
	if !wanted {
		return nil
	}
	m.ecertSeq++
	s.ecertSeq, s.ecert = m.ecertSeq, ECertLookup{Status: ECertPending}
	return []Effect{QueryECerts{ItemID: s.item.ID, IDNumber: s.identity.IDNumber, CardReadAt: s.startedAt, Seq: m.ecertSeq}}
}

// ecertsFound keeps the offers that answer this session's query and name
// a material of the item that may be provided so; anything else (a late
// answer for an earlier resident, an unknown material) is dropped.
func (m *Machine) ecertsFound(e ECertsFound) []Effect {
	s := &m.s
	if e.Seq == 0 || e.Seq != s.ecertSeq || s.ecert.Status != ECertPending {
		return nil
	}
	s.ecert = ECertLookup{Status: ECertReady}
	for _, o := range e.Offers {
		ms := m.material(o.MaterialID)
		if ms == nil || !ms.Material.ECertAllowed() || o.Number == "" || m.offer(o.MaterialID) != nil {
			continue
		}
		s.ecert.Offers = append(s.ecert.Offers, o)
	}
	m.prefillFromECerts()
	return nil
}

// prefillFromECerts fills empty, editable form fields from the offered
// certificates' data: a certificate of a type some catalog item yields
// was made from that item's form fields (Yield.Fields: certificate field
// -> form field), so a form field of the same name here asks for the same
// thing — e.g. 居住证's 居住地址 is the address typed when applying for it.
// The resident sees the value and may change it; nothing typed is
// overwritten.
func (m *Machine) prefillFromECerts() {
	s := &m.s
	for _, o := range s.ecert.Offers {
		if o.TypeCode == "" {
			continue
		}
		for i := range m.cat.Items {
			y := m.cat.Items[i].Yields
			if y == nil || y.TypeCode != o.TypeCode {
				continue
			}
			for _, cf := range o.Fields {
				name, ok := y.Fields[cf.Name]
				if !ok || cf.Value == "" {
					continue
				}
				for j := range s.fields {
					f := &s.fields[j]
					if f.Field.Name == name && f.Value == "" && !f.Locked && f.Field.Prefill == "" {
						f.Value, f.Error = cf.Value, Message{}
					}
				}
			}
		}
	}
}

func (m *Machine) ecertsUnavailable(e ECertsUnavailable) []Effect {
	s := &m.s
	if e.Seq == 0 || e.Seq != s.ecertSeq || s.ecert.Status != ECertPending {
		return nil
	}
	s.ecert = ECertLookup{Status: ECertRefused}
	if e.Offline {
		s.ecert.Status = ECertOffline
	}
	return nil
}

// offer is the certificate the platform returned in this session for a
// material, or nil.
func (m *Machine) offer(materialID string) *ECertOffer {
	for i := range m.s.ecert.Offers {
		if m.s.ecert.Offers[i].MaterialID == materialID {
			return &m.s.ecert.Offers[i]
		}
	}
	return nil
}

// ecertRefusal is why UseECert cannot be accepted for a material now.
func (m *Machine) ecertRefusal() Message {
	switch m.s.ecert.Status {
	case ECertPending:
		return Message{Key: "err.ecert_pending"}
	case ECertOffline, ECertRefused:
		return Message{Key: "err.ecert_offline"}
	}
	return Message{Key: "err.ecert_none"}
}
