package platform

import (
	"log/slog"

	"onedoor/pii"
)

// NewMaskingHandler wraps h so ID numbers and phone numbers never reach the
// log in clear. The platform never logs applicant fields on purpose; this is
// defence in depth against an error message that quotes one.
func NewMaskingHandler(h slog.Handler) slog.Handler { return pii.NewMaskingHandler(h) }
