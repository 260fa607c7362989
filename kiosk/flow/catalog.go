package flow

import (
	"strings"

	"onedoor/kiosk/catalog"
)

func (m *Machine) chooseTheme(theme string) []Effect {
	s := &m.s
	if s.step == StepCatalog {
		if theme != "" {
			if _, ok := m.cat.Theme(theme); !ok {
				s.err = Message{Key: "err.unknown_theme"}
				return nil
			}
		}
		s.theme, s.query, s.err = theme, "", Message{}
	}
	return nil
}

func (m *Machine) searchCatalog(query string) []Effect {
	s := &m.s
	if s.step == StepCatalog {
		s.query, s.theme, s.err = strings.TrimSpace(query), "", Message{}
	}
	return nil
}

func (m *Machine) selectItem(id string) []Effect {
	s := &m.s
	if s.step != StepHome && s.step != StepCatalog {
		return nil
	}
	it, ok := m.cat.Item(id)
	if !ok || it.Status != "active" {
		s.err = Message{Key: "err.unknown_item"}
		return []Effect{Beep{Kind: BeepError}}
	}
	s.guideFrom = s.step
	s.item, s.err = it, Message{}
	s.step = StepGuide
	return nil
}

func canApply(it *catalog.Item) bool {
	return it != nil && it.Kiosk.Supported && it.Kiosk.Mode == "full_apply"
}
