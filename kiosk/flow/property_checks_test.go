package flow

import (
	"reflect"
	"slices"
	"strings"

	"onedoor/pii"

	"pgregory.net/rapid"
)

// checkApplication: the submitted application has every required material
// in an allowed form, valid required fields and consent.
func (md *model) checkApplication(t *rapid.T, app Application) {
	it, ok := md.cat.Item(app.ItemID)
	if !ok || !canApply(it) {
		t.Fatalf("submitted item %q that cannot be applied for at the kiosk", app.ItemID)
	}
	if app.ConsentAt.IsZero() {
		t.Fatal("submitted without consent")
	}
	if _, err := ValidateIDNumber(app.Applicant.IDNumber, md.clk.t); err != nil {
		t.Fatalf("submitted with applicant ID %v", err)
	}
	for _, mat := range it.Materials {
		i := slices.IndexFunc(app.Materials, func(s MaterialSubmission) bool { return s.MaterialID == mat.ID })
		if i < 0 {
			if mat.IsRequired() {
				t.Fatalf("submitted without required material %s", mat.ID)
			}
			continue
		}
		s := app.Materials[i]
		switch s.How {
		case ProvidedScan:
			if len(s.PageRefs) == 0 || len(s.PageRefs) > mat.PageLimit() {
				t.Fatalf("material %s submitted with %d pages", mat.ID, len(s.PageRefs))
			}
			for _, r := range s.PageRefs {
				if !md.good[r] || !md.live[r] {
					t.Fatalf("material %s submitted with page %s that was rejected or discarded", mat.ID, r)
				}
				if md.refEpoch[r] != md.epoch {
					t.Fatalf("material %s submitted with page %s scanned in an earlier session", mat.ID, r)
				}
			}
		case ProvidedECert:
			if !mat.ECertAllowed() {
				t.Fatalf("material %s submitted as e-certificate, not allowed", mat.ID)
			}
		case ProvidedPromise:
			if !mat.PromiseAllowed {
				t.Fatalf("material %s submitted as promise, not allowed", mat.ID)
			}
		case ProvidedShared:
			if !mat.SharedVerification {
				t.Fatalf("material %s submitted as shared, not allowed", mat.ID)
			}
		default:
			t.Fatalf("material %s submitted with provision %q", mat.ID, s.How)
		}
	}
	for _, f := range it.Form {
		i := slices.IndexFunc(app.Fields, func(v FieldValue) bool { return v.Name == f.Name })
		if i < 0 {
			t.Fatalf("field %s missing from the submission", f.Name)
		}
		v := app.Fields[i].Value
		if f.Required && v == "" {
			t.Fatalf("required field %s empty", f.Name)
		}
		if v != "" {
			if _, msg := md.m.checkField(f, v); !msg.IsZero() {
				t.Fatalf("field %s submitted with invalid %q (%s)", f.Name, v, msg.Key)
			}
		}
	}
}

func (md *model) checkMaterialsComplete(t *rapid.T, st State) {
	for _, ms := range st.Materials {
		if ms.Material.IsRequired() && !ms.Satisfied() {
			t.Fatalf("reached Submitting without material %s", ms.Material.ID)
		}
	}
}

// checkWiped: after a session ends the machine holds a fresh session and
// the state shows nothing personal.
func (md *model) checkWiped(t *rapid.T, ev Event, st State) {
	fresh := session{step: StepHome, pristine: true, lastActivity: md.m.s.lastActivity, elder: md.m.opts.ElderDefault}
	if md.m.s.step == StepThanks {
		// The thank-you screen of a finished application: a fresh session
		// but for the screen and the resident's type size.
		fresh.step, fresh.pristine, fresh.elder = StepThanks, false, md.m.s.elder
	}
	if !reflect.DeepEqual(md.m.s, fresh) {
		t.Fatalf("%T ended the session but left %+v", ev, md.m.s)
	}
	if st.HasPersonalData || st.Applicant != nil || st.Receipt != nil || len(st.Fields) > 0 || len(st.Materials) > 0 || (st.Step != StepThanks && st.ElderMode != md.m.opts.ElderDefault) {
		t.Fatalf("state after end: %+v", st)
	}
	secrets := []string{}
	for _, p := range md.people {
		secrets = append(secrets, p.Name, p.IDNumber, p.IDNumber[:14], pii.MaskID(p.IDNumber), p.Address)
	}
	secrets = append(secrets, md.typed...)
	for _, s := range personalStrings(reflect.ValueOf(st)) {
		for _, sec := range secrets {
			if len(sec) >= 3 && strings.Contains(s, sec) {
				t.Fatalf("%T: state still holds %q", ev, s)
			}
		}
	}
	if len(md.live) != 0 {
		t.Fatalf("scans not discarded after the session: %v", md.live)
	}
}

// personalStrings collects every string reachable from v, skipping catalog
// content (which is public and shared by all sessions).
func personalStrings(v reflect.Value) []string {
	var out []string
	seen := map[uintptr]bool{}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		if !v.IsValid() {
			return
		}
		if v.Type().PkgPath() == "onedoor/kiosk/catalog" {
			return
		}
		switch v.Kind() {
		case reflect.String:
			out = append(out, v.String())
		case reflect.Pointer:
			if v.IsNil() || seen[v.Pointer()] {
				return
			}
			seen[v.Pointer()] = true
			if v.Type().Elem().PkgPath() == "onedoor/kiosk/catalog" {
				return
			}
			walk(v.Elem())
		case reflect.Interface:
			walk(v.Elem())
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				walk(v.Field(i))
			}
		case reflect.Slice, reflect.Array:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		case reflect.Map:
			it := v.MapRange()
			for it.Next() {
				walk(it.Key())
				walk(it.Value())
			}
		}
	}
	walk(v)
	return out
}
