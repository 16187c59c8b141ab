#!/usr/bin/env bash
# Where an anonymize run in heap order spends its time against the one raw
# UPDATE (issue 11): on a throwaway cluster with pg_stat_statements
# (track = all, so the engine's own statements are counted), on the
# lifecycle suite's ROWS-row table in random age order, half due:
#   1. CALL retention.run() (auto: the value pass) and the raw UPDATE, each
#      on a fresh table, ROUNDS times: time, WAL, and the statements that
#      took the time (range batches, value_pass_done, the sweep, ...);
#   2. EXPLAIN (ANALYZE, BUFFERS, WAL) of one range batch of RANGE blocks
#      (the second range: the first is updated before it, unmeasured), each
#      variant on a fresh table, rolled back: the engine's statement,
#      without the untouched-since guard, without RETURNING and the keys'
#      aggregation, and the plain UPDATE of the range; and of the raw UPDATE.
# Prints its figures on stdout.  Not part of bench/run (no section of its own).
#   ROWS=1000000 ROUNDS=2 RANGE=575 bench/lifecycle/anonymize_profile.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
export ROWS=${ROWS:-1000000} REPEAT=1
ROUNDS=${ROUNDS:-2}
RANGE=${RANGE:-575}
# shellcheck source=bench/lib.sh
source bench/lib.sh
# shellcheck source=bench/suites/lifecycle.sh
source bench/suites/lifecycle.sh
LC_DIR=$BENCH_DIR/anonymize_profile

bench_start
as_test_user bash -c "echo \"shared_preload_libraries = 'pg_retention,pg_stat_statements'
pg_stat_statements.track = all
pg_stat_statements.max = 10000
track_functions = all\" >> '$BENCH_DIR/data/postgresql.conf'
pg_ctl -D '$BENCH_DIR/data' -l '$BENCH_DIR/server.log' -w restart >/dev/null"
bench_psql -c "CREATE EXTENSION pg_stat_statements"
as_test_user mkdir -p "$LC_DIR"
: >"$LC_DIR/trials"
lc_load_template >/dev/null

LABEL="age from seen_at"
COLUMN="anonymize after 1 year using hash"
RAW="UPDATE customer SET email = retention.hash(email) WHERE seen_at < $LC_CUTOFF"
SOURCE=$(lc_source random)

# The statements of the last trial, by total time: calls, rows, ms, WAL
# bytes, shared buffers hit/read/dirtied.
statements() {
	bench_psql -P pager=off <<'SQL'
SELECT calls, rows, round(total_exec_time) AS ms, wal_bytes, wal_fpi,
       shared_blks_hit AS hit, shared_blks_read AS read, shared_blks_dirtied AS dirtied,
       left(regexp_replace(query, '\s+', ' ', 'g'), 150) AS query
FROM pg_stat_statements WHERE toplevel IS FALSE OR query LIKE 'CALL%' OR query LIKE 'UPDATE customer%'
ORDER BY total_exec_time DESC LIMIT 14;
SELECT funcname, calls, round(total_time) AS ms, round(self_time) AS self_ms
FROM pg_stat_user_functions ORDER BY total_time DESC LIMIT 5;
SQL
}

# The sweep's scan after the pass, as the engine runs it (the pass's xids
# bound as text, cast to xid[] at run time: the ALL scans the array for each
# row) and with the same xids as an xid[] constant (hashed by PostgreSQL 15).
sweep() {
	bench_psql -P pager=off <<SQL | grep -E "^==|Scan|Filter|Execution Time|Rows Removed" || true
SELECT s::text AS snap FROM ap_snap \gset
SELECT array_agg(DISTINCT xmin::text)::text AS xids, count(DISTINCT xmin::text) AS n FROM customer WHERE seen_at < now() - interval '1 year' \gset
\echo == the sweep's scan, xids as text cast to xid[] (:n xids)
EXPLAIN (ANALYZE, BUFFERS) SELECT ARRAY[id::text]::text, id::text FROM customer WHERE seen_at < now() - interval '1 year'
  AND (retention._untouched_since(xmin, :'snap'::text::pg_snapshot) OR xmin <> ALL (:'xids'::text::xid[]));
\echo == the same, xids as an xid[] constant
EXPLAIN (ANALYZE, BUFFERS) SELECT ARRAY[id::text]::text, id::text FROM customer WHERE seen_at < now() - interval '1 year'
  AND (retention._untouched_since(xmin, :'snap'::text::pg_snapshot) OR xmin <> ALL (:'xids'::xid[]));
\echo == the same scan without the guard and the xids
EXPLAIN (ANALYZE, BUFFERS) SELECT ARRAY[id::text]::text, id::text FROM customer WHERE seen_at < now() - interval '1 year';
SQL
}

for round in $(seq 1 "$ROUNDS"); do
	for side in engine raw; do
		echo "== round $round: $side"
		if [ "$side" = engine ]; then
			setup="$(lc_engine_setup "$SOURCE" "$LABEL" "$COLUMN")
DROP TABLE IF EXISTS ap_snap;
CREATE TABLE ap_snap AS SELECT pg_current_snapshot() AS s;
SELECT pg_stat_statements_reset(); SELECT pg_stat_reset();"
			line=$(lc_trial "$setup" "CALL retention.run()" "$LC_RUN_ROWS" "$LC_RUN_BATCHES")
		else
			setup="$(lc_copy_sql customer "$SOURCE")
SELECT pg_stat_statements_reset(); SELECT pg_stat_reset();"
			line=$(lc_trial "$setup" "$RAW")
		fi
		echo "ms wal rows extra lsn0 lsn1 vac cpu_ms: $line"
		statements
		[ "$side" = raw ] || bench_psql -P pager=off -c "SELECT action, access_path, due, done, batches
			FROM retention.run_detail WHERE run_id = (SELECT max(run_id) FROM retention.run_history)"
		[ "$side" = raw ] || sweep
	done
done

# One range batch, each variant on a fresh table (an UPDATE rolled back
# leaves its new versions and index entries behind), unlabelled as the raw
# side's (the engine's writes skip the write trigger by its WHEN: counted
# above, pg_stat_user_functions).
CUT="(now() - interval '1 year')"
# the measured range follows a first one updated in the same transaction
# (not measured): the full-page images of the index pages after the
# checkpoint are that first range's, as in a batch in the middle of a run
WARM="UPDATE customer SET email = retention.hash(email) WHERE seen_at < $CUT AND ctid < '($RANGE,0)'::tid"
WHERE_RANGE="ctid >= '($RANGE,0)'::tid AND ctid < '($((2 * RANGE)),0)'::tid"
# the pass's snapshot, taken once the table is written (bound as text, as the engine does)
GUARD="retention._untouched_since(xmin, :'snap'::text::pg_snapshot)"
explain() {
	local name=$1 statement=$2
	echo "== $name"
	bench_psql -P pager=off <<SQL | grep -E "Update on|Scan|Filter|Buffers|WAL|Execution Time|Trigger|Planning Time|Rows Removed" || true
SET client_min_messages = warning;
$(lc_copy_sql customer "$SOURCE")
CHECKPOINT;
SELECT pg_current_snapshot()::text AS snap \gset
BEGIN;
$WARM;
EXPLAIN (ANALYZE, BUFFERS, WAL) $statement;
ROLLBACK;
SQL
}
for round in $(seq 1 "$ROUNDS"); do
	explain "range $RANGE blocks: the engine's statement (guard, RETURNING keys, aggregates)" \
		"WITH u AS (UPDATE customer SET email = retention.hash(email) WHERE seen_at < $CUT AND $GUARD AND $WHERE_RANGE RETURNING ARRAY[id::text]::text AS pgr_key, xmin AS pgr_xid) SELECT count(*)::text, array_agg(u.pgr_key)::text, array_agg(DISTINCT u.pgr_xid::text)::text FROM u"
	explain "range: without the guard" \
		"WITH u AS (UPDATE customer SET email = retention.hash(email) WHERE seen_at < $CUT AND $WHERE_RANGE RETURNING ARRAY[id::text]::text AS pgr_key, xmin AS pgr_xid) SELECT count(*)::text, array_agg(u.pgr_key)::text, array_agg(DISTINCT u.pgr_xid::text)::text FROM u"
	explain "range: the guard, no RETURNING" \
		"UPDATE customer SET email = retention.hash(email) WHERE seen_at < $CUT AND $GUARD AND $WHERE_RANGE"
	explain "range: plain UPDATE" \
		"UPDATE customer SET email = retention.hash(email) WHERE seen_at < $CUT AND $WHERE_RANGE"
	WARM="SELECT 1" explain "raw UPDATE, whole table" "$RAW"
done
