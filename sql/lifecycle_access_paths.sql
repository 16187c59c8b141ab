-- Row purges and archives find their due rows by one of two access paths,
-- recorded in run_detail.access_path: 'index' (the age index, oldest first:
-- small increments) or 'heap' (block range after block range, in physical
-- order: when a large share of a big table is due).  retention.access_path
-- = auto chooses; index and heap force one.  Both leave the same rows.
SET client_min_messages = warning;
SHOW retention.access_path;
CREATE SCHEMA paths;
-- 30000 events (about 400 pages), 80 % of them three years old, in random
-- physical order of age
CREATE TABLE paths.event (id int PRIMARY KEY, payload text, at timestamptz NOT NULL)
  WITH (autovacuum_enabled = false);
CREATE INDEX ON paths.event (at);
INSERT INTO paths.event
SELECT i, repeat('x', 60),
       now() - CASE WHEN i * 7919 % 10 < 8 THEN interval '3 years' ELSE interval '1 month' END
             - i * interval '1 minute'
FROM generate_series(1, 30000) AS i;
VACUUM ANALYZE paths.event;
SELECT pg_relation_size('paths.event') / current_setting('block_size')::int >= 256 AS big_enough;
CREATE TABLE paths.original AS SELECT * FROM paths.event;
SECURITY LABEL FOR retention ON TABLE paths.event IS 'age from at; purge after 2 years';

CREATE VIEW paths.last_detail AS
SELECT table_text, action, due, done, blocked, status, access_path
FROM retention.run_detail
WHERE run_id = (SELECT max(run_id) FROM retention.run_history) AND action IN ('purge', 'archive')
ORDER BY table_text, action;

-- auto, 24000 of 30000 rows due: heap order
CALL retention.run();
SELECT * FROM paths.last_detail;
SELECT status, rows_purged FROM retention.run_history ORDER BY run_id DESC LIMIT 1;
-- exactly the rows older than two years are gone
SELECT count(*) AS wrong FROM paths.original o
WHERE (o.at < now() - interval '2 years') = EXISTS (SELECT FROM paths.event e WHERE e.id = o.id);

-- a small increment (200 rows newly due among 6000): the age index
VACUUM ANALYZE paths.event;
UPDATE paths.event SET at = at - interval '3 years' WHERE id % 150 = 1;
CALL retention.run();
SELECT * FROM paths.last_detail;
SELECT count(*) AS left_due FROM paths.event WHERE at < now() - interval '2 years';

-- forced: heap order for a small increment, the age index for a large share
SET retention.access_path = heap;
UPDATE paths.event SET at = at - interval '3 years' WHERE id % 150 = 2;
CALL retention.run();
SELECT * FROM paths.last_detail;
SET retention.access_path = index;
UPDATE paths.event SET at = at - interval '3 years' WHERE id % 3 = 0;
CALL retention.run();
SELECT * FROM paths.last_detail;
SELECT count(*) AS left_due FROM paths.event WHERE at < now() - interval '2 years';
RESET retention.access_path;

-- archive in heap order: each row in exactly one place, the purge's rows never archived
CREATE TABLE paths.visit (id int PRIMARY KEY, page text, at timestamptz NOT NULL)
  WITH (autovacuum_enabled = false);
CREATE INDEX ON paths.visit (at);
INSERT INTO paths.visit
SELECT i, repeat('p', 60),
       now() - CASE i * 7919 % 10 WHEN 0 THEN interval '6 years' WHEN 1 THEN interval '1 day'
                                  ELSE interval '2 years' END
FROM generate_series(1, 30000) AS i;
VACUUM ANALYZE paths.visit;
CREATE TABLE paths.visit_original AS SELECT * FROM paths.visit;
SECURITY LABEL FOR retention ON TABLE paths.event IS NULL;
SECURITY LABEL FOR retention ON TABLE paths.visit IS
  'age from at; archive after 1 year; purge after 5 years';
CALL retention.run();
SELECT * FROM paths.last_detail;
SELECT place, count(*) FROM (
  SELECT o.id,
         CASE WHEN l.id IS NOT NULL AND a.copies = 0 THEN 'live'
              WHEN l.id IS NULL AND a.copies = 1 THEN 'archived'
              WHEN l.id IS NULL AND a.copies = 0 THEN 'purged'
              ELSE 'live ' || (l.id IS NOT NULL) || ', archived ' || a.copies || ' times' END
           || CASE WHEN o.at < now() - interval '5 years' THEN ' (6 years old)'
                   WHEN o.at < now() - interval '1 year' THEN ' (2 years old)'
                   ELSE ' (recent)' END AS place
  FROM paths.visit_original o
  LEFT JOIN paths.visit l USING (id)
  LEFT JOIN (SELECT (row_data->>'id')::int AS id, count(*) AS copies
             FROM retention.archived_rows('paths.visit') GROUP BY 1) a0 USING (id)
  CROSS JOIN LATERAL (SELECT coalesce(a0.copies, 0) AS copies) a
) p GROUP BY place ORDER BY place;

-- the heap path counts no due rows before its batches: each batch checks what
-- its range left.  A BEFORE DELETE trigger keeping every 1000th row: the stage
-- is partial, due = done + left, and the run says so.
SECURITY LABEL FOR retention ON TABLE paths.visit IS NULL;
TRUNCATE paths.event;
INSERT INTO paths.event SELECT * FROM paths.original;
VACUUM ANALYZE paths.event;
CREATE FUNCTION paths.keep() RETURNS trigger LANGUAGE plpgsql AS
$$BEGIN IF OLD.id % 1000 = 0 THEN RETURN NULL; END IF; RETURN OLD; END$$;
CREATE TRIGGER keep BEFORE DELETE ON paths.event FOR EACH ROW EXECUTE FUNCTION paths.keep();
SECURITY LABEL FOR retention ON TABLE paths.event IS 'age from at; purge after 2 years';
SET retention.access_path = heap;
CALL retention.run();
RESET retention.access_path;
SELECT * FROM paths.last_detail;
SELECT status, rows_purged, message FROM retention.run_history ORDER BY run_id DESC LIMIT 1;
SELECT count(*) AS kept FROM paths.event WHERE at < now() - interval '2 years';

-- a range's check is skipped only when nothing of the table's can keep a row
-- its plain DELETE deletes (no BEFORE DELETE trigger, DELETE rule or row
-- security), asked of the catalog at every batch.  A DELETE rule keeping
-- every 1000th row: partial, as with the trigger.
SECURITY LABEL FOR retention ON TABLE paths.event IS NULL;
DROP TRIGGER keep ON paths.event;
TRUNCATE paths.event;
INSERT INTO paths.event SELECT * FROM paths.original;
VACUUM ANALYZE paths.event;
CREATE RULE keep AS ON DELETE TO paths.event WHERE OLD.id % 1000 = 0 DO INSTEAD NOTHING;
SECURITY LABEL FOR retention ON TABLE paths.event IS 'age from at; purge after 2 years';
SET retention.access_path = heap;
CALL retention.run();
RESET retention.access_path;
SELECT * FROM paths.last_detail;
SELECT count(*) AS kept FROM paths.event WHERE at < now() - interval '2 years';
-- the trigger appears during the stage: the first batch's DELETE creates it
-- (an AFTER DELETE statement trigger, which keeps no row); the batches after
-- it must check their ranges
SECURITY LABEL FOR retention ON TABLE paths.event IS NULL;
DROP RULE keep ON paths.event;
TRUNCATE paths.event;
INSERT INTO paths.event SELECT * FROM paths.original;
VACUUM ANALYZE paths.event;
CREATE FUNCTION paths.add_keep() RETURNS trigger LANGUAGE plpgsql AS
$$BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_trigger
                 WHERE tgname = 'keep' AND tgrelid = 'paths.event'::pg_catalog.regclass) THEN
    CREATE TRIGGER keep BEFORE DELETE ON paths.event FOR EACH ROW EXECUTE FUNCTION paths.keep();
  END IF;
  RETURN NULL;
END$$;
CREATE TRIGGER add_keep AFTER DELETE ON paths.event
  FOR EACH STATEMENT EXECUTE FUNCTION paths.add_keep();
SECURITY LABEL FOR retention ON TABLE paths.event IS 'age from at; purge after 2 years';
SET retention.access_path = heap;
SET client_min_messages = error;
CALL retention.run();
SET client_min_messages = warning;
RESET retention.access_path;
-- rows kept (fewer than 30: the first range's were deleted before the trigger
-- existed), all of them seen: the stage is partial and counts them
SELECT d.status, d.batches > 1 AS several_batches, k.kept > 0 AS some_kept,
       d.due - d.done = k.kept AS all_counted
FROM retention.run_detail d,
     (SELECT count(*) AS kept FROM paths.event WHERE at < now() - interval '2 years') k
WHERE d.run_id = (SELECT max(run_id) FROM retention.run_history) AND d.action = 'purge';

-- the key path (every Citus table's; retention.access_path = key) takes its
-- batches as age windows: a date age, years of gap between the groups; and
-- -infinity (no span to size a window from: one window takes all).  Exactly the due rows
-- are anonymized and purged.
SECURITY LABEL FOR retention ON TABLE paths.event IS NULL;
CREATE TABLE paths.stay (id int PRIMARY KEY, email text, day date NOT NULL);
CREATE INDEX ON paths.stay (day);
INSERT INTO paths.stay
SELECT i, 'guest' || i || '@example.com',
       CASE WHEN i % 3 = 0 THEN current_date - 4000 - i % 50
            WHEN i % 3 = 1 THEN current_date - 700 - i % 50
            ELSE current_date - 30 - i % 50 END
FROM generate_series(1, 3000) AS i;
CREATE TABLE paths.stay_original AS SELECT * FROM paths.stay;
SECURITY LABEL FOR retention ON TABLE paths.stay IS 'age from day; purge after 5 years';
SECURITY LABEL FOR retention ON COLUMN paths.stay.email IS 'anonymize after 1 year using mask_email';
CREATE TABLE paths.limbo (id int PRIMARY KEY, day date NOT NULL);
INSERT INTO paths.limbo
SELECT i, CASE i % 3 WHEN 0 THEN '-infinity'::date WHEN 1 THEN current_date - 4000 ELSE current_date END
FROM generate_series(1, 9) AS i;
SECURITY LABEL FOR retention ON TABLE paths.limbo IS 'age from day; purge after 5 years';
SET retention.access_path = key;
CALL retention.run();
RESET retention.access_path;
SELECT * FROM paths.last_detail;
SELECT status, rows_purged, rows_anonymized FROM retention.run_history ORDER BY run_id DESC LIMIT 1;
SELECT CASE WHEN o.day < current_date - interval '5 years' THEN 'old' WHEN o.day < current_date - interval '1 year' THEN 'due'
            ELSE 'recent' END AS age,
       count(s.id) AS live, count(*) FILTER (WHERE s.email <> o.email) AS anonymized
FROM paths.stay_original o LEFT JOIN paths.stay s USING (id) GROUP BY 1 ORDER BY 1;
SELECT id, day = current_date AS recent FROM paths.limbo ORDER BY id;

-- value stages record their path too: the key path above; on a small table, the age index
CREATE TABLE paths.note (id int PRIMARY KEY, body text, at timestamptz NOT NULL);
INSERT INTO paths.note SELECT i, 'note ' || i, now() - i * interval '1 day' FROM generate_series(1, 800) AS i;
SECURITY LABEL FOR retention ON TABLE paths.note IS 'age from at';
SECURITY LABEL FOR retention ON COLUMN paths.note.body IS 'anonymize after 1 year using hash';
CALL retention.run();
SELECT d.run_id = h.last AS last_run, d.table_text, d.column_name, d.action, d.due, d.done, d.access_path
FROM retention.run_detail d, (SELECT max(run_id) AS last FROM retention.run_history) AS h
WHERE d.action = 'anonymize' AND d.run_id >= h.last - 1 ORDER BY d.run_id, d.table_text;

DROP SCHEMA paths CASCADE;

-- The sweep's key test, retention._key_unkept(key, kept): the same answer as
-- `key <> ALL (kept)`, with the kept keys a constant (hashed once) or not
-- (searched), for keys with quotes, braces, spaces, unicode, the empty
-- string; NULL elements are no key; STRICT.
CREATE TEMP TABLE kk AS
SELECT i, CASE i % 7 WHEN 0 THEN '{"a b",' || i || '}' WHEN 1 THEN 'clé ' || i WHEN 2 THEN '' WHEN 3 THEN 'x"\' || i
                     ELSE ARRAY[i::text]::text END AS k
FROM generate_series(1, 4000) AS i;
SELECT array_agg(k ORDER BY i) FILTER (WHERE i % 3 = 0) || ARRAY[NULL, '{"a b",7}'] AS kept FROM kk \gset
SELECT count(*) AS keys,
       count(*) FILTER (WHERE retention._key_unkept(k, :'kept'::text[])) AS unkept_constant,
       count(*) FILTER (WHERE retention._key_unkept(k, :'kept'::text[]) IS DISTINCT FROM (k <> ALL (array_remove(:'kept'::text[], NULL)))) AS differ,
       count(*) FILTER (WHERE retention._key_unkept(k, (SELECT :'kept'::text[] || ARRAY[i::text] FROM (SELECT) s))
                        IS DISTINCT FROM (k <> ALL (array_remove(:'kept'::text[], NULL) || ARRAY[i::text]))) AS differ_searched
FROM kk;
SELECT retention._key_unkept(NULL, '{a}'::text[]) AS null_key, retention._key_unkept('a', NULL::text[]) AS null_kept,
       retention._key_unkept('a', '{}'::text[]) AS none_kept;

-- The same for a key of one integer column, retention._key_unkept(bigint,
-- kept): `'{' || key || '}' <> ALL (kept)`, with keys dense (a bitmap) or
-- sparse (hashed), negative, zero and the extremes; kept texts that name no
-- integer key ({007}, {-0}, {+5}, {1,2}, 5, "{5 }", out of range) match none.
CREATE TEMP TABLE ki AS
SELECT s.spread, i, CASE s.spread WHEN 'dense' THEN i - 2000
                                  ELSE (i - 2000) * 2305843009213693 END::bigint AS k
FROM generate_series(1, 4000) AS i, (VALUES ('dense'), ('sparse')) AS s(spread)
UNION ALL
SELECT 'sparse', 0, k FROM (VALUES (-9223372036854775808), (9223372036854775807)) AS e(k);
SELECT (SELECT array_agg('{' || k || '}') FROM ki WHERE spread = 'dense' AND i % 3 = 0) || junk AS kept_dense,
       (SELECT array_agg('{' || k || '}') FROM ki WHERE spread = 'sparse' AND i % 3 = 0) || junk
           || '{-9223372036854775808}'::text AS kept_sparse
FROM (SELECT ARRAY['{007}', '{-0}', '{+5}', '{1,2}', '5', '{5 }', '{9223372036854775808}', '{}',
                   NULL] AS junk) AS j \gset
SELECT 'dense' AS spread, count(*) AS keys,
       count(*) FILTER (WHERE retention._key_unkept(k, :'kept_dense'::text[])) AS unkept_constant,
       count(*) FILTER (WHERE retention._key_unkept(k, :'kept_dense'::text[])
                        IS DISTINCT FROM ('{' || k || '}' <> ALL (array_remove(:'kept_dense'::text[], NULL)))) AS differ,
       count(*) FILTER (WHERE retention._key_unkept(k, (SELECT :'kept_dense'::text[] || ARRAY['{' || i || '}'] FROM (SELECT) s))
                        IS DISTINCT FROM ('{' || k || '}' <> ALL (array_remove(:'kept_dense'::text[], NULL) || ARRAY['{' || i || '}'])))
           AS differ_searched
FROM ki WHERE spread = 'dense'
UNION ALL
SELECT 'sparse', count(*),
       count(*) FILTER (WHERE retention._key_unkept(k, :'kept_sparse'::text[])),
       count(*) FILTER (WHERE retention._key_unkept(k, :'kept_sparse'::text[])
                        IS DISTINCT FROM ('{' || k || '}' <> ALL (array_remove(:'kept_sparse'::text[], NULL)))),
       count(*) FILTER (WHERE retention._key_unkept(k, (SELECT :'kept_sparse'::text[] || ARRAY['{' || i || '}'] FROM (SELECT) s))
                        IS DISTINCT FROM ('{' || k || '}' <> ALL (array_remove(:'kept_sparse'::text[], NULL) || ARRAY['{' || i || '}'])))
FROM ki WHERE spread = 'sparse';
-- the pass writes such keys '{' || k || '}': the same text as ARRAY[k::text]::text
SELECT count(*) AS integers, count(*) FILTER (WHERE '{' || k || '}' <> ARRAY[k::text]::text) AS differ
FROM (SELECT k FROM ki UNION ALL SELECT i FROM generate_series(-70000, 70000) AS i) AS x;
SELECT retention._key_unkept(NULL::bigint, '{"{1}"}'::text[]) AS null_key,
       retention._key_unkept(1, NULL::text[]) AS null_kept, retention._key_unkept(1, '{}'::text[]) AS none_kept,
       retention._key_unkept(9223372036854775807, '{"{-9223372036854775808}"}'::text[]) AS extremes,
       retention._key_unkept(-9223372036854775808, '{"{-9223372036854775808}"}'::text[]) AS kept_minimum;

-- The same against keys the ranges kept as integers, retention._key_unkept(
-- bigint, bigint[]): `key <> ALL (kept)`, dense and sparse, constant and
-- searched; NULL elements are no key.
SELECT (SELECT array_agg(k) FROM ki WHERE spread = 'dense' AND i % 3 = 0) || ARRAY[NULL::bigint] AS ids_dense,
       (SELECT array_agg(k) FROM ki WHERE spread = 'sparse' AND i % 3 = 0)
           || ARRAY[NULL, -9223372036854775808] AS ids_sparse \gset
SELECT 'dense' AS spread, count(*) AS keys,
       count(*) FILTER (WHERE retention._key_unkept(k, :'ids_dense'::bigint[])) AS unkept_constant,
       count(*) FILTER (WHERE retention._key_unkept(k, :'ids_dense'::bigint[])
                        IS DISTINCT FROM (k <> ALL (array_remove(:'ids_dense'::bigint[], NULL)))) AS differ,
       count(*) FILTER (WHERE retention._key_unkept(k, (SELECT :'ids_dense'::bigint[] || i::bigint FROM (SELECT) s))
                        IS DISTINCT FROM (k <> ALL (array_remove(:'ids_dense'::bigint[], NULL) || i::bigint))) AS differ_searched
FROM ki WHERE spread = 'dense'
UNION ALL
SELECT 'sparse', count(*),
       count(*) FILTER (WHERE retention._key_unkept(k, :'ids_sparse'::bigint[])),
       count(*) FILTER (WHERE retention._key_unkept(k, :'ids_sparse'::bigint[])
                        IS DISTINCT FROM (k <> ALL (array_remove(:'ids_sparse'::bigint[], NULL)))),
       count(*) FILTER (WHERE retention._key_unkept(k, (SELECT :'ids_sparse'::bigint[] || i::bigint FROM (SELECT) s))
                        IS DISTINCT FROM (k <> ALL (array_remove(:'ids_sparse'::bigint[], NULL) || i::bigint)))
FROM ki WHERE spread = 'sparse';
SELECT retention._key_unkept(NULL::bigint, '{1}'::bigint[]) AS null_key,
       retention._key_unkept(1, NULL::bigint[]) AS null_kept, retention._key_unkept(1, '{}'::bigint[]) AS none_kept,
       retention._key_unkept(9223372036854775807, '{-9223372036854775808}'::bigint[]) AS extremes,
       retention._key_unkept(-9223372036854775808, '{-9223372036854775808}'::bigint[]) AS kept_minimum,
       retention._key_unkept(5, '{{1,2},{5,6}}'::bigint[]) AS two_dimensions;
