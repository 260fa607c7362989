package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"onedoor/internal/testdate"
	"onedoor/sync/api"
	"onedoor/sync/platform/ecert"
)

// ECertOpener returns a fresh, empty store that keeps e-certificates; the
// suite closes it.
type ECertOpener func(t *testing.T) interface {
	ecert.Store
	Close() error
}

func testCert(number, holder, issued string) ecert.Certificate {
	return ecert.Certificate{
		TypeCode: "11440000MB2D00001L002", TypeName: "广东省居住证", Number: number,
		Holder:   ecert.Holder{IDHash: holder, IDMasked: "4419**********1231", Name: "测*"},
		Agency:   ecert.Agency{Code: "11441900MB2C12345X", Name: "东莞市公安局"},
		IssuedOn: issued, ValidFrom: issued, ValidUntil: "2099-12-31",
		Fields: []ecert.Field{{Name: "居住地址", Value: "东莞市测试路1号"}},
		Image:  ecert.Image{ContentType: "image/png", Data: []byte("\x89PNG fake")},
		Seal:   ecert.Seal{Algorithm: ecert.SealAlgorithm, KeyID: "00", Signature: []byte{1, 2, 3}},
	}
}

// RunECert checks an ecert.Store (issue 13): certificates by number and
// by holder hash (newest first), the same certificate twice is one, a
// different one under a taken number ErrExists; the access log per holder
// newest first; reusable materials per holder until they lapse.
func RunECert(t *testing.T, open ECertOpener) {
	ctx := context.Background()
	at := testdate.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	s := open(t)
	t.Cleanup(func() { s.Close() })
	alice, bob := strings.Repeat("a", 64), strings.Repeat("b", 64)

	t.Run("certificates", func(t *testing.T) {
		c1, c2, c3 := testCert("EC1", alice, "2025-01-02"), testCert("EC2", alice, "2026-02-03"), testCert("EC3", bob, "2026-02-03")
		for _, c := range []ecert.Certificate{c1, c2, c3, c1} {
			if err := s.PutCertificate(ctx, c, at); err != nil {
				t.Fatalf("PutCertificate(%s): %v", c.Number, err)
			}
		}
		changed := c1
		changed.Fields = []ecert.Field{{Name: "居住地址", Value: "别处"}}
		if err := s.PutCertificate(ctx, changed, at); !errors.Is(err, ecert.ErrExists) {
			t.Fatalf("a different certificate under a taken number: %v, want ErrExists", err)
		}
		got, err := s.Certificate(ctx, "EC1")
		if err != nil || got.Fields[0].Value != "东莞市测试路1号" || string(got.Image.Data) != "\x89PNG fake" || len(got.Seal.Signature) != 3 {
			t.Fatalf("Certificate(EC1) = %+v, %v", got, err)
		}
		if _, err := s.Certificate(ctx, "nope"); !errors.Is(err, ecert.ErrNotFound) {
			t.Fatalf("unknown number: %v", err)
		}
		list, err := s.HolderCertificates(ctx, alice)
		if err != nil || len(list) != 2 || list[0].Number != "EC2" || list[1].Number != "EC1" {
			t.Fatalf("HolderCertificates(alice) = %v, %v; want EC2, EC1", numbers(list), err)
		}
		none, err := s.HolderCertificates(ctx, strings.Repeat("c", 64))
		if err != nil || len(none) != 0 {
			t.Fatalf("unknown holder: %v, %v", none, err)
		}
	})

	t.Run("access log", func(t *testing.T) {
		for i, a := range []string{ecert.ActionQuery, ecert.ActionUse} {
			if err := s.LogAccess(ctx, ecert.Access{At: at.Add(time.Duration(i) * time.Minute), HolderHash: alice, KioskID: "K1", ItemID: "mi-resident-enrol",
				Receipt: "K1-20260301-0001", Number: "EC2", TypeName: "广东省居住证", Action: a}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.LogAccess(ctx, ecert.Access{At: at, HolderHash: bob, KioskID: "K2", Number: "EC3", Action: ecert.ActionQuery}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Accesses(ctx, alice, 10)
		if err != nil || len(got) != 2 || got[0].Action != ecert.ActionUse || got[1].Action != ecert.ActionQuery ||
			got[0].KioskID != "K1" || got[0].ItemID != "mi-resident-enrol" || got[0].Number != "EC2" || !got[0].At.Equal(at.Add(time.Minute)) {
			t.Fatalf("Accesses(alice) = %+v, %v", got, err)
		}
		one, err := s.Accesses(ctx, alice, 1)
		if err != nil || len(one) != 1 {
			t.Fatalf("limit 1: %d, %v", len(one), err)
		}
	})

	t.Run("reusables", func(t *testing.T) {
		r := ecert.Reusable{HolderHash: alice, ItemID: "hh-residence-permit", MaterialID: "housing", MaterialName: "居住证明", Receipt: "K1-20260301-0002",
			CaseNumber: "DG-2026-000002", Pages: []api.BlobRef{{SHA256: strings.Repeat("0", 64), Size: 10, ContentType: "image/png"}},
			AcceptedAt: at, Until: at.AddDate(0, 6, 0)}
		if err := s.PutReusable(ctx, r); err != nil {
			t.Fatal(err)
		}
		r.Until = at.AddDate(1, 0, 0) // the same again replaces it
		if err := s.PutReusable(ctx, r); err != nil {
			t.Fatal(err)
		}
		got, err := s.Reusables(ctx, alice, at.AddDate(0, 7, 0))
		if err != nil || len(got) != 1 || got[0].MaterialID != "housing" || len(got[0].Pages) != 1 || !got[0].Until.Equal(r.Until) {
			t.Fatalf("Reusables = %+v, %v", got, err)
		}
		if got, _ := s.Reusables(ctx, alice, at.AddDate(1, 0, 1)); len(got) != 0 {
			t.Fatalf("lapsed reusable still listed: %+v", got)
		}
		if got, _ := s.Reusables(ctx, bob, at); len(got) != 0 {
			t.Fatalf("another holder's reusable listed: %+v", got)
		}
	})
}

func numbers(cs []ecert.Certificate) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Number)
	}
	return fmt.Sprint(out)
}
