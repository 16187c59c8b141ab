# The background worker at rest: with nothing due, the CPU the launcher
# uses and how often it wakes up over WORKER_MINUTES minutes (10 by
# default), beside PostgreSQL's own autovacuum launcher over the same
# minutes; and what one start of a worker costs (retention.run_now() in a
# database with nothing declared), beside a new connection running SELECT 1.
# Sourced by bench/run, which provides bench/lib.sh.
# shellcheck shell=bash
# REPEAT comes from bench/run.
: "${REPEAT:?}"

WORKER_MINUTES=${WORKER_MINUTES:-10}
[[ $WORKER_MINUTES =~ ^[1-9][0-9]*$ ]] || { echo "WORKER_MINUTES must be a positive integer" >&2; exit 2; }
# A database with the extension and nothing declared, beside the bench database.
WORKER_DB=bench_worker

worker_psql() {
	as_test_user psql -h "$BENCH_DIR" -p "$BENCH_PORT" -U postgres -d "$WORKER_DB" \
		-X -q -At -v ON_ERROR_STOP=1 "$@"
}

# "cpu_ticks wakeups" of a process: utime + stime from /proc/<pid>/stat (clock
# ticks), and voluntary context switches from /proc/<pid>/status (each one a
# sleep that ended: a wake-up).
worker_proc_sample() {
	local pid=$1
	echo "$(awk '{ print $14 + $15 }' "/proc/$pid/stat") $(awk '/^voluntary_ctxt_switches:/ { print $2 }' "/proc/$pid/status")"
}

worker_backend_pid() {
	bench_psql -At -c "SELECT pid FROM pg_stat_activity WHERE backend_type = '$1'"
}

# When each worker last looked at its database, for both databases with the extension.
worker_stamps() {
	bench_psql -At -c "SELECT updated_at FROM retention.worker_state"
	worker_psql -c "SELECT updated_at FROM retention.worker_state"
}

# Waits (up to a minute) until no worker runs and both databases were looked at.
worker_wait_quiet() {
	for _ in $(seq 600); do
		if [ "$(bench_psql -At -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_retention worker'")" = 0 ] &&
			[ "$(worker_psql -c 'SELECT next_run_at IS NOT NULL FROM retention.worker_state')" = t ]; then
			return 0
		fi
		sleep 0.1
	done
	echo "the workers did not settle" >&2
	return 1
}

# Milliseconds from retention.run_now() to the run recorded as finished.
worker_run_now_ms() {
	worker_psql 2>&1 <<'SQL' | sed -n 's/.*elapsed_ms //p'
DO $$
DECLARE
    before bigint;
    t0 timestamptz;
BEGIN
    SELECT count(*) INTO before FROM retention.run_history
    WHERE started_by = 'worker' AND status <> 'running';
    t0 := clock_timestamp();
    PERFORM retention.run_now();
    LOOP
        PERFORM pg_sleep(0.001);
        EXIT WHEN (SELECT count(*) FROM retention.run_history
                   WHERE started_by = 'worker' AND status <> 'running') > before;
        IF clock_timestamp() - t0 > interval '60 seconds' THEN
            RAISE EXCEPTION 'the worker did not run';
        END IF;
    END LOOP;
    RAISE NOTICE 'elapsed_ms %', round(extract(epoch FROM clock_timestamp() - t0) * 1000, 1);
END $$;
SQL
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

suite_worker() {
	local run_at launcher autovacuum l0 l1 a0 a1 stamps_before stamps_after starts
	local clk ticks minutes run_now_ms connect_ms row name before after t0 w0 t1 w1
	local select1="$BENCH_DIR/select1.sql"

	log "a database with the extension and nothing declared; the daily run 12 hours away" >&2
	bench_psql -c "DROP DATABASE IF EXISTS $WORKER_DB" -c "CREATE DATABASE $WORKER_DB" >&2
	run_at=$(date -u -d '+12 hours' +%H:%M)
	bench_psql >/dev/null <<SQL
ALTER SYSTEM SET retention.worker_enabled = on;
ALTER SYSTEM SET retention.run_at = '$run_at';
ALTER SYSTEM SET retention.time_zone = 'UTC';
ALTER SYSTEM RESET retention.test_clock;
SELECT pg_reload_conf();
SQL
	worker_psql -c "CREATE EXTENSION pg_retention" >&2
	worker_wait_quiet

	launcher=$(worker_backend_pid 'pg_retention launcher')
	autovacuum=$(worker_backend_pid 'autovacuum launcher')
	if [ -z "$launcher" ] || [ -z "$autovacuum" ]; then
		echo "launcher pids not found" >&2
		return 1
	fi
	log "watching the launcher (pid $launcher) and the autovacuum launcher for $WORKER_MINUTES minutes" >&2
	stamps_before=$(worker_stamps)
	l0=$(worker_proc_sample "$launcher")
	a0=$(worker_proc_sample "$autovacuum")
	sleep $((WORKER_MINUTES * 60))
	l1=$(worker_proc_sample "$launcher")
	a1=$(worker_proc_sample "$autovacuum")
	stamps_after=$(worker_stamps)
	starts=$(diff <(echo "$stamps_before") <(echo "$stamps_after") | grep -c '^>' || true)

	log "timing $REPEAT worker starts (run_now) and $REPEAT new connections" >&2
	run_now_ms=$(for _ in $(seq "$REPEAT"); do worker_wait_quiet && worker_run_now_ms; done | median)
	echo "SELECT 1;" >"$select1"
	[ "$(id -u)" -ne 0 ] || chown "$(test_user):" "$select1"
	connect_ms=$(as_test_user pgbench -h "$BENCH_DIR" -p "$BENCH_PORT" -U postgres -n -C \
		-t "$((REPEAT * 10))" -f "$select1" "$WORKER_DB" 2>/dev/null |
		awk -F' = ' '/average connection time/ { c = $2 + 0 } /latency average/ { l = $2 + 0 } END { printf "%.1f", c + l }')

	bench_psql >/dev/null <<SQL
ALTER SYSTEM RESET retention.worker_enabled;
ALTER SYSTEM RESET retention.run_at;
ALTER SYSTEM RESET retention.time_zone;
SELECT pg_reload_conf();
SQL
	bench_psql -c "DROP DATABASE $WORKER_DB WITH (FORCE)" >&2

	clk=$(getconf CLK_TCK)
	minutes=$WORKER_MINUTES
	echo "## Background worker at rest"
	echo
	echo "Measured on $(bench_machine), with \`WORKER_MINUTES=$WORKER_MINUTES REPEAT=$REPEAT bench/run worker\`."
	echo
	cat <<TEXT
Two databases have the extension and nothing is due (the daily run is 12 hours away). Over
$minutes minutes, the CPU time of each process (user + system, from \`/proc/<pid>/stat\`, counted
in ticks of $((1000 / clk)) ms) and its wake-ups (voluntary context switches, from
\`/proc/<pid>/status\`: each one a sleep that ended), beside PostgreSQL's autovacuum launcher over
the same minutes:

TEXT
	echo "| process | CPU time | share of one core | wake-ups per minute |"
	echo "|---|---:|---:|---:|"
	for row in "pg_retention launcher|$l0|$l1" "autovacuum launcher (PostgreSQL)|$a0|$a1"; do
		IFS='|' read -r name before after <<<"$row"
		read -r t0 w0 <<<"$before"
		read -r t1 w1 <<<"$after"
		awk -v n="$name" -v t=$((t1 - t0)) -v w=$((w1 - w0)) -v clk="$clk" -v m="$minutes" \
			'BEGIN { s = t / clk; printf "| %s | %.2f s | %.4f %% | %.1f |\n", n, s, 100 * s / (m * 60), w / m }'
	done
	ticks=$(($(cut -d' ' -f1 <<<"$l1") - $(cut -d' ' -f1 <<<"$l0")))
	echo
	echo "Per-database workers started in that time: $starts (none is running, nor holds a"
	echo "connection, while nothing is due)."
	awk -v t="$ticks" -v w=$(($(cut -d' ' -f2 <<<"$l1") - $(cut -d' ' -f2 <<<"$l0"))) -v m="$minutes" -v s="$starts" \
		'BEGIN { ok = t <= 1 && w / m <= 1.05 && s == 0
		         printf "Target (issue 5): no measurable CPU, at most one wake-up a minute: **%s**.\n", ok ? "met" : "not met" }'
	echo
	echo "One start of a worker, from \`retention.run_now()\` to its run recorded as finished, in a"
	echo "database with nothing declared (process start, connection, schedule check, an empty run;"
	echo "median of $REPEAT): **$run_now_ms ms**. For comparison, a new connection running \`SELECT 1\`"
	echo "(\`pgbench -C\`, connection time plus latency, average of $((REPEAT * 10))): $connect_ms ms. A worker"
	echo "starts about once a day per database, plus once per reload that changes the schedule."
}
