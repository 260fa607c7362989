package platform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"onedoor/sync/api"
)

// postBatch takes several submissions and the small blobs they name in one
// request (POST /api/v1/batch, docs/sync-api.md). The body is signed like
// any other; every blob is stored first (concurrently, so the blob store
// can share one flush among them), then every submission goes through the
// same intake as POST /submissions (concurrently, so the store's group
// commit holds them all), and the answer lists, item by item, what that
// endpoint would have answered. A submission is never half taken: its
// Idempotency-Key and body hash are those of the single endpoint, so a
// kiosk may send it again alone or in another batch and get the same
// answer.
func (s *Server) postBatch(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != api.ContentTypeBatch {
		writeError(w, http.StatusUnsupportedMediaType, api.ErrorResponse{Code: api.CodeBadRequest, Message: "Content-Type must be " + api.ContentTypeBatch})
		return
	}
	body, ok := readBodyMax(w, r, api.MaxBatchBytes)
	if !ok {
		return
	}
	a, ok := s.authenticate(w, r, api.BodySHA256(body), false)
	if !ok {
		return
	}
	b, err := api.ParseBatch(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, api.ErrorResponse{Code: api.CodeBadRequest, Message: err.Error()})
		return
	}
	if err := s.storeBatchBlobs(r.Context(), a.KioskID, b.Blobs); err != nil {
		s.internal(w, r, err)
		return
	}
	results := make([]api.BatchResult, len(b.Submissions))
	var wg sync.WaitGroup
	for i, it := range b.Submissions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := &itemRecorder{h: http.Header{}}
			s.batchItem(rec, r, a, it)
			results[i] = api.BatchResult{Key: it.Key, Status: rec.code, Body: bytes.TrimSpace(rec.body.Bytes())}
		}()
	}
	wg.Wait()
	writeJSON(w, http.StatusOK, api.BatchResponse{Results: results})
}

// storeBatchBlobs keeps every blob of a batch. A blob already complete is
// fine, one held in part is completed from where it stands, and one that
// does not hash to its address is left out (logged): the submissions that
// name it are answered missing_blobs, as they would be alone. Only the
// store's own failure is an error.
func (s *Server) storeBatchBlobs(ctx context.Context, kiosk string, blobs []api.BatchBlob) error {
	if ws, ok := s.cfg.Blobs.(WholeBlobStore); ok {
		whole := make([]WholeBlob, len(blobs))
		for i, bl := range blobs {
			whole[i] = WholeBlob{SHA: bl.SHA256, Data: bl.Data}
		}
		errs, err := ws.StoreWhole(ctx, whole)
		if err != nil {
			return fmt.Errorf("batch blobs: %w", err)
		}
		for i, err := range errs {
			if err != nil {
				s.cfg.Logger.Warn("batch blob not kept", "kiosk", kiosk, "sha256", blobs[i].SHA256, "err", err)
			}
		}
		return nil
	}
	errs := make([]error, len(blobs))
	var wg sync.WaitGroup
	for i, bl := range blobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.storeWhole(ctx, kiosk, bl)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (s *Server) storeWhole(ctx context.Context, kiosk string, bl api.BatchBlob) error {
	size := int64(len(bl.Data))
	// From offset 0 the store checks the bytes against the address itself
	// (and refuses at once, reading nothing, when a part is already held).
	off, err := s.cfg.Blobs.Append(ctx, bl.SHA256, 0, size, "", bytes.NewReader(bl.Data))
	if errors.Is(err, ErrOffsetMismatch) && off > 0 && off < size {
		// An earlier PATCH left part of it: append the rest, but only
		// bytes that hash to the address, since completing the upload
		// with wrong ones would discard the part that PATCH (of any
		// kiosk) had kept.
		if api.BodySHA256(bl.Data) != bl.SHA256 {
			s.cfg.Logger.Warn("batch blob not kept", "kiosk", kiosk, "sha256", bl.SHA256, "err", ErrHashMismatch)
			return nil
		}
		off, err = s.cfg.Blobs.Append(ctx, bl.SHA256, off, size, "", bytes.NewReader(bl.Data[off:]))
	}
	switch {
	case err == nil, errors.Is(err, ErrOffsetMismatch) && off == size:
		return nil
	case errors.Is(err, ErrHashMismatch), errors.Is(err, ErrOffsetMismatch), errors.Is(err, ErrBlobTooLong):
		s.cfg.Logger.Warn("batch blob not kept", "kiosk", kiosk, "sha256", bl.SHA256, "err", err)
		return nil
	}
	return fmt.Errorf("batch blob %.12s: %w", bl.SHA256, err)
}

// batchItem answers one submission of a batch as POST /submissions would:
// a stored first answer is replayed, anything else goes through intake.
func (s *Server) batchItem(w http.ResponseWriter, r *http.Request, a api.Auth, it api.BatchSubmission) {
	hash := api.BodySHA256(it.Body)
	h, stored, err := s.cfg.Store.Idempotent(r.Context(), a.KioskID, it.Key)
	switch {
	case errors.Is(err, ErrNotFound):
		s.intake(w, r, a, it.Body, hash, it.Key)
	case err != nil:
		s.internal(w, r, err)
	case h != hash:
		s.conflict(w)
	default:
		writeStored(w, stored)
	}
}

// intake validates a submission not seen before under its key and stores
// it: the common part of POST /submissions and of each batch item.
func (s *Server) intake(w http.ResponseWriter, r *http.Request, a api.Auth, body []byte, hash, key string) {
	var req api.SubmissionRequest
	if !decodeBody(w, body, &req, "submission", false) {
		return
	}
	if err := req.Validate(); err != nil {
		validation(w, err)
		return
	}
	if req.UUID != key {
		validation(w, errors.New("uuid: must equal the Idempotency-Key"))
		return
	}
	if req.KioskID != a.KioskID {
		validation(w, errors.New("kiosk_id: must be the signing kiosk"))
		return
	}
	missing, err := s.cfg.Blobs.Missing(r.Context(), req.BlobHashes())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if len(missing) > 0 {
		writeError(w, http.StatusUnprocessableEntity, api.ErrorResponse{Code: api.CodeMissingBlobs,
			Message: fmt.Sprintf("%d blob(s) not uploaded completely; upload them and send this request again", len(missing)), MissingBlobs: missing})
		return
	}
	// Each page's declared size is the stored blob's: staff are shown it
	// and it is exported. (Missing has just looked every page up, so the
	// stores answer this from what they hold in memory.)
	for i, m := range req.Materials {
		for j, p := range m.Pages {
			_, n, err := s.cfg.Blobs.Complete(r.Context(), p.SHA256)
			if err != nil {
				s.internal(w, r, err)
				return
			}
			if n != p.Size {
				validation(w, fmt.Errorf("materials[%d].pages[%d].size: %d bytes declared, the blob has %d", i, j, p.Size, n))
				return
			}
		}
	}
	if !s.checkECerts(w, r, &req) {
		return
	}
	resp, replay, err := s.cfg.Store.CreateSubmission(r.Context(), IntakeRecord{
		KioskID: a.KioskID, IdemKey: key, BodyHash: hash, Req: req, ReceivedAt: s.cfg.Clock(), CasePrefix: s.cfg.CasePrefix,
	}, func(sr api.SubmissionResponse) (StoredResponse, error) { return renderJSON(http.StatusCreated, sr) })
	switch {
	case errors.Is(err, ErrIdempotencyConflict):
		s.conflict(w)
		return
	case errors.Is(err, ErrExists):
		writeError(w, http.StatusConflict, api.ErrorResponse{Code: api.CodeIdempotencyConflict, Message: "this submission UUID or receipt number was already used by another request"})
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	if replay {
		s.metrics.count("idempotent_replays", "submissions", 1)
	} else {
		s.metrics.count("submissions_created", a.KioskID, 1)
		s.logECertUses(r.Context(), a.KioskID, &req)
		s.cfg.Logger.Info("submission received", "kiosk", a.KioskID, "receipt", req.Receipt, "item", req.ItemID)
	}
	writeStored(w, resp)
}

// itemRecorder keeps one batch item's answer: the handlers above write it
// as they would write a whole response.
type itemRecorder struct {
	h    http.Header
	code int
	body bytes.Buffer
}

func (i *itemRecorder) Header() http.Header { return i.h }
func (i *itemRecorder) WriteHeader(code int) {
	if i.code == 0 {
		i.code = code
	}
}
func (i *itemRecorder) Write(b []byte) (int, error) {
	i.WriteHeader(http.StatusOK)
	return i.body.Write(b)
}

// readBodyMax reads a body signed whole (JSON, a batch) up to max bytes: a
// larger declared Content-Length is refused before reading, and a body
// still for DefaultBodyIdleTimeout or slower than bodyTimeout in all gets
// 408.
func readBodyMax(w http.ResponseWriter, r *http.Request, max int64) ([]byte, bool) {
	tooLarge := func() ([]byte, bool) {
		writeError(w, http.StatusRequestEntityTooLarge, api.ErrorResponse{Code: api.CodeTooLarge, Message: fmt.Sprintf("body over %d bytes", max)})
		return nil, false
	}
	if r.ContentLength > max {
		return tooLarge()
	}
	body := &deadlineReader{r: r.Body, rc: http.NewResponseController(w), idle: DefaultBodyIdleTimeout, end: time.Now().Add(bodyTimeout(r.ContentLength))}
	b, err := io.ReadAll(http.MaxBytesReader(w, io.NopCloser(body), max))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge()
	}
	if isTimeout(err) {
		writeError(w, http.StatusRequestTimeout, api.ErrorResponse{Code: api.CodeTimeout, Message: "request body stalled"})
		return nil, false
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, api.ErrorResponse{Code: api.CodeBadRequest, Message: "reading body: " + err.Error()})
		return nil, false
	}
	return b, true
}
