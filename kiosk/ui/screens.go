package ui

import (
	"slices"
	"strings"

	"fyne.io/fyne/v2"

	"onedoor/kiosk/catalog"
	"onedoor/kiosk/flow"
	"onedoor/kiosk/i18n"
)

// screen draws one step of the session and owns the scratch input typed on
// it, which the flow does not model. Kiosk calls leave when the resident
// leaves the step and wipe when the session returns Home, so no personal
// datum outlives the session in the widget tree.
type screen interface {
	draw(s flow.State) fyne.CanvasObject
	leave()
	wipe()
}

// newScreens makes one screen per step.
func newScreens(k *Kiosk) map[flow.Step]screen {
	return map[flow.Step]screen{
		flow.StepHome:        &homeScreen{k: k},
		flow.StepCatalog:     &catalogScreen{k: k},
		flow.StepGuide:       &guideScreen{k: k},
		flow.StepIdentify:    &identifyScreen{k: k},
		flow.StepForm:        &formScreen{k: k, keypadKind: map[string]KeypadKind{}},
		flow.StepMaterials:   &materialsScreen{k: k},
		flow.StepReview:      &reviewScreen{k: k},
		flow.StepSubmitting:  &submittingScreen{k: k},
		flow.StepReceipt:     &receiptScreen{k: k},
		flow.StepRating:      &ratingScreen{k: k},
		flow.StepLookup:      &lookupScreen{k: k},
		flow.StepEligibility: &eligibilityScreen{k: k},
		flow.StepThanks:      &thanksScreen{k: k},
	}
}

// Screens without input of their own.
func (*homeScreen) leave()       {}
func (*homeScreen) wipe()        {}
func (*guideScreen) leave()      {}
func (*guideScreen) wipe()       {}
func (*materialsScreen) leave()  {}
func (*materialsScreen) wipe()   {}
func (*reviewScreen) leave()     {}
func (*reviewScreen) wipe()      {}
func (*submittingScreen) leave() {}
func (*submittingScreen) wipe()  {}
func (*receiptScreen) leave()    {}
func (*receiptScreen) wipe()     {}
func (*ratingScreen) leave()     {}
func (*ratingScreen) wipe()      {}

func (k *Kiosk) itemName(it *catalog.Item) string {
	if it == nil {
		return ""
	}
	return k.tr.Pick(it.Name, it.NameEN)
}

// agency is the implementing body's name in the current language.
func (k *Kiosk) agency(it *catalog.Item) string {
	return k.tr.Pick(it.Agency.Name, it.Agency.NameEN)
}

// lines picks a list of catalog lines in the current language: the English
// line where there is one, else the Chinese (en is line for line, as the
// catalog validates).
func (k *Kiosk) lines(zh, en []string) []string {
	out := make([]string, len(zh))
	for i, l := range zh {
		if i < len(en) {
			l = k.tr.Pick(l, en[i])
		}
		out[i] = l
	}
	return out
}

// place is where an item is handled, address and window, in the current
// language.
func (k *Kiosk) place(p catalog.Place) string {
	addr, window := k.tr.Pick(p.Address, p.AddressEN), k.tr.Pick(p.Window, p.WindowEN)
	sep := " "
	if k.tr.Lang() == i18n.EN && p.AddressEN != "" && p.WindowEN != "" {
		sep = ", "
	}
	if addr == "" || window == "" {
		sep = ""
	}
	return strings.TrimSpace(addr + sep + window)
}

// newKeypad makes the screen's keypad writing into target; every key
// restarts the idle timer. slot names the input on this screen: each key
// tap redraws the whole screen (the idle timer is reset through the flow),
// so the keypad of the previous drawing of the same slot hands over its
// layout and unfinished pinyin, which would otherwise be lost with every
// letter. target also gets the canvas focus after the redraw (see Render).
func (k *Kiosk) newKeypad(slot string, target *Field, modes ...KeypadKind) *Keypad {
	kp := NewKeypad(k.tr, k.opts.Dict, k.availableModes(modes)...)
	kp.OnKey = k.touch
	kp.SetTarget(target)
	if k.prevKeypad != nil && k.prevSlot == slot {
		kp.takeOver(k.prevKeypad)
	}
	k.keypad, k.keypadSlot, k.target = kp, slot, target
	return kp
}

func (k *Kiosk) availableModes(modes []KeypadKind) []KeypadKind {
	if k.tr.Lang() == i18n.EN && slices.Contains(modes, KeypadLatin) {
		// Someone reading the English screens most likely types Latin
		// letters: open on ABC, with 拼音 a tap away.
		i := slices.Index(modes, KeypadLatin)
		modes = append(append([]KeypadKind{KeypadLatin}, modes[:i]...), modes[i+1:]...)
	}
	if k.opts.Dict != nil {
		return modes
	}
	var out []KeypadKind
	for _, m := range modes {
		if m != KeypadPinyin {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		out = []KeypadKind{KeypadLatin}
	}
	return out
}

// Keypad is the keypad on screen, nil when there is none.
func (k *Kiosk) Keypad() *Keypad { return k.keypad }

// colon separates a label from its value in the current language.
func (k *Kiosk) colon() string {
	if k.tr.Lang() == i18n.EN {
		return ": "
	}
	return "："
}
