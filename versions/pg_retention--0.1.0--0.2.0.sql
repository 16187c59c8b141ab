-- pg_retention 0.1.0 -> 0.2.0, run by ALTER EXTENSION pg_retention UPDATE.
-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pg_retention UPDATE TO '0.2.0'" to load this file. \quit

-- It turns a 0.1.0 schema into exactly what a fresh 0.2.0 install has
-- (src/sql/*.sql): test/t/060_upgrade.pl compares the two, object by object.
-- Each change to src/sql/ after 0.1.0 adds its DDL to the section of its part
-- below, in the same words as the part where it can (CREATE OR REPLACE
-- FUNCTION, ALTER TABLE ... ADD COLUMN, a new table with its grants and
-- comment).  Rules (docs/versions.md):
--   - the script runs once, as the superuser who runs ALTER EXTENSION, with
--     search_path = retention; qualify every name anyway;
--   - existing rows must stay valid: archived rows must still open, erasure
--     log entries still re-apply; backfill new columns here;
--   - an object created here is a member of the extension, as in an install;
--     its grants to retention_admin / retention_dpo are repeated here; EXECUTE
--     for PUBLIC is settled by the last section, as 90_privileges.sql does;
--   - a column added to a table goes last in its CREATE TABLE in src/sql
--     (the comparison includes column positions);
--   - never drop and re-create a table that holds data.

-- 00_schema.sql: schema, roles ------------------------------------------
COMMENT ON ROLE retention_admin IS
'pg_retention: runs the lifecycle, reads and restores the archive (created by CREATE EXTENSION pg_retention)';
COMMENT ON ROLE retention_dpo IS
'pg_retention: the data-protection officer: forgets, exports, restricts, decides erasure requests (created by CREATE EXTENSION pg_retention)';

-- 10_inspect.sql: policies, check(), register of processing -------------

-- 20_methods.sql: anonymization methods ----------------------------------
-- 0.1.0's single BEFORE trigger retention_write becomes retention_minimize
-- and retention_late_rows (given to the labelled tables at the end).
COMMENT ON FUNCTION retention.write_trigger() IS
'row trigger of retention_minimize (BEFORE: applies "minimize to" rules) and retention_late_rows (AFTER: queues rows written already due); created by the label provider';

CREATE FUNCTION retention._late_rows_queued() RETURNS boolean
LANGUAGE C STABLE AS 'MODULE_PATHNAME', 'retention_late_rows_queued';
COMMENT ON FUNCTION retention._late_rows_queued() IS
'false while the lifecycle engine writes: the WHEN of retention_late_rows';

-- 30_lifecycle.sql: run history, archive, paused tables ------------------
-- The archive keeps only the indexes its own queries need: no index on relid
-- (archived_rows(table) and restore-all read the archive whole); the
-- purge_after index holds only the rows that expire.
DROP INDEX retention_archive.archived_row_relid_idx;
DROP INDEX retention_archive.archived_row_purge_after_idx;
CREATE INDEX archived_row_purge_after_idx ON retention_archive.archived_row (purge_after)
    WHERE purge_after IS NOT NULL;
-- No primary key (ids stay, from the sequence), and no subject index entry
-- for the rows of tables without a subject (subject ''): an archived row
-- costs no index write unless a query looks it up.  The rows stay as they are.
ALTER TABLE retention_archive.archived_row DROP CONSTRAINT archived_row_pkey;
DROP INDEX retention_archive.archived_row_subject_subject_hash_idx;
CREATE INDEX archived_row_subject_subject_hash_idx ON retention_archive.archived_row
    (subject, subject_hash) WHERE subject <> '';
-- how each purge and archive found its rows (index or heap order)
ALTER TABLE retention.run_detail ADD COLUMN access_path text;

-- 40_worker.sql: worker state --------------------------------------------

-- 50_subject_rights.sql: forget, export, requests, restriction -----------

-- 90_privileges.sql: EXECUTE for PUBLIC ----------------------------------
-- As at install: every function of the schema loses PUBLIC's EXECUTE, then
-- PUBLIC gets back exactly those of this list (a copy of 90_privileges.sql
-- as of 0.2.0: a function added above needs no REVOKE of its own; one that
-- PUBLIC may call is added to the list here and there).
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA retention FROM PUBLIC;

DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
        WHERE p.pronamespace = 'retention'::regnamespace AND p.prokind = 'f' AND (
            -- the methods that need no key: anyone may mask their own data
            p.proname IN ('mask_email', 'partial', 'redact', 'noise', 'jitter', 'generalize',
                          'ip_prefix', 'nullify', 'constant', 'k_anonymity', '_k_anonymity')
            OR p.proname LIKE 'random\_%'
            -- inspection of the declarations (the policies view calls _policies)
            OR p.proname IN ('_policies', 'check', 'processing_register', 'rules_for',
                             'subject_map', 'key_info')
            -- a table owner's own operations: each checks ownership itself
            OR p.proname IN ('minimize_existing', 'enable_restriction', 'disable_restriction')
            -- CREATE TRIGGER needs EXECUTE on the write trigger, by the labelling owner
            OR p.proname = 'write_trigger'
            -- the WHEN of the late-row trigger, evaluated as the writing role
            OR p.proname = '_late_rows_queued'
            -- called by restriction policies as the querying role; answers only
            -- for tables that role may read
            OR p.proname = '_visible'
            -- refused without the engine's capability
            OR p.proname = '_rule_hash' OR p.proname LIKE '\_rule\_fake\_%')
    LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO PUBLIC', f);
    END LOOP;
END
$$;

-- Every labelled table gets the write triggers of 0.2.0 in place of 0.1.0's
-- retention_write (20_methods.sql), made by the label provider's own code.
CREATE FUNCTION retention._sync_write_triggers() RETURNS bigint
LANGUAGE C AS 'MODULE_PATHNAME', 'retention_sync_write_triggers';
SELECT retention._sync_write_triggers();
DROP FUNCTION retention._sync_write_triggers();

-- Last: the launcher looks at this database again (the background worker
-- skips a database whose schema is not the library's version).
SELECT retention._notify_launcher();
