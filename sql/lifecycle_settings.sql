-- The lifecycle's settings by their names: retention.batch_target and
-- retention.lock_timeout, and 0.1.0's names (batch_target_ms,
-- lock_timeout_ms), still read so that an old postgresql.conf keeps working.
-- A trigger of the table's own records the lock_timeout its batches run under.
SET client_min_messages = warning;
CREATE SCHEMA lset;
CREATE TABLE lset.seen (lock_timeout text);
CREATE TABLE lset.client (id int PRIMARY KEY, email text, seen_at timestamptz);
CREATE INDEX ON lset.client (seen_at);
CREATE FUNCTION lset.note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lset.seen VALUES (pg_catalog.current_setting('lock_timeout'));
    RETURN NEW;
END $$;
CREATE TRIGGER note BEFORE UPDATE ON lset.client FOR EACH ROW EXECUTE FUNCTION lset.note();
SECURITY LABEL FOR retention ON TABLE lset.client IS 'age from seen_at';
SECURITY LABEL FOR retention ON COLUMN lset.client.email IS 'anonymize after 1 month using redact';

-- the new names, with their unit
SHOW retention.lock_timeout;
SHOW retention.batch_target;
SET retention.lock_timeout = '1234ms';
SET retention.batch_target = '2s';
SHOW retention.batch_target;
INSERT INTO lset.client VALUES (1, 'a@example.com', now() - interval '2 months');
CALL retention.run();
SELECT DISTINCT lock_timeout FROM lset.seen;

-- 0.1.0's names: not listed, still read, and they win when set
SELECT name FROM pg_catalog.pg_settings WHERE name LIKE 'retention.%_ms';
SET retention.lock_timeout_ms = 777;
SHOW retention.lock_timeout_ms;
TRUNCATE lset.seen;
INSERT INTO lset.client VALUES (2, 'b@example.com', now() - interval '2 months');
CALL retention.run();
SELECT DISTINCT lock_timeout FROM lset.seen;
RESET retention.lock_timeout_ms;
TRUNCATE lset.seen;
INSERT INTO lset.client VALUES (3, 'c@example.com', now() - interval '2 months');
CALL retention.run();
SELECT DISTINCT lock_timeout FROM lset.seen;
-- out of range and wrong units are refused by name (the range's wording is the server's own)
DO $$ BEGIN SET retention.lock_timeout = 0;
EXCEPTION WHEN invalid_parameter_value THEN RAISE WARNING 'refused: %', SQLSTATE; END $$;
SET retention.batch_target = '5 apples';
SELECT id, email FROM lset.client ORDER BY id;

RESET retention.lock_timeout;
RESET retention.batch_target;
DROP SCHEMA lset CASCADE;
