package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"onedoor/assets"
	"onedoor/sync/api"
	"onedoor/sync/client"
	"onedoor/sync/platform"
	"onedoor/sync/platform/ecert"
	"onedoor/sync/platform/local"
)

// catalogWith20Certs is the sample catalog with 城乡居民医保参保登记 asking
// for 20 materials, each of which an e-certificate of its own type may
// replace, so one query offers (and verifies) 20 certificates.
func catalogWith20Certs(b testing.TB) []byte {
	var doc map[string]any
	if err := json.Unmarshal(assets.SampleCatalog, &doc); err != nil {
		b.Fatal(err)
	}
	for _, it := range doc["items"].([]any) {
		item := it.(map[string]any)
		if item["id"] != "mi-resident-enrol" {
			continue
		}
		mats := item["materials"].([]any)
		var tmpl map[string]any
		for _, m := range mats {
			if m.(map[string]any)["id"] == "residence_permit" {
				tmpl = m.(map[string]any)
			}
		}
		out := []any{mats[0]}
		for i := range 20 {
			var m map[string]any
			raw, _ := json.Marshal(tmpl)
			json.Unmarshal(raw, &m)
			m["id"] = fmt.Sprintf("cert_%02d", i)
			m["e_licence"].(map[string]any)["type_code"] = fmt.Sprintf("T%02d", i)
			out = append(out, m)
		}
		item["materials"] = out
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// ecertPlatform is the reference platform as platformd runs it (sealed
// SQLite store, reference library) on loopback, with one kiosk enrolled
// and 20 certificates of id's holder, and the kiosk's client for it.
func ecertPlatform(tb testing.TB, catalog []byte, id string, clock func() time.Time) *client.Client {
	ctx := context.Background()
	dir := tb.TempDir()
	kr := ecert.Keyring{Dir: filepath.Join(dir, local.ECertDir, "agencies")}
	if _, err := kr.Generate("11441900000000103M", "测试机关"); err != nil {
		tb.Fatal(err)
	}
	p, err := local.Open(ctx, dir, platform.Config{Catalog: catalog, NonceFile: filepath.Join(dir, "nonces.json"), Logger: slog.New(slog.DiscardHandler),
		Limits: platform.Limits{LookupLimit: 1 << 30}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	token := strings.Repeat("cd", 32)
	if err := p.Store.AddKiosk(ctx, "K1", token, time.Now()); err != nil {
		tb.Fatal(err)
	}
	lib, err := local.OpenECerts(dir, p.Store, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for i := range 20 {
		if _, err := lib.Issue(ctx, ecert.Draft{TypeCode: fmt.Sprintf("T%02d", i), TypeName: "测试证照", IDNumber: id, Name: "测试人",
			Agency: ecert.Agency{Code: "11441900000000103M", Name: "测试机关"}, IssuedOn: time.Now().AddDate(0, -1, 0),
			Fields: []ecert.Field{{Name: "字段", Value: "值"}}}); err != nil {
			tb.Fatal(err)
		}
	}
	srv := httptest.NewServer(p.Server)
	tb.Cleanup(srv.Close)
	c, err := client.New(client.Config{BaseURL: srv.URL, KioskID: "K1", Token: token, Clock: clock})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

const ecertHolder = "441900199001011231"

// TestECertQuery: the client's query carries the proof of a card read in
// this session and gets the holder's certificates; a read older than a
// session is refused 403 holder_proof, which the client reports as
// ErrUnauthorized with the platform's code (not a link problem).
func TestECertQuery(t *testing.T) {
	catalog := catalogWith20Certs(t)
	cases := []struct {
		name   string
		readAt time.Time
		offers int
		code   string
	}{
		{"card read just now", time.Now(), 20, ""},
		{"card read an hour ago", time.Now().Add(-time.Hour), 0, api.CodeHolderProof},
		{"just now on a kiosk clock two hours slow, corrected", time.Now().Add(-2 * time.Hour), 20, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var clock func() time.Time
			if strings.Contains(tc.name, "slow") {
				clock = func() time.Time { return time.Now().Add(-2 * time.Hour) }
			}
			c := ecertPlatform(t, catalog, ecertHolder, clock)
			if clock != nil {
				c.SetClockOffset(2 * time.Hour) // as a heartbeat would have learnt
			}
			resp, err := c.ECertQuery(t.Context(), &api.ECertQueryRequest{ItemID: "mi-resident-enrol", Session: uuid.NewString(), IDNumber: ecertHolder, CardReadAt: tc.readAt})
			if tc.code != "" {
				var ae *client.APIError
				if !errors.As(err, &ae) || ae.Code != tc.code || !errors.Is(err, client.ErrUnauthorized) {
					t.Fatalf("err %v, want %s", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Offers) != tc.offers {
				t.Fatalf("%d offers, want %d", len(resp.Offers), tc.offers)
			}
			for _, o := range resp.Offers {
				if o.Kind != api.OfferECert || o.Number == "" || o.NumberMasked == o.Number {
					t.Errorf("offer %+v", o)
				}
			}
		})
	}
}

// BenchmarkECertQueryHTTP20 is one kiosk query over loopback HTTP with
// the kiosk's real client (signed request, holder proof) to the reference
// platform as platformd runs it: one resident's 20 certificates found by
// holder hash, each seal verified (SM2/SM3) and its validity checked, one
// access-log line written per certificate, the answer decoded. Issue 13's
// goal: under 100 ms.
func BenchmarkECertQueryHTTP20(b *testing.B) {
	ctx := context.Background()
	c := ecertPlatform(b, catalogWith20Certs(b), ecertHolder, nil)
	for b.Loop() {
		resp, err := c.ECertQuery(ctx, &api.ECertQueryRequest{ItemID: "mi-resident-enrol", Session: uuid.NewString(), IDNumber: ecertHolder, CardReadAt: time.Now()})
		if err != nil {
			b.Fatal(err)
		}
		if len(resp.Offers) != 20 {
			b.Fatalf("%d offers, want 20", len(resp.Offers))
		}
	}
}
