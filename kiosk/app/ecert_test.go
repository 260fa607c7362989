package app

import (
	"context"
	"fmt"
	"testing"
	"time"

	"onedoor/kiosk/flow"
	"onedoor/sync/api"
	"onedoor/sync/client"
)

type fakeQuerier struct {
	resp *api.ECertQueryResponse
	err  error
	got  *api.ECertQueryRequest
}

func (f *fakeQuerier) ECertQuery(_ context.Context, q *api.ECertQueryRequest) (*api.ECertQueryResponse, error) {
	f.got = q
	return f.resp, f.err
}

// TestECertAnswer: the platform's answer becomes the flow's event — only
// e-certificate offers, each with its number; a refusal (4xx) is not taken
// for the link being down, and anything else is offline.
func TestECertAnswer(t *testing.T) {
	q := flow.QueryECerts{ItemID: "mi-resident-enrol", IDNumber: "441900199001011231", CardReadAt: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC), Seq: 7}
	offer := api.ECertOffer{MaterialID: "residence_permit", Kind: api.OfferECert, Number: "EC-1", NumberMasked: "EC*1", TypeName: "广东省居住证", Agency: "派出所", IssuedOn: "2026-11-01"}
	cases := []struct {
		name string
		f    *fakeQuerier
		want flow.Event
	}{
		{"offers", &fakeQuerier{resp: &api.ECertQueryResponse{Offers: []api.ECertOffer{offer, {MaterialID: "housing", Kind: api.OfferReuse, Receipt: "R1"}}}},
			flow.ECertsFound{Seq: 7, Offers: []flow.ECertOffer{{MaterialID: "residence_permit", Number: "EC-1", NumberMasked: "EC*1", TypeName: "广东省居住证", Agency: "派出所", IssuedOn: "2026-11-01"}}}},
		{"none", &fakeQuerier{resp: &api.ECertQueryResponse{}}, flow.ECertsFound{Seq: 7}},
		{"holder proof refused", &fakeQuerier{err: fmt.Errorf("query: %w", &client.APIError{Status: 403, Code: api.CodeHolderProof})},
			flow.ECertsUnavailable{Seq: 7, Reason: api.CodeHolderProof}},
		{"platform down", &fakeQuerier{err: fmt.Errorf("query: %w", client.ErrUnavailable)}, flow.ECertsUnavailable{Seq: 7, Offline: true, Reason: "platform unreachable"}},
		{"rate limited", &fakeQuerier{err: fmt.Errorf("query: %w", &client.APIError{Status: 429, Code: "rate_limited"})}, flow.ECertsUnavailable{Seq: 7, Offline: true, Reason: "platform unreachable"}},
		{"timeout", &fakeQuerier{err: context.DeadlineExceeded}, flow.ECertsUnavailable{Seq: 7, Offline: true, Reason: "platform unreachable"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := ECertAnswer(t.Context(), tc.f, q, "6f1c2a4e-8b3d-4e5f-9a1b-2c3d4e5f6a7b")
			if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tc.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tc.want)
			}
			if r := tc.f.got; r.ItemID != q.ItemID || r.IDNumber != q.IDNumber || !r.CardReadAt.Equal(q.CardReadAt) || r.Session == "" {
				t.Errorf("request %+v", r)
			}
		})
	}
}
