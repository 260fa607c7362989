// Package catalog loads and validates the service catalog (办事指南目录) that
// the kiosk shows and applies for, and computes promised completion dates on
// a working-day calendar with Chinese public holidays and make-up working
// days (调休).
//
// The JSON shape follows the schema proposed in the project's domain notes
// (§2.3), which in turn mirrors the national 政务服务事项 sync tables; field
// names are ours, the national column names are given in the comments. Three
// additions are ours: themes are declared once at the top with their labels,
// each item carries the form fields the kiosk asks for, and what a resident
// reads may have an optional English version beside it (name_en, hint_en,
// address_en, accept_conditions_en line for line, …), which the kiosk
// shows in English mode and falls back from to the Chinese when empty.
//
// Typical use:
//
//	cat, err := catalog.Parse(assets.SampleCatalog) // parses and validates
//	items := cat.Search("社保")                      // what the resident sees
//	cal, err := catalog.ParseCalendar(assets.Holidays)
//	due, err := cal.DueDate(acceptedAt, item.TimeLimit.Promised)
//
// A catalog that fails validation is rejected as a whole with every problem
// listed (errors.Is(err, ErrInvalid)), so a bad update from the platform never
// replaces a good cached one.
//
// The holiday calendar is a separate JSON file (assets/catalog/holidays.json):
//
//	{"source": "国办发明电〔2025〕7号", "years": [2026],
//	 "holidays": [{"name": "国庆节", "from": "2026-10-01", "to": "2026-10-07"}],
//	 "workdays": [{"date": "2026-10-10", "for": "国庆节"}]}
//
// Working days are Monday to Friday minus holidays plus the listed make-up
// days (调休上班). A date in a year not listed is an error (ErrNotCovered),
// never a guess: the State Council announces each year's schedule only late
// in the year before, so the file must be extended yearly (or replaced by the
// platform's calendar).
package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid marks a catalog or calendar that does not pass validation.
var ErrInvalid = errors.New("catalog: invalid")

// SchemaVersion is the catalog schema this package understands.
const SchemaVersion = "1"

// Catalog is a set of service items for one region.
type Catalog struct {
	SchemaVersion string  `json:"schema_version"`
	Sample        bool    `json:"sample"` // true for demonstration data, never real guidance
	Notice        string  `json:"notice,omitempty"`
	Region        Region  `json:"region"`
	Themes        []Theme `json:"themes"`
	Items         []Item  `json:"items"`
	UpdatedAt     string  `json:"updated_at"`
}

// Region says where the catalog applies (行政区划).
type Region struct {
	Code        string `json:"code"` // 6-digit administrative division code, e.g. 441900 Dongguan
	Name        string `json:"name"`
	TownCode    string `json:"town_code"`
	TownName    string `json:"town_name"`
	VillageCode string `json:"village_code"`
	VillageName string `json:"village_name"`
}

// Theme groups items for browsing (主题分类).
type Theme struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	NameEN string `json:"name_en,omitempty"`
}

// Item is one service item (政务服务事项, at the 业务办理项 level).
type Item struct {
	ID               string   `json:"id"`
	Name             string   `json:"name"` // task_name 事项名称
	NameEN           string   `json:"name_en,omitempty"`
	Codes            Codes    `json:"codes"`
	Type             string   `json:"type"` // task_type 事项类型: XK QR GF JL CJ BA QT GG
	Version          int      `json:"version"`
	Status           string   `json:"status"` // active | suspended
	Agency           Agency   `json:"agency"`
	Level            string   `json:"level"`        // use_level 行使层级
	PowerSource      string   `json:"power_source"` // power_source 权力来源 1..6
	Audience         []string `json:"audience"`     // server_type 服务对象: person, org
	Themes           []string `json:"themes"`       // theme ids
	Popular          bool     `json:"popular,omitempty"`
	Keywords         []string `json:"keywords,omitempty"`
	LegalBasis       []string `json:"legal_basis"`       // by_law 设定依据
	AcceptConditions []string `json:"accept_conditions"` // accept_condition 受理条件
	// AcceptConditionsEN is accept_conditions in English, line for line
	// (empty, or as many lines).
	AcceptConditionsEN []string      `json:"accept_conditions_en,omitempty"`
	Process            []ProcessStep `json:"process"` // handle_flow 办理流程
	TimeLimit          TimeLimits    `json:"time_limit"`
	CaseKind           string        `json:"case_kind"` // project_type 办件类型: instant | promised
	Fees               []Fee         `json:"fees"`
	VisitsRequired     int           `json:"visits_required"` // limit_scene_num 到办事现场次数
	HandleForms        []string      `json:"handle_forms"`    // handle_type 办理形式
	Places             []Place       `json:"places"`          // transact_addr / transact_time
	Consult            []Contact     `json:"consult"`         // link_way 咨询方式
	Complaint          []Contact     `json:"complaint"`       // supervise_way 监督投诉方式
	CrossScope         string        `json:"cross_scope"`     // handle_area 通办范围
	Kiosk              KioskSupport  `json:"kiosk"`           // is_service_terminals
	Results            []Result      `json:"results"`
	Materials          []Material    `json:"materials"`
	Form               []Field       `json:"form"`
	// Eligibility is the machine-checkable part of accept_conditions,
	// evaluated right after identity.
	Eligibility []Rule `json:"eligibility,omitempty"`
	// AgentAllowed opens the 代办 path: an agent whose card is read
	// applies for a principal whose name and number they type.
	AgentAllowed bool `json:"agent_allowed,omitempty"`
	// Yields is the e-certificate the platform issues, sealed by the
	// item's agency, when staff approve an application (issue 13).
	Yields    *Yield `json:"yields,omitempty"`
	FAQ       []FAQ  `json:"faq"`
	UpdatedAt string `json:"updated_at"`
}

// Codes are the item's national and local codes.
type Codes struct {
	Catalog    string  `json:"catalog"`     // catalog_code 基本编码, 12 chars
	Task       string  `json:"task"`        // task_code 实施编码, ≤36 chars
	HandleItem *string `json:"handle_item"` // task_handle_item 业务办理项编码
	LocalTask  *string `json:"local_task"`  // local_task_code 地方实施编码
}

// Agency is the implementing body (实施主体).
type Agency struct {
	Name        string  `json:"name"`
	NameEN      string  `json:"name_en,omitempty"`
	USCC        string  `json:"uscc"`   // 统一社会信用代码, 18 chars
	Nature      string  `json:"nature"` // legal | authorized | entrusted
	EntrustedBy *string `json:"entrusted_by"`
}

// ProcessStep is one step of handle_flow.
type ProcessStep struct {
	Step string `json:"step"`
	Desc string `json:"desc"`
	Days int    `json:"days"`
}

// TimeLimits are the legal (法定) and promised (承诺) completion limits.
type TimeLimits struct {
	Legal    Limit `json:"legal"`
	Promised Limit `json:"promised"`
}

// Limit is a duration in working days or natural days.
type Limit struct {
	Value int    `json:"value"`
	Unit  string `json:"unit"` // workday | day
	Note  string `json:"note"`
}

// Fee is one fee item (收费项目).
type Fee struct {
	Name       string `json:"name"`
	NameEN     string `json:"name_en,omitempty"`
	Standard   string `json:"standard"`
	StandardEN string `json:"standard_en,omitempty"`
	Basis      string `json:"basis"`
	Waivable   bool   `json:"waivable"`
}

// Place is where and when the item is handled in person.
type Place struct {
	Address   string `json:"address"`
	AddressEN string `json:"address_en,omitempty"`
	Window    string `json:"window"`
	WindowEN  string `json:"window_en,omitempty"`
	Hours     string `json:"hours"`
	HoursEN   string `json:"hours_en,omitempty"`
	Map       string `json:"map"`
}

// Contact is a way to ask or complain.
type Contact struct {
	Kind  string `json:"kind"` // phone | window | web
	Value string `json:"value"`
}

// KioskSupport says what a self-service terminal may do with the item.
type KioskSupport struct {
	Supported bool   `json:"supported"`
	Mode      string `json:"mode"` // guide_only | prefill | full_apply | print_only
}

// Result is what the applicant receives (审批结果).
type Result struct {
	Name       string   `json:"name"`
	Type       string   `json:"type"` // licence | approval | other | none
	Delivery   []string `json:"delivery"`
	Validity   string   `json:"validity"`
	SampleFile *string  `json:"sample_file"`
}

// Material is one application material (申请材料).
type Material struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	NameEN         string    `json:"name_en,omitempty"`
	Required       string    `json:"required"` // yes | no | conditional | deferrable
	Condition      string    `json:"condition"`
	ConditionEN    string    `json:"condition_en,omitempty"`
	Form           string    `json:"form"`   // original | copy | original_or_copy | original_and_copy
	Medium         string    `json:"medium"` // paper | electronic | paper_or_electronic | paper_and_electronic
	Copies         Copies    `json:"copies"`
	PaperSpec      string    `json:"paper_spec"`
	Source         string    `json:"source"` // applicant | government_issued | other
	SourceNote     string    `json:"source_note"`
	ELicence       *ELicence `json:"e_licence"`
	PromiseAllowed bool      `json:"promise_allowed"`
	// PromiseText is the 告知承诺 the resident accepts instead of the
	// material, shown in full and printed on the receipt.
	PromiseText        string  `json:"promise_text,omitempty"`
	PromiseTextEN      string  `json:"promise_text_en,omitempty"`
	SharedVerification bool    `json:"shared_verification"`
	BlankForm          *string `json:"blank_form"`
	Example            *string `json:"example"`
	FillNotes          string  `json:"fill_notes"`
	AcceptanceStandard string  `json:"acceptance_standard"`
	Basis              string  `json:"basis"`
	MaxPages           int     `json:"max_pages,omitempty"` // 0 means DefaultMaxPages
	// ReusableDays: pages handed in for an accepted application may be
	// reused by the same resident for this many days (一次提交、多次复用);
	// 0 never.
	ReusableDays int `json:"reusable_days,omitempty"`
}

// Yield is the certificate an item's approval issues: its type, how long
// it is valid (0: 长期) and which form values it carries (certificate
// field name -> form field name; "applicant_name" is the applicant's name),
// in FieldOrder.
type Yield struct {
	TypeCode   string            `json:"type_code"`
	TypeName   string            `json:"type_name"`
	ValidDays  int               `json:"valid_days,omitempty"`
	Fields     map[string]string `json:"fields,omitempty"`
	FieldOrder []string          `json:"field_order,omitempty"`
}

// DefaultMaxPages bounds the pages scanned for one material when the catalog
// does not say.
const DefaultMaxPages = 10

// PageLimit is the most pages the kiosk accepts for the material.
func (m Material) PageLimit() int {
	if m.MaxPages > 0 {
		return m.MaxPages
	}
	return DefaultMaxPages
}

// IsRequired reports whether the kiosk must have the material before it lets
// the resident submit. Conditional and deferrable (容缺) materials are not
// enforced: the window checks them.
func (m Material) IsRequired() bool { return m.Required == "yes" }

// ECertAllowed reports whether the platform can fetch the material as an
// electronic licence instead of a scan (免提交).
func (m Material) ECertAllowed() bool { return m.ELicence != nil && m.ELicence.ReplacesSubmission }

// Copies counts the paper originals and copies.
type Copies struct {
	Original int `json:"original"`
	Copy     int `json:"copy"`
}

// ELicence links a material to an electronic licence type (电子证照).
type ELicence struct {
	TypeCode           *string `json:"type_code"`
	ReplacesSubmission bool    `json:"replaces_submission"`
}

// Field is one field of the item's application form.
type Field struct {
	Name     string     `json:"name"`
	Label    string     `json:"label"`
	LabelEN  string     `json:"label_en,omitempty"`
	Kind     FieldKind  `json:"kind"`
	Required bool       `json:"required"`
	Prefill  PrefillKey `json:"prefill,omitempty"`
	Options  []Option   `json:"options,omitempty"`
	MaxLen   int        `json:"max_len,omitempty"`
	Hint     string     `json:"hint,omitempty"`
	HintEN   string     `json:"hint_en,omitempty"`
}

// Option is one choice of a select field.
type Option struct {
	Value   string `json:"value"`
	Label   string `json:"label"`
	LabelEN string `json:"label_en,omitempty"`
}

// FAQ is a common question (常见问题).
type FAQ struct {
	Q string `json:"q"`
	A string `json:"a"`
}

// Parse decodes and validates a catalog. Unknown fields are rejected so that
// a typo in a hand-edited catalog is caught rather than silently ignored.
func Parse(data []byte) (*Catalog, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Catalog
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: decoding: %w", ErrInvalid, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after the catalog object", ErrInvalid)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Item returns the item with the given id.
func (c *Catalog) Item(id string) (*Item, bool) {
	for i := range c.Items {
		if c.Items[i].ID == id {
			return &c.Items[i], true
		}
	}
	return nil, false
}

// Theme returns the theme with the given id.
func (c *Catalog) Theme(id string) (Theme, bool) {
	for _, t := range c.Themes {
		if t.ID == id {
			return t, true
		}
	}
	return Theme{}, false
}

// ByTheme lists the active items of a theme in catalog order.
func (c *Catalog) ByTheme(theme string) []*Item {
	var out []*Item
	for i := range c.Items {
		it := &c.Items[i]
		if it.Status != "active" {
			continue
		}
		for _, t := range it.Themes {
			if t == theme {
				out = append(out, it)
				break
			}
		}
	}
	return out
}

// Popular lists the active items marked popular, for shortcuts on Home.
func (c *Catalog) Popular() []*Item {
	var out []*Item
	for i := range c.Items {
		if c.Items[i].Status == "active" && c.Items[i].Popular {
			out = append(out, &c.Items[i])
		}
	}
	return out
}

// Search lists the active items whose name, English name, keywords or theme
// names contain every space-separated word of the query (case-insensitive).
// A word of ASCII letters only also matches the pinyin of the Chinese name,
// keywords and theme names, by initials or full pinyin (see matchPinyin):
// the catalog's search box is typed on the on-screen Latin/pinyin keypad,
// and a resident finds 居住证申领 faster by typing jzz than by picking
// three characters from candidate lists. An empty query lists every active
// item.
func (c *Catalog) Search(query string) []*Item {
	words := strings.Fields(strings.ToLower(query))
	var out []*Item
	for i := range c.Items {
		it := &c.Items[i]
		if it.Status != "active" {
			continue
		}
		hay := c.haystack(it)
		ok := true
		for _, w := range words {
			if !strings.Contains(hay, w) && !(isPinyinQuery(w) && c.matchesPinyin(it, w)) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, it)
		}
	}
	return out
}

// matchesPinyin reports whether the pinyin word w spells part of the item's
// Chinese name, one of its keywords or one of its theme names.
func (c *Catalog) matchesPinyin(it *Item, w string) bool {
	if matchPinyin(it.Name, w) {
		return true
	}
	for _, k := range it.Keywords {
		if matchPinyin(k, w) {
			return true
		}
	}
	for _, t := range it.Themes {
		if th, ok := c.Theme(t); ok && matchPinyin(th.Name, w) {
			return true
		}
	}
	return false
}

func (c *Catalog) haystack(it *Item) string {
	var b strings.Builder
	b.WriteString(it.Name)
	b.WriteByte('\n')
	b.WriteString(it.NameEN)
	for _, k := range it.Keywords {
		b.WriteByte('\n')
		b.WriteString(k)
	}
	for _, t := range it.Themes {
		if th, ok := c.Theme(t); ok {
			b.WriteByte('\n')
			b.WriteString(th.Name)
			b.WriteByte('\n')
			b.WriteString(th.NameEN)
		}
	}
	return strings.ToLower(b.String())
}
