-- The lifecycle: run history, per-stage progress state, the late-row queue
-- and the encrypted archive.  None of it holds personal data in clear: the
-- history counts rows, the state keeps ages and primary keys of the rows
-- at the watermark, the archive holds ciphertext.

-- One row per run of CALL retention.run() or of the background worker.
CREATE TABLE retention.run_history (
    run_id          bigserial PRIMARY KEY,
    started_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at     timestamptz,
    status          text NOT NULL DEFAULT 'running'
                    CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'stopped', 'crashed')),
    dry_run         boolean NOT NULL DEFAULT false,
    started_by      text NOT NULL DEFAULT 'manual',
    backend_pid     integer DEFAULT pg_backend_pid(),
    rows_minimized  bigint NOT NULL DEFAULT 0,
    rows_anonymized bigint NOT NULL DEFAULT 0,
    values_purged   bigint NOT NULL DEFAULT 0,
    rows_archived   bigint NOT NULL DEFAULT 0,
    rows_purged     bigint NOT NULL DEFAULT 0,
    archive_purged  bigint NOT NULL DEFAULT 0,
    rows_blocked    bigint NOT NULL DEFAULT 0,
    tables_failed   integer NOT NULL DEFAULT 0,
    message         text
);
CREATE INDEX ON retention.run_history (started_at);
COMMENT ON TABLE retention.run_history IS
'one row per lifecycle run: when, how it ended, rows per action; no personal data';

-- One row per run, table, column and action.
CREATE TABLE retention.run_detail (
    run_id       bigint NOT NULL REFERENCES retention.run_history ON DELETE CASCADE,
    table_name   regclass,
    table_text   text NOT NULL,
    column_name  name,
    action       text NOT NULL,
    due          bigint,
    done         bigint NOT NULL DEFAULT 0,
    blocked      bigint NOT NULL DEFAULT 0,
    blocked_by   text,
    batches      integer NOT NULL DEFAULT 0,
    status       text NOT NULL DEFAULT 'running',
    error        text,
    started_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    vacuum_pending boolean NOT NULL DEFAULT false,
    access_path  text         -- purge and archive: index (age order) or heap (block ranges)
);
CREATE INDEX ON retention.run_detail (run_id);
COMMENT ON TABLE retention.run_detail IS
'per table, column and action of each run: rows due, done, blocked (and by which table), errors';

-- How far each incremental stage got in each table: rows up to and
-- including (watermark_age, watermark_key) have been processed.
CREATE TABLE retention.stage_state (
    relid          oid NOT NULL,
    attnum         smallint NOT NULL,
    action         text NOT NULL,
    watermark_age  text,      -- the age column's value, as text in ISO style and UTC
    watermark_key  text,
    updated_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (relid, attnum, action)
);
COMMENT ON TABLE retention.stage_state IS
'the watermark of each incremental stage: what a run has already processed, so no row is processed twice';

-- Rows written already due (backdated inserts, a new clear value in an
-- already anonymized row), queued by the write trigger for the next run.
-- No unique key and no index: the trigger's entry costs the write one heap
-- tuple (a row written twice is queued twice; the run reads each row once),
-- and the run reads the queue, which holds the writes since the last run,
-- whole (docs/lifecycle.md).
CREATE TABLE retention.late_row (
    relid        oid NOT NULL,
    attnum       smallint NOT NULL,
    row_key      text[] NOT NULL,
    queued_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- on a Citus shard's node: md5 of the value as written (docs/lifecycle.md)
    value_digest text
);

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

-- The archive: its own schema, closed to everyone but the extension's owner.
CREATE SCHEMA retention_archive;
REVOKE ALL ON SCHEMA retention_archive FROM PUBLIC;

-- One random data key per subject, wrapped by the server key.
-- Forgetting a subject deletes its row: every archived copy becomes unreadable.
CREATE TABLE retention_archive.data_key (
    subject       text NOT NULL,
    subject_hash  bytea NOT NULL,
    key_version   integer NOT NULL,
    wrapped_key   bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (subject, subject_hash)
);

CREATE TABLE retention_archive.archived_row (
    id            bigserial,
    relid         oid NOT NULL,
    table_name    text NOT NULL,
    subject       text NOT NULL,
    subject_hash  bytea NOT NULL,
    aged_at       timestamptz,
    purge_after   timestamptz,
    archived_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    run_id        bigint,
    payload       bytea NOT NULL
);
-- Only the indexes the archive's own queries need, each written at every
-- archived row: a subject's rows (forget, export, erasures: rows of a table
-- without a subject, subject '', are never looked up by subject), and the
-- expired ones (the run's archive purge; rows never purged stay out of it).
-- Reading or restoring one table's rows (archived_rows, restore_archived,
-- by ids too) scans: rare administrative work, not worth an index write per
-- archived row.  No primary key either: ids come from the sequence, unique
-- without an index to prove it.
CREATE INDEX ON retention_archive.archived_row (subject, subject_hash) WHERE subject <> '';
CREATE INDEX ON retention_archive.archived_row (purge_after) WHERE purge_after IS NOT NULL;
COMMENT ON TABLE retention_archive.archived_row IS
'archived rows, AES-256-GCM under their subject''s data key; the payload is the row as JSON';

REVOKE ALL ON ALL TABLES IN SCHEMA retention_archive FROM PUBLIC;
REVOKE ALL ON retention.run_history, retention.run_detail, retention.stage_state, retention.late_row FROM PUBLIC;

-- pg_dump keeps the history and the archive with the database.
SELECT pg_catalog.pg_extension_config_dump('retention.run_history', '');
SELECT pg_catalog.pg_extension_config_dump('retention.run_detail', '');
SELECT pg_catalog.pg_extension_config_dump('retention.stage_state', '');
SELECT pg_catalog.pg_extension_config_dump('retention.late_row', '');
SELECT pg_catalog.pg_extension_config_dump('retention_archive.data_key', '');
SELECT pg_catalog.pg_extension_config_dump('retention_archive.archived_row', '');
SELECT pg_catalog.pg_extension_config_dump('retention.run_history_run_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('retention_archive.archived_row_id_seq', '');

-- What another session sees of a run in progress.
CREATE VIEW retention.progress AS
SELECT h.run_id, h.started_by, d.table_text AS table_name, d.column_name, d.action,
       d.due, d.done, d.blocked, d.batches, d.status,
       CASE WHEN d.updated_at > d.started_at
            THEN round(d.done / extract(epoch FROM d.updated_at - d.started_at))
       END AS rows_per_second,
       d.updated_at
FROM retention.run_history h
JOIN retention.run_detail d USING (run_id)
WHERE h.status = 'running';
COMMENT ON VIEW retention.progress IS 'the run in progress, per table, column and action';

-- Internal: the keyed hash naming a subject, and row sealing/opening.
-- Closed to PUBLIC: with them a caller could test guesses of subject ids
-- or read the archive.
CREATE FUNCTION retention._subject_hash(subject text, subject_id text) RETURNS bytea
LANGUAGE C STABLE STRICT AS 'MODULE_PATHNAME', 'retention_subject_hash';
CREATE FUNCTION retention._seal(subject text, subject_id text, payload text) RETURNS bytea
LANGUAGE C VOLATILE STRICT AS 'MODULE_PATHNAME', 'retention_seal';
CREATE FUNCTION retention._open(subject text, subject_hash bytea, payload bytea) RETURNS text
LANGUAGE C STABLE STRICT AS 'MODULE_PATHNAME', 'retention_open';
REVOKE ALL ON FUNCTION retention._subject_hash(text, text), retention._seal(text, text, text),
    retention._open(text, bytea, bytea) FROM PUBLIC;

-- The lifecycle, by hand (the background worker runs it on schedule).
CREATE PROCEDURE retention.run(dry_run boolean DEFAULT false)
LANGUAGE C AS 'MODULE_PATHNAME', 'retention_run';
COMMENT ON PROCEDURE retention.run(boolean) IS
'applies every due stage of every declared table, in batches committed one by one; dry_run only counts';
REVOKE ALL ON PROCEDURE retention.run(boolean) FROM PUBLIC;

CREATE FUNCTION retention.preview(
    OUT table_name regclass,
    OUT column_name name,
    OUT action text,
    OUT rows bigint,
    OUT blocked bigint,
    OUT blocked_by text,
    OUT error text)
RETURNS SETOF record
LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'retention_preview';
COMMENT ON FUNCTION retention.preview() IS
'what a run would do now: rows per table, column and action (done and rolled back, so exact)';
REVOKE ALL ON FUNCTION retention.preview() FROM PUBLIC;

GRANT USAGE ON SCHEMA retention_archive TO retention_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA retention_archive TO retention_admin;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA retention_archive TO retention_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON retention.run_history, retention.run_detail,
    retention.stage_state, retention.late_row TO retention_admin;
GRANT USAGE ON SEQUENCE retention.run_history_run_id_seq TO retention_admin;
GRANT SELECT ON retention.run_history, retention.run_detail TO retention_dpo;
GRANT SELECT ON retention.progress TO retention_admin, retention_dpo;
GRANT EXECUTE ON FUNCTION retention._subject_hash(text, text), retention._seal(text, text, text),
    retention._open(text, bytea, bytea), retention.preview() TO retention_admin;
GRANT EXECUTE ON PROCEDURE retention.run(boolean) TO retention_admin;

-- Reading and restoring the archive: retention_admin only.
CREATE FUNCTION retention.archived_rows(
    relation regclass DEFAULT NULL,
    OUT id bigint,
    OUT table_name text,
    OUT subject text,
    OUT aged_at timestamptz,
    OUT archived_at timestamptz,
    OUT purge_after timestamptz,
    OUT row_data jsonb)
RETURNS SETOF record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT a.id, a.table_name, a.subject, a.aged_at, a.archived_at, a.purge_after,
           retention._open(a.subject, a.subject_hash, a.payload)::jsonb
    FROM retention_archive.archived_row a
    WHERE relation IS NULL OR a.relid = relation
    ORDER BY a.id
$$;
COMMENT ON FUNCTION retention.archived_rows(regclass) IS
'the archive, decrypted: for retention_admin only';
REVOKE ALL ON FUNCTION retention.archived_rows(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retention.archived_rows(regclass) TO retention_admin;

-- Moves archived rows back into their live table (all of them, or the ids given),
-- in one transaction: each row is in exactly one place at every instant.  The
-- insert runs as the table's owner (archive_restore.cpp); identity columns get
-- their archived values back, generated columns are computed again.
CREATE FUNCTION retention.restore_archived(relation regclass, ids bigint[] DEFAULT NULL)
RETURNS bigint
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'retention_restore_archived';
COMMENT ON FUNCTION retention.restore_archived(regclass, bigint[]) IS
'moves archived rows of a table (all, or the given archive ids) back into it; retention_admin only';
REVOKE ALL ON FUNCTION retention.restore_archived(regclass, bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retention.restore_archived(regclass, bigint[]) TO retention_admin;

CREATE FUNCTION retention.rewrap_archive_keys() RETURNS bigint
LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'retention_rewrap_archive_keys';
COMMENT ON FUNCTION retention.rewrap_archive_keys() IS
'key rotation: wraps every archive data key still under the retired server key with the current one';
REVOKE ALL ON FUNCTION retention.rewrap_archive_keys() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retention.rewrap_archive_keys() TO retention_admin;
