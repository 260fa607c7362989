package platform

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"onedoor/pii"
	"onedoor/sync/api"
)

// Defaults of the limits that keep one kiosk from reaching past itself.
const (
	// DefaultLookupLimit lookups per kiosk per LookupWindow, proven or not.
	DefaultLookupLimit = 120
	// DefaultLookupFailLimit lookups without proof (answered 404) per kiosk
	// per LookupWindow; then every lookup from it gets 429 until the
	// window passes. With 50-bit lookup codes and ID-keyed proofs, ten
	// guesses per ten minutes cannot find anyone's case.
	DefaultLookupFailLimit = 10
	DefaultLookupWindow    = 10 * time.Minute
	// DefaultUploadQuotaCount and DefaultUploadQuotaBytes bound one
	// kiosk's unfinished blob uploads (by declared Upload-Length).
	DefaultUploadQuotaCount = 64
	DefaultUploadQuotaBytes = 1 << 30
	// DefaultPartialTTL is how long an unfinished upload that does not
	// grow counts against its kiosk (and stays on disk, see platformd
	// --partial-ttl).
	DefaultPartialTTL = 7 * 24 * time.Hour
)

// Limits are the per-kiosk limits; zero fields take the defaults above.
type Limits struct {
	LookupLimit      int
	LookupFailLimit  int
	LookupWindow     time.Duration
	UploadQuotaCount int
	UploadQuotaBytes int64
	PartialTTL       time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.LookupLimit <= 0 {
		l.LookupLimit = DefaultLookupLimit
	}
	if l.LookupFailLimit <= 0 {
		l.LookupFailLimit = DefaultLookupFailLimit
	}
	if l.LookupWindow <= 0 {
		l.LookupWindow = DefaultLookupWindow
	}
	if l.UploadQuotaCount <= 0 {
		l.UploadQuotaCount = DefaultUploadQuotaCount
	}
	if l.UploadQuotaBytes <= 0 {
		l.UploadQuotaBytes = DefaultUploadQuotaBytes
	}
	if l.PartialTTL <= 0 {
		l.PartialTTL = DefaultPartialTTL
	}
	return l
}

// proven reports whether the track request carries proof that the resident
// asking owns the receipt: the lookup code printed on it, or the holder
// proof of a card read at the kiosk matching the applicant or the agent.
func proven(r *http.Request, d Detail) bool {
	if c := r.Header.Get(api.HeaderLookupCode); c != "" && d.Request.LookupCodeSHA256 != "" {
		code := api.NormalizeLookupCode(c)
		if api.IsLookupCode(code) && subtle.ConstantTimeCompare([]byte(api.LookupCodeSHA256(code)), []byte(d.Request.LookupCodeSHA256)) == 1 {
			return true
		}
	}
	if p := r.Header.Get(api.HeaderHolderProof); p != "" {
		ids := []string{d.Request.Applicant.IDNumber}
		if d.Request.Agent != nil {
			ids = append(ids, d.Request.Agent.IDNumber)
		}
		for _, id := range ids {
			if id != "" && subtle.ConstantTimeCompare([]byte(api.HolderProof(id, d.Receipt)), []byte(p)) == 1 {
				return true
			}
		}
	}
	return false
}

// maskNotes returns updates whose staff notes passed through the personal
// data masking: a note goes to kiosks, whose screens residents and
// strangers read.
func maskNotes(ups []api.StatusUpdate) []api.StatusUpdate {
	out := make([]api.StatusUpdate, len(ups))
	for i, u := range ups {
		u.Note = pii.MaskText(u.Note)
		out[i] = u
	}
	return out
}

func (s *Server) rateLimited(w http.ResponseWriter, msg string, retry time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds())+1))
	writeError(w, http.StatusTooManyRequests, api.ErrorResponse{Code: api.CodeRateLimited, Message: msg})
}

// uploadQuota checks that kiosk may start (or go on with) an upload of sha
// of length bytes. Uploads it has already begun always go on; otherwise its
// unfinished uploads that grew within PartialTTL count, those another
// kiosk has meanwhile completed excepted. msg is non-empty when refused.
func (s *Server) uploadQuota(ctx context.Context, kiosk, sha string, length int64, now time.Time) (msg string, err error) {
	us, err := s.cfg.Store.Unfinished(ctx, kiosk, now.Add(-s.limits.PartialTTL))
	if err != nil {
		return "", err
	}
	count, bytes := 0, int64(0)
	for _, u := range us {
		if u.SHA256 == sha {
			return "", nil
		}
		done, _, err := s.cfg.Blobs.Complete(ctx, u.SHA256)
		if err != nil {
			return "", err
		}
		if done {
			if err := s.cfg.Store.UploadDone(ctx, u.SHA256); err != nil {
				return "", err
			}
			continue
		}
		count++
		bytes += u.Length
	}
	if count+1 > s.limits.UploadQuotaCount {
		return fmt.Sprintf("this kiosk has %d unfinished uploads (limit %d); finish them first", count, s.limits.UploadQuotaCount), nil
	}
	if bytes+length > s.limits.UploadQuotaBytes {
		return fmt.Sprintf("this kiosk's unfinished uploads would hold %d bytes (limit %d); finish them first", bytes+length, s.limits.UploadQuotaBytes), nil
	}
	return "", nil
}
