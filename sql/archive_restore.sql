-- Archived rows come back whole: through retention.archived_rows(), export_subject()
-- and restore_archived(), whatever the table's column names (here every alias the
-- engine's, archive's, restore's and export's SQL uses), identity and generated columns.
SET client_min_messages = warning;
CREATE SCHEMA arc;
CREATE TABLE arc.aliases (
    id int PRIMARY KEY, m text, r text, s text, c text, c0 int, c1 text, c2 text, q text,
    u text, l text, d date, o text, x text, a text, b text, h0 text, k text, moved boolean,
    archived text, gone text, upd text, age text, row_key text, retention_h0 text,
    pgr_old_age date, pgr_k0 int, pgr_ctid text);
CREATE INDEX ON arc.aliases (d);
INSERT INTO arc.aliases
SELECT i, 'm' || i, 'r' || i, 's' || i, 'c' || i, i * 10, 'c1-' || i, 'c2-' || i, 'q' || i,
       'u' || i, 'l' || i, current_date - 200 * i, 'o' || i, 'x' || i, 'a' || i, 'b' || i,
       'h' || i, 'k' || i, i % 2 = 0, 'ar' || i, 'g' || i, 'up' || i, 'age' || i, 'rk' || i,
       'rh' || i, current_date - i, i + 1000, 'ct' || i
FROM generate_series(1, 8) i;
-- what each row must be after the run: q anonymized once it is a year old
CREATE TABLE arc.expected AS
SELECT id, to_jsonb(e.*) || jsonb_build_object('q', CASE WHEN d < current_date - 365
       THEN retention.hash(q) ELSE q END) AS row_data
FROM arc.aliases e;
SECURITY LABEL FOR retention ON TABLE arc.aliases IS
  'subject holder(id); age from d; archive after 2 years';
SECURITY LABEL FOR retention ON COLUMN arc.aliases.q IS 'anonymize after 1 year using hash';

CALL retention.run();
SELECT status, rows_anonymized, rows_archived FROM retention.run_history ORDER BY run_id DESC LIMIT 1;
-- live rows and archived rows are exactly the expected rows, every column of them
SELECT count(*) AS live_equal FROM arc.aliases l JOIN arc.expected e USING (id)
WHERE to_jsonb(l.*) = e.row_data;
SELECT count(*) AS archived_equal FROM retention.archived_rows('arc.aliases') a
JOIN arc.expected e ON e.id = (a.row_data ->> 'id')::int WHERE a.row_data = e.row_data;
-- export_subject: the live row and the archived row of a holder, whole
SELECT (retention.export_subject('holder', '1') #> '{tables,arc.aliases,rows,0}')
       = (SELECT row_data FROM arc.expected WHERE id = 1) AS live_exported_whole,
       (retention.export_subject('holder', '5') #> '{tables,arc.aliases,archived_rows,0,row}')
       = (SELECT row_data FROM arc.expected WHERE id = 5) AS archived_exported_whole;
-- restored: every row back, equal to what it was
SELECT retention.restore_archived('arc.aliases') AS restored;
SELECT count(*) AS all_equal FROM arc.aliases l JOIN arc.expected e USING (id)
WHERE to_jsonb(l.*) = e.row_data;

-- identity (GENERATED ALWAYS) and generated (STORED) columns
CREATE TABLE arc.ident (
    id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text,
    seen date,
    name_length int GENERATED ALWAYS AS (length(name)) STORED);
INSERT INTO arc.ident (name, seen)
SELECT 'name ' || i, current_date - 300 * i FROM generate_series(1, 4) i;
CREATE TABLE arc.ident_before AS SELECT * FROM arc.ident;
SECURITY LABEL FOR retention ON TABLE arc.ident IS 'age from seen; archive after 1 year';
CALL retention.run();
SELECT count(*) AS live, (SELECT count(*) FROM retention.archived_rows('arc.ident')) AS archived
FROM arc.ident;
SECURITY LABEL FOR retention ON TABLE arc.ident IS NULL;
SELECT retention.restore_archived('arc.ident') AS restored;
SELECT i.id, i.name, i.seen = b.seen AS same_age, i.name_length
FROM arc.ident i JOIN arc.ident_before b USING (id) ORDER BY id;
SELECT count(*) AS identical FROM arc.ident i JOIN arc.ident_before b USING (id)
WHERE to_jsonb(i.*) = to_jsonb(b.*);

-- the next tests see only their own tables
SET client_min_messages = warning;
DROP SCHEMA arc CASCADE;
