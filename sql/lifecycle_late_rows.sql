-- The late-row queue (docs/lifecycle.md, "Rows written already due"): the write
-- trigger writes an entry in the writing statement's own (sub)transaction, a row
-- written twice is queued twice, and the next run processes each row exactly once.
SET client_min_messages = warning;
CREATE SCHEMA late;
CREATE TABLE late.t (id int PRIMARY KEY, body text, at timestamptz);
CREATE INDEX ON late.t (at);
INSERT INTO late.t SELECT i, 'body ' || i, now() - interval '13 months' - i * interval '1 hour'
FROM generate_series(1, 12) i;
SECURITY LABEL FOR retention ON TABLE late.t IS 'age from at';
SECURITY LABEL FOR retention ON COLUMN late.t.body IS 'anonymize after 1 year using hash';
CALL retention.run();
SELECT count(*) FILTER (WHERE body = retention.hash('body ' || id)) AS hashed,
       (SELECT count(*) FROM retention.late_row) AS queued
FROM late.t;
-- what each row should hold after the next run: the hash of its last clear value
CREATE TABLE late.expected (id int PRIMARY KEY, body text);
INSERT INTO late.expected SELECT id, body FROM late.t;

-- a row written twice is queued twice (no unique entry per row) ...
UPDATE late.t SET body = 'new 1' WHERE id = 1;
UPDATE late.t SET body = 'newer 1' WHERE id = 1;
UPDATE late.t SET body = 'new ' || id WHERE id IN (2, 3);
UPDATE late.t SET body = 'newer ' || id WHERE id IN (2, 3);
INSERT INTO late.expected VALUES (1, NULL), (2, NULL), (3, NULL)
ON CONFLICT (id) DO UPDATE SET body = retention.hash('newer ' || late.expected.id);
SELECT row_key, count(*) AS entries FROM retention.late_row
WHERE relid = 'late.t'::regclass GROUP BY row_key ORDER BY row_key;

-- ... a subtransaction rolled back after its rows were queued takes its entries along ...
BEGIN;
UPDATE late.t SET body = 'kept 4' WHERE id = 4;
SAVEPOINT s;
UPDATE late.t SET body = 'rolled back 5' WHERE id = 5;
SELECT count(*) AS queued_in_savepoint FROM retention.late_row WHERE row_key = '{5}';
ROLLBACK TO s;
COMMIT;
UPDATE late.expected SET body = retention.hash('kept 4') WHERE id = 4;
DO $$
BEGIN
    BEGIN
        UPDATE late.t SET body = 'rolled back 6' WHERE id = 6;
        RAISE EXCEPTION 'undone';
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
END $$;

-- ... and so does a statement that fails after the trigger queued some of its rows
-- (an application trigger that fires after retention_late_rows fails on row 9)
CREATE FUNCTION late.refuse_nine() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id = 9 THEN
        RAISE EXCEPTION 'row 9 refused';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER zz_refuse_nine AFTER UPDATE ON late.t FOR EACH ROW EXECUTE FUNCTION late.refuse_nine();
UPDATE late.t SET body = 'failed ' || id WHERE id BETWEEN 7 AND 10;
DO $$
BEGIN
    UPDATE late.t SET body = 'kept 11' WHERE id = 11;
    BEGIN
        UPDATE late.t SET body = 'failed ' || id WHERE id BETWEEN 7 AND 10;
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
END $$;
DROP TRIGGER zz_refuse_nine ON late.t;
UPDATE late.expected SET body = retention.hash('kept 11') WHERE id = 11;
SELECT row_key, count(*) AS entries FROM retention.late_row
WHERE relid = 'late.t'::regclass GROUP BY row_key ORDER BY row_key;

-- an application role with no privilege on the queue queues its rows (the trigger
-- writes the queue itself) and cannot read or write the queue
CREATE ROLE late_app;
GRANT USAGE ON SCHEMA late TO late_app;
GRANT SELECT, UPDATE ON late.t TO late_app;
SET ROLE late_app;
UPDATE late.t SET body = 'by the application' WHERE id = 12;
SELECT count(*) FROM retention.late_row;
INSERT INTO retention.late_row (relid, attnum, row_key) VALUES ('late.t'::regclass, 2, '{1}');
RESET ROLE;
UPDATE late.expected SET body = retention.hash('by the application') WHERE id = 12;

-- a queue of another shape (here with a trigger of its own) is written through an
-- INSERT, which fires the trigger; the trigger's writes notice when it changes back
CREATE TABLE late.queue_inserts (n int);
CREATE FUNCTION late.count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO late.queue_inserts VALUES (1);
    RETURN NULL;
END $$;
CREATE TRIGGER count_insert AFTER INSERT ON retention.late_row
FOR EACH ROW EXECUTE FUNCTION late.count_insert();
UPDATE late.t SET body = 'newest 3' WHERE id = 3;
DROP TRIGGER count_insert ON retention.late_row;
UPDATE late.t SET body = 'last 3' WHERE id = 3;
SELECT count(*) AS inserts_seen_by_the_queue_trigger FROM late.queue_inserts;
UPDATE late.expected SET body = retention.hash('last 3') WHERE id = 3;
SELECT row_key, count(*) AS entries FROM retention.late_row
WHERE relid = 'late.t'::regclass GROUP BY row_key ORDER BY row_key;

-- the next run processes each queued row once, whatever its number of entries
CALL retention.run();
SELECT rows_anonymized FROM retention.run_history ORDER BY run_id DESC LIMIT 1;
SELECT t.id, t.body = e.body AS as_expected
FROM late.t t JOIN late.expected e USING (id) WHERE t.body IS DISTINCT FROM e.body ORDER BY id;
SELECT count(*) AS queue_left FROM retention.late_row;

-- the next tests see only their own tables
DROP SCHEMA late CASCADE;
DROP ROLE late_app;

-- A write an application's trigger makes while the engine writes is the application's: an
-- audit trigger that keeps each account's old row in a labelled history table copies clear
-- e-mails there, dated like the account, behind the history's watermark, as the run anonymizes
-- the accounts.  They are queued, and the next run anonymizes them.
CREATE SCHEMA nest;
CREATE TABLE nest.account (id int PRIMARY KEY, email text, at timestamptz);
CREATE TABLE nest.history (hid int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id int, email text, at timestamptz);
SECURITY LABEL FOR retention ON TABLE nest.account IS 'age from at';
SECURITY LABEL FOR retention ON COLUMN nest.account.email IS 'anonymize after 1 year using hash';
SECURITY LABEL FOR retention ON TABLE nest.history IS 'age from at';
SECURITY LABEL FOR retention ON COLUMN nest.history.email IS 'anonymize after 1 year using hash';
CREATE FUNCTION nest.keep_old_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO nest.history (id, email, at) VALUES (OLD.id, OLD.email, OLD.at);
    RETURN NULL;
END $$;
CREATE TRIGGER keep_old_row AFTER UPDATE ON nest.account FOR EACH ROW EXECUTE FUNCTION nest.keep_old_row();
-- the history's watermark moves past 12.5 months ago
INSERT INTO nest.history (id, email, at) VALUES (0, 'old@example.com', now() - interval '12 months 15 days');
CALL retention.run();
INSERT INTO nest.account SELECT i, 'user' || i || '@example.com', now() - interval '13 months' - i * interval '1 day'
FROM generate_series(1, 5) i;
DELETE FROM retention.late_row;
CALL retention.run();
SELECT count(*) FILTER (WHERE email = retention.hash('user' || id || '@example.com')) AS accounts_hashed
FROM nest.account;
SELECT count(*) AS history_rows, count(*) FILTER (WHERE email LIKE '%@example.com') AS clear,
       (SELECT count(*) FROM retention.late_row WHERE relid = 'nest.history'::regclass) AS queued
FROM nest.history WHERE id > 0;
CALL retention.run();
SELECT count(*) FILTER (WHERE email = retention.hash('user' || id || '@example.com')) AS history_hashed,
       count(*) FILTER (WHERE email LIKE '%@example.com') AS clear_left
FROM nest.history WHERE id > 0;
-- the engine's run itself queued nothing of the accounts it anonymized
SELECT count(*) AS accounts_queued FROM retention.late_row WHERE relid = 'nest.account'::regclass;

-- Entries of a table or a column dropped while its rows were queued go at the next run: no stage
-- would ever take them, and every batch of every run would read them.
CREATE TABLE nest.gone (id int PRIMARY KEY, body text, note text, at timestamptz);
SECURITY LABEL FOR retention ON TABLE nest.gone IS 'age from at';
SECURITY LABEL FOR retention ON COLUMN nest.gone.body IS 'anonymize after 1 year using hash';
SECURITY LABEL FOR retention ON COLUMN nest.gone.note IS 'anonymize after 1 year using hash';
CREATE TABLE nest.dropped (LIKE nest.gone INCLUDING ALL);
SECURITY LABEL FOR retention ON TABLE nest.dropped IS 'age from at';
SECURITY LABEL FOR retention ON COLUMN nest.dropped.body IS 'anonymize after 1 year using hash';
INSERT INTO nest.gone SELECT i, 'body', 'note', now() - interval '13 months' FROM generate_series(1, 3) i;
INSERT INTO nest.dropped SELECT i, 'body', 'note', now() - interval '13 months' FROM generate_series(1, 4) i;
SELECT 'nest.dropped'::regclass::oid AS dropped_oid,
       (SELECT attnum FROM pg_attribute WHERE attrelid = 'nest.gone'::regclass AND attname = 'note') AS note_attnum \gset
ALTER TABLE nest.gone DROP COLUMN note;
DROP TABLE nest.dropped;
SELECT count(*) FILTER (WHERE relid = :dropped_oid) AS of_dropped_table,
       count(*) FILTER (WHERE relid = 'nest.gone'::regclass AND attnum = :note_attnum) AS of_dropped_column
FROM retention.late_row;
CALL retention.run();
SELECT count(*) FILTER (WHERE relid = :dropped_oid) AS of_dropped_table,
       count(*) FILTER (WHERE relid = 'nest.gone'::regclass AND attnum = :note_attnum) AS of_dropped_column
FROM retention.late_row;
SELECT count(*) FILTER (WHERE body = retention.hash('body')) AS still_anonymized FROM nest.gone;
DROP SCHEMA nest CASCADE;

-- The bound in the trigger's WHEN, retention._due_bound(age, delay): now() -
-- delay in the age's type, a day later for date and timestamp, so that the
-- WHEN passes every row the former `age < now() - delay` passed (the trigger
-- checks the exact condition), in any time zone, for a domain too.
CREATE DOMAIN pg_temp.day AS date;
SET timezone = 'America/St_Johns';
SELECT retention._due_bound(now(), '1 year -3 days'::interval) = now() - '1 year -3 days'::interval AS timestamptz_exact,
       retention._due_bound(localtimestamp, '1 year'::interval)
           = (now() - '1 year'::interval)::timestamp + interval '1 day' AS timestamp_a_day_later,
       retention._due_bound(current_date, '1 year'::interval) = (now() - '1 year'::interval)::date + 1 AS date_a_day_later,
       pg_typeof(retention._due_bound('2020-01-01'::pg_temp.day, '1 day'::interval)) AS domain_bound_type;
SELECT count(*) AS days, count(*) FILTER (WHERE d < now() - '1 year'::interval) > 400 AS many_due,
       count(*) FILTER (WHERE d < now() - '1 year'::interval AND NOT d < retention._due_bound(d, '1 year'::interval)) AS missed_date,
       count(*) FILTER (WHERE d::timestamp < now() - '1 year'::interval
                        AND NOT d::timestamp < retention._due_bound(d::timestamp, '1 year'::interval)) AS missed_timestamp,
       count(*) FILTER (WHERE d::pg_temp.day < now() - '1 year'::interval
                        AND NOT d::pg_temp.day < retention._due_bound(d::pg_temp.day, '1 year'::interval)) AS missed_domain
FROM (SELECT current_date - i AS d FROM generate_series(0, 800) AS i) AS s;
RESET timezone;
SELECT retention._due_bound(1, '1 day'::interval);
SELECT retention._due_bound(NULL::date, '1 day'::interval) IS NULL AS strict;
