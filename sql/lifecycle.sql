-- The lifecycle: CALL retention.run() applies every due stage, in batches.
-- Progress NOTICEs carry timings, so this test reads the history instead.
SET client_min_messages = warning;
CREATE SCHEMA life;
CREATE TABLE life.client (
    id int PRIMARY KEY,
    email text,
    phone text,
    birthday date,
    seen_at timestamptz
);
CREATE INDEX ON life.client (seen_at);
CREATE TABLE life.purchase (
    id int PRIMARY KEY,
    client_id int REFERENCES life.client(id),
    amount numeric(10,2),
    bought_on date NOT NULL
);
CREATE INDEX ON life.purchase (client_id);
CREATE INDEX ON life.purchase (bought_on);
-- 60 clients seen 0..59 months ago (NULL for client 60), two purchases each
INSERT INTO life.client
SELECT i, 'client' || i || '@example.com', '+33 6 12 34 56 ' || lpad(i::text, 2, '0'),
       date '1980-03-15' + i,
       CASE WHEN i < 60 THEN now() - make_interval(months => i, days => 1) END
FROM generate_series(0, 60) AS i;
INSERT INTO life.purchase
SELECT i, i / 2, 10 + i, (now() - make_interval(months => i / 2, days => 1))::date
FROM generate_series(0, 121) AS i;
CREATE TABLE life.original AS SELECT id, email FROM life.client;

SECURITY LABEL FOR retention ON TABLE life.client IS
  'subject client(id); age from seen_at; archive after 3 years; purge after 4 years';
SECURITY LABEL FOR retention ON COLUMN life.client.email IS 'anonymize after 1 year using hash';
SECURITY LABEL FOR retention ON COLUMN life.client.phone IS 'purge after 2 years';
SECURITY LABEL FOR retention ON COLUMN life.client.birthday IS 'minimize to month_day';
SECURITY LABEL FOR retention ON TABLE life.purchase IS
  'subject client; age from bought_on; purge after 42 months';

-- what is due, per table, column and action (done and rolled back, so exact)
SELECT table_name, column_name, action, rows, blocked, blocked_by FROM retention.preview()
ORDER BY table_name::text, column_name NULLS FIRST, action;

-- a dry run records the same counts and changes nothing
CALL retention.run(dry_run => true);
SELECT dry_run, status, rows_minimized, rows_anonymized, values_purged, rows_archived, rows_purged, rows_blocked
FROM retention.run_history ORDER BY run_id DESC LIMIT 1;
SELECT count(*) AS still_clear FROM life.client WHERE email LIKE 'client%';

-- the real run does exactly what the dry run said
CALL retention.run();
SELECT dry_run, status, rows_minimized, rows_anonymized, values_purged, rows_archived, rows_purged, rows_blocked
FROM retention.run_history ORDER BY run_id DESC LIMIT 1;
SELECT d.table_text, d.column_name, d.action, d.due, d.done, d.blocked, d.blocked_by, d.status
FROM retention.run_detail d WHERE d.run_id = (SELECT max(run_id) FROM retention.run_history)
ORDER BY d.table_text, d.column_name NULLS FIRST, d.action;

-- anonymized: the values are the keyed hash of the originals, applied once
SELECT count(*) FILTER (WHERE c.email = retention.hash(o.email)) AS hashed_once,
       count(*) FILTER (WHERE c.email = o.email) AS still_clear,
       count(*) FILTER (WHERE c.email IS DISTINCT FROM o.email AND c.email <> retention.hash(o.email)) AS other
FROM life.client c JOIN life.original o USING (id);
-- values purged after 2 years, minimized birthdays, the client with no age untouched
SELECT count(*) FILTER (WHERE phone IS NULL) AS phones_purged,
       count(*) FILTER (WHERE extract(year FROM birthday) = 4) AS birthdays_minimized,
       (SELECT email FROM life.client WHERE id = 60) AS null_age_untouched
FROM life.client;

-- a second run finds nothing to do: nothing is processed twice
CALL retention.run();
SELECT rows_minimized, rows_anonymized, values_purged, rows_archived, rows_purged
FROM retention.run_history ORDER BY run_id DESC LIMIT 1;
SELECT count(*) FILTER (WHERE c.email = retention.hash(o.email)) AS still_hashed_once
FROM life.client c JOIN life.original o USING (id);

-- rows written already due are queued by the write trigger and taken by the next run:
-- a backdated insert, a new clear value in an anonymized row; other writes queue nothing
INSERT INTO life.client VALUES (100, 'late@example.com', NULL, '1990-01-01', now() - interval '20 months');
UPDATE life.client SET email = 'changed@example.com' WHERE id = 13;
UPDATE life.client SET birthday = '1991-01-01' WHERE id = 14;
UPDATE life.client SET email = 'fresh@example.com' WHERE id = 2;
SELECT attnum, row_key FROM retention.late_row ORDER BY row_key;
CALL retention.run();
SELECT id, email = retention.hash(CASE id WHEN 100 THEN 'late@example.com' WHEN 13 THEN 'changed@example.com'
                                           ELSE (SELECT email FROM life.original o WHERE o.id = c.id) END) AS hashed_once,
       email
FROM life.client c WHERE id IN (2, 13, 14, 100) ORDER BY id;
SELECT count(*) AS queue_left FROM retention.late_row;
-- retention._engine_write() (the run's marker on Citus shards) keeps nothing out of a plain
-- table's queue when a session calls it itself
BEGIN;
SELECT retention._engine_write(1);
INSERT INTO life.client VALUES (101, 'marked@example.com', NULL, '1990-01-01', now() - interval '20 months');
COMMIT;
SELECT count(*) AS queued_despite_marker FROM retention.late_row WHERE row_key = '{101}';
DELETE FROM life.client WHERE id = 101;
DELETE FROM retention.late_row;

-- the write triggers: retention_late_rows AFTER the write, only for an UPDATE that sets the age
-- or a watched column, and only for a row near due (its WHEN, evaluated before any call; the
-- engine's own writes are left out there too); retention_minimize BEFORE, for minimized columns
SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = 'life.client'::regclass AND NOT tgisinternal ORDER BY tgname;
-- they name columns, yet ALTER COLUMN TYPE and DROP COLUMN still work: the triggers follow
CREATE TABLE life.note (id int PRIMARY KEY, body text, extra text, at timestamptz);
SECURITY LABEL FOR retention ON TABLE life.note IS 'age from at';
SECURITY LABEL FOR retention ON COLUMN life.note.body IS 'anonymize after 1 year using hash';
SECURITY LABEL FOR retention ON COLUMN life.note.extra IS 'purge after 2 years';
ALTER TABLE life.note ALTER COLUMN body TYPE varchar(200);
ALTER TABLE life.note DROP COLUMN extra;
SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = 'life.note'::regclass;
INSERT INTO life.note VALUES (1, 'written late', now() - interval '13 months'),
                             (2, 'not due', now() - interval '11 months');
UPDATE life.note SET id = 3 WHERE id = 1;
SELECT attnum, row_key FROM retention.late_row WHERE relid = 'life.note'::regclass;
SECURITY LABEL FOR retention ON COLUMN life.note.body IS NULL;
SELECT count(*) AS triggers_without_watched_columns FROM pg_trigger WHERE tgrelid = 'life.note'::regclass;
DROP TABLE life.note;
DELETE FROM retention.late_row;
-- the trigger is called only for rows it may queue: not for an UPDATE of unwatched columns,
-- not for the engine's own writes; and the engine's statements do not even evaluate its WHEN
-- (nor read each old row for it): they run with the trigger off in their own copy of the
-- table's triggers, while the table's other triggers fire as before
SET track_functions = 'all';
SET stats_fetch_consistency = 'none';
SELECT count(pg_stat_reset_single_function_counters(f)) AS counters_reset
FROM unnest(ARRAY['retention.write_trigger'::regproc, 'retention._late_rows_queued'::regproc]) AS f;
CREATE TABLE life.calls (id int PRIMARY KEY, body text, other text, at timestamptz);
SECURITY LABEL FOR retention ON TABLE life.calls IS 'age from at';
SECURITY LABEL FOR retention ON COLUMN life.calls.body IS 'anonymize after 1 year using hash';
INSERT INTO life.calls SELECT i, 'body ' || i, 'o', now() - interval '13 months' FROM generate_series(1, 10) i;
UPDATE life.calls SET other = 'x';
CALL retention.run();
SELECT pg_stat_force_next_flush();
SELECT calls AS trigger_calls FROM pg_stat_user_functions WHERE funcid = 'retention.write_trigger'::regproc;
SELECT calls AS when_evaluated FROM pg_stat_user_functions WHERE funcid = 'retention._late_rows_queued'::regproc;
-- an application's own AFTER ROW UPDATE trigger still fires for the engine's writes
CREATE FUNCTION life.audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER app_audit AFTER UPDATE ON life.calls FOR EACH ROW EXECUTE FUNCTION life.audit();
INSERT INTO life.calls SELECT i, 'body ' || i, 'o', now() - interval '13 months' FROM generate_series(11, 15) i;
CALL retention.run();
SELECT pg_stat_force_next_flush();
SELECT (SELECT calls FROM pg_stat_user_functions WHERE funcid = 'retention.write_trigger'::regproc) AS trigger_calls,
       (SELECT calls FROM pg_stat_user_functions WHERE funcid = 'retention._late_rows_queued'::regproc) AS when_evaluated,
       (SELECT calls FROM pg_stat_user_functions WHERE funcid = 'life.audit'::regproc) AS app_trigger_calls;
SELECT count(*) FILTER (WHERE body = retention.hash('body ' || id)) AS hashed,
       (SELECT count(*) FROM retention.late_row) AS queue_left
FROM life.calls;
-- a statement the application runs still evaluates it, and queues
UPDATE life.calls SET body = 'clear again' WHERE id = 1;
SELECT count(*) AS queued FROM retention.late_row WHERE relid = 'life.calls'::regclass;
DELETE FROM retention.late_row;
RESET track_functions;
RESET stats_fetch_consistency;
DROP TABLE life.calls;
DROP FUNCTION life.audit();

-- every original client is in exactly one place: live, archived, or purged on purpose
SELECT o.id / 12 AS years_ago,
       count(c.id) AS live, count(a.id) AS archived, count(*) - count(c.id) - count(a.id) AS purged
FROM life.original o
LEFT JOIN life.client c USING (id)
LEFT JOIN (SELECT id, (row_data ->> 'id')::int AS client FROM retention.archived_rows('life.client')) a
       ON a.client = o.id
GROUP BY 1 ORDER BY 1;
-- the archive holds ciphertext; decrypted, a row is the row as it left
SELECT encode(substr(payload, 1, 1), 'hex') AS format, length(payload) > 40 AS sealed
FROM retention_archive.archived_row LIMIT 1;
SELECT row_data ->> 'id' AS id, row_data ->> 'phone' AS phone, row_data ? 'email' AS has_email
FROM retention.archived_rows('life.client') ORDER BY (row_data ->> 'id')::int LIMIT 2;

-- restoring moves archived rows back, atomically
SELECT retention.restore_archived('life.client',
       ARRAY(SELECT id FROM retention.archived_rows('life.client') ORDER BY id LIMIT 2)) AS restored;
SELECT count(*) AS archived_left FROM retention_archive.archived_row WHERE relid = 'life.client'::regclass;

-- the archive and the history are closed to application roles
CREATE ROLE life_app;
GRANT USAGE ON SCHEMA life TO life_app;
GRANT SELECT ON ALL TABLES IN SCHEMA life TO life_app;
SET ROLE life_app;
SELECT count(*) FROM retention_archive.archived_row;
SELECT * FROM retention.archived_rows();
SELECT count(*) FROM retention.run_history;
CALL retention.run();
SELECT retention._open('client', '\x00', '\x00');
RESET ROLE;
DROP OWNED BY life_app;
DROP ROLE life_app;

-- a table that fails is reported and skipped; the run goes on
CREATE TABLE life.no_key (note text, at date);
SECURITY LABEL FOR retention ON TABLE life.no_key IS 'age from at';
SECURITY LABEL FOR retention ON COLUMN life.no_key.note IS 'anonymize after 1 day using redact';
INSERT INTO life.no_key VALUES ('secret', '2020-01-01');
CALL retention.run();
SELECT status, tables_failed FROM retention.run_history ORDER BY run_id DESC LIMIT 1;
SELECT table_text, action, status, error FROM retention.run_detail
WHERE run_id = (SELECT max(run_id) FROM retention.run_history) AND status = 'failed';
DROP TABLE life.no_key;

-- purge after on a NOT NULL column is refused when declared
SECURITY LABEL FOR retention ON COLUMN life.purchase.bought_on IS 'purge after 1 year';
ALTER TABLE life.purchase ALTER COLUMN amount SET NOT NULL;
SECURITY LABEL FOR retention ON COLUMN life.purchase.amount IS 'purge after 1 year';

-- expired partitions are dropped whole
CREATE TABLE life.visit (client_id int, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE life.visit_old PARTITION OF life.visit FOR VALUES FROM ('2000-01-01') TO ('2001-01-01');
CREATE TABLE life.visit_new PARTITION OF life.visit FOR VALUES FROM ('2001-01-01') TO (MAXVALUE);
INSERT INTO life.visit SELECT 1, date '2000-01-01' + i FROM generate_series(0, 700) i;
SECURITY LABEL FOR retention ON TABLE life.visit IS 'age from at; purge after 1 year';
CALL retention.run();
SELECT relname FROM pg_class WHERE relname LIKE 'visit_%' ORDER BY 1;
SELECT action, table_text, done FROM retention.run_detail
WHERE run_id = (SELECT max(run_id) FROM retention.run_history) AND done > 0 ORDER BY action;
SELECT count(*) AS visits_left FROM life.visit;

DROP SCHEMA life CASCADE;
DELETE FROM retention_archive.archived_row;
DELETE FROM retention_archive.data_key;
