-- 004: scanned pages are written, sealed exactly as before (package sealed),
-- into one preallocated pack file beside the database (pages.pack) with one
-- write and one fdatasync per Submit; a blob row says where its sealed
-- stream sits there. Blobs stored by version 3 keep their segments in
-- blob_segments (pack_off NULL) and are still read from there.
ALTER TABLE blobs ADD COLUMN pack_off INTEGER;
ALTER TABLE blobs ADD COLUMN pack_len INTEGER;
CREATE INDEX blobs_pack ON blobs (pack_off) WHERE pack_off IS NOT NULL;

-- Extents of the pack whose blobs were deleted (purge, a damaged copy
-- replaced, a submission rolled back at open) and whose bytes are still to
-- be overwritten with zeros: recorded in the transaction that deletes the
-- rows, erased after its commit, and at the next open if a crash came
-- between.
CREATE TABLE pack_free (
	off INTEGER PRIMARY KEY,
	len INTEGER NOT NULL
);
-- The pack's allocation mark (kv 'pack_tail': bytes allocated to blobs so
-- far) and verified mark (kv 'pack_verified': every blob below it is known
-- to be on disk) live in kv.
