-- 001: the whole first schema. Times are Unix milliseconds (UTC).
-- Personal data lives only in the sealed columns (AES-256-GCM); id_hash is an
-- HMAC of the ID number under a key derived from the data key.

CREATE TABLE submissions (
	uuid            TEXT PRIMARY KEY,
	receipt         TEXT NOT NULL UNIQUE,
	kiosk_id        TEXT NOT NULL,
	day             TEXT NOT NULL,          -- yyyymmdd of the receipt
	seq             INTEGER NOT NULL,       -- per kiosk and day
	item_id         TEXT NOT NULL,
	item_version    TEXT NOT NULL,
	created_at      INTEGER NOT NULL,
	sealed          BLOB,                   -- applicant + form; NULL once purged
	id_hash         BLOB,                   -- keyed hash of the ID number; NULL once purged
	masked_name     TEXT NOT NULL,
	state           TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'rejected')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	last_error      TEXT NOT NULL DEFAULT '',
	case_number     TEXT NOT NULL DEFAULT '',
	platform_status TEXT NOT NULL DEFAULT '',
	status_note     BLOB,                   -- sealed: staff notes may name the resident
	status_at       INTEGER,
	sent_at         INTEGER,
	rejected_at     INTEGER,
	purged_at       INTEGER,
	UNIQUE (kiosk_id, day, seq)
);
CREATE INDEX submissions_due ON submissions (state, next_attempt_at, created_at);
CREATE INDEX submissions_id_hash ON submissions (id_hash) WHERE id_hash IS NOT NULL;
CREATE INDEX submissions_purge ON submissions (state, sent_at) WHERE purged_at IS NULL;

CREATE TABLE materials (
	submission_uuid TEXT NOT NULL REFERENCES submissions (uuid) ON DELETE CASCADE,
	ord             INTEGER NOT NULL,
	material_id     TEXT NOT NULL,
	kind            TEXT NOT NULL,
	PRIMARY KEY (submission_uuid, ord)
);

-- One row per page. Deleted at purge: a hash of a scan identifies it.
CREATE TABLE attachments (
	submission_uuid TEXT NOT NULL,
	material_ord    INTEGER NOT NULL,
	page            INTEGER NOT NULL,
	sha256          TEXT NOT NULL,
	size            INTEGER NOT NULL,
	content_type    TEXT NOT NULL,
	PRIMARY KEY (submission_uuid, material_ord, page),
	FOREIGN KEY (submission_uuid, material_ord) REFERENCES materials (submission_uuid, ord) ON DELETE CASCADE
);
CREATE INDEX attachments_sha256 ON attachments (sha256);

CREATE TABLE status_history (
	submission_uuid TEXT NOT NULL REFERENCES submissions (uuid) ON DELETE CASCADE,
	status          TEXT NOT NULL,
	at              INTEGER NOT NULL,
	received_at     INTEGER NOT NULL,
	PRIMARY KEY (submission_uuid, status, at)
);

-- Small key/value settings: status cursor, catalog ETag and body.
CREATE TABLE kv (
	key   TEXT PRIMARY KEY,
	value BLOB NOT NULL
);

CREATE TABLE ratings (
	uuid       TEXT PRIMARY KEY,
	receipt    TEXT NOT NULL DEFAULT '',
	level      INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
	reason     BLOB,                        -- sealed free text
	at         INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	sent_at    INTEGER
);
CREATE INDEX ratings_unsent ON ratings (created_at) WHERE sent_at IS NULL;

-- What happened, for the technician. Never personal data: receipt numbers,
-- states, counts and sizes only.
CREATE TABLE audit_log (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	at      INTEGER NOT NULL,
	event   TEXT NOT NULL,
	receipt TEXT NOT NULL DEFAULT '',
	detail  TEXT NOT NULL DEFAULT ''
);
