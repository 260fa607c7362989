package api

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// PathBatch takes several submissions and the small blobs they name in one
// request (POST), so a backlog costs one signed exchange, one blob flush
// and one intake commit per batch instead of per submission. Each
// submission in it keeps its own Idempotency-Key and is answered exactly as
// POST PathSubmissions would answer it. See docs/sync-api.md.
const PathBatch = Base + "/batch"

// ContentTypeBatch is the only body type PathBatch accepts.
const ContentTypeBatch = "application/vnd.onedoor.batch"

// BatchMagic opens every batch body.
const BatchMagic = "OD-BATCH/1\n"

// Part kinds of a batch body.
const (
	BatchPartBlob       = 'B' // 32-byte SHA-256, then the blob's bytes
	BatchPartSubmission = 'S' // 36-byte Idempotency-Key, then the JSON body
)

// Limits of a batch, enforced by ParseBatch. A blob over MaxBatchBlob goes
// by the resumable PATCH instead: a batch is sent whole or not at all.
const (
	MaxBatchBytes       = 4 << 20
	MaxBatchSubmissions = 64
	MaxBatchBlobs       = 256
	MaxBatchBlob        = 1 << 20
)

// ErrBadBatch is wrapped by every error of ParseBatch: the body is not a
// batch (HTTP 400, CodeBadRequest).
var ErrBadBatch = errors.New("malformed batch")

// BatchBlob is one blob carried whole in a batch.
type BatchBlob struct {
	SHA256 string // lowercase hex of Data's SHA-256, as the sender claims
	Data   []byte
}

// BatchSubmission is one submission carried in a batch: Body is exactly the
// body POST PathSubmissions would carry, Key its Idempotency-Key.
type BatchSubmission struct {
	Key  string
	Body []byte
}

// Batch is the content of a batch body: blobs first is the sender's habit,
// but the platform stores every blob before it takes any submission.
type Batch struct {
	Blobs       []BatchBlob
	Submissions []BatchSubmission
}

const partHead = 1 + 4 // kind, big-endian uint32 payload length

// Size is the encoded length of b.
func (b Batch) Size() int {
	n := len(BatchMagic)
	for _, x := range b.Blobs {
		n += partHead + 32 + len(x.Data)
	}
	for _, x := range b.Submissions {
		n += partHead + 36 + len(x.Body)
	}
	return n
}

// AppendBatch appends the encoding of b to dst: BatchMagic, then each blob
// part, then each submission part. It does not check b; ParseBatch does.
func AppendBatch(dst []byte, b Batch) ([]byte, error) {
	dst = append(dst, BatchMagic...)
	for _, x := range b.Blobs {
		sum, err := hex.DecodeString(x.SHA256)
		if err != nil || len(sum) != 32 {
			return nil, fmt.Errorf("%w: blob address %q", ErrBadBatch, x.SHA256)
		}
		dst = appendPart(dst, BatchPartBlob, sum, x.Data)
	}
	for _, x := range b.Submissions {
		if len(x.Key) != 36 {
			return nil, fmt.Errorf("%w: key %q", ErrBadBatch, x.Key)
		}
		dst = appendPart(dst, BatchPartSubmission, []byte(x.Key), x.Body)
	}
	return dst, nil
}

func appendPart(dst []byte, kind byte, head, payload []byte) []byte {
	dst = append(dst, kind)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(head)+len(payload)))
	dst = append(dst, head...)
	return append(dst, payload...)
}

// ParseBatch reads a batch body. The slices of the result alias body. It
// checks the framing and the limits (MaxBatchBytes, MaxBatchSubmissions,
// MaxBatchBlobs, MaxBatchBlob, MaxRequestBytes per submission), that keys
// are lowercase UUIDs and blob addresses unique, and that there is at least
// one submission; what a submission's JSON says is the intake's business,
// item by item. It does not hash the blobs: the platform's blob store
// checks each against its address when it keeps it.
func ParseBatch(body []byte) (Batch, error) {
	var b Batch
	bad := func(format string, args ...any) (Batch, error) {
		return Batch{}, fmt.Errorf("%w: %s", ErrBadBatch, fmt.Sprintf(format, args...))
	}
	if len(body) > MaxBatchBytes {
		return bad("over %d bytes", MaxBatchBytes)
	}
	if len(body) < len(BatchMagic) || string(body[:len(BatchMagic)]) != BatchMagic {
		return bad("does not start with %q", BatchMagic)
	}
	rest := body[len(BatchMagic):]
	keys, blobs := map[string]bool{}, map[string]bool{}
	for len(rest) > 0 {
		if len(rest) < partHead {
			return bad("a part's head is cut short")
		}
		kind, n := rest[0], binary.BigEndian.Uint32(rest[1:partHead])
		rest = rest[partHead:]
		if uint64(n) > uint64(len(rest)) {
			return bad("a part of %d bytes runs past the end of the body", n)
		}
		payload := rest[:n]
		rest = rest[n:]
		switch kind {
		case BatchPartBlob:
			if len(payload) <= 32 || len(payload)-32 > MaxBatchBlob {
				return bad("a blob part must hold a 32-byte address and 1 to %d bytes", MaxBatchBlob)
			}
			sha := hex.EncodeToString(payload[:32])
			if blobs[sha] {
				return bad("blob %s appears twice", sha)
			}
			if len(b.Blobs) == MaxBatchBlobs {
				return bad("more than %d blobs", MaxBatchBlobs)
			}
			blobs[sha] = true
			b.Blobs = append(b.Blobs, BatchBlob{SHA256: sha, Data: payload[32:]})
		case BatchPartSubmission:
			if len(payload) < 36 || len(payload)-36 > MaxRequestBytes {
				return bad("a submission part must hold a 36-byte key and at most %d bytes of JSON", MaxRequestBytes)
			}
			key := string(payload[:36])
			if !IsUUID(key) {
				return bad("a submission's key must be a lowercase UUID")
			}
			if keys[key] {
				return bad("key %s appears twice", key)
			}
			if len(b.Submissions) == MaxBatchSubmissions {
				return bad("more than %d submissions", MaxBatchSubmissions)
			}
			keys[key] = true
			b.Submissions = append(b.Submissions, BatchSubmission{Key: key, Body: payload[36:]})
		default:
			return bad("unknown part kind %q", kind)
		}
	}
	if len(b.Submissions) == 0 {
		return bad("no submission")
	}
	return b, nil
}

// BatchResult is what POST PathSubmissions would have answered one
// submission of a batch: its status and its JSON body (SubmissionResponse on
// 200/201, ErrorResponse otherwise), in the order of the batch.
type BatchResult struct {
	Key    string          `json:"key"`
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body"`
}

// BatchResponse is the 200 body of POST PathBatch.
type BatchResponse struct {
	Results []BatchResult `json:"results"`
}
