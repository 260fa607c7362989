package ecert

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"onedoor/pii"
)

// Reference is the reference library: certificates in the platform's
// store, agency keys in a keyring directory, holders by HolderKey.
type Reference struct {
	Store    Store
	Trust    *Trust
	Keyring  Keyring
	Holder   HolderKey
	Renderer *Renderer
	Clock    func() time.Time
}

// Query implements Library.
func (r *Reference) Query(ctx context.Context, idNumber string) ([]Certificate, error) {
	return r.Store.HolderCertificates(ctx, r.Holder.Hash(idNumber))
}

// Fetch implements Library.
func (r *Reference) Fetch(ctx context.Context, number string) (Certificate, error) {
	return r.Store.Certificate(ctx, number)
}

// Verify implements Library.
func (r *Reference) Verify(_ context.Context, c Certificate, at time.Time) error {
	return Verify(c, r.Trust, at)
}

// HolderHash implements Library.
func (r *Reference) HolderHash(idNumber string) string { return r.Holder.Hash(idNumber) }

// AgencyKey returns the trusted key a certificate was sealed with.
func (r *Reference) AgencyKey(c Certificate) (AgencyKey, bool) {
	return r.Trust.Key(c.Agency.Code, c.Seal.KeyID)
}

// Import stores a sealed certificate after checking its seal against the
// trusted keys; an expired one is kept (it is still the holder's record,
// and verification refuses its use).
func (r *Reference) Import(ctx context.Context, c Certificate) error {
	if err := Verify(c, r.Trust, r.now()); err != nil && Reason(err) != "expired" && Reason(err) != "not yet valid" {
		return fmt.Errorf("import %s: %w", c.Number, err)
	}
	return r.Store.PutCertificate(ctx, c, r.now())
}

// Issue implements Issuer with the agency's key from the keyring: it
// fills the holder, numbers, renders, seals and stores the certificate.
func (r *Reference) Issue(ctx context.Context, d Draft) (Certificate, error) {
	s, err := r.Keyring.Signer(d.Agency.Code)
	if err != nil {
		return Certificate{}, err
	}
	if _, ok := r.Trust.Key(s.Key.Code, s.Key.KeyID); !ok {
		if err := r.Trust.Add(s.Key); err != nil {
			return Certificate{}, err
		}
	}
	c, err := Build(d, r.Holder, r.Renderer)
	if err != nil {
		return c, err
	}
	if c, err = s.Seal(c); err != nil {
		return c, err
	}
	if err := r.Store.PutCertificate(ctx, c, r.now()); err != nil {
		return c, err
	}
	return c, nil
}

// Build makes the unsealed certificate of a draft: holder by keyed hash
// and masked number, number, dates and rendered image.
func Build(d Draft, hk HolderKey, rd *Renderer) (Certificate, error) {
	if d.IDNumber == "" || d.TypeCode == "" || d.Agency.Code == "" {
		return Certificate{}, fmt.Errorf("%w: a draft needs a type, a holder and an agency", ErrMalformed)
	}
	issued := d.IssuedOn.In(china)
	number := d.Number
	if number == "" {
		number = NewNumber(issued)
	}
	c := Certificate{
		TypeCode: d.TypeCode, TypeName: d.TypeName, Number: number,
		Holder:   Holder{IDHash: hk.Hash(d.IDNumber), IDMasked: pii.MaskID(d.IDNumber), Name: pii.MaskName(d.Name)},
		Agency:   d.Agency,
		IssuedOn: issued.Format(DateLayout), ValidFrom: issued.Format(DateLayout),
		Fields: d.Fields,
	}
	if d.ValidDays > 0 {
		c.ValidUntil = issued.AddDate(0, 0, d.ValidDays).Format(DateLayout)
	}
	if rd == nil {
		rd, _ = NewRenderer(nil)
	}
	img, err := rd.PNG(c)
	if err != nil {
		return c, err
	}
	c.Image = Image{ContentType: "image/png", Data: img}
	return c, nil
}

// NewNumber makes a certificate number: EC, the issue date and 10 random
// Crockford base32 characters.
func NewNumber(issued time.Time) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	var b [10]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[b[i]&31]
	}
	return "EC" + issued.In(china).Format("20060102") + string(b[:])
}

func (r *Reference) now() time.Time {
	if r.Clock == nil {
		return time.Now()
	}
	return r.Clock()
}
