package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"onedoor/sync/api"
)

// Help sends a resident's call for staff (POST /api/v1/help). A resident
// is waiting at the screen, so the call is tried once: the caller bounds
// ctx (a few seconds) and, when it fails, tells the resident to go to the
// counter. Sending the same h.ID again is the same call.
func (c *Client) Help(ctx context.Context, h *api.HelpRequest) (*api.HelpResponse, error) {
	body, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("client: encode help request: %w", err)
	}
	var out api.HelpResponse
	_, err = c.do(ctx, call{
		method: http.MethodPost, path: api.PathHelp, json: body, single: true,
		header:  map[string]string{api.HeaderIdempotencyKey: h.ID},
		success: okStatus(200, 201),
		decode: decodeJSON(&out, func(x *api.HelpResponse) error {
			if x.ID != h.ID {
				return fmt.Errorf("answer is for help call %q", x.ID)
			}
			return nil
		}),
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
