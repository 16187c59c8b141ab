-- pg_retention install script, assembled from src/sql/*.sql in name order.
-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION pg_retention" to load this file. \quit

-- The schema `retention` is created by CREATE EXTENSION (control file).
-- Nothing in it is granted to PUBLIC unless stated: each part grants what
-- application roles may use.
REVOKE ALL ON SCHEMA retention FROM PUBLIC;
GRANT USAGE ON SCHEMA retention TO PUBLIC;

-- Roles (cluster-wide, created once; see docs/roles.md):
--   retention_admin  runs the lifecycle, reads and restores the archive
--   retention_dpo    the data-protection officer: forgets, exports, restricts, approves requests
-- Application roles get neither.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'retention_admin') THEN
        CREATE ROLE retention_admin NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'retention_dpo') THEN
        CREATE ROLE retention_dpo NOLOGIN;
    END IF;
END
$$;
-- Inspection: what is declared, what is wrong with it, and the register
-- of processing built from the declarations.

-- One declared rule, as retention.policies and retention.rules_for() show it.
CREATE TYPE retention.rule AS (
    table_name regclass,
    column_name name,
    stage text,
    after interval,
    method text,
    subject text,
    age_column name,
    purpose text,
    basis text,
    label text);

CREATE FUNCTION retention._policies()
RETURNS SETOF retention.rule
LANGUAGE C STABLE STRICT
AS 'MODULE_PATHNAME', 'retention_policies';

COMMENT ON FUNCTION retention._policies() IS
'the parsed retention declarations, one row per rule (use the view retention.policies)';

CREATE VIEW retention.policies AS
SELECT * FROM retention._policies();

COMMENT ON VIEW retention.policies IS
'one row per declared rule: stage (minimize, anonymize, archive, purge, forget, personal, declare), its delay and method';

CREATE FUNCTION retention.rules_for(relation regclass)
RETURNS SETOF retention.rule
LANGUAGE C STABLE STRICT
AS 'MODULE_PATHNAME', 'retention_rules_for';

COMMENT ON FUNCTION retention.rules_for(regclass) IS
'the rules that govern a table; a partition is governed by its partitioned table''s rules';

CREATE FUNCTION retention.check(
    OUT severity text,
    OUT table_name regclass,
    OUT column_name name,
    OUT problem text,
    OUT hint text)
RETURNS SETOF record
LANGUAGE C STABLE STRICT
AS 'MODULE_PATHNAME', 'retention_check';

COMMENT ON FUNCTION retention.check() IS
'lints of the declarations: missing indexes, unresolved subject paths, labels that no longer fit';

CREATE FUNCTION retention.processing_register(
    OUT table_name regclass,
    OUT column_name name,
    OUT subject text,
    OUT purpose text,
    OUT basis text,
    OUT minimize text,
    OUT anonymize_after interval,
    OUT anonymize_method text,
    OUT archive_after interval,
    OUT purge_after interval,
    OUT on_forget text)
RETURNS SETOF record
LANGUAGE C STABLE STRICT
AS 'MODULE_PATHNAME', 'retention_processing_register';

COMMENT ON FUNCTION retention.processing_register() IS
'register of processing activities (GDPR Art. 30) generated from the declarations';

GRANT SELECT ON retention.policies TO PUBLIC;
-- Anonymization methods, usable in labels (anonymize after ... using M,
-- minimize to M) and as plain SQL functions.  The same table of methods
-- (src/core/methods.cpp) governs both.  Functions that use the server key
-- are STABLE: the key is fixed for the server's lifetime but not forever.

CREATE FUNCTION retention.hash(value text) RETURNS text
LANGUAGE C STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_hash';
CREATE FUNCTION retention.hash(value text, encoding text, length integer DEFAULT NULL) RETURNS text
LANGUAGE C STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_hash';
COMMENT ON FUNCTION retention.hash(text) IS
'keyed HMAC-SHA-256 pseudonym of value (hex): same input, same output; the key never reaches SQL';
COMMENT ON FUNCTION retention.hash(text, text, integer) IS
'keyed HMAC-SHA-256 pseudonym of value in hex, base64 or base32, optionally truncated to length characters';

CREATE FUNCTION retention.mask_email(value text) RETURNS text
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_mask_email';
COMMENT ON FUNCTION retention.mask_email(text) IS 'j***@example.com: first character and domain kept';

CREATE FUNCTION retention.partial(value text, prefix integer, padding text, suffix integer) RETURNS text
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_partial';
COMMENT ON FUNCTION retention.partial(text, integer, text, integer) IS
'keeps prefix leading and suffix trailing characters, padding between (padding alone when the value is too short)';

CREATE FUNCTION retention.redact(value text) RETURNS text
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_redact';
COMMENT ON FUNCTION retention.redact(text) IS 'letters become x, digits 0; punctuation and spaces stay';

DO $$
DECLARE
    kind text;
BEGIN
    FOREACH kind IN ARRAY ARRAY['first_name', 'last_name', 'email', 'phone', 'city', 'address', 'company'] LOOP
        EXECUTE format($f$
            CREATE FUNCTION retention.%1$I(value text, locale text DEFAULT 'en') RETURNS text
            LANGUAGE C STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_fake';
            COMMENT ON FUNCTION retention.%1$I(text, text) IS
            'a realistic fake %3$s derived from value and the server key: same value, same fake';
            CREATE FUNCTION retention.%2$I(locale text DEFAULT 'en') RETURNS text
            LANGUAGE C VOLATILE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_random_fake';
            COMMENT ON FUNCTION retention.%2$I(text) IS 'a random realistic fake %3$s';
            -- the lifecycle engine's entry point (rule_methods.cpp, 90_privileges.sql)
            CREATE FUNCTION retention.%4$I(value text, locale text, capability bigint) RETURNS text
            LANGUAGE C STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_rule_fake';
            COMMENT ON FUNCTION retention.%4$I(text, text, bigint) IS
            '%1$s() for the lifecycle engine only: refused without its capability';
        $f$, 'fake_' || kind, 'random_' || kind, replace(kind, '_', ' '), '_rule_fake_' || kind);
    END LOOP;
END
$$;

CREATE FUNCTION retention.noise(value integer, ratio double precision) RETURNS integer
LANGUAGE C VOLATILE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_noise_int4';
CREATE FUNCTION retention.noise(value bigint, ratio double precision) RETURNS bigint
LANGUAGE C VOLATILE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_noise_int8';
CREATE FUNCTION retention.noise(value double precision, ratio double precision) RETURNS double precision
LANGUAGE C VOLATILE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_noise_float8';
CREATE FUNCTION retention.noise(value numeric, ratio double precision) RETURNS numeric
LANGUAGE C VOLATILE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_noise_numeric';
COMMENT ON FUNCTION retention.noise(numeric, double precision) IS
'adds uniform random noise of at most ratio * |value|, keeping the scale';

CREATE FUNCTION retention.jitter(value date, range interval) RETURNS date
LANGUAGE C VOLATILE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_jitter_date';
CREATE FUNCTION retention.jitter(value timestamptz, range interval) RETURNS timestamptz
LANGUAGE C VOLATILE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_jitter_timestamp';
CREATE FUNCTION retention.jitter(value timestamp, range interval) RETURNS timestamp
LANGUAGE C VOLATILE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_jitter_timestamp';
COMMENT ON FUNCTION retention.jitter(date, interval) IS
'moves the date by a uniform random amount within +/- range (a month counts 30 days)';

CREATE FUNCTION retention.generalize(value date, granularity text) RETURNS date
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_generalize_date';
CREATE FUNCTION retention.generalize(value timestamptz, granularity text) RETURNS timestamptz
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_generalize_timestamp';
CREATE FUNCTION retention.generalize(value timestamp, granularity text) RETURNS timestamp
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_generalize_timestamp';
CREATE FUNCTION retention.generalize(value integer, step integer) RETURNS integer
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_generalize_int4';
CREATE FUNCTION retention.generalize(value bigint, step bigint) RETURNS bigint
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_generalize_int8';
CREATE FUNCTION retention.generalize(value double precision, step double precision) RETURNS double precision
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_generalize_float8';
CREATE FUNCTION retention.generalize(value numeric, step numeric) RETURNS numeric
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_generalize_numeric';
COMMENT ON FUNCTION retention.generalize(date, text) IS
'year, month (first day), decade, or month_day (same day and month in year 4, a leap year)';
COMMENT ON FUNCTION retention.generalize(timestamptz, text) IS
'like generalize(date, text) on the UTC date, time set to midnight UTC';
COMMENT ON FUNCTION retention.generalize(numeric, numeric) IS 'floor(value / step) * step';

CREATE FUNCTION retention.ip_prefix(address inet, bits integer) RETURNS inet
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_ip_prefix';
COMMENT ON FUNCTION retention.ip_prefix(inet, integer) IS
'the network of the first bits bits: 192.0.2.77 -> 192.0.2.0/24 (bits clamped to the family)';

CREATE FUNCTION retention.nullify(value anyelement) RETURNS anyelement
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT CASE WHEN false THEN value END';
COMMENT ON FUNCTION retention.nullify(anyelement) IS 'NULL, whatever the value';

CREATE FUNCTION retention.constant(value anyelement, replacement anyelement) RETURNS anyelement
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT replacement';
COMMENT ON FUNCTION retention.constant(anyelement, anyelement) IS 'replacement, whatever the value';

-- k-anonymity: the size of the smallest group of rows sharing the same
-- quasi-identifiers.  The caller needs SELECT on them; the count runs as the
-- table's owner (k_anonymity.cpp).
CREATE FUNCTION retention._k_anonymity(relation regclass, quasi_identifiers name[])
RETURNS bigint
LANGUAGE C STABLE AS 'MODULE_PATHNAME', 'retention_k_anonymity';

CREATE FUNCTION retention.k_anonymity(relation regclass, quasi_identifiers name[])
RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    missing name;
BEGIN
    IF relation IS NULL OR quasi_identifiers IS NULL OR cardinality(quasi_identifiers) = 0 THEN
        RAISE EXCEPTION 'k_anonymity needs a table and at least one quasi-identifier'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'call retention.k_anonymity(''schema.table'', ARRAY[''zip'', ''birth_year''])';
    END IF;
    SELECT q INTO missing FROM unnest(quasi_identifiers) AS q
    WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a
                      WHERE a.attrelid = relation AND a.attname = q AND a.attnum > 0 AND NOT a.attisdropped)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'column "%" of relation % does not exist', missing, relation
            USING ERRCODE = 'undefined_column';
    END IF;
    -- read as the table's owner, once the caller's right to the columns is checked
    RETURN retention._k_anonymity(relation, quasi_identifiers);
END
$$;
COMMENT ON FUNCTION retention.k_anonymity(regclass, name[]) IS
'the k of a table over the quasi-identifiers: size of the smallest group sharing their values (NULL when empty)';

CREATE FUNCTION retention.key_info(OUT loaded boolean, OUT version integer, OUT fingerprint text)
RETURNS record
LANGUAGE C STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_key_info';
COMMENT ON FUNCTION retention.key_info() IS
'whether a server key is loaded, its version and a fingerprint to tell keys apart (never the key)';

-- The write trigger: applies "minimize to" on every write and queues rows
-- written already due for the next run.  The label provider creates it with
-- a table's first minimize, anonymize or value purge rule, and drops it with
-- the last.
CREATE FUNCTION retention.write_trigger() RETURNS trigger
LANGUAGE C AS 'MODULE_PATHNAME', 'retention_write_trigger';
COMMENT ON FUNCTION retention.write_trigger() IS
'BEFORE INSERT OR UPDATE trigger: applies "minimize to" rules, queues rows written already due (created by the label provider)';

CREATE FUNCTION retention.minimize_existing(relation regclass) RETURNS bigint
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'retention_minimize_existing';
COMMENT ON FUNCTION retention.minimize_existing(regclass) IS
'minimizes the rows written before their "minimize to" rules; returns how many rows changed';
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
    vacuum_pending boolean NOT NULL DEFAULT false
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
CREATE TABLE retention.late_row (
    relid        oid NOT NULL,
    attnum       smallint NOT NULL,
    row_key      text[] NOT NULL,
    queued_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (relid, attnum, row_key)
);

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
    id            bigserial PRIMARY KEY,
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
CREATE INDEX ON retention_archive.archived_row (subject, subject_hash);
CREATE INDEX ON retention_archive.archived_row (purge_after);
CREATE INDEX ON retention_archive.archived_row (relid);
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
-- The background worker: what it remembers between runs, how to watch it,
-- wake it, and keep it away from one table (docs/worker.md).

-- One row: where the daily schedule stands in this database.  Written by
-- the worker only; read it through retention.worker_status.
CREATE TABLE retention.worker_state (
    id              boolean PRIMARY KEY DEFAULT true CHECK (id),
    slot_start      timestamptz,    -- the scheduled run the next three columns describe
    slot_done       boolean NOT NULL DEFAULT false,
    failures        integer NOT NULL DEFAULT 0,   -- consecutive failed or crashed attempts
    last_failure_at timestamptz,
    attempt         text CHECK (attempt IN ('scheduled', 'run_now')),  -- a run under way
    last_status     text,
    next_run_at     timestamptz,    -- when the launcher starts the worker here again
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
INSERT INTO retention.worker_state DEFAULT VALUES;
REVOKE ALL ON retention.worker_state FROM PUBLIC;
COMMENT ON TABLE retention.worker_state IS
'the background worker''s schedule state in this database; a run still marked as under way at its next start crashed';

-- Tables the lifecycle leaves alone until they are resumed (a migration,
-- an investigation, a legal hold decided today).  Kept by pg_dump.
CREATE TABLE retention.paused_table (
    table_name  regclass PRIMARY KEY,
    paused_at   timestamptz NOT NULL DEFAULT now(),
    paused_by   name NOT NULL DEFAULT current_user,
    reason      text
);
REVOKE ALL ON retention.paused_table FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('retention.paused_table', '');
COMMENT ON TABLE retention.paused_table IS
'tables (and, for a partitioned table, its partitions) that lifecycle runs skip until resumed';

CREATE FUNCTION retention.pause_table(table_name regclass, reason text DEFAULT NULL)
RETURNS void
LANGUAGE sql VOLATILE
AS $$
INSERT INTO retention.paused_table (table_name, reason) VALUES ($1, $2)
ON CONFLICT ON CONSTRAINT paused_table_pkey
DO UPDATE SET reason = EXCLUDED.reason, paused_at = now(), paused_by = current_user;
$$;
COMMENT ON FUNCTION retention.pause_table(regclass, text) IS
'lifecycle runs skip this table (and its partitions) until retention.resume_table()';

CREATE FUNCTION retention.resume_table(table_name regclass)
RETURNS boolean
LANGUAGE sql VOLATILE STRICT
AS $$
WITH resumed AS (DELETE FROM retention.paused_table WHERE paused_table.table_name = $1 RETURNING 1)
SELECT count(*) > 0 FROM resumed;
$$;
COMMENT ON FUNCTION retention.resume_table(regclass) IS
'undoes retention.pause_table(); false when the table was not paused';

-- Wakes this database's worker: a run starts now, whatever the schedule.
CREATE FUNCTION retention.run_now() RETURNS void
LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'retention_run_now';
COMMENT ON FUNCTION retention.run_now() IS
'asks the background worker to run the lifecycle in this database now; see retention.worker_status';

REVOKE ALL ON FUNCTION retention.pause_table(regclass, text), retention.resume_table(regclass),
    retention.run_now() FROM PUBLIC;

-- The worker of this database, as a DBA wants to see it.
CREATE VIEW retention.worker_status AS
SELECT current_setting('retention.worker_enabled')::boolean AS enabled,
       current_setting('retention.run_at') AS run_at,
       current_setting('retention.time_zone') AS time_zone,
       current_setting('retention.max_run_duration') AS max_run_duration,
       CASE WHEN a.pid IS NOT NULL THEN 'running'
            WHEN NOT current_setting('retention.worker_enabled')::boolean THEN 'disabled'
            WHEN s.slot_done THEN 'done'
            WHEN s.failures > 0 THEN 'retrying'
            ELSE 'waiting'
       END AS state,
       s.slot_start AS scheduled_run,
       s.slot_done AS scheduled_run_done,
       s.failures,
       s.last_status,
       s.next_run_at,
       a.pid AS worker_pid,
       a.query AS activity,
       (SELECT max(h.run_id) FROM retention.run_history h WHERE h.started_by = 'worker') AS last_run_id
FROM retention.worker_state s
LEFT JOIN pg_catalog.pg_stat_activity a
       ON a.datname = current_database() AND a.backend_type = 'pg_retention worker';
REVOKE ALL ON retention.worker_status FROM PUBLIC;
COMMENT ON VIEW retention.worker_status IS
'the background worker in this database: schedule, state, next run, the process when one runs';

-- Internal: tells the launcher, when CREATE EXTENSION commits, to look at
-- this database at once rather than at its next read of pg_database.
CREATE FUNCTION retention._notify_launcher() RETURNS void
LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'retention_notify_launcher';
REVOKE ALL ON FUNCTION retention._notify_launcher() FROM PUBLIC;
SELECT retention._notify_launcher();
-- The rights of data subjects: where a subject's data lives (subject_map),
-- erasure (forget_subject, verify_forgotten, erasure requests with due
-- dates, the erasure log and its re-application after a restore), access
-- and portability (export_subject), restriction of processing
-- (restrict_subject, enable_restriction).  docs/rights.md walks through it.
--
-- Roles: retention_dpo may do all of it; retention_admin may verify,
-- process approved requests and carry the erasure log across a restore;
-- application roles may do none of it, nor read the tables below.  The
-- functions that need privileges are SECURITY DEFINER with a fixed
-- search_path.  No table here holds personal data: subjects are named by
-- a keyed hash of their id (retention._subject_hash), except a pending
-- erasure request, which keeps the id until it is carried out or rejected.

-- One row per forget: the receipt, the keyed hash of the subject id, and
-- the reason the data-protection officer gave.  The reason is free text
-- stored as given: it must not contain personal data (no names, e-mail
-- addresses or ids of the subject; a ticket number is fine).
CREATE TABLE retention.erasure_log (
    erasure_id    bigserial PRIMARY KEY,
    subject       text NOT NULL,
    subject_hash  bytea NOT NULL,
    erased_at     timestamptz NOT NULL DEFAULT now(),
    reason        text,
    receipt       jsonb NOT NULL,
    request_id    bigint,
    imported_at   timestamptz
);
CREATE INDEX ON retention.erasure_log (subject, subject_hash);
COMMENT ON TABLE retention.erasure_log IS
'one row per forgotten subject: receipt and keyed hash of the id, no personal data; re-applied after a restore';
COMMENT ON COLUMN retention.erasure_log.reason IS
'free text from the data-protection officer: must not contain personal data';
COMMENT ON COLUMN retention.erasure_log.imported_at IS
'set when the entry came from another database through retention.import_erasure_log()';

-- The rows a forget left in place, by table and primary key (as text[]):
-- anonymized by it, so that no run anonymizes them again nor archives them
-- under a new key; or kept because other rows still reference them (held),
-- which the run deletes once nothing holds them, completing the forget.  An
-- entry goes with its row.  docs/rights.md, "After the forget".
CREATE TABLE retention.forgotten_row (
    relation    regclass NOT NULL,
    row_key     text[] NOT NULL,
    subject     text NOT NULL,
    erasure_id  bigint NOT NULL,
    held        boolean NOT NULL,
    PRIMARY KEY (relation, row_key)
);
COMMENT ON TABLE retention.forgotten_row IS
'rows a forget anonymized or kept in place (held): never anonymized twice nor re-archived; held rows are deleted once nothing holds them';

-- Internal: the run logs the completion of a deferred "on forget delete" (the
-- rows a hold kept are gone); retention_admin runs the lifecycle, so this
-- writes the log for it.
CREATE FUNCTION retention._log_completed_erasure(erasure bigint, completed jsonb) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    WITH e AS (SELECT nextval('retention.erasure_log_erasure_id_seq') AS id, now() AS at)
    INSERT INTO retention.erasure_log (erasure_id, subject, subject_hash, erased_at, reason, receipt)
    SELECT e.id, l.subject, l.subject_hash, e.at, 'completes erasure ' || l.erasure_id,
           jsonb_build_object('erasure_id', e.id, 'erased_at', e.at, 'subject', l.subject,
                              'subject_hash', encode(l.subject_hash, 'hex'),
                              'completes_erasure', l.erasure_id, 'tables', completed)
    FROM e, retention.erasure_log l WHERE l.erasure_id = erasure
$$;
REVOKE ALL ON FUNCTION retention._log_completed_erasure(bigint, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retention._log_completed_erasure(bigint, jsonb) TO retention_admin;

CREATE TABLE retention.erasure_request (
    id              bigserial PRIMARY KEY,
    subject         text NOT NULL,
    subject_hash    bytea NOT NULL,
    subject_id      text,
    reason          text,
    received_at     timestamptz NOT NULL DEFAULT now(),
    due_at          timestamptz NOT NULL,
    status          text NOT NULL DEFAULT 'received'
                    CHECK (status IN ('received', 'approved', 'rejected', 'done', 'overdue')),
    decided_at      timestamptz,
    decided_by      text,
    decision_reason text,
    done_at         timestamptz,
    receipt         jsonb,
    last_error      text,
    -- the id is kept only while the request is pending
    CHECK ((subject_id IS NULL) = (status IN ('rejected', 'done')))
);
CREATE INDEX ON retention.erasure_request (status, due_at);
CREATE INDEX ON retention.erasure_request (subject, subject_hash);
COMMENT ON TABLE retention.erasure_request IS
'erasure requests: received, approved or rejected, done (with the receipt) or overdue; the id is dropped once decided';

CREATE TABLE retention.restricted_subject (
    subject        text NOT NULL,
    subject_hash   bytea NOT NULL,
    restricted_at  timestamptz NOT NULL DEFAULT now(),
    reason         text,
    PRIMARY KEY (subject, subject_hash)
);
COMMENT ON TABLE retention.restricted_subject IS
'subjects whose processing is restricted (GDPR Art. 18): hidden from application roles on tables with enable_restriction';

REVOKE ALL ON retention.erasure_log, retention.erasure_request, retention.restricted_subject,
    retention.forgotten_row FROM PUBLIC;
GRANT SELECT ON retention.erasure_log, retention.erasure_request, retention.restricted_subject,
    retention.forgotten_row
    TO retention_dpo, retention_admin;

-- the lifecycle (run by retention_admin) skips, deletes and forgets recorded rows
GRANT DELETE ON retention.forgotten_row TO retention_admin;

SELECT pg_catalog.pg_extension_config_dump('retention.erasure_log', '');
SELECT pg_catalog.pg_extension_config_dump('retention.erasure_log_erasure_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('retention.erasure_request', '');
SELECT pg_catalog.pg_extension_config_dump('retention.forgotten_row', '');
SELECT pg_catalog.pg_extension_config_dump('retention.erasure_request_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('retention.restricted_subject', '');

-- Where a subject's data lives: no data, only declarations and foreign keys.
CREATE FUNCTION retention.subject_map(
    subject text,
    OUT table_name regclass,
    OUT depth integer,
    OUT path text,
    OUT on_forget text,
    OUT personal_columns name[],
    OUT problem text)
RETURNS SETOF record
LANGUAGE C STABLE AS 'MODULE_PATHNAME', 'retention_subject_map';
COMMENT ON FUNCTION retention.subject_map(text) IS
'every declared table holding data of the subject: the foreign-key path to it, what forget does, the personal columns';

-- Internal: the canonical text of an id ('042' -> '42'), with clear errors.
CREATE FUNCTION retention._canonical_id(subject text, id text) RETURNS text
LANGUAGE C STABLE AS 'MODULE_PATHNAME', 'retention_canonical_id';
REVOKE ALL ON FUNCTION retention._canonical_id(text, text) FROM PUBLIC;

CREATE FUNCTION retention.forget_subject(subject text, id text, reason text DEFAULT NULL)
RETURNS jsonb
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'retention_forget_subject';
COMMENT ON FUNCTION retention.forget_subject(text, text, text) IS
'forgets a subject now, in this transaction: live rows per "on forget", archived rows, data key; returns the receipt';

CREATE FUNCTION retention.verify_forgotten(
    subject text,
    id text,
    OUT table_name text,
    OUT column_name name,
    OUT rows bigint,
    OUT status text)
RETURNS SETOF record
LANGUAGE C STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'retention_verify_forgotten';
COMMENT ON FUNCTION retention.verify_forgotten(text, text) IS
'what is still held on a subject: leftover, legal hold or anonymized, per table (and column), archive included';

CREATE FUNCTION retention.export_subject(subject text, id text) RETURNS jsonb
LANGUAGE C STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET IntervalStyle = postgres
AS 'MODULE_PATHNAME', 'retention_export_subject';
COMMENT ON FUNCTION retention.export_subject(text, text) IS
'every row held on the subject, archive included (decrypted), with each table''s and column''s purpose, basis and retention';

-- Erasure requests.
CREATE FUNCTION retention.request_erasure(subject text, id text, reason text DEFAULT NULL,
                                          due_in interval DEFAULT '30 days')
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    canonical text;
    hash bytea;
    request bigint;
    auto boolean := coalesce(current_setting('retention.auto_approve_erasure', true), 'off')::boolean;
BEGIN
    IF due_in IS NULL OR due_in <= interval '0' THEN
        RAISE EXCEPTION 'due_in must be a positive interval'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'the law gives one month: the default is ''30 days''';
    END IF;
    canonical := retention._canonical_id(request_erasure.subject, request_erasure.id);
    hash := retention._subject_hash(request_erasure.subject, canonical);
    SELECT r.id INTO request FROM retention.erasure_request r
    WHERE r.subject = request_erasure.subject AND r.subject_hash = hash
      AND r.status IN ('received', 'approved', 'overdue');
    IF FOUND THEN
        RAISE NOTICE 'erasure request % for this subject is already pending', request;
        RETURN request;
    END IF;
    INSERT INTO retention.erasure_request (subject, subject_hash, subject_id, reason, due_at,
                                           status, decided_at, decided_by)
    VALUES (request_erasure.subject, hash, canonical, request_erasure.reason,
            now() + request_erasure.due_in,
            CASE WHEN auto THEN 'approved' ELSE 'received' END,
            CASE WHEN auto THEN now() END,
            CASE WHEN auto THEN 'retention.auto_approve_erasure' END)
    RETURNING erasure_request.id INTO request;
    RETURN request;
END
$$;
COMMENT ON FUNCTION retention.request_erasure(text, text, text, interval) IS
'records an erasure request due in due_in (30 days); approved at once when retention.auto_approve_erasure is on';

-- Internal: approving and rejecting share the checks.
CREATE FUNCTION retention._decide_erasure(request_id bigint, approve boolean, reason text)
RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    current text;
BEGIN
    IF request_id IS NULL THEN
        RAISE EXCEPTION 'request id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    UPDATE retention.erasure_request r
    SET status = CASE WHEN approve THEN 'approved' ELSE 'rejected' END,
        subject_id = CASE WHEN approve THEN r.subject_id END,
        decided_at = now(),
        decided_by = CASE current_setting('role') WHEN 'none' THEN session_user::text
                     ELSE current_setting('role') END,
        decision_reason = _decide_erasure.reason
    WHERE r.id = request_id AND r.status IN ('received', 'overdue');
    IF FOUND THEN
        RETURN;
    END IF;
    SELECT r.status INTO current FROM retention.erasure_request r WHERE r.id = request_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'erasure request % does not exist', request_id
            USING ERRCODE = 'undefined_object', HINT = 'retention.erasure_request lists the requests';
    END IF;
    RAISE EXCEPTION 'erasure request % is %, not pending', request_id, current
        USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = 'only received or overdue requests can be approved or rejected';
END
$$;
REVOKE ALL ON FUNCTION retention._decide_erasure(bigint, boolean, text) FROM PUBLIC;

CREATE FUNCTION retention.approve_erasure(request_id bigint, reason text DEFAULT NULL)
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT retention._decide_erasure(request_id, true, reason) $$;
COMMENT ON FUNCTION retention.approve_erasure(bigint, text) IS
'approves a pending erasure request: the next retention.process_erasure_requests() (or the worker) carries it out';

CREATE FUNCTION retention.reject_erasure(request_id bigint, reason text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF reason IS NULL OR btrim(reason) = '' THEN
        RAISE EXCEPTION 'a rejection needs a reason' USING ERRCODE = 'null_value_not_allowed',
            HINT = 'the subject must be told why (GDPR Art. 12(4)); the reason must not contain personal data';
    END IF;
    PERFORM retention._decide_erasure(request_id, false, reason);
END
$$;
COMMENT ON FUNCTION retention.reject_erasure(bigint, text) IS
'rejects a pending erasure request with a reason; the subject id is dropped from the request';

CREATE FUNCTION retention.process_erasure_requests() RETURNS bigint
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'retention_process_erasure_requests';
COMMENT ON FUNCTION retention.process_erasure_requests() IS
'carries out every approved erasure request (the background worker calls it too); returns how many were done';

CREATE VIEW retention.erasure_requests_at_risk AS
SELECT r.id, r.subject,
       CASE WHEN r.status = 'received' AND r.due_at < now() THEN 'overdue' ELSE r.status END AS status,
       r.received_at, r.due_at, r.due_at - now() AS time_left, r.last_error
FROM retention.erasure_request r
WHERE r.status IN ('received', 'approved', 'overdue') AND r.due_at < now() + interval '7 days'
ORDER BY r.due_at, r.id;
COMMENT ON VIEW retention.erasure_requests_at_risk IS
'pending erasure requests due within 7 days or overdue';
REVOKE ALL ON retention.erasure_requests_at_risk FROM PUBLIC;
GRANT SELECT ON retention.erasure_requests_at_risk TO retention_dpo, retention_admin;

-- Restriction of processing.
CREATE FUNCTION retention._visible(relation regclass, subject text, subject_id text) RETURNS boolean
LANGUAGE C STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'retention_visible';
COMMENT ON FUNCTION retention._visible(regclass, text, text) IS
'the predicate of restriction policies: false for a restricted subject, unless the user is a member of retention_dpo or retention_admin; answers only roles with a privilege on the relation';

CREATE FUNCTION retention.enable_restriction(relation regclass) RETURNS void
LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'retention_enable_restriction';
COMMENT ON FUNCTION retention.enable_restriction(regclass) IS
'the table (and its partitions) hides restricted subjects'' rows from application roles, by a restrictive RLS policy; owner only';

CREATE FUNCTION retention.disable_restriction(relation regclass) RETURNS void
LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'retention_disable_restriction';
COMMENT ON FUNCTION retention.disable_restriction(regclass) IS
'removes what enable_restriction added to the table; owner only';

CREATE FUNCTION retention.restrict_subject(subject text, id text, reason text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    canonical text := retention._canonical_id(restrict_subject.subject, restrict_subject.id);
    added boolean;
BEGIN
    INSERT INTO retention.restricted_subject (subject, subject_hash, reason)
    VALUES (restrict_subject.subject,
            retention._subject_hash(restrict_subject.subject, canonical), restrict_subject.reason)
    ON CONFLICT DO NOTHING;
    added := FOUND;
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

CREATE FUNCTION retention.unrestrict_subject(subject text, id text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM retention.restricted_subject r
    WHERE r.subject = unrestrict_subject.subject
      AND r.subject_hash = retention._subject_hash(unrestrict_subject.subject,
                               retention._canonical_id(unrestrict_subject.subject, unrestrict_subject.id));
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION retention.unrestrict_subject(text, text) IS
'lifts the restriction of a subject; true when it was restricted';

-- The erasure log across a restore: export it from the newer database,
-- import it into the restored one, re-apply it.
CREATE FUNCTION retention.export_erasure_log() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object(
        'format', 'pg_retention erasure log', 'version', 1,
        'entries', coalesce(jsonb_agg(jsonb_build_object(
            'erasure_id', l.erasure_id, 'subject', l.subject,
            'subject_hash', encode(l.subject_hash, 'hex'), 'erased_at', l.erased_at,
            'reason', l.reason, 'request_id', l.request_id, 'receipt', l.receipt)
            ORDER BY l.erasure_id), '[]'::jsonb))
    FROM retention.erasure_log l
$$;
COMMENT ON FUNCTION retention.export_erasure_log() IS
'the erasure log as a document for retention.import_erasure_log() in a restored database';

CREATE FUNCTION retention.import_erasure_log(log jsonb) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    added bigint;
BEGIN
    IF log IS NULL OR log->>'format' IS DISTINCT FROM 'pg_retention erasure log'
       OR jsonb_typeof(log->'entries') IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'not an erasure log' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'pass the document retention.export_erasure_log() returned in the other database';
    END IF;
    INSERT INTO retention.erasure_log (subject, subject_hash, erased_at, reason, receipt,
                                       request_id, imported_at)
    SELECT e->>'subject', decode(e->>'subject_hash', 'hex'), (e->>'erased_at')::timestamptz,
           e->>'reason', e->'receipt', (e->>'request_id')::bigint, now()
    FROM jsonb_array_elements(log->'entries') e
    WHERE NOT EXISTS (SELECT 1 FROM retention.erasure_log l
                      WHERE l.subject = e->>'subject'
                        AND l.subject_hash = decode(e->>'subject_hash', 'hex')
                        AND l.erased_at = (e->>'erased_at')::timestamptz);
    GET DIAGNOSTICS added = ROW_COUNT;
    RETURN added;
END
$$;
COMMENT ON FUNCTION retention.import_erasure_log(jsonb) IS
'adds the entries of an exported erasure log that this database lacks; returns how many';

CREATE FUNCTION retention.reapply_erasures(
    OUT erasure_id bigint,
    OUT subject text,
    OUT receipt jsonb)
RETURNS SETOF record
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'retention_reapply_erasures';
COMMENT ON FUNCTION retention.reapply_erasures() IS
'forgets again every subject of the erasure log still present (after restoring an older backup); scans the subject tables';

REVOKE ALL ON FUNCTION retention.forget_subject(text, text, text),
    retention.verify_forgotten(text, text), retention.export_subject(text, text),
    retention.request_erasure(text, text, text, interval), retention.approve_erasure(bigint, text),
    retention.reject_erasure(bigint, text), retention.process_erasure_requests(),
    retention.restrict_subject(text, text, text), retention.unrestrict_subject(text, text),
    retention.export_erasure_log(), retention.import_erasure_log(jsonb),
    retention.reapply_erasures() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retention.forget_subject(text, text, text),
    retention.verify_forgotten(text, text), retention.export_subject(text, text),
    retention.request_erasure(text, text, text, interval), retention.approve_erasure(bigint, text),
    retention.reject_erasure(bigint, text), retention.process_erasure_requests(),
    retention.restrict_subject(text, text, text), retention.unrestrict_subject(text, text),
    retention.export_erasure_log(), retention.import_erasure_log(jsonb),
    retention.reapply_erasures() TO retention_dpo;
GRANT EXECUTE ON FUNCTION retention.verify_forgotten(text, text),
    retention.process_erasure_requests(), retention.export_erasure_log(),
    retention.import_erasure_log(jsonb), retention.reapply_erasures() TO retention_admin;
-- Who may execute what, in one place.  CREATE FUNCTION grants EXECUTE to
-- PUBLIC; here the extension takes that back from every function of the
-- schema and gives PUBLIC only what any role may use.  The grants to
-- retention_admin and retention_dpo stand beside each function.
-- regression test: sql/privileges.sql lists what PUBLIC can execute.

-- The keyed methods as the lifecycle engine applies them (rule_methods.cpp;
-- the fakes' entry points are made with the fakes, 20_methods.sql):
-- executable by PUBLIC, since the engine's statements run as the table's
-- owner, but refused without the backend's engine capability.
CREATE FUNCTION retention._rule_hash(value text, encoding text, length integer, capability bigint)
RETURNS text
LANGUAGE C STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_rule_hash';
COMMENT ON FUNCTION retention._rule_hash(text, text, integer, bigint) IS
'hash() for the lifecycle engine only: refused without its capability';

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

-- Pseudonyms for whoever is trusted with them: the administrators, and roles
-- a DBA grants explicitly (an analytics role joining on hashed columns):
--   GRANT EXECUTE ON FUNCTION retention.hash(text) TO analytics;
GRANT EXECUTE ON FUNCTION retention.hash(text), retention.hash(text, text, integer),
    retention.fake_first_name(text, text), retention.fake_last_name(text, text),
    retention.fake_email(text, text), retention.fake_phone(text, text),
    retention.fake_city(text, text), retention.fake_address(text, text),
    retention.fake_company(text, text) TO retention_admin;
