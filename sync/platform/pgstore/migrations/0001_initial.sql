-- The platform's records, as sqlitestore's migrations 1 and 2 keep them.
-- Times are timestamptz (microseconds). status_updates.seq is the statuses
-- feed's cursor: NULL until the row's transaction has committed and a
-- sequencing run (serialised by feed_counter's row lock) numbers it, so the
-- feed never passes over a row that commits late (see pgstore.go).
CREATE TABLE kiosks(
	id text PRIMARY KEY, token text NOT NULL, added_at timestamptz NOT NULL,
	last_seen timestamptz, heartbeat jsonb);
CREATE TABLE idempotency(
	kiosk text NOT NULL, key text NOT NULL, body_hash text NOT NULL,
	status integer NOT NULL, body bytea NOT NULL, created_at timestamptz NOT NULL,
	PRIMARY KEY(kiosk, key));
CREATE TABLE submissions(
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	uuid text NOT NULL UNIQUE, receipt text NOT NULL UNIQUE, case_number text NOT NULL UNIQUE,
	kiosk text NOT NULL, item_id text NOT NULL, item_version text NOT NULL,
	applicant_name text NOT NULL, id_number text NOT NULL, status text NOT NULL,
	request jsonb NOT NULL, received_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
CREATE INDEX submissions_status ON submissions(status, id);
CREATE INDEX submissions_kiosk ON submissions(kiosk, id);
CREATE TABLE submission_blobs(
	submission_id bigint NOT NULL REFERENCES submissions(id), seq integer NOT NULL,
	material_id text NOT NULL, sha256 text NOT NULL, PRIMARY KEY(submission_id, seq));
CREATE INDEX submission_blobs_sha ON submission_blobs(sha256);
CREATE TABLE status_updates(
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	submission_id bigint NOT NULL REFERENCES submissions(id),
	kiosk text NOT NULL, status text NOT NULL, note text NOT NULL, actor text NOT NULL,
	at timestamptz NOT NULL, seq bigint UNIQUE);
CREATE INDEX status_updates_feed ON status_updates(kiosk, seq) WHERE seq IS NOT NULL;
CREATE INDEX status_updates_unsequenced ON status_updates(id) WHERE seq IS NULL;
CREATE INDEX status_updates_submission ON status_updates(submission_id, id);
CREATE TABLE feed_counter(one boolean PRIMARY KEY DEFAULT true CHECK (one), last bigint NOT NULL);
INSERT INTO feed_counter(last) VALUES (0);
CREATE TABLE ratings(
	uuid text PRIMARY KEY, kiosk text NOT NULL, receipt text NOT NULL, level integer NOT NULL,
	reason text NOT NULL, at timestamptz NOT NULL, received_at timestamptz NOT NULL);
CREATE TABLE staff(username text PRIMARY KEY, password_hash text NOT NULL, added_at timestamptz NOT NULL);
CREATE TABLE sessions(id_hash text PRIMARY KEY, username text NOT NULL REFERENCES staff(username),
	csrf text NOT NULL, expires timestamptz NOT NULL);
CREATE TABLE kiosk_uploads(kiosk text NOT NULL, sha256 text NOT NULL, length bigint NOT NULL,
	last_at timestamptz NOT NULL, done boolean NOT NULL, PRIMARY KEY(kiosk, sha256));
CREATE INDEX kiosk_uploads_sha ON kiosk_uploads(sha256);
CREATE TABLE lookups(kiosk text NOT NULL, receipt text NOT NULL, at timestamptz NOT NULL, PRIMARY KEY(kiosk, receipt));
