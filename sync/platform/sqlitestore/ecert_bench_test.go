package sqlitestore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"onedoor/sync/platform/ecert"
)

// BenchmarkECertQueryVerify20: one resident's 20 certificates read from
// the SQLite file by holder hash and each seal verified (SM2/SM3) and its
// validity checked: the work of one kiosk query (issue 13 goal: < 100 ms).
func BenchmarkECertQueryVerify20(b *testing.B) {
	ctx := context.Background()
	st, err := Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	kr := ecert.Keyring{Dir: b.TempDir()}
	if _, err := kr.Generate("A1", "测试机关"); err != nil {
		b.Fatal(err)
	}
	trust, _ := kr.Trust()
	hk, _ := ecert.LoadOrCreateHolderKey(b.TempDir() + "/holder.key")
	ref := &ecert.Reference{Store: st, Trust: trust, Keyring: kr, Holder: hk}
	issued := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 20; i++ {
		if _, err := ref.Issue(ctx, ecert.Draft{TypeCode: fmt.Sprintf("T%02d", i), TypeName: "测试证照", IDNumber: "441900199001011231", Name: "测试人",
			Agency: ecert.Agency{Code: "A1"}, IssuedOn: issued, Fields: []ecert.Field{{Name: "字段", Value: "值"}}}); err != nil {
			b.Fatal(err)
		}
	}
	at := issued.AddDate(0, 1, 0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cs, err := ref.Query(ctx, "441900199001011231")
		if err != nil || len(cs) != 20 {
			b.Fatal(len(cs), err)
		}
		for _, c := range cs {
			if err := ref.Verify(ctx, c, at); err != nil {
				b.Fatal(err)
			}
		}
	}
}
