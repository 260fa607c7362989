-- 003: scanned pages are kept in the database, sealed exactly as the blob
-- files were (package sealed: AES-256-GCM in 64 KiB segments, the header as
-- additional data of every segment), so a submission's pages and its rows
-- become durable in one WAL commit. Blob files written before stay in
-- blobs/ and are still read; nothing new is written there.

-- One row per stored blob: its content address (lowercase hex SHA-256 of
-- the plaintext) and its 48-byte sealed header.
CREATE TABLE blobs (
	sha256 TEXT PRIMARY KEY,
	header BLOB NOT NULL
);

-- Its sealed segments (ciphertext and tag), numbered from 0.
CREATE TABLE blob_segments (
	sha256 TEXT NOT NULL REFERENCES blobs (sha256) ON DELETE CASCADE,
	seg    INTEGER NOT NULL,
	data   BLOB NOT NULL,
	PRIMARY KEY (sha256, seg)
);
