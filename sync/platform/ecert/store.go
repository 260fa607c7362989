package ecert

import (
	"context"
	"time"

	"onedoor/sync/api"
)

// Store is what the reference library and the platform's access log keep.
// The platform's SQLite store implements it (sync/platform/sqlitestore);
// storetest.RunECert is its conformance test.
type Store interface {
	// PutCertificate stores c; the same certificate again is a no-op, a
	// different one under the same number ErrExists.
	PutCertificate(ctx context.Context, c Certificate, at time.Time) error
	// Certificate returns the certificate numbered number, or ErrNotFound
	// (wrapped).
	Certificate(ctx context.Context, number string) (Certificate, error)
	// HolderCertificates lists the holder's certificates by IDHash, newest
	// issue first.
	HolderCertificates(ctx context.Context, idHash string) ([]Certificate, error)

	// LogAccess records one access to a certificate; Accesses lists a
	// holder's, newest first, at most limit.
	LogAccess(ctx context.Context, a Access) error
	Accesses(ctx context.Context, idHash string, limit int) ([]Access, error)

	// PutReusable records a material a holder handed in for an accepted
	// application (一次提交、多次复用); the same (receipt, material) again
	// replaces it. Reusables lists the holder's whose Until is after now.
	PutReusable(ctx context.Context, r Reusable) error
	Reusables(ctx context.Context, idHash string, now time.Time) ([]Reusable, error)
}

// Access actions.
const (
	ActionQuery = "query" // the kiosk was shown the certificate
	ActionUse   = "use"   // a submission referenced it and it verified
	ActionIssue = "issue" // an approval issued it
)

// Access is one line of the access log: when, which kiosk, which item,
// which certificate. It holds no ID number, only the holder's keyed hash.
type Access struct {
	At         time.Time `json:"at"`
	HolderHash string    `json:"-"`
	KioskID    string    `json:"kiosk_id,omitempty"`
	ItemID     string    `json:"item_id,omitempty"`
	Receipt    string    `json:"receipt,omitempty"`
	Number     string    `json:"number"`
	TypeName   string    `json:"type_name"`
	Action     string    `json:"action"`
}

// Reusable is a material handed in earlier, reusable until Until.
type Reusable struct {
	HolderHash   string        `json:"-"`
	ItemID       string        `json:"item_id"`
	MaterialID   string        `json:"material_id"`
	MaterialName string        `json:"material_name"`
	Receipt      string        `json:"receipt"`
	CaseNumber   string        `json:"case_number"`
	Pages        []api.BlobRef `json:"pages"`
	AcceptedAt   time.Time     `json:"accepted_at"`
	Until        time.Time     `json:"until"`
}
