package platform

import (
	"encoding/json"
	"slices"
	"sort"

	"onedoor/pii"
	"onedoor/sync/api"
)

// officeCatalog is what the back office reads of the service catalog the
// platform serves to kiosks: the names of items, fields, options and
// materials, so staff read 居住证申领 and 现居住地址 rather than codes. The
// catalog stays opaque to the API; a catalog this does not understand only
// means codes are shown.
type officeCatalog struct {
	items map[string]officeItem
}

type officeItem struct {
	Name      string `json:"name"`
	Form      []officeField
	materials map[string]string
}

type officeField struct {
	Name    string `json:"name"`
	Label   string `json:"label"`
	Kind    string `json:"kind"`
	Options []struct {
		Value string `json:"value"`
		Label string `json:"label"`
	} `json:"options"`
}

func parseOfficeCatalog(b []byte) *officeCatalog {
	c := &officeCatalog{items: map[string]officeItem{}}
	var raw struct {
		Items []struct {
			ID        string        `json:"id"`
			Name      string        `json:"name"`
			Form      []officeField `json:"form"`
			Materials []struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"materials"`
		} `json:"items"`
	}
	if len(b) == 0 || json.Unmarshal(b, &raw) != nil {
		return c
	}
	for _, it := range raw.Items {
		oi := officeItem{Name: it.Name, Form: it.Form, materials: map[string]string{}}
		for _, m := range it.Materials {
			oi.materials[m.ID] = m.Name
		}
		c.items[it.ID] = oi
	}
	return c
}

// itemName is the item's name, or its id when the catalog lacks it.
func (c *officeCatalog) itemName(id string) string {
	if it, ok := c.items[id]; ok && it.Name != "" {
		return it.Name
	}
	return id
}

func (c *officeCatalog) materialName(itemID, id string) string {
	if n := c.items[itemID].materials[id]; n != "" {
		return n
	}
	return id
}

// formRow is one form field as staff see it.
type formRow struct {
	Label, Value, Code string
}

// formRows lists a submission's form in the catalog's field order, by
// label, option values by their labels. Values pass through the personal
// data masking: an ID number typed into a form field (a principal's, say)
// is shown only through the audited reveal, like the applicant's.
func (c *officeCatalog) formRows(itemID string, form map[string]string) []formRow {
	var rows []formRow
	seen := map[string]bool{}
	for _, f := range c.items[itemID].Form {
		v, ok := form[f.Name]
		if !ok {
			continue
		}
		seen[f.Name] = true
		for _, o := range f.Options {
			if o.Value == v && o.Label != "" {
				v = o.Label
			}
		}
		if f.Kind == "id_number" {
			v = pii.MaskID(v)
		}
		label := f.Label
		if label == "" {
			label = f.Name
		}
		rows = append(rows, formRow{Label: label, Value: pii.MaskText(v), Code: f.Name})
	}
	var rest []string
	for k := range form {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		rows = append(rows, formRow{Label: k, Value: pii.MaskText(form[k]), Code: k})
	}
	return rows
}

// historyRow is one status update with who made it.
type historyRow struct {
	api.StatusUpdate
	Actor string
}

func historyRows(d Detail) []historyRow {
	out := make([]historyRow, len(d.History))
	for i, u := range d.History {
		u.Note = pii.MaskText(u.Note)
		out[i] = historyRow{StatusUpdate: u}
		if i < len(d.Actors) {
			out[i].Actor = d.Actors[i]
		}
		if out[i].Actor == "intake" {
			out[i].Actor = "终端提交"
		}
	}
	return out
}

// finalDecision reports whether a decision ends the case, so staff are
// asked to confirm it first.
func finalDecision(status string) bool {
	return slices.Contains([]string{api.StatusReturned, api.StatusApproved, api.StatusRejected}, status)
}
