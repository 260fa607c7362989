package outbox_test

import (
	"bytes"
	"context"
	"io/fs"
	"onedoor/internal/testdate"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"onedoor/pii"
	"onedoor/sync/api"
	"onedoor/sync/outbox"
)

// TestNoPersonalDataInClear writes a submission with a known fictional ID
// number (and name, phone, address) through every step that touches it —
// submit, claim, a failed attempt, acceptance, a staff note, a rating — and
// then proves none of those values appears in clear in any file of the data
// directory (database, its WAL and shared-memory files, where the sealed
// scans live too) nor in the log output. It scans twice: with the WAL live, and after Close has
// checkpointed it into the database file.
func TestNoPersonalDataInClear(t *testing.T) {
	ctx := context.Background()
	const (
		idNumber = "999999198001010038" // fictional: region 999999 does not exist
		name     = "测试甲乙丙"
		phone    = "19912345678"
		address  = "虚构省测试市无名路88号"
	)
	if !(pii.ValidateIDNumber(idNumber, testdate.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) == nil) {
		t.Fatalf("fixture ID number %s has a bad check character", idNumber)
	}
	e := newEnv(t)
	s := e.open(t)
	sub := sampleSubmission(1, 20000)
	sub.Applicant = outbox.Applicant{Name: name, IDNumber: idNumber, Phone: phone, Address: address, BirthDate: "19800101"}
	sub.Form["contact"] = phone
	sub.Form["note"] = "申请人" + name + "身份证" + idNumber
	// A scan whose content carries the number, as a photographed card would.
	sub.Materials[0].Pages = append(sub.Materials[0].Pages, outbox.Page{
		Data: []byte(strings.Repeat("ID "+idNumber+" NAME "+name+"\n", 200)), ContentType: "text/plain"})
	rc, err := s.Submit(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.NextDue(ctx, e.clock.Now())
	if err != nil || p.Request.Applicant.IDNumber != idNumber {
		t.Fatalf("NextDue: %v", err)
	}
	// A platform error that echoes the number must not put it in clear.
	s.MarkRetry(ctx, rc.UUID, "platform said: 503 for "+idNumber+" tel "+phone, e.clock.Now())
	p, _ = s.NextDue(ctx, e.clock.Now())
	s.MarkSent(ctx, p.UUID, "DG-2026-000042", e.clock.Now())
	s.ApplyStatuses(ctx, []api.StatusUpdate{{UUID: rc.UUID, Receipt: rc.Number, CaseNumber: "DG-2026-000042",
		Status: api.StatusReturned, Note: name + "请补充" + idNumber + "的户口本", At: e.clock.Now().Add(time.Hour)}}, "c1")
	s.SaveRating(ctx, api.Rating{UUID: "44444444-4444-4444-8444-444444444444", Receipt: rc.Number, Level: 1,
		Reason: "我是" + name + "电话" + phone, At: e.clock.Now()})
	if got, err := s.LookupByID(ctx, idNumber); err != nil || len(got) != 1 {
		t.Fatalf("LookupByID: %v %v", got, err)
	}
	// Failure paths log too: an invalid ID number must not leak through
	// the error or the log.
	bad := sampleSubmission(2, 10)
	bad.Applicant.IDNumber = idNumber[:17] + "9"
	if _, err := s.Submit(ctx, bad); err == nil || strings.Contains(err.Error(), idNumber[:17]) {
		t.Errorf("invalid ID number: error %v leaks the number or was accepted", err)
	}

	secrets := map[string]string{
		"ID number":               idNumber,
		"ID number without check": idNumber[:17],
		"ID number middle digits": idNumber[6:14] + idNumber[14:17],
		"name":                    name,
		"phone":                   phone,
		"address":                 address,
	}
	// scan returns every secret found in clear under the data directory.
	scan := func() (hits []string, files int, wal bool) {
		t.Helper()
		err := filepath.WalkDir(e.dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files++
			if strings.HasSuffix(path, "-wal") && len(b) > 0 {
				wal = true
			}
			for what, v := range secrets {
				for enc, needle := range encodings(v) {
					if bytes.Contains(b, needle) {
						hits = append(hits, what+" ("+enc+") in "+filepath.Base(path))
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return hits, files, wal
	}
	// Control: the scanner does find a secret planted in clear.
	control := filepath.Join(e.dir, "control.txt")
	os.WriteFile(control, []byte("x"+idNumber+"x"), 0o600)
	if hits, _, _ := scan(); len(hits) == 0 {
		t.Fatal("control: the scanner missed an ID number planted in clear")
	}
	os.Remove(control)

	hits, files, wal := scan()
	if len(hits) > 0 || files < 3 || !wal {
		t.Errorf("store open: %d files scanned, WAL live %v; found in clear: %v", files, wal, hits)
	}
	s.Close()
	hits, files, _ = scan()
	if len(hits) > 0 || files < 1 {
		t.Errorf("after close: %d files scanned; found in clear: %v", files, hits)
	}
	logs := e.logs.Bytes()
	if len(logs) == 0 {
		t.Error("no log output captured; the log scan would prove nothing")
	}
	for what, v := range secrets {
		for enc, needle := range encodings(v) {
			if bytes.Contains(logs, needle) {
				t.Errorf("%s (%s) found in the log output", what, enc)
			}
		}
	}
}

// encodings gives the forms a string could take on disk: UTF-8 and
// UTF-16 (little and big endian).
func encodings(s string) map[string][]byte {
	u := utf16.Encode([]rune(s))
	le := make([]byte, 0, 2*len(u))
	be := make([]byte, 0, 2*len(u))
	for _, c := range u {
		le = append(le, byte(c), byte(c>>8))
		be = append(be, byte(c>>8), byte(c))
	}
	return map[string][]byte{"UTF-8": []byte(s), "UTF-16LE": le, "UTF-16BE": be}
}
