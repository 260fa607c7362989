package flow

import (
	"strings"
	"unicode/utf8"

	"onedoor/kiosk/catalog"
)

func (m *Machine) setField(name, value string) []Effect {
	s := &m.s
	if s.step != StepForm {
		return nil
	}
	for i := range s.fields {
		f := &s.fields[i]
		if f.Field.Name != name {
			continue
		}
		if f.Locked {
			f.Error = Message{Key: "err.field_locked"}
			return nil
		}
		f.Value = value
		f.Error = Message{}
		if s.err.Key == "err.form_incomplete" && m.allFieldErrorsClear() {
			s.err = Message{}
		}
		return nil
	}
	s.err = Message{Key: "err.unknown_field"}
	return nil
}

func (m *Machine) allFieldErrorsClear() bool {
	for _, f := range m.s.fields {
		if !f.Error.IsZero() {
			return false
		}
	}
	return true
}

// validateFields checks every field and records per-field errors.
func (m *Machine) validateFields() bool {
	ok := true
	for i := range m.s.fields {
		f := &m.s.fields[i]
		v, msg := m.checkField(f.Field, f.Value)
		f.Error = msg
		if msg.IsZero() {
			f.Value = v
		} else {
			ok = false
		}
	}
	return ok
}

// checkField validates one value and returns it normalised.
func (m *Machine) checkField(f catalog.Field, v string) (string, Message) {
	v = strings.TrimSpace(v)
	if v == "" {
		if f.Required {
			return v, Message{Key: "err.field_required"}
		}
		return v, Message{}
	}
	if f.MaxLen > 0 && utf8.RuneCountInString(v) > f.MaxLen {
		return v, Message{Key: "err.field_too_long", Args: []any{f.MaxLen}}
	}
	switch f.Kind {
	case catalog.KindPhone:
		if !validMobile(v) {
			return v, Message{Key: "err.phone_invalid"}
		}
	case catalog.KindDate:
		d, ok := normaliseDate(v)
		if !ok {
			return v, Message{Key: "err.date_invalid"}
		}
		v = d
	case catalog.KindIDNumber:
		n, err := ValidateIDNumber(v, m.opts.Now())
		if err != nil {
			return v, Message{Key: "err.id_invalid"}
		}
		v = n
	case catalog.KindNumber:
		if strings.Trim(v, "0123456789") != "" {
			return v, Message{Key: "err.number_invalid"}
		}
	case catalog.KindSelect:
		found := false
		for _, o := range f.Options {
			if o.Value == v {
				found = true
				break
			}
		}
		if !found {
			return v, Message{Key: "err.option_invalid"}
		}
	}
	return v, Message{}
}
