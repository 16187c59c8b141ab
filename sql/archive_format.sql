-- Archived rows stay readable whichever code sealed them: a row sealed as 0.1.0
-- did (retention._seal of the row's JSON, one SQL call per row; still callable)
-- and rows sealed by today's runs (in C++, a batch at a time) are read alike by
-- archived_rows(), export_subject() and restore_archived(), every column back
-- in its own type.
SET client_min_messages = warning;
CREATE SCHEMA fmt;
CREATE TABLE fmt.person (id int PRIMARY KEY, name text, born date, tags text[], score numeric,
                         seen date);
SECURITY LABEL FOR retention ON TABLE fmt.person IS
  'subject person(id); age from seen; archive after 1 year';
INSERT INTO fmt.person VALUES
  (1, 'Ann', '1980-02-03', '{a,"b c"}', 1.50, current_date - 800),
  (2, 'Bob', NULL, '{}', NULL, current_date - 900),
  (3, 'Cid', '1990-01-01', NULL, 3, current_date);
-- the 0.1.0 fixture: Dee archived by 0.1.0's statement, her row as JSON through _seal
INSERT INTO retention_archive.archived_row
    (relid, table_name, subject, subject_hash, aged_at, purge_after, run_id, payload)
SELECT 'fmt.person'::regclass, 'fmt.person', 'person', retention._subject_hash('person', '4'),
       current_date - 700, NULL, NULL,
       retention._seal('person', '4', row_to_json(r)::text)
FROM (SELECT 4 AS id, 'Dee' AS name, date '1970-05-06' AS born, '{x}'::text[] AS tags,
             4.25::numeric AS score, current_date - 700 AS seen) r;
CALL retention.run();
SELECT status, rows_archived FROM retention.run_history ORDER BY run_id DESC LIMIT 1;
SELECT (row_data ->> 'id')::int AS id, row_data - 'seen' AS row_data
FROM retention.archived_rows('fmt.person') ORDER BY 1;
-- export: the 0.1.0 row and a row archived now, whole
SELECT retention.export_subject('person', '4') #> '{tables,fmt.person,archived_rows,0,row,name}'
         AS sealed_by_0_1_0,
       retention.export_subject('person', '1') #> '{tables,fmt.person,archived_rows,0,row,tags}'
         AS sealed_now;
-- restore: all three come back, each column in its type
SELECT retention.restore_archived('fmt.person') AS restored;
SECURITY LABEL FOR retention ON TABLE fmt.person IS NULL;
SELECT id, name, born, tags, score, seen < current_date - 365 AS old FROM fmt.person ORDER BY id;
SELECT count(*) AS left_in_archive FROM retention_archive.archived_row
WHERE relid = 'fmt.person'::regclass;
-- The same row sealed both ways reads back identically: twin 1 archived as
-- 0.1.0 did (_seal of its JSON), twin 2, equal but for its key, by a run.
-- (The engine writes ages and timestamps in its own time zone, UTC here: the
-- fixture does too, so the texts compare.)
SET TimeZone = 'UTC';
CREATE TABLE fmt.twin (id int PRIMARY KEY, name text, born date, tags text[], score numeric,
                       at timestamptz, doc jsonb, seen date);
SECURITY LABEL FOR retention ON TABLE fmt.twin IS
  'subject twin(id); age from seen; archive after 1 year';
INSERT INTO fmt.twin VALUES
  (2, 'Ève "quoted"', '1970-05-06', '{x,NULL,"y z"}', 12.50, '2020-01-02 03:04:05.678+00',
   '{"a": [1, 2.5, null]}', current_date - 800);
INSERT INTO retention_archive.archived_row
    (relid, table_name, subject, subject_hash, aged_at, purge_after, run_id, payload)
SELECT 'fmt.twin'::regclass, 'fmt.twin', 'twin', retention._subject_hash('twin', '1'),
       r.seen, NULL, NULL, retention._seal('twin', '1', row_to_json(r)::text)
FROM (SELECT 1 AS id, name, born, tags, score, at, doc, seen FROM fmt.twin) r;
CALL retention.run();
SELECT row_data - 'seen' AS row_data, (row_data ->> 'seen')::date = current_date - 800 AS seen,
       aged_at = current_date - 800 AS aged_at
FROM retention.archived_rows('fmt.twin') ORDER BY row_data ->> 'id';
SELECT count(*) AS archived, count(DISTINCT row_data - 'id') AS distinct_rows,
       count(DISTINCT aged_at) AS distinct_ages
FROM retention.archived_rows('fmt.twin');
SELECT (retention.export_subject('twin', '1') #> '{tables,fmt.twin,archived_rows,0}') - 'archived_at'
         #- '{row,id}'
       = (retention.export_subject('twin', '2') #> '{tables,fmt.twin,archived_rows,0}') - 'archived_at'
         #- '{row,id}' AS exported_alike;
SELECT retention.restore_archived('fmt.twin') AS restored;
SELECT count(*) AS twins, count(DISTINCT (name, born, tags, score, at, doc, seen)) AS distinct_rows
FROM fmt.twin;
-- The archive is written in bulk: a trigger on archived_row would not run, so
-- the stage refuses to archive (the rows stay live) until it is dropped.
CREATE FUNCTION fmt.audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER audit BEFORE INSERT ON retention_archive.archived_row
    FOR EACH ROW EXECUTE FUNCTION fmt.audit();
UPDATE fmt.twin SET seen = current_date - 800;
CALL retention.run();
SELECT status, rows_archived FROM retention.run_history ORDER BY run_id DESC LIMIT 1;
SELECT action, status, error FROM retention.run_detail
WHERE run_id = (SELECT max(run_id) FROM retention.run_history) AND action = 'archive';
SELECT count(*) AS still_live FROM fmt.twin;
DROP TRIGGER audit ON retention_archive.archived_row;
CALL retention.run();
SELECT count(*) AS still_live FROM fmt.twin;
-- archived again under the keys their subjects already had (one each, not new ones)
SELECT count(*) AS archived_again, count(DISTINCT row_data - 'id') AS distinct_rows,
       (SELECT count(*) FROM retention_archive.data_key WHERE subject = 'twin') AS keys
FROM retention.archived_rows('fmt.twin');
DROP SCHEMA fmt CASCADE;
