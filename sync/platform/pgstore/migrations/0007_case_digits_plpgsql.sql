-- case_digits (migration 6) in PL/pgSQL. As a SQL function it is not
-- inlined where intake() calls it (its argument, nextval(), is volatile and
-- the body reads it twice), so every call went through the SQL-function
-- executor, which parses and plans its query again in each transaction:
-- about 7 % of PostgreSQL's CPU time per intake in a profile of the intake
-- benchmark. A PL/pgSQL function keeps its compiled form for the session.
CREATE OR REPLACE FUNCTION case_digits(n bigint) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN CASE WHEN n < 1000000 THEN lpad(n::text, 6, '0') ELSE n::text END;
END
$$;
