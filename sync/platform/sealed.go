package platform

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode"

	"onedoor/pii"
	"onedoor/sync/api"
)

// sealPrefix starts the applicant-name column of a sealed submission.
const sealPrefix = "sealed1:"

// sealedStore encrypts applicants' personal data before any Store keeps it
// and decrypts it for the back office, so a copy of the database (a
// backup, a stolen disk) holds no names, ID numbers, phones, addresses,
// form values or promise texts. The ID number and the name are also kept
// as keyed hashes (HMAC-SHA256 under a key derived from the data key) in
// the searchable name column, so staff find a case by its full ID number
// or exact name without the store ever holding them. It wraps any Store
// (SQLite, PostgreSQL): the store sees ordinary records whose personal
// fields are ciphertext. Rows written before sealing are read as they are.
type sealedStore struct {
	Store
	aead   cipher.AEAD
	macKey []byte
}

// sealedPayload is what is encrypted of one submission.
type sealedPayload struct {
	Applicant api.ApplicantData  `json:"applicant"`
	Agent     *api.ApplicantData `json:"agent,omitempty"`
	Form      map[string]string  `json:"form,omitempty"`
	Promises  map[int]string     `json:"promises,omitempty"` // material index -> promise text
}

// SealStore wraps st so applicant data at rest is encrypted with a key
// derived from dataKey (32 bytes, see LoadOrCreateDataKey).
func SealStore(st Store, dataKey []byte) (Store, error) {
	if len(dataKey) != 32 {
		return nil, errors.New("platform: the data key must be 32 bytes")
	}
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, dataKey)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	block, err := aes.NewCipher(derive("onedoor-platform-seal-v1"))
	if err != nil {
		return nil, fmt.Errorf("platform: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("platform: %w", err)
	}
	return &sealedStore{Store: st, aead: aead, macKey: derive("onedoor-platform-search-v1")}, nil
}

// LoadOrCreateDataKey reads the platform's data key from path (64 hex
// digits), creating it with mode 0600 when absent. Keep a copy apart from
// the database backups: without it sealed data cannot be read.
func LoadOrCreateDataKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("data key: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("data key: %w", err)
		}
		_, werr := f.WriteString(hex.EncodeToString(key) + "\n")
		if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
			return nil, fmt.Errorf("data key: %w", err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("data key %s: not 64 hex digits", path)
	}
	return key, nil
}

// searchHash is the keyed hash staff search by: kind is "id" or "name".
func (s *sealedStore) searchHash(kind, v string) string {
	m := hmac.New(sha256.New, s.macKey)
	m.Write([]byte(kind + "\n" + v))
	return kind + "h:" + hex.EncodeToString(m.Sum(nil))
}

func (s *sealedStore) seal(req api.SubmissionRequest) (api.SubmissionRequest, error) {
	p := sealedPayload{Applicant: req.Applicant, Agent: req.Agent, Form: req.Form}
	out := req
	out.Materials = append([]api.MaterialRef(nil), req.Materials...)
	for i, m := range out.Materials {
		if m.PromiseText != "" {
			if p.Promises == nil {
				p.Promises = map[int]string{}
			}
			p.Promises[i] = m.PromiseText
			out.Materials[i].PromiseText = ""
		}
	}
	plain, err := json.Marshal(p)
	if err != nil {
		return req, fmt.Errorf("seal: %w", err)
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return req, fmt.Errorf("seal: %w", err)
	}
	// The UUID is authenticated with the payload, so a sealed applicant
	// cannot be moved onto another case.
	ct := s.aead.Seal(nonce, nonce, plain, []byte(req.UUID))
	col := []string{sealPrefix + base64.RawURLEncoding.EncodeToString(ct), s.searchHash("id", req.Applicant.IDNumber), s.searchHash("name", req.Applicant.Name)}
	if req.Agent != nil {
		col = append(col, s.searchHash("id", req.Agent.IDNumber))
	}
	out.Applicant = api.ApplicantData{Name: strings.Join(col, " "), IDNumber: s.searchHash("id", req.Applicant.IDNumber)}
	out.Agent, out.Form = nil, nil
	return out, nil
}

// open decrypts the payload held in a sealed name column.
func (s *sealedStore) open(uuid, col string) (sealedPayload, bool, error) {
	var p sealedPayload
	field, _, _ := strings.Cut(col, " ")
	enc, ok := strings.CutPrefix(field, sealPrefix)
	if !ok {
		return p, false, nil
	}
	ct, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || len(ct) < s.aead.NonceSize() {
		return p, true, errors.New("sealed applicant data is damaged")
	}
	plain, err := s.aead.Open(nil, ct[:s.aead.NonceSize()], ct[s.aead.NonceSize():], []byte(uuid))
	if err != nil {
		return p, true, fmt.Errorf("sealed applicant data of %s does not open (wrong data key?): %w", uuid, err)
	}
	if err := json.Unmarshal(plain, &p); err != nil {
		return p, true, fmt.Errorf("sealed applicant data: %w", err)
	}
	return p, true, nil
}

func (s *sealedStore) unsealDetail(d Detail) (Detail, error) {
	p, sealed, err := s.open(d.UUID, d.Request.Applicant.Name)
	if err != nil || !sealed {
		return d, err
	}
	d.Request.Applicant, d.Request.Agent, d.Request.Form = p.Applicant, p.Agent, p.Form
	d.Request.Materials = append([]api.MaterialRef(nil), d.Request.Materials...)
	for i, t := range p.Promises {
		if i >= 0 && i < len(d.Request.Materials) {
			d.Request.Materials[i].PromiseText = t
		}
	}
	d.ApplicantName, d.IDNumber = p.Applicant.Name, p.Applicant.IDNumber
	return d, nil
}

func (s *sealedStore) CreateSubmission(ctx context.Context, rec IntakeRecord, render func(api.SubmissionResponse) (StoredResponse, error)) (StoredResponse, bool, error) {
	sealed, err := s.seal(rec.Req)
	if err != nil {
		return StoredResponse{}, false, err
	}
	rec.Req = sealed
	return s.Store.CreateSubmission(ctx, rec, render)
}

func (s *sealedStore) Get(ctx context.Context, uuid string) (Detail, error) {
	d, err := s.Store.Get(ctx, uuid)
	if err != nil {
		return d, err
	}
	return s.unsealDetail(d)
}

func (s *sealedStore) Track(ctx context.Context, receipt string) (Detail, error) {
	d, err := s.Store.Track(ctx, receipt)
	if err != nil {
		return d, err
	}
	return s.unsealDetail(d)
}

// List searches sealed rows by keyed hash: a full ID number (applicant or
// 代办 agent) or an exact name; a query with digits that is not an ID
// number is a receipt or case number and is passed on as it is.
func (s *sealedStore) List(ctx context.Context, f Filter) ([]Summary, int, error) {
	q := strings.TrimSpace(f.Query)
	switch {
	case q == "":
	case pii.ValidateIDNumber(strings.ToUpper(q), time.Now()) == nil:
		f.Query = s.searchHash("id", strings.ToUpper(q))
	case !strings.ContainsFunc(q, unicode.IsDigit):
		f.Query = s.searchHash("name", q)
	}
	rows, total, err := s.Store.List(ctx, f)
	if err != nil {
		return rows, total, err
	}
	for i, r := range rows {
		p, sealed, err := s.open(r.UUID, r.ApplicantName)
		if err != nil {
			return nil, 0, err
		}
		if sealed {
			rows[i].ApplicantName, rows[i].IDNumber = p.Applicant.Name, p.Applicant.IDNumber
		}
	}
	return rows, total, nil
}
