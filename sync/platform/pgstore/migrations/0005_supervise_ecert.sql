-- Supervision (issue 14) and e-certificates (issue 13), as sqlitestore's
-- migrations 4 and 6. case_facts is derived from status_updates and ratings
-- by supervise.Refresher. Its cursors are feed positions (status_updates.seq
-- and ratings.seq), given in commit order by the sequencing run, so a
-- refresh never passes over a decision or a rating that commits late.
ALTER TABLE ratings ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE ratings ADD COLUMN seq bigint UNIQUE;
CREATE INDEX ratings_unsequenced ON ratings(id) WHERE seq IS NULL;
CREATE INDEX ratings_receipt ON ratings(receipt);
CREATE TABLE staff_roles(username text PRIMARY KEY REFERENCES staff(username), name text NOT NULL,
	role text NOT NULL, town text NOT NULL, set_by text NOT NULL, set_at timestamptz NOT NULL);
CREATE TABLE kiosk_towns(kiosk text PRIMARY KEY, town text NOT NULL);
CREATE TABLE supervise_cursor(one boolean PRIMARY KEY DEFAULT true CHECK (one), updates bigint NOT NULL, ratings bigint NOT NULL);
INSERT INTO supervise_cursor(updates, ratings) VALUES (0, 0);
CREATE TABLE case_facts(submission_id bigint PRIMARY KEY, receipt text NOT NULL, kiosk text NOT NULL,
	town text NOT NULL, item_id text NOT NULL, staff text NOT NULL, status text NOT NULL,
	received_day integer NOT NULL, start_day integer NOT NULL, due_day integer NOT NULL,
	decided_day integer NOT NULL, open boolean NOT NULL, returned boolean NOT NULL,
	return_reason text NOT NULL, work_days integer NOT NULL, on_time boolean NOT NULL,
	rating integer NOT NULL DEFAULT 0, rating_reason text NOT NULL DEFAULT '', rated_day integer NOT NULL DEFAULT 0);
CREATE INDEX case_facts_received ON case_facts(received_day);
CREATE INDEX case_facts_decided ON case_facts(decided_day) WHERE decided_day > 0;
CREATE INDEX case_facts_rated ON case_facts(rated_day) WHERE rated_day > 0;
CREATE INDEX case_facts_open ON case_facts(due_day) WHERE open;
CREATE INDEX case_facts_receipt ON case_facts(receipt);
CREATE TABLE followups(id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, submission_id bigint NOT NULL UNIQUE,
	receipt text NOT NULL, kiosk text NOT NULL, town text NOT NULL, item_id text NOT NULL,
	level integer NOT NULL, reason text NOT NULL, opened_day integer NOT NULL, due_day integer NOT NULL,
	closed boolean NOT NULL DEFAULT false);
CREATE INDEX followups_receipt ON followups(receipt);
CREATE TABLE followup_steps(followup_id bigint NOT NULL REFERENCES followups(id), seq integer NOT NULL,
	kind text NOT NULL, text text NOT NULL, actor text NOT NULL, at timestamptz NOT NULL, PRIMARY KEY(followup_id, seq));
-- The reference e-certificate library: certificates by number and by the
-- holder's keyed hash (never the ID number); cert is the certificate's JSON
-- as stored (bytea, not jsonb: the same certificate again must compare
-- byte for byte), the access log, and materials reusable by their holder.
CREATE TABLE ecerts(number text PRIMARY KEY, holder_hash text NOT NULL, type_code text NOT NULL,
	issued_on text NOT NULL, cert bytea NOT NULL, added_at timestamptz NOT NULL);
CREATE INDEX ecerts_holder ON ecerts(holder_hash, issued_on);
CREATE TABLE ecert_access(id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, holder_hash text NOT NULL,
	at timestamptz NOT NULL, kiosk text NOT NULL, item_id text NOT NULL, receipt text NOT NULL,
	number text NOT NULL, type_name text NOT NULL, action text NOT NULL);
CREATE INDEX ecert_access_holder ON ecert_access(holder_hash, id);
CREATE TABLE reusables(receipt text NOT NULL, material_id text NOT NULL, holder_hash text NOT NULL,
	until timestamptz NOT NULL, doc bytea NOT NULL, PRIMARY KEY(receipt, material_id));
CREATE INDEX reusables_holder ON reusables(holder_hash, until);
