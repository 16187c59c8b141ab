-- Every due row is processed, or the run says it is partial: keysets compare in the
-- key columns' own types, a stage verifies nothing due is left behind it, and a
-- trigger that rewrites the age column under the run's own updates fails the table.
SET client_min_messages = warning;
SET retention.batch_max_rows = 7;   -- many batches: every keyset boundary is crossed
CREATE SCHEMA exact;

-- 150 rows sharing one age, integer keys of 1 to 3 digits ('99' > '150' as text)
CREATE TABLE exact.by_int (id int PRIMARY KEY, email text, note text, seen date);
INSERT INTO exact.by_int SELECT i, 'u' || i || '@example.com', 'note ' || i, current_date - 800
FROM generate_series(1, 150) i;
-- composite keys of several types, one of them a text key in a non-C collation
CREATE TABLE exact.by_mixed (
    code text COLLATE "en-x-icu", n numeric, u uuid, email text, seen timestamptz,
    PRIMARY KEY (code, n, u));
INSERT INTO exact.by_mixed
SELECT CASE i % 3 WHEN 0 THEN 'a' WHEN 1 THEN 'B' ELSE 'ä' END || i, i / 7.0,
       md5(i::text)::uuid, 'm' || i || '@example.com', now() - interval '800 days'
FROM generate_series(1, 60) i;
-- a key that includes the age column, and a bigint key
CREATE TABLE exact.by_age (seen date, id bigint, email text, PRIMARY KEY (seen, id));
INSERT INTO exact.by_age SELECT current_date - 800 - i % 3, 10::bigint ^ (i % 12) + i, 'a' || i
FROM generate_series(1, 40) i;
CREATE TABLE exact.original AS
SELECT 'by_int' AS t, id::text AS k, email FROM exact.by_int
UNION ALL SELECT 'by_mixed', code || n || u, email FROM exact.by_mixed
UNION ALL SELECT 'by_age', seen || ' ' || id, email FROM exact.by_age;

SECURITY LABEL FOR retention ON TABLE exact.by_int IS 'age from seen';
SECURITY LABEL FOR retention ON COLUMN exact.by_int.email IS 'anonymize after 1 year using hash';
SECURITY LABEL FOR retention ON COLUMN exact.by_int.note IS 'purge after 2 years';
SECURITY LABEL FOR retention ON TABLE exact.by_mixed IS 'age from seen';
SECURITY LABEL FOR retention ON COLUMN exact.by_mixed.email IS 'anonymize after 1 year using hash';
SECURITY LABEL FOR retention ON TABLE exact.by_age IS 'age from seen';
SECURITY LABEL FOR retention ON COLUMN exact.by_age.email IS 'anonymize after 1 year using hash';

CALL retention.run();
SELECT status, rows_anonymized, values_purged, message FROM retention.run_history
ORDER BY run_id DESC LIMIT 1;
SELECT table_text, column_name, action, due, done, status FROM retention.run_detail
WHERE run_id = (SELECT max(run_id) FROM retention.run_history) ORDER BY 1, 2, 3;
-- every value anonymized exactly once, every note purged
SELECT o.t, count(*) FILTER (WHERE x.email = retention.hash(o.email)) AS hashed_once,
       count(*) AS total
FROM exact.original o JOIN (
    SELECT 'by_int' AS t, id::text AS k, email FROM exact.by_int
    UNION ALL SELECT 'by_mixed', code || n || u, email FROM exact.by_mixed
    UNION ALL SELECT 'by_age', seen || ' ' || id, email FROM exact.by_age) x USING (t, k)
GROUP BY o.t ORDER BY o.t;
SELECT count(*) AS notes_left FROM exact.by_int WHERE note IS NOT NULL;

-- a stage that leaves due rows undone makes the run partial, never succeeded:
-- here a BEFORE DELETE trigger silently keeps the even rows
CREATE TABLE exact.kept (id int PRIMARY KEY, seen date);
INSERT INTO exact.kept SELECT i, current_date - 800 FROM generate_series(1, 10) i;
CREATE FUNCTION exact.keep_even() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN IF OLD.id % 2 = 0 THEN RETURN NULL; END IF; RETURN OLD; END $$;
CREATE TRIGGER keep_even BEFORE DELETE ON exact.kept FOR EACH ROW EXECUTE FUNCTION exact.keep_even();
SECURITY LABEL FOR retention ON TABLE exact.kept IS 'age from seen; purge after 1 year';
CALL retention.run();
SELECT status, rows_purged, message FROM retention.run_history ORDER BY run_id DESC LIMIT 1;
SELECT action, due, done, status, error FROM retention.run_detail
WHERE run_id = (SELECT max(run_id) FROM retention.run_history) AND table_text = 'exact.kept';
DROP TABLE exact.kept;
DROP FUNCTION exact.keep_even();
-- the same for an anonymize batch: a BEFORE UPDATE trigger keeps the even rows as they are
CREATE TABLE exact.frozen (id int PRIMARY KEY, email text, seen date);
INSERT INTO exact.frozen SELECT i, 'f' || i, current_date - 800 FROM generate_series(1, 10) i;
CREATE FUNCTION exact.freeze_even() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN IF OLD.id % 2 = 0 THEN RETURN NULL; END IF; RETURN NEW; END $$;
CREATE TRIGGER freeze_even BEFORE UPDATE ON exact.frozen FOR EACH ROW EXECUTE FUNCTION exact.freeze_even();
SECURITY LABEL FOR retention ON TABLE exact.frozen IS 'age from seen';
SECURITY LABEL FOR retention ON COLUMN exact.frozen.email IS 'anonymize after 1 year using hash';
CALL retention.run();
SELECT status, rows_anonymized FROM retention.run_history ORDER BY run_id DESC LIMIT 1;
SELECT action, due, done, status, error FROM retention.run_detail
WHERE run_id = (SELECT max(run_id) FROM retention.run_history) AND table_text = 'exact.frozen';
DROP TABLE exact.frozen;
DROP FUNCTION exact.freeze_even();

-- a trigger that rewrites the age column on UPDATE (the usual "last update" trigger)
CREATE TABLE exact.touched (id int PRIMARY KEY, email text, seen date);
INSERT INTO exact.touched SELECT i, 't' || i, current_date - 800 FROM generate_series(1, 5) i;
CREATE FUNCTION exact.touch() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN NEW.seen := current_date; RETURN NEW; END $$;
CREATE FUNCTION exact.audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER touch BEFORE UPDATE ON exact.touched FOR EACH ROW EXECUTE FUNCTION exact.touch();
CREATE TRIGGER audit BEFORE UPDATE ON exact.touched FOR EACH ROW EXECUTE FUNCTION exact.audit();
SECURITY LABEL FOR retention ON TABLE exact.touched IS 'age from seen';
SECURITY LABEL FOR retention ON COLUMN exact.touched.email IS 'anonymize after 1 year using hash';
-- check() names the trigger that may assign the age column (not the one that does not)
SELECT severity, column_name, problem FROM retention.check()
WHERE table_name = 'exact.touched'::regclass;
-- the run fails the table; no row's age or value changed
CALL retention.run();
SELECT status, tables_failed FROM retention.run_history ORDER BY run_id DESC LIMIT 1;
SELECT action, status, error FROM retention.run_detail
WHERE run_id = (SELECT max(run_id) FROM retention.run_history) AND table_text = 'exact.touched'
ORDER BY action;
SELECT count(*) FILTER (WHERE seen = current_date - 800 AND email LIKE 't%') AS untouched
FROM exact.touched;
DROP TABLE exact.touched;

-- a run that crashed is recorded with the counts its committed batches show
INSERT INTO retention.run_history (dry_run, started_by, started_at, backend_pid)
VALUES (false, 'manual', now(), 0);
INSERT INTO retention.run_detail (run_id, table_name, table_text, action, due, done, blocked, batches)
SELECT max(run_id), 'exact.by_int'::regclass, 'exact.by_int', a, 10, n, 1, 1
FROM retention.run_history, (VALUES ('anonymize', 4), ('archive', 3), ('purge', 2)) v(a, n)
GROUP BY a, n;
CALL retention.run();
SELECT status, rows_anonymized, rows_archived, rows_purged, rows_blocked FROM retention.run_history
WHERE status = 'crashed';

-- the next tests see only their own tables
DROP SCHEMA exact CASCADE;
