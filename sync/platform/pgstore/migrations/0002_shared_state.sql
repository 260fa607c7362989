-- What several platformd instances share so that each can answer every
-- request: the replay (nonce) cache, the login limiter's counts and the
-- leases that let one instance run a background job at a time.
CREATE TABLE nonces(kiosk text NOT NULL, nonce text NOT NULL, expires timestamptz NOT NULL, PRIMARY KEY(kiosk, nonce));
CREATE INDEX nonces_expires ON nonces(expires);
CREATE TABLE login_failures(key text PRIMARY KEY, count integer NOT NULL, window_start timestamptz NOT NULL);
CREATE TABLE leases(name text PRIMARY KEY, holder text NOT NULL, expires timestamptz NOT NULL);
