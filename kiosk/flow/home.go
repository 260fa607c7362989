package flow

func (m *Machine) setElderMode(on bool) []Effect {
	m.s.elder = on
	return nil
}

func (m *Machine) start() []Effect {
	s := &m.s
	if s.step == StepHome {
		s.step = StepCatalog
		s.err = Message{}
	}
	return nil
}

func (m *Machine) openLookup() []Effect {
	s := &m.s
	if s.step == StepHome {
		s.step = StepLookup
		s.err = Message{}
		s.lookup = LookupState{}
	}
	return nil
}
