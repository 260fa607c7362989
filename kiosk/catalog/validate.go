package catalog

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Enumerations accepted by Validate. They follow the code lists of the
// domain notes (§2.2); values outside them are rejected rather than guessed.
var (
	itemTypes      = []string{"XK", "QR", "GF", "JL", "CJ", "BA", "QT", "GG", "CF", "QZ", "ZS", "JC"}
	itemStatuses   = []string{"active", "suspended"}
	natures        = []string{"legal", "authorized", "entrusted"}
	levels         = []string{"country", "province", "city", "county", "town", "village"}
	powerSources   = []string{"1", "2", "3", "4", "5", "6"}
	audiences      = []string{"person", "org"}
	limitUnits     = []string{"workday", "day"}
	caseKinds      = []string{"instant", "promised"}
	handleForms    = []string{"window", "online", "post", "doorstep"}
	crossScopes    = []string{"country", "province", "city", "county", "town", "village"}
	kioskModes     = []string{"guide_only", "prefill", "full_apply", "print_only"}
	resultTypes    = []string{"licence", "approval", "other", "none"}
	deliveries     = []string{"window", "notice", "post", "download", "other"}
	contactKinds   = []string{"phone", "window", "web"}
	requiredValues = []string{"yes", "no", "conditional", "deferrable"}
	materialForms  = []string{"original", "copy", "original_or_copy", "original_and_copy"}
	media          = []string{"paper", "electronic", "paper_or_electronic", "paper_and_electronic"}
	sources        = []string{"applicant", "government_issued", "other"}
)

// problems collects validation findings with the JSON path where they occur.
type problems []string

func (p *problems) addf(path, format string, args ...any) {
	*p = append(*p, path+": "+fmt.Sprintf(format, args...))
}

func (p *problems) nonEmpty(path, v string) {
	if strings.TrimSpace(v) == "" {
		p.addf(path, "must not be empty")
	}
}

func (p *problems) oneOf(path, v string, allowed []string) {
	if !slices.Contains(allowed, v) {
		p.addf(path, "%q is not one of %s", v, strings.Join(allowed, ", "))
	}
}

// listOf checks a list that must not be empty (empty says why) and whose
// every value is one of allowed.
func (p *problems) listOf(path string, vs, allowed []string, empty string) {
	if len(vs) == 0 {
		p.addf(path, "%s", empty)
	}
	for j, v := range vs {
		p.oneOf(fmt.Sprintf("%s[%d]", path, j), v, allowed)
	}
}

// Validate checks the whole catalog and reports every problem at once, so a
// catalog author can fix them in one pass.
func (c *Catalog) Validate() error {
	var p problems
	if c.SchemaVersion != SchemaVersion {
		p.addf("schema_version", "%q is not the supported version %q", c.SchemaVersion, SchemaVersion)
	}
	if len(c.Region.Code) != 6 || strings.Trim(c.Region.Code, "0123456789") != "" {
		p.addf("region.code", "%q is not a 6-digit division code", c.Region.Code)
	}
	themeIDs := map[string]bool{}
	for i, t := range c.Themes {
		path := fmt.Sprintf("themes[%d]", i)
		p.nonEmpty(path+".id", t.ID)
		p.nonEmpty(path+".name", t.Name)
		if themeIDs[t.ID] {
			p.addf(path+".id", "duplicate theme %q", t.ID)
		}
		themeIDs[t.ID] = true
	}
	if len(c.Items) == 0 {
		p.addf("items", "the catalog has no items")
	}
	itemIDs := map[string]bool{}
	for i := range c.Items {
		it := &c.Items[i]
		path := fmt.Sprintf("items[%d]", i)
		if itemIDs[it.ID] {
			p.addf(path+".id", "duplicate item id %q", it.ID)
		}
		itemIDs[it.ID] = true
		validateItem(&p, path, it, themeIDs)
	}
	if len(p) == 0 {
		return nil
	}
	errs := make([]error, 0, len(p)+1)
	errs = append(errs, fmt.Errorf("%w: %d problem(s)", ErrInvalid, len(p)))
	for _, s := range p {
		errs = append(errs, errors.New(s))
	}
	return errors.Join(errs...)
}

func validateItem(p *problems, path string, it *Item, themeIDs map[string]bool) {
	p.nonEmpty(path+".id", it.ID)
	p.nonEmpty(path+".name", it.Name)
	if utf8.RuneCountInString(it.Name) > 1000 {
		p.addf(path+".name", "longer than 1000 characters")
	}
	if utf8.RuneCountInString(it.Codes.Catalog) != 12 {
		p.addf(path+".codes.catalog", "%q is not 12 characters", it.Codes.Catalog)
	}
	if n := len(it.Codes.Task); n == 0 || n > 36 {
		p.addf(path+".codes.task", "%q must be 1 to 36 characters", it.Codes.Task)
	}
	p.oneOf(path+".type", it.Type, itemTypes)
	if it.Version < 1 {
		p.addf(path+".version", "must be at least 1")
	}
	p.oneOf(path+".status", it.Status, itemStatuses)
	p.nonEmpty(path+".agency.name", it.Agency.Name)
	if len(it.Agency.USCC) != 18 || strings.Trim(it.Agency.USCC, "0123456789ABCDEFGHJKLMNPQRTUWXY") != "" {
		p.addf(path+".agency.uscc", "%q is not an 18-character unified social credit code", it.Agency.USCC)
	}
	p.oneOf(path+".agency.nature", it.Agency.Nature, natures)
	if it.Agency.Nature == "entrusted" && (it.Agency.EntrustedBy == nil || *it.Agency.EntrustedBy == "") {
		p.addf(path+".agency.entrusted_by", "an entrusted agency must name who entrusted it")
	}
	p.oneOf(path+".level", it.Level, levels)
	p.oneOf(path+".power_source", it.PowerSource, powerSources)
	p.listOf(path+".audience", it.Audience, audiences, "must name at least one audience")
	if len(it.Themes) == 0 {
		p.addf(path+".themes", "must belong to at least one theme")
	}
	for j, t := range it.Themes {
		if !themeIDs[t] {
			p.addf(fmt.Sprintf("%s.themes[%d]", path, j), "unknown theme %q", t)
		}
	}
	if len(it.LegalBasis) == 0 {
		p.addf(path+".legal_basis", "must cite at least one basis")
	}
	if n := len(it.AcceptConditionsEN); n > 0 && n != len(it.AcceptConditions) {
		p.addf(path+".accept_conditions_en", "has %d lines for %d conditions: translate each condition or none", n, len(it.AcceptConditions))
	}
	for j, s := range it.Process {
		p.nonEmpty(fmt.Sprintf("%s.process[%d].step", path, j), s.Step)
		if s.Days < 0 {
			p.addf(fmt.Sprintf("%s.process[%d].days", path, j), "must not be negative")
		}
	}
	validateLimit(p, path+".time_limit.legal", it.TimeLimit.Legal)
	validateLimit(p, path+".time_limit.promised", it.TimeLimit.Promised)
	if it.TimeLimit.Legal.Unit == it.TimeLimit.Promised.Unit && it.TimeLimit.Promised.Value > it.TimeLimit.Legal.Value {
		p.addf(path+".time_limit.promised", "promised %d is longer than the legal limit %d", it.TimeLimit.Promised.Value, it.TimeLimit.Legal.Value)
	}
	p.oneOf(path+".case_kind", it.CaseKind, caseKinds)
	if it.CaseKind == "instant" && it.TimeLimit.Promised.Value != 0 {
		p.addf(path+".time_limit.promised", "an instant item (即办件) must promise 0 days")
	}
	for j, f := range it.Fees {
		p.nonEmpty(fmt.Sprintf("%s.fees[%d].name", path, j), f.Name)
		p.nonEmpty(fmt.Sprintf("%s.fees[%d].standard", path, j), f.Standard)
	}
	if it.VisitsRequired < 0 {
		p.addf(path+".visits_required", "must not be negative")
	}
	p.listOf(path+".handle_forms", it.HandleForms, handleForms, "must list at least one form")
	if len(it.Places) == 0 {
		p.addf(path+".places", "must list at least one place")
	}
	for j, pl := range it.Places {
		p.nonEmpty(fmt.Sprintf("%s.places[%d].address", path, j), pl.Address)
		p.nonEmpty(fmt.Sprintf("%s.places[%d].hours", path, j), pl.Hours)
	}
	for j, c := range it.Consult {
		p.oneOf(fmt.Sprintf("%s.consult[%d].kind", path, j), c.Kind, contactKinds)
		p.nonEmpty(fmt.Sprintf("%s.consult[%d].value", path, j), c.Value)
	}
	for j, c := range it.Complaint {
		p.oneOf(fmt.Sprintf("%s.complaint[%d].kind", path, j), c.Kind, contactKinds)
		p.nonEmpty(fmt.Sprintf("%s.complaint[%d].value", path, j), c.Value)
	}
	p.oneOf(path+".cross_scope", it.CrossScope, crossScopes)
	p.oneOf(path+".kiosk.mode", it.Kiosk.Mode, kioskModes)
	for j, r := range it.Results {
		rp := fmt.Sprintf("%s.results[%d]", path, j)
		p.nonEmpty(rp+".name", r.Name)
		p.oneOf(rp+".type", r.Type, resultTypes)
		for k, d := range r.Delivery {
			p.oneOf(fmt.Sprintf("%s.delivery[%d]", rp, k), d, deliveries)
		}
	}
	matIDs := map[string]bool{}
	for j := range it.Materials {
		m := &it.Materials[j]
		mp := fmt.Sprintf("%s.materials[%d]", path, j)
		if matIDs[m.ID] {
			p.addf(mp+".id", "duplicate material id %q", m.ID)
		}
		matIDs[m.ID] = true
		validateMaterial(p, mp, m)
	}
	fieldNames := map[string]bool{}
	for j, f := range it.Form {
		fp := fmt.Sprintf("%s.form[%d]", path, j)
		p.nonEmpty(fp+".name", f.Name)
		p.nonEmpty(fp+".label", f.Label)
		if fieldNames[f.Name] {
			p.addf(fp+".name", "duplicate field %q", f.Name)
		}
		fieldNames[f.Name] = true
		oneOfT(p, fp+".kind", f.Kind, FieldKinds)
		oneOfT(p, fp+".prefill", f.Prefill, PrefillKeys)
		if f.Prefill == PrefillCardAddress && strings.Contains(f.Label, "现居") {
			p.addf(fp+".prefill", "现居住地址 is where the resident lives now, not the 户籍 address on the card: it is never pre-filled")
		}
		if f.Kind == KindSelect && len(f.Options) == 0 {
			p.addf(fp+".options", "a select field needs options")
		}
		if f.MaxLen < 0 {
			p.addf(fp+".max_len", "must not be negative")
		}
	}
	for j, r := range it.Eligibility {
		validateRule(p, fmt.Sprintf("%s.eligibility[%d]", path, j), r)
	}
	if it.Kiosk.Mode == "full_apply" {
		if !it.Kiosk.Supported {
			p.addf(path+".kiosk.supported", "full_apply requires supported=true")
		}
		if len(it.Form) == 0 {
			p.addf(path+".form", "an item applied for at the kiosk needs form fields")
		}
	}
	for j, q := range it.FAQ {
		p.nonEmpty(fmt.Sprintf("%s.faq[%d].q", path, j), q.Q)
		p.nonEmpty(fmt.Sprintf("%s.faq[%d].a", path, j), q.A)
	}
	p.nonEmpty(path+".updated_at", it.UpdatedAt)
}

func validateLimit(p *problems, path string, l Limit) {
	if l.Value < 0 {
		p.addf(path+".value", "must not be negative")
	}
	p.oneOf(path+".unit", l.Unit, limitUnits)
}

func validateMaterial(p *problems, path string, m *Material) {
	p.nonEmpty(path+".id", m.ID)
	p.nonEmpty(path+".name", m.Name)
	p.oneOf(path+".required", m.Required, requiredValues)
	if m.Required == "conditional" {
		p.nonEmpty(path+".condition", m.Condition)
	}
	p.oneOf(path+".form", m.Form, materialForms)
	p.oneOf(path+".medium", m.Medium, media)
	if m.Copies.Original < 0 || m.Copies.Copy < 0 {
		p.addf(path+".copies", "must not be negative")
	}
	p.oneOf(path+".source", m.Source, sources)
	if m.ELicence != nil && m.ELicence.ReplacesSubmission && (m.ELicence.TypeCode == nil || *m.ELicence.TypeCode == "") {
		p.addf(path+".e_licence.type_code", "an e-licence that replaces submission needs its type code")
	}
	if m.MaxPages < 0 {
		p.addf(path+".max_pages", "must not be negative")
	}
	if m.PromiseAllowed && strings.TrimSpace(m.PromiseText) == "" {
		p.addf(path+".promise_text", "a material that a promise may replace needs the promise's text")
	}
}

func validateRule(p *problems, path string, r Rule) {
	oneOfT(p, path+".kind", r.Kind, RuleKinds)
	p.nonEmpty(path+".text", r.Text)
	switch r.Kind {
	case RuleMinAge, RuleMaxAge:
		if r.Years <= 0 || r.Years > 150 {
			p.addf(path+".years", "%d is not an age", r.Years)
		}
		if r.On != "" {
			if _, err := time.Parse("2006-01-02", r.On); err != nil {
				p.addf(path+".on", "%q is not a YYYY-MM-DD date", r.On)
			}
		}
	case RuleHukou:
		p.oneOf(path+".source", r.Source, []string{SourceCardAddress, SourceIDNumber})
		if r.Source == SourceIDNumber && (len(r.Region) < 2 || len(r.Region) > 6 || strings.Trim(r.Region, "0123456789") != "") {
			p.addf(path+".region", "%q is not a region code prefix (2 to 6 digits)", r.Region)
		}
		if r.Source == SourceCardAddress {
			p.nonEmpty(path+".address_prefix", r.AddressPrefix)
		}
	case RuleCardValid:
		if r.Days < 0 {
			p.addf(path+".days", "must not be negative")
		}
	}
}

// oneOfT is problems.oneOf for the typed vocabularies.
func oneOfT[T ~string](p *problems, path string, v T, allowed []T) {
	if !slices.Contains(allowed, v) {
		s := make([]string, len(allowed))
		for i, a := range allowed {
			s[i] = string(a)
		}
		p.addf(path, "%q is not one of %s", v, strings.Join(s, ", "))
	}
}
