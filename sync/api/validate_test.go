package api

import (
	"encoding/json"
	"errors"
	"onedoor/internal/testdate"
	"strings"
	"testing"
	"time"

	"onedoor/pii"
)

// A fictional Dongguan number with a correct check character (checked with
// an independent script), and the GB 11643 worked example.
const (
	testID      = "441900199001011231"
	standardExa = "11010519491231002X"
)

func TestValidIDNumber(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{testID, true},
		{standardExa, true},
		{"110105194912310021", false}, // wrong check character
		{"11010519491231002x", false}, // lowercase x is not what cards carry
		{"44190019900101123", false},  // 17 digits
		{"4419001990010112311", false},
		{"44190019900101123A", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := pii.ValidateIDNumber(tc.in, testdate.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) == nil; got != tc.want {
			t.Errorf("ValidIDNumber(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func validSubmission() SubmissionRequest {
	return SubmissionRequest{
		UUID: "0b7e8a6c-6f1e-4f57-9b0a-2f6c1d3e4a5b", Receipt: "K1-20260101-0001", KioskID: "K1",
		ItemID: "hukou-move", ItemVersion: "3", CreatedAt: testdate.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC),
		Applicant: ApplicantData{Name: "测试人", IDNumber: testID, Phone: "13800000000"},
		Form:      map[string]string{"reason": "工作调动"},
		Materials: []MaterialRef{
			{MaterialID: "id-copy", Kind: KindScan, Pages: []BlobRef{{SHA256: EmptySHA256[:63] + "0", Size: 10, ContentType: "image/png"}}},
			{MaterialID: "promise", Kind: KindPromise},
		},
	}
}

func TestSubmissionValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(s *SubmissionRequest)
		field  string // "" = valid
	}{
		{name: "valid"},
		{name: "uppercase uuid", mutate: func(s *SubmissionRequest) { s.UUID = strings.ToUpper(s.UUID) }, field: "uuid"},
		{name: "no receipt", mutate: func(s *SubmissionRequest) { s.Receipt = " " }, field: "receipt"},
		{name: "no item", mutate: func(s *SubmissionRequest) { s.ItemID = "" }, field: "item_id"},
		{name: "no created_at", mutate: func(s *SubmissionRequest) { s.CreatedAt = time.Time{} }, field: "created_at"},
		{name: "no name", mutate: func(s *SubmissionRequest) { s.Applicant.Name = "" }, field: "applicant.name"},
		{name: "bad id", mutate: func(s *SubmissionRequest) { s.Applicant.IDNumber = "441900199001011232" }, field: "applicant.id_number"},
		{name: "bad utf8 form", mutate: func(s *SubmissionRequest) { s.Form["x"] = "\xff" }, field: "form.x"},
		{name: "scan without pages", mutate: func(s *SubmissionRequest) { s.Materials[0].Pages = nil }, field: "materials[0].pages"},
		{name: "unknown kind", mutate: func(s *SubmissionRequest) { s.Materials[1].Kind = "fax" }, field: "materials[1].kind"},
		{name: "bad hash", mutate: func(s *SubmissionRequest) { s.Materials[0].Pages[0].SHA256 = "abc" }, field: "materials[0].pages[0].sha256"},
		{name: "zero size", mutate: func(s *SubmissionRequest) { s.Materials[0].Pages[0].Size = 0 }, field: "materials[0].pages[0].size"},
		{name: "another kiosk's receipt", mutate: func(s *SubmissionRequest) { s.Receipt = "K2-20260101-0001" }, field: "receipt"},
		{name: "nul in form", mutate: func(s *SubmissionRequest) { s.Form["x"] = "a\x00b" }, field: "form.x"},
		{name: "bad birth date", mutate: func(s *SubmissionRequest) { s.Applicant.BirthDate = "19900231" }, field: "applicant.birth_date"},
		{name: "agent", mutate: func(s *SubmissionRequest) { s.Agent = &ApplicantData{Name: "代办人", IDNumber: standardExa} }},
		{name: "agent without number", mutate: func(s *SubmissionRequest) { s.Agent = &ApplicantData{Name: "代办人"} }, field: "agent.id_number"},
		{name: "lookup hash", mutate: func(s *SubmissionRequest) { s.LookupCodeSHA256 = LookupCodeSHA256("ABCDE12345") }},
		{name: "bad lookup hash", mutate: func(s *SubmissionRequest) { s.LookupCodeSHA256 = "ABCDE12345" }, field: "lookup_code_sha256"},
		{name: "promise text", mutate: func(s *SubmissionRequest) { s.Materials[1].PromiseText = strings.Repeat("承诺", MaxPromiseBytes) }, field: "materials[1].promise_text"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := validSubmission()
			if tc.mutate != nil {
				tc.mutate(&s)
			}
			err := s.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error = %v, want field %s", err, tc.field)
			}
			if strings.Contains(err.Error(), testID[:17]) {
				t.Fatalf("error message leaks the ID number: %v", err)
			}
		})
	}
}

func TestBlobHashesDedup(t *testing.T) {
	s := validSubmission()
	p := s.Materials[0].Pages[0]
	s.Materials = append(s.Materials, MaterialRef{MaterialID: "again", Kind: KindScan, Pages: []BlobRef{p, {SHA256: EmptySHA256, Size: 1, ContentType: "image/png"}}})
	got := s.BlobHashes()
	if len(got) != 2 || got[0] != p.SHA256 || got[1] != EmptySHA256 {
		t.Fatalf("BlobHashes = %v", got)
	}
}

func TestRatingValidate(t *testing.T) {
	r := Rating{UUID: "0b7e8a6c-6f1e-4f57-9b0a-2f6c1d3e4a5b", Level: 5, At: time.Now()}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, lvl := range []int{0, 6, -1} {
		r.Level = lvl
		if err := r.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("level %d accepted", lvl)
		}
	}
}

// The platform decodes submissions from the network: decoding plus Validate
// must never panic, and what validates must survive a round trip.
func FuzzDecodeSubmission(f *testing.F) {
	good, _ := json.Marshal(validSubmission())
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"materials":[{"kind":"scan","pages":[{}]}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s SubmissionRequest
		if json.Unmarshal(b, &s) != nil {
			return
		}
		if s.Validate() != nil {
			return
		}
		again, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var s2 SubmissionRequest
		if err := json.Unmarshal(again, &s2); err != nil {
			t.Fatal(err)
		}
		if err := s2.Validate(); err != nil {
			t.Fatalf("round trip broke validity: %v", err)
		}
	})
}
