-- What several platformd instances share so that each can answer every
-- request: the replay (nonce) cache, the login and lookup limiters' failure
-- times, and the leases that let one instance at a time run a background
-- job.
CREATE TABLE nonces(kiosk text NOT NULL, nonce text NOT NULL, expires timestamptz NOT NULL, PRIMARY KEY(kiosk, nonce));
CREATE INDEX nonces_expires ON nonces(expires);
CREATE TABLE failures(key text NOT NULL, at timestamptz NOT NULL);
CREATE INDEX failures_key ON failures(key, at);
CREATE TABLE leases(name text PRIMARY KEY, holder text NOT NULL, expires timestamptz NOT NULL);
