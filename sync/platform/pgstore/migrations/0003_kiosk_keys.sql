-- Kiosk key pairs (as sqlitestore's migration 3): a kiosk enrolled with a
-- key keeps only its public key here (its token is erased); enrolments hold
-- one-time codes by hash.
ALTER TABLE kiosks ADD COLUMN alg text NOT NULL DEFAULT '';
ALTER TABLE kiosks ADD COLUMN public_key text NOT NULL DEFAULT '';
CREATE TABLE enrolments(kiosk text PRIMARY KEY, code_hash text NOT NULL, expires timestamptz NOT NULL,
	used_at timestamptz, public_key text NOT NULL);
