-- 002: a rating the platform refuses for good is kept, with its reason, for
-- the technician instead of being dropped; it leaves the delivery queue.
ALTER TABLE ratings ADD COLUMN rejected_at INTEGER;
ALTER TABLE ratings ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
DROP INDEX ratings_unsent;
CREATE INDEX ratings_unsent ON ratings (created_at) WHERE sent_at IS NULL AND rejected_at IS NULL;
