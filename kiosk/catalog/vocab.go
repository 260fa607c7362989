package catalog

// FieldKind is what a form field holds; it decides validation and keypad.
type FieldKind string

// Field kinds.
const (
	KindText     FieldKind = "text"
	KindTextarea FieldKind = "textarea"
	KindPhone    FieldKind = "phone"
	KindDate     FieldKind = "date"
	KindIDNumber FieldKind = "id_number"
	KindSelect   FieldKind = "select"
	KindNumber   FieldKind = "number"
)

// FieldKinds lists every field kind.
var FieldKinds = []FieldKind{KindText, KindTextarea, KindPhone, KindDate, KindIDNumber, KindSelect, KindNumber}

// PrefillKey names the datum of the identified applicant a field is filled
// with. The catalog says per field what may be filled; a field filled from
// a card read is locked and labelled 来自身份证, anything else stays
// editable. 现居住地址 (current address) is never one of them: the card
// holds the 户籍 address only.
type PrefillKey string

// Prefill keys.
const (
	PrefillNone     PrefillKey = ""
	PrefillName     PrefillKey = "name"
	PrefillIDNumber PrefillKey = "id_number"
	PrefillGender   PrefillKey = "gender"
	PrefillBirth    PrefillKey = "birth"
	PrefillNation   PrefillKey = "nation"
	// PrefillCardAddress is the address printed on the card, the
	// registered (户籍) address.
	PrefillCardAddress PrefillKey = "card_address"
)

// PrefillKeys lists every prefill key, PrefillNone included.
var PrefillKeys = []PrefillKey{PrefillNone, PrefillName, PrefillIDNumber, PrefillGender, PrefillBirth, PrefillNation, PrefillCardAddress}

// RuleKind is a kind of machine-checkable 受理条件.
type RuleKind string

// Eligibility rule kinds.
const (
	// RuleMinAge: the applicant is at least Years old on the application
	// date, or on On (YYYY-MM-DD) when the item names a date.
	RuleMinAge RuleKind = "min_age"
	// RuleMaxAge: the applicant is at most Years old (not yet Years+1).
	RuleMaxAge RuleKind = "max_age"
	// RuleHukou: registered (户籍) in Region: the card address starts
	// with AddressPrefix (Source card_address), or the ID number starts
	// with Region's code (Source id_number: the region where the number
	// was issued, which is where the resident was first registered).
	RuleHukou RuleKind = "hukou"
	// RuleCardValid: the applicant's own card, read at the kiosk, is valid
	// on the application date for at least Days more days.
	RuleCardValid RuleKind = "card_valid"
	// RuleConfirm: a condition the kiosk cannot check; the resident
	// confirms it before typing anything.
	RuleConfirm RuleKind = "confirm"
)

// RuleKinds lists every rule kind.
var RuleKinds = []RuleKind{RuleMinAge, RuleMaxAge, RuleHukou, RuleCardValid, RuleConfirm}

// Rule sources for RuleHukou.
const (
	SourceCardAddress = "card_address"
	SourceIDNumber    = "id_number"
)

// Rule is one 受理条件 the kiosk checks (or asks the resident to confirm)
// right after identity, before the form.
type Rule struct {
	Kind RuleKind `json:"kind"`
	// Text is the condition as the resident reads it, e.g. 年满80周岁.
	Text   string `json:"text"`
	TextEN string `json:"text_en,omitempty"`
	// Years for min_age and max_age; On the date to compute the age on
	// (YYYY-MM-DD), empty for the application date.
	Years int    `json:"years,omitempty"`
	On    string `json:"on,omitempty"`
	// Region code prefix (e.g. 4419) and card address prefix (e.g.
	// 广东省东莞市) for hukou; Source says which one is checked.
	Region        string `json:"region,omitempty"`
	AddressPrefix string `json:"address_prefix,omitempty"`
	Source        string `json:"source,omitempty"`
	// Outside turns hukou around: the applicant must be registered
	// outside the region (a residence permit is for newcomers).
	Outside bool `json:"outside,omitempty"`
	// Days of validity left, for card_valid.
	Days int `json:"days,omitempty"`
	// Elsewhere says where a resident who does not meet the condition can
	// go instead; empty sends them to the item's place.
	Elsewhere   string `json:"elsewhere,omitempty"`
	ElsewhereEN string `json:"elsewhere_en,omitempty"`
}
