// Package api holds the wire types of the OneDoor sync protocol (version
// "v1") and the request signing shared by the kiosk client and the platform,
// so both sides compute signatures with one implementation. The protocol is
// described for humans in docs/sync-api.md; keep the two in step.
package api

import (
	"time"
)

// Version is the protocol version; every endpoint lives under /api/{Version}.
const Version = "v1"

// Base is the path prefix of every sync endpoint.
const Base = "/api/" + Version

// Endpoint paths. Blob paths end with the lowercase hex SHA-256 of the blob's
// plaintext; track paths end with a receipt number.
const (
	PathBlobs       = Base + "/blobs/"
	PathSubmissions = Base + "/submissions"
	PathCatalog     = Base + "/catalog"
	// PathCalendar serves the working-day (holiday) calendar the platform
	// publishes, in the catalog's holiday-file format, with an ETag.
	PathCalendar  = Base + "/calendar"
	PathStatuses  = Base + "/statuses"
	PathTrack     = Base + "/track/"
	PathRatings   = Base + "/ratings"
	PathHeartbeat = Base + "/heartbeat"
)

// Headers of the resumable blob upload (the tus 1.0 core names).
const (
	HeaderUploadOffset = "Upload-Offset"
	HeaderUploadLength = "Upload-Length"
	// ContentTypeOffset is the only body type a blob PATCH accepts.
	ContentTypeOffset = "application/offset+octet-stream"
	// HeaderIdempotencyKey carries the submission UUID on POST /submissions
	// and the rating UUID on POST /ratings.
	HeaderIdempotencyKey = "Idempotency-Key"
)

// Submission statuses as they appear in StatusUpdate.Status.
const (
	StatusReceived = "received" // the platform stored it and gave it a case number
	StatusAccepted = "accepted" // 受理: staff took the case on
	StatusReturned = "returned" // 退回补正: the resident must correct or add something
	StatusApproved = "approved" // 办结/准予: decided in the resident's favour
	StatusRejected = "rejected" // 不予受理/不予许可
)

// Material kinds in MaterialRef.Kind.
const (
	KindScan    = "scan"    // pages scanned at the kiosk
	KindECert   = "e-cert"  // an electronic certificate fetched by reference
	KindPromise = "promise" // 告知承诺: the resident's signed promise instead of a document
)

// Error codes in ErrorResponse.Code. A client acts on the code, never on the
// message, which is for people.
const (
	CodeBadRequest          = "bad_request"          // malformed JSON or headers
	CodeValidation          = "validation"           // permanent: the submission itself is wrong
	CodeMissingBlobs        = "missing_blobs"        // upload the listed blobs, then retry the same request
	CodeIdempotencyConflict = "idempotency_conflict" // same Idempotency-Key, different body
	CodeUnauthorized        = "unauthorized"         // unknown kiosk, bad signature, clock skew, replay
	CodeOffsetMismatch      = "offset_mismatch"      // PATCH at the wrong Upload-Offset
	CodeHashMismatch        = "hash_mismatch"        // completed blob does not hash to its address; discarded
	CodeNotFound            = "not_found"
	CodeTooLarge            = "too_large"
	CodeInternal            = "internal"
	// CodeTimeout: the request body stalled or came too slowly; what
	// arrived of a blob PATCH is kept. Retry (HEAD for the offset first).
	CodeTimeout = "timeout"
	// CodeRateLimited: too many requests of this kind from this kiosk;
	// retry after Retry-After seconds.
	CodeRateLimited = "rate_limited"
	// CodeQuota: this kiosk holds too many unfinished blob uploads (count
	// or bytes); finish or abandon some, retry later.
	CodeQuota = "quota_exceeded"
)

// ApplicantData is the resident as read from the ID card (or typed in).
type ApplicantData struct {
	Name      string `json:"name"`
	IDNumber  string `json:"id_number"`
	Phone     string `json:"phone,omitempty"`
	Gender    string `json:"gender,omitempty"`     // as printed on the card, e.g. "男"
	Ethnicity string `json:"ethnicity,omitempty"`  // 民族, as printed on the card
	BirthDate string `json:"birth_date,omitempty"` // YYYYMMDD
	Address   string `json:"address,omitempty"`
}

// BlobRef names one uploaded blob (one scanned page) by content address.
type BlobRef struct {
	SHA256      string `json:"sha256"` // lowercase hex of the plaintext
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
}

// MaterialRef is one required material of a service item and its pages.
type MaterialRef struct {
	MaterialID string    `json:"material_id"`
	Kind       string    `json:"kind"` // KindScan, KindECert or KindPromise
	Pages      []BlobRef `json:"pages,omitempty"`
	// CertNumber is, for KindECert, the number of the e-certificate the
	// platform returned for this applicant (PathECertQuery); the platform
	// verifies its seal and validity at intake (CodeECertInvalid if not).
	CertNumber string `json:"cert_number,omitempty"`
	// PromiseText is, for KindPromise, the full 告知承诺 text the resident
	// read and accepted, as shown; staff see it with the case.
	PromiseText string `json:"promise_text,omitempty"`
}

// SubmissionRequest is the body of POST /api/v1/submissions. UUID is made at
// capture time on the kiosk and doubles as the Idempotency-Key.
type SubmissionRequest struct {
	UUID        string            `json:"uuid"`
	Receipt     string            `json:"receipt"` // {kiosk}-{yyyymmdd}-{seq}
	KioskID     string            `json:"kiosk_id"`
	ItemID      string            `json:"item_id"`
	ItemVersion string            `json:"item_version"`
	CreatedAt   time.Time         `json:"created_at"`
	Applicant   ApplicantData     `json:"applicant"`
	Form        map[string]string `json:"form,omitempty"`
	Materials   []MaterialRef     `json:"materials,omitempty"`
	// Agent is set on a 代办 application: the person who applied on the
	// applicant's behalf, identified by their own card read at the kiosk.
	// Applicant is then the principal, whose name and number were typed.
	Agent *ApplicantData `json:"agent,omitempty"`
	// LookupCodeSHA256 is the lowercase hex SHA-256 of the lookup code
	// printed on the receipt (NormalizeLookupCode form). The code is made
	// on the kiosk, offline, and never leaves it in clear; a resident who
	// types it at any kiosk proves the receipt is theirs (see TrackProof).
	LookupCodeSHA256 string `json:"lookup_code_sha256,omitempty"`
}

// BlobHashes lists every blob the submission names, in order, without
// duplicates.
func (s *SubmissionRequest) BlobHashes() []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range s.Materials {
		for _, p := range m.Pages {
			if !seen[p.SHA256] {
				seen[p.SHA256] = true
				out = append(out, p.SHA256)
			}
		}
	}
	return out
}

// SubmissionResponse is the 201 body of POST /api/v1/submissions, returned
// byte-identical on every replay with the same Idempotency-Key and body.
type SubmissionResponse struct {
	CaseNumber string    `json:"case_number"` // e.g. DG-2026-000123
	Receipt    string    `json:"receipt"`
	UUID       string    `json:"uuid"`
	Status     string    `json:"status"`
	ReceivedAt time.Time `json:"received_at"`
}

// ErrorResponse is the body of every 4xx/5xx answer.
type ErrorResponse struct {
	Code         string   `json:"code"`
	Message      string   `json:"message"`
	MissingBlobs []string `json:"missing_blobs,omitempty"`
	// Offset is the platform's current Upload-Offset on CodeOffsetMismatch
	// (also sent as the Upload-Offset header).
	Offset *int64 `json:"offset,omitempty"`
}

// StatusUpdate is one change of a submission's status.
type StatusUpdate struct {
	Receipt    string    `json:"receipt"`
	UUID       string    `json:"uuid"`
	CaseNumber string    `json:"case_number"`
	Status     string    `json:"status"`
	Note       string    `json:"note,omitempty"`
	At         time.Time `json:"at"`
}

// StatusesResponse is the body of GET /api/v1/statuses?since=CURSOR. Cursor
// is opaque to the kiosk: store it and send it back as since. More is true
// when the page was cut short and the kiosk should ask again at once.
type StatusesResponse struct {
	Updates []StatusUpdate `json:"updates"`
	Cursor  string         `json:"cursor"`
	More    bool           `json:"more,omitempty"`
}

// Headers of GET /api/v1/track/{receipt}: one of them must prove that the
// resident asking is the one the receipt belongs to, or the platform
// answers 404 as for an unknown receipt.
const (
	// HeaderLookupCode carries the lookup code printed on the receipt, as
	// the resident typed it (NormalizeLookupCode is applied by the platform).
	HeaderLookupCode = "X-OneDoor-Lookup-Code"
	// HeaderHolderProof carries HolderProof(idNumber, receipt) for the
	// card just read at the kiosk.
	HeaderHolderProof = "X-OneDoor-Holder-Proof"
)

// TrackResponse is the body of GET /api/v1/track/{receipt}: the progress of
// a submission, asked from any kiosk with proof (HeaderLookupCode or
// HeaderHolderProof). It carries no personal data beyond a masked name, and
// staff notes in it are masked (ID and phone numbers).
type TrackResponse struct {
	Receipt       string         `json:"receipt"`
	CaseNumber    string         `json:"case_number"`
	ItemID        string         `json:"item_id"`
	ApplicantName string         `json:"applicant_name"` // masked, e.g. "张*"
	Status        string         `json:"status"`
	ReceivedAt    time.Time      `json:"received_at"`
	History       []StatusUpdate `json:"history"`
	// CertificateUses is "who used my certificates": the access log of the
	// applicant's e-certificates, newest first (issue 13).
	CertificateUses []CertificateUse `json:"certificate_uses,omitempty"`
	// RatingReply is the office's reply to the resident's bad rating of
	// this case (好差评整改反馈, issue 14), masked; absent until given.
	RatingReply string `json:"rating_reply,omitempty"`
}

// Rating is the body of POST /api/v1/ratings (好差评). UUID is made on the
// kiosk and is the Idempotency-Key.
type Rating struct {
	UUID    string    `json:"uuid"`
	Receipt string    `json:"receipt,omitempty"`
	Level   int       `json:"level"` // 1..5, 5 = 非常满意
	Reason  string    `json:"reason,omitempty"`
	At      time.Time `json:"at"`
}

// RatingResponse is the 201 body of POST /api/v1/ratings.
type RatingResponse struct {
	UUID       string    `json:"uuid"`
	ReceivedAt time.Time `json:"received_at"`
}

// Heartbeat is the body of POST /api/v1/heartbeat.
type Heartbeat struct {
	KioskID          string            `json:"kiosk_id"`
	Version          string            `json:"version"`
	Devices          map[string]string `json:"devices,omitempty"` // device -> "ok" | "absent" | "error: …"
	QueueDepth       int               `json:"queue_depth"`
	OldestAgeSeconds int64             `json:"oldest_age_seconds"`
	FreeDiskBytes    int64             `json:"free_disk_bytes"`
	LastSync         time.Time         `json:"last_sync"`
	ClockOffsetMS    int64             `json:"clock_offset_ms"`
	PaperNearEnd     bool              `json:"paper_near_end"`
	// PaperOut: the printer reports paper end, so receipts cannot print.
	// Kiosks that predate it leave it out; the platform then also reads a
	// printer state in Devices that mentions paper ("error: printer: out
	// of paper").
	PaperOut bool `json:"paper_out,omitempty"`
}

// HeartbeatResponse is the 200 body of POST /api/v1/heartbeat. ServerTime
// lets the kiosk estimate its clock offset (signatures fail beyond MaxSkew).
type HeartbeatResponse struct {
	ServerTime time.Time `json:"server_time"`
}
