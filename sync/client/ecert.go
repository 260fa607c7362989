package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"onedoor/sync/api"
)

// ECertQuery asks the platform which of an item's materials the resident
// whose card was just read already holds (POST /api/v1/ecerts/query):
// valid e-certificates and reusable earlier materials. The request carries
// api.ECertHolderProof of the card read, bound to this kiosk, the session
// and the time of the read; without it the platform answers 403
// holder_proof (an *APIError wrapping ErrUnauthorized). A resident is
// waiting, so the call is tried once: the caller bounds ctx and, when it
// fails, offers scanning instead.
func (c *Client) ECertQuery(ctx context.Context, q *api.ECertQueryRequest) (*api.ECertQueryResponse, error) {
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("client: e-certificate query: %w", err)
	}
	// The time of the card read goes by the platform's clock, as the
	// signature does: a kiosk whose RTC drifted would otherwise send a
	// read the platform takes for older than a session (or from the
	// future) and be refused.
	adj := *q
	adj.CardReadAt = q.CardReadAt.Add(c.ClockOffset())
	q = &adj
	body, err := json.Marshal(q)
	if err != nil {
		return nil, fmt.Errorf("client: encode e-certificate query: %w", err)
	}
	var out api.ECertQueryResponse
	_, err = c.do(ctx, call{
		method: http.MethodPost, path: api.PathECertQuery, json: body, single: true,
		header:  map[string]string{api.HeaderHolderProof: api.ECertHolderProof(q.IDNumber, c.cfg.KioskID, q.Session, q.CardReadAt)},
		success: okStatus(200),
		decode: decodeJSON(&out, func(x *api.ECertQueryResponse) error {
			for _, o := range x.Offers {
				if o.MaterialID == "" || o.Kind == api.OfferECert && o.Number == "" {
					return fmt.Errorf("offer without material or number")
				}
			}
			return nil
		}),
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
