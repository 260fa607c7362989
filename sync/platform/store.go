package platform

import (
	"context"
	"errors"
	"time"

	"onedoor/sync/api"
	"onedoor/sync/platform/ecert"
)

// Sentinel errors a Store returns; the HTTP layer maps them to status codes.
var (
	ErrNotFound            = errors.New("not found")
	ErrExists              = errors.New("already exists")
	ErrIdempotencyConflict = errors.New("idempotency key reused with a different body")
	ErrBadTransition       = errors.New("decision not allowed in the current status")
)

// StoredResponse is the first answer to an idempotent request, kept so a
// replay gets the same status and the same bytes.
type StoredResponse struct {
	Status int
	Body   []byte
}

// IntakeRecord is a validated submission ready to be stored.
type IntakeRecord struct {
	KioskID    string
	IdemKey    string
	BodyHash   string // hex SHA-256 of the request body
	Req        api.SubmissionRequest
	ReceivedAt time.Time
	CasePrefix string // e.g. "DG"; the store appends -YYYY-NNNNNN
}

// RatingRecord is a validated rating ready to be stored.
type RatingRecord struct {
	KioskID    string
	IdemKey    string
	BodyHash   string
	Rating     api.Rating
	ReceivedAt time.Time
}

// Filter selects submissions in the back office. Empty fields match all.
type Filter struct {
	Status  string
	ItemID  string
	KioskID string
	Query   string // matches receipt, case number or applicant name (substring)
	Limit   int
	Offset  int
}

// Summary is one row of the back-office list.
type Summary struct {
	UUID, Receipt, CaseNumber, KioskID, ItemID string
	ApplicantName, IDNumber                    string
	Status                                     string
	ReceivedAt, UpdatedAt                      time.Time
}

// Detail is everything about one submission.
type Detail struct {
	Summary
	Request api.SubmissionRequest
	History []api.StatusUpdate
	// Actors[i] is who made History[i]: the staff user of a decision,
	// "intake" for the received update. Never sent to kiosks.
	Actors []string
}

// Upload is one kiosk's unfinished blob upload, for its quota.
type Upload struct {
	SHA256 string
	Length int64 // the declared Upload-Length
	LastAt time.Time
}

// ExportRow is one line of `platformd export`.
type ExportRow struct {
	Receipt    string   `json:"receipt"`
	UUID       string   `json:"uuid"`
	CaseNumber string   `json:"case_number"`
	KioskID    string   `json:"kiosk_id"`
	ItemID     string   `json:"item_id"`
	Status     string   `json:"status"`
	Blobs      []string `json:"blobs"`
	// Certs are the numbers of the e-certificates the submission names
	// instead of scans (api.MaterialRef.CertNumber; issue 13), in the
	// order of its materials.
	Certs []string `json:"certs,omitempty"`
}

// Session is a logged-in staff member's browser session. The cookie value is
// never stored, only its SHA-256.
type Session struct {
	IDHash  string
	User    string
	CSRF    string
	Expires time.Time
}

// KioskInfo is a registered kiosk and its last heartbeat, if any.
type KioskInfo struct {
	ID        string
	AddedAt   time.Time
	LastSeen  time.Time
	Heartbeat *api.Heartbeat
}

// Store is everything the platform keeps apart from blob bytes. The SQLite
// implementation lives in sync/platform/sqlitestore; a PostgreSQL one would
// implement the same methods. Every mutating method is one transaction.
type Store interface {
	AddKiosk(ctx context.Context, id, token string, at time.Time) error
	KioskToken(ctx context.Context, id string) (string, error)
	// Kiosk key pairs (issue 11). AddEnrolment registers the kiosk if new
	// (without a credential) and sets its one-time code (the hex SHA-256
	// of the normalized code) valid until expires, replacing any earlier
	// one; a legacy token stays until the kiosk enrols. Enrol checks the
	// code and stores cred (a public key) as the kiosk's credential,
	// erasing its token, and returns when it enrolled: the same code and
	// key again (a lost answer) returns the first time; another key
	// ErrExists; an unknown, expired or used code ErrNotFound.
	// KioskCredential returns the public key of an enrolled kiosk, else
	// its token as api.AlgHMAC, else ErrNotFound.
	AddEnrolment(ctx context.Context, kioskID, codeHash string, expires, at time.Time) error
	Enrol(ctx context.Context, kioskID, codeHash string, cred api.Credential, at time.Time) (time.Time, error)
	KioskCredential(ctx context.Context, id string) (api.Credential, error)
	Kiosks(ctx context.Context) ([]KioskInfo, error)

	// Idempotent returns the stored first answer for (kiosk, key) and the
	// body hash it was given for, or ErrNotFound.
	Idempotent(ctx context.Context, kioskID, key string) (bodyHash string, resp StoredResponse, err error)
	// CreateSubmission stores rec with a new case number, its "received"
	// status update and the idempotency record holding render's answer, in
	// one transaction. If (kiosk, key) already has a record it returns that
	// with replay=true, or ErrIdempotencyConflict when the body differs.
	// A UUID or receipt already used by another key gives ErrExists.
	CreateSubmission(ctx context.Context, rec IntakeRecord, render func(api.SubmissionResponse) (StoredResponse, error)) (resp StoredResponse, replay bool, err error)
	AddRating(ctx context.Context, rec RatingRecord, render func(api.RatingResponse) (StoredResponse, error)) (resp StoredResponse, replay bool, err error)
	RecordHeartbeat(ctx context.Context, hb api.Heartbeat, at time.Time) error

	// Statuses returns up to limit updates for kiosk's submissions after
	// cursor (0 = from the start) and the cursor of the last one returned.
	Statuses(ctx context.Context, kioskID string, after int64, limit int) ([]api.StatusUpdate, int64, error)
	Track(ctx context.Context, receipt string) (Detail, error)
	Decide(ctx context.Context, uuid, status, note, actor string, at time.Time) (api.StatusUpdate, error)

	List(ctx context.Context, f Filter) ([]Summary, int, error)
	Get(ctx context.Context, uuid string) (Detail, error)
	// SubmissionHasBlob reports whether any submission names the blob, so
	// the back office serves only scans that belong to a case.
	SubmissionHasBlob(ctx context.Context, sha string) (bool, error)
	CountByStatus(ctx context.Context) (map[string]int64, error)
	Export(ctx context.Context, fn func(ExportRow) error) error

	AddStaff(ctx context.Context, user, passwordHash string, at time.Time) error
	StaffHash(ctx context.Context, user string) (string, error)
	CreateSession(ctx context.Context, s Session) error
	Session(ctx context.Context, idHash string, now time.Time) (Session, error)
	DeleteSession(ctx context.Context, idHash string) error

	// What binds a kiosk to the data it may see (issue 11). NoteUpload
	// records that kioskID PATCHed blob sha of declared length, or moves
	// its last-progress time to at; UploadDone marks the blob complete for
	// every kiosk; Unfinished lists kioskID's uploads not done whose last
	// progress is at or after since (its quota); KioskKnowsBlob is true
	// when kioskID uploaded sha or named it in one of its stored
	// submissions (HEAD answers only then).
	NoteUpload(ctx context.Context, kioskID, sha string, length int64, at time.Time) error
	UploadDone(ctx context.Context, sha string) error
	Unfinished(ctx context.Context, kioskID string, since time.Time) ([]Upload, error)
	KioskKnowsBlob(ctx context.Context, kioskID, sha string) (bool, error)
	// RecordLookup notes that kioskID looked receipt up with proof;
	// MayRate reports whether a submission has receipt (exists) and
	// whether kioskID submitted it or looked it up (allowed).
	RecordLookup(ctx context.Context, kioskID, receipt string, at time.Time) error
	MayRate(ctx context.Context, kioskID, receipt string) (exists, allowed bool, err error)

	Ping(ctx context.Context) error
	Close() error
}

// ECertStore is what a store keeps for the reference e-certificate library
// and the certificate access log (issue 13): PutCertificate, Certificate,
// HolderCertificates, LogAccess, Accesses, PutReusable and Reusables (see
// ecert.Store; storetest.RunECert checks them). It is apart from Store so
// a store without it still serves everything else: the platform then
// offers no e-certificates.
type ECertStore = ecert.Store

// Allowed reports whether staff may move a case from status from to status
// to. approved, rejected and returned end the case (a returned application is
// resubmitted as a new one from a kiosk).
func Allowed(from, to string) bool {
	switch from {
	case api.StatusReceived:
		return to == api.StatusAccepted || to == api.StatusReturned || to == api.StatusApproved || to == api.StatusRejected
	case api.StatusAccepted:
		return to == api.StatusReturned || to == api.StatusApproved || to == api.StatusRejected
	}
	return false
}
