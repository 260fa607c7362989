package flow

import (
	"strings"
)

func (m *Machine) rate(level int) []Effect {
	s := &m.s
	if s.step == StepRating {
		if level < VeryDissatisfied || level > VerySatisfied {
			s.err = Message{Key: "err.rating_choose"}
			return nil
		}
		s.ratingLevel, s.err = level, Message{}
	}
	return nil
}

func (m *Machine) setRatingReason(reason string) []Effect {
	s := &m.s
	if s.step == StepRating {
		s.ratingReason = strings.TrimSpace(reason)
		if s.ratingReason != "" && s.err.Key == "err.rating_reason_required" {
			s.err = Message{}
		}
	}
	return nil
}

func (m *Machine) skipRating() []Effect {
	if m.s.step == StepRating {
		return m.end(EndDone)
	}
	return nil
}

func (m *Machine) sendRating() []Effect {
	s := &m.s
	if s.step != StepRating {
		return nil
	}
	if s.ratingLevel == 0 {
		s.err = Message{Key: "err.rating_choose"}
		return []Effect{Beep{Kind: BeepError}}
	}
	if s.ratingLevel <= Dissatisfied && s.ratingReason == "" {
		s.err = Message{Key: "err.rating_reason_required"}
		return []Effect{Beep{Kind: BeepError}}
	}
	r := Rating{Level: s.ratingLevel, Reason: s.ratingReason, At: m.opts.Now(), ItemCode: s.item.Codes.Task}
	if s.receipt != nil {
		r.ReceiptNo = s.receipt.Number
	}
	return append([]Effect{RecordRating{Rating: r}}, m.end(EndDone)...)
}
