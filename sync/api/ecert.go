package api

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// PathECertQuery is where a kiosk asks which of an item's materials the
// resident whose card it just read already holds (issue 13).
const PathECertQuery = Base + "/ecerts/query"

// Error codes of e-certificates in ErrorResponse.Code.
const (
	// CodeHolderProof: the e-certificate query carried no valid proof of
	// a card read at this kiosk in this session (403). Not retryable as is.
	CodeHolderProof = "holder_proof"
	// CodeECertInvalid: a submission names an e-certificate that does not
	// verify now (seal, agency key, validity) or is not the applicant's
	// (422): the material must be scanned instead.
	CodeECertInvalid = "ecert_invalid"
)

// ECertCardMaxAge is how long after a card read a kiosk may query with it:
// one resident session.
const ECertCardMaxAge = 30 * time.Minute

// ECertQueryRequest is the body of POST /api/v1/ecerts/query, signed as
// every kiosk request and sent with HeaderHolderProof set to
// ECertHolderProof of the same values. The ID number is sent because the
// platform finds certificates by its own keyed hash of it; it is never
// stored or logged.
type ECertQueryRequest struct {
	ItemID     string    `json:"item_id"`
	Session    string    `json:"session"` // lowercase UUID of the resident session, made on the kiosk
	IDNumber   string    `json:"id_number"`
	CardReadAt time.Time `json:"card_read_at"` // when the card was read (at most ECertCardMaxAge before now)
}

// ECertHolderProof is the HeaderHolderProof of an e-certificate query: the
// HolderProof of the ID number read from the card over the kiosk, the
// session and the time of the read, so a proof is bound to one card read
// at one kiosk in one session.
func ECertHolderProof(idNumber, kioskID, session string, cardReadAt time.Time) string {
	return HolderProof(idNumber, "ecert\n"+kioskID+"\n"+session+"\n"+cardReadAt.UTC().Format(time.RFC3339Nano))
}

// Validate checks the request's shape (not the proof).
func (q *ECertQueryRequest) Validate() error {
	switch {
	case q.ItemID == "" || len(q.ItemID) > 64:
		return errors.New("item_id: 1 to 64 bytes")
	case !IsUUID(q.Session):
		return errors.New("session: must be a lowercase UUID")
	case len(strings.TrimSpace(q.IDNumber)) != 18:
		return errors.New("id_number: 18 characters")
	case q.CardReadAt.IsZero():
		return errors.New("card_read_at: is required")
	}
	return nil
}

// Offer kinds in ECertOffer.Kind.
const (
	OfferECert = "e-cert" // a valid e-certificate: reference it by number (KindECert)
	OfferReuse = "reuse"  // pages handed in for an earlier accepted case: send them again (KindScan)
)

// ECertOffer is one material the resident already holds.
type ECertOffer struct {
	MaterialID string `json:"material_id"`
	Kind       string `json:"kind"` // OfferECert or OfferReuse
	// For OfferECert: the certificate, verified by the platform just now.
	Number       string `json:"number,omitempty"`
	NumberMasked string `json:"number_masked,omitempty"`
	TypeCode     string `json:"type_code,omitempty"`
	TypeName     string `json:"type_name,omitempty"`
	Agency       string `json:"agency,omitempty"`
	IssuedOn     string `json:"issued_on,omitempty"`   // YYYY-MM-DD
	ValidUntil   string `json:"valid_until,omitempty"` // YYYY-MM-DD, empty: 长期
	// Fields are the certificate's data fields (the holder's own data,
	// shown to them only with the proof of their card): the kiosk fills
	// empty form fields with them where the catalog ties a form field to
	// the certificate field (an item's "yields"), so a repeat applicant
	// does not type them again.
	Fields []ECertField `json:"fields,omitempty"`
	// For OfferReuse: the earlier case and its pages (already on the
	// platform; the kiosk names them without uploading).
	Receipt    string    `json:"receipt,omitempty"`
	AcceptedAt time.Time `json:"accepted_at,omitzero"`
	Pages      []BlobRef `json:"pages,omitempty"`
}

// ECertField is one data field of a certificate.
type ECertField struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ECertQueryResponse is the 200 body of POST /api/v1/ecerts/query.
type ECertQueryResponse struct {
	Offers []ECertOffer `json:"offers"`
}

// CertificateUse is one line of "who used my certificates" in a progress
// lookup: when, which kiosk, which item, which certificate (masked).
type CertificateUse struct {
	At           time.Time `json:"at"`
	Action       string    `json:"action"` // query, use or issue
	KioskID      string    `json:"kiosk_id,omitempty"`
	ItemID       string    `json:"item_id,omitempty"`
	TypeName     string    `json:"type_name"`
	NumberMasked string    `json:"number_masked"`
}

// String is the line as a kiosk may print it.
func (u CertificateUse) String() string {
	return fmt.Sprintf("%s %s %s %s %s %s", u.At.UTC().Format(time.RFC3339), u.Action, u.KioskID, u.ItemID, u.TypeName, u.NumberMasked)
}
