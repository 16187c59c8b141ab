-- The background worker picks up a run by itself (retention.run_now() asks it to run at once)
SELECT retention.run_now();
DO $$
BEGIN
    FOR i IN 1 .. 120 LOOP
        EXIT WHEN EXISTS (SELECT 1 FROM retention.run_history
                          WHERE started_by = 'worker' AND status <> 'running');
        PERFORM pg_sleep(0.5);
    END LOOP;
END $$;
SELECT run_id, started_by, status, rows_anonymized, rows_archived, rows_purged, finished_at - started_at AS took
FROM retention.run_history WHERE started_by = 'worker' ORDER BY run_id DESC LIMIT 1;
SELECT state, run_at, time_zone, next_run_at FROM retention.worker_status;
