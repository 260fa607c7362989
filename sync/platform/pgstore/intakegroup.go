package pgstore

import (
	"context"
	"errors"
	"onedoor/internal/groupcommit"
	"time"

	"github.com/jackc/pgx/v5"
)

// Intakes that arrive together (a kiosk's batch: up to 64 submissions
// taken at once, from several kiosks on a busy morning) are sent to
// PostgreSQL together: one pipeline of intake() calls on one connection,
// one implicit transaction, one commit. Sent one by one, each woke a
// backend of its own and paid a round trip and a commit; on two cores the
// sixteen backends of one batch mostly waited for each other.
//
// The group is atomic: its calls commit together or not at all. intake()
// answers replays, conflicts and taken receipts as outcomes, not errors, so
// a group fails only on the rare race of two keys inserting one receipt,
// a deadlock between two groups locking the same keys in another order,
// or the database going away; then every call of the group is made again
// alone, where each gets its own answer. A call made again after its group
// failed was not stored by it (the transaction rolled back), so nothing is
// stored twice and no case number is taken twice.
const (
	// intakeGroupMax bounds one pipeline.
	intakeGroupMax = 64
	// intakeSenders is how many groups are in flight at once per
	// instance. One makes the largest groups (every intake that arrives
	// while a group commits joins the next): measured on the 2-core
	// machine, draining through two instances ran at 740 submissions/s
	// with one sender, 688 with two, 631 with four, 582 ungrouped; the
	// 200-kiosk intake at 1,759/s with one, 2,405 with two, 1,541
	// ungrouped. The drain is what a city's morning after an outage looks
	// like, and both are well over the 1,000/s a city needs.
	intakeSenders = 1
)

type intakeCall struct {
	args []any
	done chan intakeAnswer
}

type intakeAnswer struct {
	outcome string
	status  *int
	body    []byte
	err     error
}

const qIntake = `SELECT outcome, resp_status, resp_body FROM intake($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21)`

// callIntake runs intake() with args, grouped with the calls that arrive
// at the same time.
func (s *Store) callIntake(ctx context.Context, args []any) intakeAnswer {
	c := &intakeCall{args: args, done: make(chan intakeAnswer, 1)}
	s.handing.Add(1)
	select {
	case s.intakes <- c:
		s.handing.Add(-1)
	case <-ctx.Done():
		s.handing.Add(-1)
		return intakeAnswer{err: ctx.Err()}
	case <-s.quit:
		s.handing.Add(-1)
		return intakeAnswer{err: errors.New("pgstore: closed")}
	}
	select {
	case a := <-c.done:
		return a
	case <-ctx.Done():
		// The group still answers into the buffered channel; the
		// submission may be stored, and the kiosk's retry replays it.
		return intakeAnswer{err: ctx.Err()}
	}
}

// intakeSender sends groups of intake calls until the store is closed.
func (s *Store) intakeSender() {
	defer s.senders.Done()
	for {
		group, ok := groupcommit.Next(s.intakes, s.quit, intakeGroupMax)
		if !ok {
			return
		}
		s.sendIntakes(group)
	}
}

func (s *Store) sendIntakes(group []*intakeCall) {
	// The callers' contexts end with their requests; a group serves
	// several, so it runs on its own bounded context.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if len(group) > 1 {
		answers, err := s.pipeline(ctx, group)
		if err == nil {
			for i, c := range group {
				c.done <- answers[i]
			}
			return
		}
		s.regrouped.Add(int64(len(group)))
	}
	for _, c := range group {
		var a intakeAnswer
		a.err = s.pool.QueryRow(ctx, qIntake, c.args...).Scan(&a.outcome, &a.status, &a.body)
		c.done <- a
	}
}

// pipeline sends group's calls in one batch: one implicit transaction.
func (s *Store) pipeline(ctx context.Context, group []*intakeCall) ([]intakeAnswer, error) {
	b := &pgx.Batch{}
	for _, c := range group {
		b.Queue(qIntake, c.args...)
	}
	answers := make([]intakeAnswer, len(group))
	br := s.pool.SendBatch(ctx, b)
	var err error
	for i := range group {
		a := &answers[i]
		if err = br.QueryRow().Scan(&a.outcome, &a.status, &a.body); err != nil {
			break
		}
	}
	// Close reads the end of the batch: its commit. Answers count only
	// once it returned without error.
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return answers, err
}
