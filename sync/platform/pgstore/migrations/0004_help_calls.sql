-- Residents' calls for staff (issue 17), as sqlitestore's migration 5: a
-- call names a kiosk, its site and screen, never a resident; acked_at NULL
-- is open.
CREATE TABLE help_calls(seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id text NOT NULL, kiosk text NOT NULL,
	site text NOT NULL, screen text NOT NULL, at timestamptz NOT NULL, received_at timestamptz NOT NULL,
	acked_by text NOT NULL DEFAULT '', acked_at timestamptz, UNIQUE(kiosk, id));
CREATE INDEX help_calls_open ON help_calls(seq) WHERE acked_at IS NULL;
