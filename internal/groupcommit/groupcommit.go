// Package groupcommit holds the one rule every group commit in OneDoor
// follows: wait for the first request, then take, without waiting, every
// request that arrived meanwhile (while the previous group was being
// written), up to a bound. The requests that pile up during one flush share
// the next one; a lone request never waits for company.
//
// The platform's SQLite intake, its blob pack files and its PostgreSQL
// intake pipeline all collect their groups this way.
package groupcommit

// Next returns the next group from in: the first request (blocking until
// one comes or quit is closed), then those already waiting, at most max in
// all. ok is false when quit closed before a request came.
func Next[T any](in <-chan T, quit <-chan struct{}, max int) (group []T, ok bool) {
	select {
	case r := <-in:
		group = append(group, r)
	case <-quit:
		return nil, false
	}
	for len(group) < max {
		select {
		case r := <-in:
			group = append(group, r)
		default:
			return group, true
		}
	}
	return group, true
}
