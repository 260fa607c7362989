-- An intake in one statement, so in one round trip (pgstore.CreateSubmission).
-- Done from the client it took two (the key's lock, replay check and case
-- number; then the inserts and COMMIT), and between them the transaction
-- sat idle, holding its connection, while the platform's goroutine waited
-- for a core. A function called outside an explicit transaction runs in
-- the statement's own transaction: the key's lock is held to its commit,
-- and each statement below takes a fresh snapshot (the function is
-- VOLATILE), so a second intake of one key that waited for the lock sees
-- the first's idempotency row and replays it.

-- case_digits is the number part of a case number ("%06d"): the one place
-- it is formatted, for intake below and for pgstore's fallback path. Not
-- STRICT, so the planner inlines it (a STRICT one it would call through
-- the SQL-function executor, planning its query at every call).
CREATE FUNCTION case_digits(n bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN n < 1000000 THEN lpad(n::text, 6, '0') ELSE n::text END
$$;

-- intake stores a submission, its blobs, its "received" status update and
-- its idempotency record, or replays that record. The answer body is given
-- as a template: body_head || case_digits(n) || body_tail, where n is the
-- year's next case number (so the number is taken only by an intake that
-- stores); when p_seq is given (the caller took it and rendered the body
-- itself) body_head is the whole body. outcome: 'created', 'replay' (same
-- body hash: resp_* is the stored answer), 'conflict' (another body hash)
-- or 'used' (the UUID or receipt is taken under another key). A racing
-- insert of the same UUID or receipt under another key fails with
-- unique_violation. Each statement in a function costs an executor start
-- and end, so the checks are one SELECT and the inserts one statement.
CREATE FUNCTION intake(
	p_kiosk text, p_key text, p_body_hash text,
	p_uuid text, p_receipt text, p_seq_name text, p_case_head text, p_seq bigint,
	p_item_id text, p_item_version text, p_name text, p_id_number text, p_status text,
	p_request jsonb, p_at timestamptz,
	p_blob_seqs int[], p_blob_mats text[], p_blob_shas text[],
	p_resp_status integer, p_body_head bytea, p_body_tail bytea,
	OUT outcome text, OUT resp_status integer, OUT resp_body bytea)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	stored_hash text;
	used boolean;
	digits text;
BEGIN
	-- The same key expression as pgstore's qLockKey (ratings share the
	-- idempotency table and its keys).
	PERFORM pg_advisory_xact_lock(hashtextextended(p_kiosk || chr(31) || p_key, 0));
	SELECT i.body_hash, i.status, i.body,
			EXISTS(SELECT 1 FROM submissions s WHERE s.uuid = p_uuid OR s.receipt = p_receipt)
		INTO stored_hash, resp_status, resp_body, used
		FROM (SELECT) AS one LEFT JOIN idempotency i ON i.kiosk = p_kiosk AND i.key = p_key;
	IF stored_hash IS NOT NULL THEN
		outcome := CASE WHEN stored_hash = p_body_hash THEN 'replay' ELSE 'conflict' END;
		RETURN;
	END IF;
	IF used THEN
		outcome := 'used';
		RETURN;
	END IF;
	resp_status := p_resp_status;
	IF p_seq IS NULL THEN
		digits := case_digits(nextval(p_seq_name::regclass));
		resp_body := p_body_head || convert_to(digits, 'UTF8') || p_body_tail;
	ELSE
		digits := case_digits(p_seq);
		resp_body := p_body_head;
	END IF;
	WITH sub AS (
		INSERT INTO submissions(uuid, receipt, case_number, kiosk, item_id, item_version,
				applicant_name, id_number, status, request, received_at, updated_at)
			VALUES(p_uuid, p_receipt, p_case_head || digits, p_kiosk, p_item_id, p_item_version,
				p_name, p_id_number, p_status, p_request, p_at, p_at)
			RETURNING id),
	blobs AS (
		INSERT INTO submission_blobs(submission_id, seq, material_id, sha256)
			SELECT sub.id, b.seq, b.mat, b.sha FROM sub, unnest(p_blob_seqs, p_blob_mats, p_blob_shas) AS b(seq, mat, sha)),
	upd AS (
		INSERT INTO status_updates(submission_id, kiosk, status, note, actor, at)
			SELECT sub.id, p_kiosk, p_status, '', 'intake', p_at FROM sub)
	INSERT INTO idempotency(kiosk, key, body_hash, status, body, created_at)
		VALUES(p_kiosk, p_key, p_body_hash, resp_status, resp_body, p_at);
	outcome := 'created';
END
$$;
