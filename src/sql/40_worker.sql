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
