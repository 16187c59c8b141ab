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
CREATE FUNCTION retention.repair_triggers() RETURNS bigint
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'retention_repair_triggers';
COMMENT ON FUNCTION retention.repair_triggers() IS
'creates the write triggers declared tables (on Citus: their shards, on every node) lack, e.g. after pg_upgrade, which does not restore internal triggers; returns how many it created';
REVOKE ALL ON FUNCTION retention.repair_triggers() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retention.repair_triggers() TO retention_admin;
-- 0.1.0's single BEFORE trigger retention_write becomes retention_minimize
-- and retention_late_rows (given to the labelled tables at the end).
COMMENT ON FUNCTION retention.write_trigger() IS
'row trigger of retention_minimize (BEFORE: applies "minimize to" rules) and retention_late_rows (AFTER: queues rows written already due); created by the label provider';

CREATE FUNCTION retention._late_rows_queued() RETURNS boolean
LANGUAGE C STABLE AS 'MODULE_PATHNAME', 'retention_late_rows_queued';
COMMENT ON FUNCTION retention._late_rows_queued() IS
'false while the lifecycle engine writes: the WHEN of retention_late_rows';

CREATE FUNCTION retention._engine_write(anyelement) RETURNS boolean
LANGUAGE C IMMUTABLE AS 'MODULE_PATHNAME', 'retention_engine_write';
COMMENT ON FUNCTION retention._engine_write(anyelement) IS
'true; marks the rest of the transaction as the lifecycle engine''s on a Citus shard''s node (its writes are not late rows): called in the WHERE of the run''s UPDATEs of Citus tables';

CREATE FUNCTION retention._due_bound(age anyelement, delay interval) RETURNS anyelement
LANGUAGE C STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_due_bound';
COMMENT ON FUNCTION retention._due_bound(anyelement, interval) IS
'now() - delay in the type of age (a day later for date and timestamp), computed once per transaction: the bound in the WHEN of the late-row trigger, evaluated as the writing role';

CREATE FUNCTION retention._untouched_since(version_xmin xid, pass pg_snapshot) RETURNS boolean
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_untouched_since';
COMMENT ON FUNCTION retention._untouched_since(xid, pg_snapshot) IS
'whether a row version was written by a transaction the snapshot sees as committed: the guard of a value stage''s pass in heap order (docs/lifecycle.md), in the WHERE of its UPDATEs, run as the table''s owner';

CREATE FUNCTION retention._key_unkept(row_key text, kept text[]) RETURNS boolean
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_key_unkept';
COMMENT ON FUNCTION retention._key_unkept(text, text[]) IS
'whether a row key is not one of the keys a value stage''s pass in heap order kept (docs/lifecycle.md): in the WHERE of its sweep, run as the table''s owner';
CREATE FUNCTION retention._key_unkept(row_key bigint, kept text[]) RETURNS boolean
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_key_unkept_int';
COMMENT ON FUNCTION retention._key_unkept(bigint, text[]) IS
'whether a key of one integer column is not one of the keys a value stage''s pass in heap order kept, as ''{'' || row_key || ''}'' <> ALL (kept): in the WHERE of its sweep, run as the table''s owner';
CREATE FUNCTION retention._key_unkept(row_key bigint, kept bigint[]) RETURNS boolean
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_key_unkept_ids';
COMMENT ON FUNCTION retention._key_unkept(bigint, bigint[]) IS
'whether a key of one integer column is not one of the keys a value stage''s pass in heap order kept as integers, as row_key <> ALL (kept): in the WHERE of its sweep, run as the table''s owner';

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
-- a Citus shard's queue entry carries the digest of the value as written
ALTER TABLE retention.late_row ADD COLUMN value_digest text;
-- the write trigger writes the queue without a unique key or an index (a
-- row written twice is queued twice, the run reads each row once); the
-- entries stay
ALTER TABLE retention.late_row DROP CONSTRAINT late_row_pkey;

-- A value stage's pass through a table in heap order (docs/lifecycle.md,
-- "Anonymizing in heap order"): block range after block range, each range a
-- committed batch; the rows due are those of the stage's watermark and of
-- the pass's own cutoff.  A row version its snapshot shows as committed was
-- untouched since the pass began; the keys the pass changed are kept until
-- it ends, so that no row is changed twice, wherever its new version lands.
CREATE TABLE retention.value_pass (
    relid        oid NOT NULL,
    attnum       smallint NOT NULL,
    action       text NOT NULL,
    cutoff       text NOT NULL,         -- the pass's cutoff, the age's text in ISO style and UTC
    snapshot     pg_snapshot NOT NULL,  -- taken when the pass began
    next_block   bigint NOT NULL,       -- the first block of the ranges not yet visited
    end_block    bigint NOT NULL,       -- the table's size in blocks when the pass began
    started_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (relid, attnum, action)
);
COMMENT ON TABLE retention.value_pass IS
'the value stages going through their table in heap order: where each stands, resumed by the next run';
CREATE TABLE retention.value_pass_done (
    relid        oid NOT NULL,
    attnum       smallint NOT NULL,
    action       text NOT NULL,
    row_keys     text[],                -- one batch's rows, each key as late_row.row_key::text,
    row_ids      bigint[],              -- or, from a range of a table keyed by one integer
                                        -- column, the keys themselves
    CHECK ((row_keys IS NULL) <> (row_ids IS NULL))
);
CREATE INDEX ON retention.value_pass_done (relid, attnum, action);
-- stored uncompressed: a batch's keys compress by about 3x, but pglz costs more
-- CPU than the batch's whole bookkeeping (docs/lifecycle.md)
ALTER TABLE retention.value_pass_done ALTER COLUMN row_keys SET STORAGE EXTERNAL,
    ALTER COLUMN row_ids SET STORAGE EXTERNAL;
COMMENT ON TABLE retention.value_pass_done IS
'the rows each value pass in heap order changed, batch by batch, until the pass ends';
REVOKE ALL ON retention.value_pass, retention.value_pass_done FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON retention.value_pass, retention.value_pass_done
    TO retention_admin;
SELECT pg_catalog.pg_extension_config_dump('retention.value_pass', '');
SELECT pg_catalog.pg_extension_config_dump('retention.value_pass_done', '');

-- 40_worker.sql: worker state --------------------------------------------

-- 50_subject_rights.sql: forget, export, requests, restriction -----------
-- restriction on Citus tables: every worker keeps the coordinator's list
CREATE OR REPLACE FUNCTION retention.restrict_subject(subject text, id text, reason text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    canonical text := retention._canonical_id(restrict_subject.subject, restrict_subject.id);
    hash bytea := retention._subject_hash(restrict_subject.subject, canonical);
    added boolean;
BEGIN
    -- one change of the list at a time (also sync_restrictions)
    LOCK TABLE retention.restricted_subject IN SHARE ROW EXCLUSIVE MODE;
    INSERT INTO retention.restricted_subject (subject, subject_hash, reason)
    VALUES (restrict_subject.subject, hash, restrict_subject.reason)
    ON CONFLICT DO NOTHING;
    added := FOUND;
    -- on a Citus coordinator, every worker's list too (they commit first)
    PERFORM retention._restriction_to_workers(restrict_subject.subject, hash, true);
    IF NOT EXISTS (SELECT 1 FROM retention.subject_map(restrict_subject.subject) m
                   JOIN pg_catalog.pg_policy p ON p.polrelid = m.table_name
                   WHERE p.polname = 'retention_restriction') THEN
        RAISE WARNING 'no table of subject "%" enforces restriction', restrict_subject.subject
            USING HINT = 'call retention.enable_restriction(''table'') on the tables whose rows must be hidden';
    END IF;
    RETURN added;
END
$$;
COMMENT ON FUNCTION retention.restrict_subject(text, text, text) IS
'restricts processing of a subject: its rows are hidden from application roles; true when newly restricted';

CREATE OR REPLACE FUNCTION retention.unrestrict_subject(subject text, id text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    hash bytea := retention._subject_hash(unrestrict_subject.subject,
                      retention._canonical_id(unrestrict_subject.subject, unrestrict_subject.id));
BEGIN
    LOCK TABLE retention.restricted_subject IN SHARE ROW EXCLUSIVE MODE;
    -- on a Citus coordinator, the workers first: a failure leaves the subject restricted
    PERFORM retention._restriction_to_workers(unrestrict_subject.subject, hash, false);
    DELETE FROM retention.restricted_subject r
    WHERE r.subject = unrestrict_subject.subject AND r.subject_hash = hash;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION retention.unrestrict_subject(text, text) IS
'lifts the restriction of a subject; true when it was restricted';

CREATE FUNCTION retention._restriction_to_workers(subject text, subject_hash bytea, restricted boolean)
RETURNS void
LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'retention_restriction_to_workers';
COMMENT ON FUNCTION retention._restriction_to_workers(text, bytea, boolean) IS
'on a Citus coordinator, restricts (or unrestricts) a subject on every worker; called by restrict_subject and unrestrict_subject';

CREATE FUNCTION retention.sync_restrictions() RETURNS integer
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'retention_sync_restrictions';
COMMENT ON FUNCTION retention.sync_restrictions() IS
'on a Citus coordinator, makes every worker''s list of restricted subjects equal to the coordinator''s (a worker added later); returns the number of workers';
REVOKE ALL ON FUNCTION retention.sync_restrictions() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retention.sync_restrictions() TO retention_dpo, retention_admin;

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
            -- the bound in that WHEN
            OR p.proname = '_due_bound'
            -- in the WHERE of the run's UPDATEs of Citus tables, run as the table's owner
            OR p.proname = '_engine_write'
            -- in the WHERE of a value stage's UPDATEs in heap order, run as the table's owner
            OR p.proname = '_untouched_since'
            -- in the WHERE of that pass's sweep, run as the table's owner
            OR p.proname = '_key_unkept'
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
