package city

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"onedoor/sync/api"
	"onedoor/sync/client"
	"onedoor/sync/platform"
	"onedoor/sync/platform/blobseal"
	"onedoor/sync/platform/ecert"
	"onedoor/sync/platform/s3blobs"
	"onedoor/sync/platform/supervise"
)

func exportLines(t *testing.T, st platform.Store) string {
	t.Helper()
	var b strings.Builder
	enc := json.NewEncoder(&b)
	if err := st.Export(t.Context(), func(r platform.ExportRow) error { return enc.Encode(r) }); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestMigrateThenVerify moves a SQLite platform with submissions, scans
// (packed and large), decisions and a kiosk mid-feed to PostgreSQL and a
// bucket: export gives the same lines, the kiosk's cursor still works,
// case numbers continue, and verify finds every blob intact, then finds
// one damaged and one missing once the bucket is tampered with.
func TestMigrateThenVerify(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	old, err := Open(ctx, Options{Data: dir}, platform.Config{Logger: slog.New(slog.DiscardHandler), CasePrefix: "DG"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(old.Server)
	tok, err := old.AddKiosk(ctx, kioskID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(client.Config{BaseURL: hs.URL, KioskID: kioskID, Token: tok})
	if err != nil {
		t.Fatal(err)
	}
	small := []byte("a small scanned page")
	large := bytes.Repeat([]byte("large page "), 80000) // not packed
	for _, p := range [][]byte{small, large} {
		if _, err := c.UploadNewBlob(ctx, shaHex(p), int64(len(p)), bytes.NewReader(p), nil); err != nil {
			t.Fatal(err)
		}
	}
	var uuids []string
	for i := 0; i < 5; i++ {
		sub := submission(i, small)
		if i == 3 {
			sub = submission(i, small, large)
		}
		if _, err := c.Submit(ctx, sub); err != nil {
			t.Fatal(err)
		}
		uuids = append(uuids, sub.UUID)
	}
	if _, err := old.Store.Decide(ctx, uuids[1], api.StatusAccepted, "", "clerk", time.Now()); err != nil {
		t.Fatal(err)
	}
	feed, err := c.Statuses(ctx, "")
	if err != nil || len(feed.Updates) != 6 {
		t.Fatalf("feed before = %+v %v", feed, err)
	}
	// What staff and the e-certificate library recorded beside the cases.
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	role := supervise.Account{User: "li", Name: "李四", Role: supervise.RoleSupervisor, Town: "石龙镇", SetBy: "admin", SetAt: at}
	cert := ecert.Certificate{Number: "JZZ-0001", TypeCode: "t", TypeName: "广东省居住证", IssuedOn: "2026-01-05", Holder: ecert.Holder{IDHash: "holder-hash"}}
	access := ecert.Access{At: at, HolderHash: "holder-hash", KioskID: kioskID, Number: cert.Number, TypeName: cert.TypeName, Action: ecert.ActionQuery}
	if err := old.Store.AddStaff(ctx, role.User, "hash", at); err != nil {
		t.Fatal(err)
	}
	osv, oec := old.Store.(supervise.Store), old.Store.(ecert.Store)
	for _, err := range []error{osv.SetStaffRole(ctx, role), osv.SetKioskTown(ctx, kioskID, "石龙镇"),
		oec.PutCertificate(ctx, cert, at), oec.LogAccess(ctx, access)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	want := exportLines(t, old.Store)
	hs.Close()
	old.Close()

	dbURL, bucket := cluster(t).DB(t), gw.Bucket(t)
	st, err := Migrate(ctx, dir, dbURL, bucket, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Submissions != 5 || st.BlobsCopied != 2 || st.Kiosks != 1 {
		t.Fatalf("migrate stats %+v", st)
	}
	if _, err := Migrate(ctx, dir, dbURL, bucket, nil); err == nil {
		t.Fatal("migrated twice into the same database")
	}

	// The records stay sealed with the old platform's key: the new one
	// reads them with the same key file.
	p, err := Open(ctx, Options{DB: dbURL, Blobs: bucket, DataKey: filepath.Join(dir, "data.key")}, platform.Config{Logger: slog.New(slog.DiscardHandler), CasePrefix: "DG"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if got := exportLines(t, p.Store); got != want {
		t.Fatalf("export after migrate:\n%s\nbefore:\n%s", got, want)
	}
	nsv, nec := p.Store.(supervise.Store), p.Store.(ecert.Store)
	if a, err := nsv.StaffRole(ctx, role.User); err != nil || a != role {
		t.Errorf("role after migrate = %+v %v, want %+v", a, err, role)
	}
	if towns, err := nsv.KioskTowns(ctx); err != nil || towns[kioskID] != "石龙镇" {
		t.Errorf("towns after migrate = %v %v", towns, err)
	}
	if c, err := nec.Certificate(ctx, cert.Number); err != nil || c.TypeName != cert.TypeName {
		t.Errorf("certificate after migrate = %+v %v", c, err)
	}
	if as, err := nec.Accesses(ctx, "holder-hash", 10); err != nil || len(as) != 1 || as[0] != access {
		t.Errorf("access log after migrate = %+v %v", as, err)
	}
	hs2 := httptest.NewServer(p.Server)
	defer hs2.Close()
	c2, err := client.New(client.Config{BaseURL: hs2.URL, KioskID: kioskID, Token: tok})
	if err != nil {
		t.Fatal(err)
	}
	if f, err := c2.Statuses(ctx, feed.Cursor); err != nil || len(f.Updates) != 0 {
		t.Fatalf("feed from the old cursor = %+v %v", f, err)
	}
	if _, err := p.Store.Decide(ctx, uuids[2], api.StatusApproved, "", "clerk", time.Now()); err != nil {
		t.Fatal(err)
	}
	if f, err := c2.Statuses(ctx, feed.Cursor); err != nil || len(f.Updates) != 1 || f.Updates[0].UUID != uuids[2] {
		t.Fatalf("feed after a decision on the new platform = %+v %v", f, err)
	}
	res, err := c2.Submit(ctx, submission(9, small))
	if err != nil || res.CaseNumber <= "DG-" || strings.HasSuffix(res.CaseNumber, "-000001") {
		t.Fatalf("new case after migrate = %+v %v", res, err)
	}

	r, err := Verify(ctx, p.Store, p.Blobs)
	if err != nil || r.Checked != 2 || len(r.Missing)+len(r.Damaged) != 0 {
		t.Fatalf("verify = %+v %v", r, err)
	}
	// One ciphertext byte of the large page changed (pages are sealed
	// under sealed/, blobseal): it decrypts to bytes that do not hash to
	// the address.
	s3 := p.Blobs.(*s3blobs.Store)
	obj, err := s3.Client().GetObject(ctx, s3.Bucket(), "sealed/blobs/"+shaHex(large), minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(obj)
	obj.Close()
	if err != nil || len(raw) != blobseal.HeaderSize+len(large) {
		t.Fatalf("sealed object of %d bytes, %v", len(raw), err)
	}
	raw[blobseal.HeaderSize+12345] ^= 0x04
	if _, err := s3.Client().PutObject(ctx, s3.Bucket(), "sealed/blobs/"+shaHex(large), bytes.NewReader(raw), int64(len(raw)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s3.Client().RemoveObject(ctx, s3.Bucket(), "sealed/blobs/"+shaHex(small), minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	r, err = Verify(ctx, p.Store, p.Blobs)
	if err != nil || len(r.Damaged) != 1 || r.Damaged[0] != shaHex(large) || len(r.Missing) != 1 || r.Missing[0] != shaHex(small) {
		t.Fatalf("verify after tampering = %+v %v", r, err)
	}
}
