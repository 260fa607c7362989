package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"onedoor/sync/api"
)

// ErrBatchUnsupported means the platform does not take POST /api/v1/batch
// (404, 405, 415 or 501 to it: a platform older than the endpoint, or one
// that chose not to offer it). Nothing was stored; send the submissions one
// by one.
var ErrBatchUnsupported = errors.New("platform does not take batches")

// BatchItem is one submission for SubmitBatch and the blobs it carries
// whole (those the platform may lack; a blob it already holds may be left
// out).
type BatchItem struct {
	Request *api.SubmissionRequest
	Blobs   []api.BatchBlob
}

// BatchOutcome is the platform's answer to one item of a batch: Response on
// success, else Err, classified as Submit's errors are (ErrMissingBlobs,
// ErrRejected, ErrConflict, ErrUnavailable…).
type BatchOutcome struct {
	Response *api.SubmissionResponse
	Err      error
}

// EncodeBatch builds the body SubmitBatch sends for items, so a caller can
// check its size against api.MaxBatchBytes first.
func EncodeBatch(items []BatchItem) ([]byte, error) {
	var b api.Batch
	seen := map[string]bool{}
	for _, it := range items {
		body, err := json.Marshal(it.Request)
		if err != nil {
			return nil, fmt.Errorf("client: encode submission: %w", err)
		}
		b.Submissions = append(b.Submissions, api.BatchSubmission{Key: it.Request.UUID, Body: body})
		for _, bl := range it.Blobs {
			if !seen[bl.SHA256] { // a page two submissions share goes once
				seen[bl.SHA256] = true
				b.Blobs = append(b.Blobs, bl)
			}
		}
	}
	out := make([]byte, 0, b.Size())
	return api.AppendBatch(out, b)
}

// SubmitBatch sends several submissions and their blobs in one request
// (docs/sync-api.md, POST /api/v1/batch) and returns one outcome per item,
// in order. Each submission carries the same JSON bytes and key Submit
// would send, so the platform's exactly-once rules hold across both: a
// submission may go again alone or in another batch. An error means no
// item has an answer: the request failed as a whole (the link, a 5xx,
// garbage, ErrBatchUnsupported, a 4xx for the whole batch), and every item
// may be sent again.
func (c *Client) SubmitBatch(ctx context.Context, items []BatchItem) ([]BatchOutcome, error) {
	body, err := EncodeBatch(items)
	if err != nil {
		return nil, err
	}
	var out []BatchOutcome
	unsupported := false
	_, err = c.do(ctx, call{
		method: http.MethodPost, path: api.PathBatch, raw: body, rawType: api.ContentTypeBatch,
		// A platform without the endpoint answers these, and what it
		// says with them need not be the protocol's error body.
		success: okStatus(200, 404, 405, 415, 501),
		decode: func(resp *http.Response) error {
			if resp.StatusCode != http.StatusOK {
				unsupported = true
				io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
				return nil
			}
			var br api.BatchResponse
			if err := decodeJSON(&br, nil)(resp); err != nil {
				return err
			}
			o, err := c.outcomes(items, br)
			out = o
			return err
		},
	})
	if err != nil {
		return nil, err
	}
	if unsupported {
		return nil, fmt.Errorf("POST %s: %w", api.PathBatch, ErrBatchUnsupported)
	}
	return out, nil
}

// outcomes checks that br answers exactly items, in order, and reads each
// result. A batch answer that does not match the request is not the
// protocol (a proxy's, or one meant for another request): the attempt is
// retried.
func (c *Client) outcomes(items []BatchItem, br api.BatchResponse) ([]BatchOutcome, error) {
	if len(br.Results) != len(items) {
		return nil, fmt.Errorf("%d results for %d submissions", len(br.Results), len(items))
	}
	out := make([]BatchOutcome, len(items))
	for i, res := range br.Results {
		s := items[i].Request
		if res.Key != s.UUID {
			return nil, fmt.Errorf("result %d is for key %q, not %q", i, res.Key, s.UUID)
		}
		where := fmt.Sprintf("POST %s (item %s)", api.PathBatch, s.UUID)
		if res.Status == http.StatusOK || res.Status == http.StatusCreated {
			var sr api.SubmissionResponse
			if err := json.NewDecoder(bytes.NewReader(res.Body)).Decode(&sr); err != nil || sr.UUID != s.UUID || sr.CaseNumber == "" {
				return nil, fmt.Errorf("result %d: answer is for uuid %q with case %q", i, sr.UUID, sr.CaseNumber)
			}
			out[i].Response = &sr
			continue
		}
		ae, err := classify(&APIError{Status: res.Status, Offset: -1}, res.Body, nil, false)
		if err != nil {
			out[i].Err = fmt.Errorf("%s: %w", where, err)
			continue
		}
		out[i].Err = fmt.Errorf("%s: %w", where, ae)
	}
	return out, nil
}
