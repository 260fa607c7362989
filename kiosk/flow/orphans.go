package flow

import "slices"

// orphans are the sequence numbers of requests (scans, progress lookups)
// still outstanding when a session ended: their answers belong to a
// previous resident and must never reach the next one.
type orphans []uint64

// take reports whether an answer echoing seq answers an orphan, and
// forgets that request. Answers echoing their Seq are matched exactly; for
// answers without it (Seq 0) the oldest orphan is assumed, since a device
// or the platform answers in order.
func (o *orphans) take(seq uint64) bool {
	if len(*o) == 0 {
		return false
	}
	if seq == 0 {
		*o = (*o)[1:]
		return true
	}
	if i := slices.Index(*o, seq); i >= 0 {
		*o = slices.Delete(*o, i, i+1)
		return true
	}
	return false
}
