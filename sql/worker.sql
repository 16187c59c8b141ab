-- The background worker's SQL surface: pausing and resuming a table, the
-- status view, its settings.  The worker itself (schedule, crashes,
-- standbys, several databases) is tested by test/t/010_worker_*.pl.
SET client_min_messages = warning;
CREATE TABLE worker_demo (id int PRIMARY KEY, at timestamptz NOT NULL);
SECURITY LABEL FOR retention ON TABLE worker_demo IS 'age from at; purge after 1 year';
INSERT INTO worker_demo SELECT i, now() - interval '2 years' FROM generate_series(1, 5) i;
-- A paused table is left alone by every run, the worker's and CALL retention.run()'s.
SELECT retention.pause_table('worker_demo', 'migration in progress');
SELECT table_name, paused_by = current_user AS paused_by_me, reason FROM retention.paused_table;
CALL retention.run();
SELECT count(*) AS rows_kept FROM worker_demo;
-- Pausing again only updates the reason.
SELECT retention.pause_table('worker_demo', 'still migrating');
SELECT table_name, reason FROM retention.paused_table;
-- Resuming says whether the table was paused.
SELECT retention.resume_table('worker_demo');
SELECT retention.resume_table('worker_demo');
CALL retention.run();
SELECT count(*) AS rows_left FROM worker_demo;
SELECT retention.pause_table('no_such_table');
-- One row describing this database's worker.
SELECT count(*), bool_and(run_at ~ '^\d\d:\d\d$') AS run_at_is_a_time FROM retention.worker_status;
-- Schedule settings belong to postgresql.conf (reloaded with SIGHUP);
-- every value is checked.
SET retention.run_at = '04:00';
SET retention.test_clock = 'yesterday';
SET retention.test_clock = '2030-01-15 03:00:00+00';
SHOW retention.test_clock;
RESET retention.test_clock;
-- Closed to PUBLIC.
CREATE ROLE regress_worker_app;
SET ROLE regress_worker_app;
SELECT retention.run_now();
SELECT retention.pause_table('worker_demo');
SELECT * FROM retention.worker_status;
RESET ROLE;
DROP ROLE regress_worker_app;
DROP TABLE worker_demo;
