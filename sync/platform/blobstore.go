package platform

import (
	"context"
	"errors"
	"io"
)

// Blob errors a BlobStore returns; the HTTP layer maps them to status codes.
var (
	ErrOffsetMismatch = errors.New("upload offset mismatch")
	ErrHashMismatch   = errors.New("blob does not hash to its address")
	ErrBlobTooLong    = errors.New("body goes past Upload-Length")
	ErrChunkHash      = errors.New("chunk does not match its signed content hash")
	// ErrBodyRead means the request body failed (the link dropped); any
	// other error from Append is the platform's own storage failing.
	ErrBodyRead = errors.New("reading the request body")
)

// BlobStore keeps blob bytes (scanned pages), addressed by the hex SHA-256
// of their plaintext, apart from the records in Store, the way tusd keeps
// its data stores apart from its handler. Uploads are resumable: a kiosk
// appends chunks at the offset the store reports. A blob counts as complete
// only once the store has checked that its bytes hash to its address.
// sync/platform/blobdir keeps them in a local folder; an object store
// implements the same methods. sha is always validated hex.
type BlobStore interface {
	// Offset returns how many bytes of the blob the store holds and whether
	// its upload was ever started (HEAD answers 404 when it was not).
	Offset(ctx context.Context, sha string) (offset int64, started bool, err error)
	// Complete reports whether the blob is stored and verified, and its size.
	Complete(ctx context.Context, sha string) (ok bool, size int64, err error)
	// Missing returns the hashes in shas that are not complete.
	Missing(ctx context.Context, shas []string) ([]string, error)
	// Append writes body at offset of blob sha whose total size is length.
	// chunkSHA is the signed hex SHA-256 of the body, or "" when unsigned:
	// then whatever arrives before a dropped link is kept; with a signed
	// hash a chunk is kept only whole and intact. It returns the new
	// offset, which the caller reports even with an error. When the blob
	// reaches length it is verified and becomes complete, or is discarded
	// with ErrHashMismatch. Errors that are not the blob errors above nor
	// ErrBodyRead are the store's own failures.
	Append(ctx context.Context, sha string, offset, length int64, chunkSHA string, body io.Reader) (int64, error)
	// Open opens a complete blob for reading, or returns ErrNotFound.
	Open(ctx context.Context, sha string) (io.ReadSeekCloser, error)
}

// PackedBlob says where an object store keeps a small blob it packed
// together with others: bytes [Off, Off+Size) of object Object. The
// records store keeps this index (pgstore), since every instance must find
// a page another instance packed.
type PackedBlob struct {
	SHA    string
	Object string
	Off    int64
	Size   int64
}

// WholeBlob is a blob sent whole in a batch, not yet checked against its
// address.
type WholeBlob struct {
	SHA  string
	Data []byte
}

// WholeBlobStore is a BlobStore that keeps a batch's blobs better together
// than one by one (s3blobs packs them into one object). StoreWhole checks
// each blob against its address: errs[i] is the blob error (ErrHashMismatch
// and the like) of a blob not kept, and err the store's own failure.
type WholeBlobStore interface {
	StoreWhole(ctx context.Context, blobs []WholeBlob) (errs []error, err error)
}
