# The lifecycle engine (CALL retention.run()) against raw SQL doing the same
# work on identical data, in the same run: anonymize, purge and archive the
# due half of a ROWS-row customer table; a run with 10k newly due rows on a
# ROWS-row and on a 100k-row table; dropping an expired ROWS-row partition;
# a pgbench application load beside a run, and beside the one raw UPDATE
# doing the same.  Sourced by bench/run, which provides bench/lib.sh.
# shellcheck shell=bash
# ROWS and REPEAT come from bench/run.
: "${ROWS:?}" "${REPEAT:?}"

# Where the suite keeps its measurements and the pgbench logs.
LC_DIR=$BENCH_DIR/lifecycle
# The table of the incremental comparison that stays small.
LC_SMALL=100000
# Rows that become due between the two runs of the incremental comparison.
LC_BAND=10000
# Seconds of application load in each load run (longer when a run needs it).
LC_LOAD_SECONDS=${LC_LOAD_SECONDS:-60}
# Rounds of the comparisons reported for information only.
LC_INFO_REPEAT=$((REPEAT < 3 ? REPEAT : 3))
# The raw statements' cutoff: the engine's is clock_timestamp() - 1 year.
LC_CUTOFF="now() - interval '1 year'"

# ---- data and trials -------------------------------------------------------

# Every measured table is called customer (the partitioned one lc_part), and
# it is the only declared table of the database while it is measured: CALL
# retention.run() processes them all.  The template holds ROWS rows: e-mail,
# phone, and a last-seen time spread over two years, in random order, with
# no row within 5 days of the one-year cutoff, so both sides find exactly
# the same rows due however long the suite takes.
lc_load_template() {
	bench_psql <<SQL
SET client_min_messages = warning;
DROP TABLE IF EXISTS lc_template, plain_copy;
CREATE TABLE lc_template (id bigint NOT NULL, email text, phone text, seen_at timestamptz);
SELECT setseed(0.42);
INSERT INTO lc_template
SELECT i,
       'customer' || i || '@example.' || (ARRAY['com', 'org', 'net', 'co.uk'])[1 + i % 4],
       '+1 ' || (200 + i % 800) || '-555-' || lpad((i % 10000 * 7919 % 10000)::text, 4, '0'),
       now() - CASE WHEN random() < 0.5 THEN 370 + random() * 360 ELSE random() * 360 END
                 * interval '1 day'
FROM generate_series(1, $ROWS) AS i;
VACUUM ANALYZE lc_template;
CREATE TABLE plain_copy (LIKE lc_template);
SQL
}

# The rows of the template in a layout: random (in the order of the ids: a
# customer table whose last-seen time is updated in place) or age (a table
# written in the order of its age column: rows and ids in seen_at order).
lc_source() {
	case $1 in
	random) echo "SELECT * FROM lc_template" ;;
	age) echo "SELECT row_number() OVER (ORDER BY seen_at, id), email, phone, seen_at
FROM lc_template ORDER BY seen_at, id" ;;
	esac
}

# SQL (re)creating table NAME from the query SOURCE, with its primary key
# and the index on its age column, vacuumed, frozen and analyzed: every
# trial starts from the same physical state.  Autovacuum is off on it, so no
# vacuum starts in the middle of one side's measurement only.
lc_copy_sql() {
	local name=$1 source=$2
	cat <<SQL
DROP TABLE IF EXISTS $name;
CREATE TABLE $name (id bigint NOT NULL, email text, phone text, seen_at timestamptz)
    WITH (autovacuum_enabled = false);
INSERT INTO $name $source;
ALTER TABLE $name ADD PRIMARY KEY (id);
CREATE INDEX ON $name (seen_at);
VACUUM (FREEZE, ANALYZE) $name;
SQL
}

# The setup of the engine's side: a fresh customer table from SOURCE, its
# labels, no watermark, an empty archive.
lc_engine_setup() {
	local source=$1 table_label=$2 column_label=${3:-}
	lc_copy_sql customer "$source"
	cat <<SQL
DELETE FROM retention.stage_state;
TRUNCATE retention_archive.archived_row;
SECURITY LABEL FOR retention ON TABLE customer IS '$table_label';
SQL
	[ -z "$column_label" ] ||
		echo "SECURITY LABEL FOR retention ON COLUMN customer.email IS '$column_label';"
}

# The rows the last run processed, or -1 when it did not succeed.
LC_RUN_ROWS="SELECT CASE WHEN status = 'succeeded' THEN rows_anonymized + values_purged
    + rows_archived + rows_purged ELSE -1 END
  FROM retention.run_history ORDER BY run_id DESC LIMIT 1"

# The batches of the last run.
LC_RUN_BATCHES="SELECT sum(batches) FROM retention.run_detail
  WHERE run_id = (SELECT max(run_id) FROM retention.run_history)"

# lc_trial SETUP STATEMENT [ROWS_SQL [EXTRA_SQL [VACUUM_TABLE]]]
#   Runs SETUP, then a checkpoint (so that both sides write the same
#   full-page images), then times STATEMENT (wall clock, its commits
#   included) and measures the WAL it wrote.  ROWS_SQL counts the rows it
#   processed (default: the statement's row count); EXTRA_SQL gives one more
#   figure; VACUUM_TABLE is vacuumed afterwards, timed apart.  Also the CPU
#   time of the server process running STATEMENT (from /proc, 10 ms ticks):
#   on a shared machine it varies much less than the wall clock.  Prints
#   "ms<TAB>wal_bytes<TAB>rows<TAB>extra<TAB>lsn0<TAB>lsn1<TAB>vacuum_ms<TAB>cpu_ms".
lc_trial() {
	local setup=$1 statement=$2 rows_sql=${3:-} extra_sql=${4:-} vacuum=${5:-}
	bench_psql -At <<SQL | sed -n 's/^@@ //p' | tr '|' '\t'
SET client_min_messages = warning;
$setup
CHECKPOINT;
SELECT pg_backend_pid() AS pid \gset
\setenv LC_PID :pid
\set cpu0 \`awk '{ print \$14 + \$15 }' /proc/\$LC_PID/stat\`
SELECT pg_current_wal_insert_lsn() AS lsn0, clock_timestamp() AS t0 \gset
$statement;
\set n :ROW_COUNT
\set cpu1 \`awk '{ print \$14 + \$15 }' /proc/\$LC_PID/stat\`
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000, 3) AS ms,
       (:cpu1 - :cpu0) * 10 AS cpu, pg_current_wal_insert_lsn() AS lsn1 \gset
SELECT pg_wal_lsn_diff(:'lsn1', :'lsn0') AS wal \gset
\set x ''
\set v ''
${rows_sql:+SELECT ($rows_sql) AS n \gset}
${extra_sql:+SELECT ($extra_sql) AS x \gset}
${vacuum:+SELECT clock_timestamp() AS t0 \gset}
${vacuum:+VACUUM $vacuum;}
${vacuum:+SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000, 3) AS v \gset}
\echo @@ :ms|:wal|:n|:x|:lsn0|:lsn1|:v|:cpu
SQL
}

# lc_record NAME LINE: keeps one trial's figures (a line of lc_trial).
lc_record() {
	if [ -z "$2" ]; then
		echo "lifecycle: no measurement for $1" >&2
		return 1
	fi
	printf '%s\t%s\n' "$1" "$2" >>"$LC_DIR/trials"
}

# lc_compare OP LAYOUT ROUNDS TABLE_LABEL COLUMN_LABEL RAW [ONESHOT]
#   ROUNDS rounds of CALL retention.run() and of the raw statement RAW (and
#   of ONESHOT, the engine's own statement over all due rows at once), each
#   on a fresh copy of the template in LAYOUT, the order alternating from
#   round to round, each followed by a timed VACUUM.  Trials are named
#   OP.LAYOUT.engine (with its batches), .raw and .oneshot.  The WAL of the
#   last round is broken down by record type.
lc_compare() {
	local op=$1 layout=$2 rounds=$3 table_label=$4 column_label=$5 raw=$6 oneshot=${7:-}
	local round side sides engine_setup raw_setup
	engine_setup=$(lc_engine_setup "$(lc_source "$layout")" "$table_label" "$column_label")
	raw_setup="$(lc_copy_sql customer "$(lc_source "$layout")")
TRUNCATE plain_copy, retention_archive.archived_row;"
	for round in $(seq 1 "$rounds"); do
		log "$op, $layout order: round $round of $rounds" >&2
		sides="engine raw${oneshot:+ oneshot}"
		[ $((round % 2)) -eq 1 ] || sides="raw${oneshot:+ oneshot} engine"
		for side in $sides; do
			case $side in
			engine) lc_record "$op.$layout.$side" "$(lc_trial "$engine_setup" "CALL retention.run()" \
				"$LC_RUN_ROWS" "$LC_RUN_BATCHES" customer)" ;;
			raw) lc_record "$op.$layout.$side" "$(lc_trial "$raw_setup" "$raw" "" "" customer)" ;;
			oneshot) lc_record "$op.$layout.$side" "$(lc_trial "$raw_setup" "$oneshot" "" "" customer)" ;;
			esac
			# its WAL is still in pg_wal until the next trial's checkpoint
			[ "$round" -lt "$rounds" ] || lc_waldump "$op.$layout.$side"
		done
	done
	if lc_engine_failed "$op.$layout.engine"; then
		echo "lifecycle: a run did not succeed in the $op comparison" >&2
		bench_psql -c "SELECT * FROM retention.run_detail WHERE status = 'failed'" >&2
		return 1
	fi
}

# lc_waldump NAME: WAL records and bytes per processed row, by record type,
# of the last trial of NAME.
lc_waldump() {
	local name=$1 line rows lsn0 lsn1
	line=$(awk -F'\t' -v n="$name" '$1 == n { l = $0 } END { print l }' "$LC_DIR/trials")
	rows=$(cut -f4 <<<"$line")
	lsn0=$(cut -f6 <<<"$line")
	lsn1=$(cut -f7 <<<"$line")
	[ "${rows:-0}" -gt 0 ] || return 0
	{ as_test_user pg_waldump -p "$BENCH_DIR/data/pg_wal" -s "$lsn0" -e "$lsn1" --stats=record || true; } |
		awk -v name="$name" -v rows="$rows" '
			# type, count (%), record bytes (%), full-page image bytes (%), combined (%)
			$1 ~ /\// && $2 ~ /^[0-9]+$/ && $2 > 0 {
				gsub(/[()]/, "")
				printf "%s\t%s\t%.3f\t%.1f\t%.1f\n", name, $1, $2 / rows, $4 / rows, $6 / rows
			}' >>"$LC_DIR/waldump"
}

# The engine's archive statement (src/pg/lifecycle/archive_rows.cpp, ArchiveRows)
# over every due row at once, without its batches: what archiving costs
# before batching.
LC_ARCHIVE_ONESHOT="WITH moved AS (DELETE FROM customer WHERE seen_at < $LC_CUTOFF RETURNING *)
INSERT INTO retention_archive.archived_row (relid, table_name, subject, subject_hash, aged_at,
    purge_after, run_id, payload)
SELECT 'customer'::regclass::oid, 'public.customer', '', retention._subject_hash('', s.id),
       m.seen_at::timestamptz, m.seen_at::timestamptz + NULL::interval, 0,
       retention._seal('', s.id, row_to_json(m)::text)
FROM moved m CROSS JOIN LATERAL (SELECT 'public.customer'::text AS id) s"
# The engine's purge statement (MoveRows), likewise.
LC_PURGE_ONESHOT="DELETE FROM customer WHERE ctid = ANY (ARRAY(SELECT r.ctid FROM customer r
    WHERE r.seen_at < $LC_CUTOFF ORDER BY r.seen_at FOR UPDATE SKIP LOCKED))"

# ---- incremental: 10k newly due rows on a big and on a small table --------

# The rows of an incremental table of N rows (a multiple of LC_BAND) in
# LAYOUT (as lc_source): LC_BAND rows 340 to 355 days old (due at 11
# months, not at 1 year), the others half older than 370 days, half younger
# than 320 days.
lc_incremental_source() {
	local n=$1 layout=$2
	local rows="SELECT i AS id, 'customer' || i || '@example.com' AS email,
       '+1 555-' || lpad((i % 10000)::text, 4, '0') AS phone,
       now() - CASE WHEN i % $((n / LC_BAND)) = 0 THEN 340 + random() * 15
                    WHEN random() < 0.5 THEN 370 + random() * 360
                    ELSE random() * 320 END * interval '1 day' AS seen_at
FROM generate_series(1, $n) AS i"
	case $layout in
	random) echo "$rows" ;;
	age) echo "SELECT row_number() OVER (ORDER BY seen_at, id), email, phone, seen_at
FROM ($rows) AS s ORDER BY seen_at, id" ;;
	esac
}

# Both tables in LAYOUT, 'anonymize after 1 year', one run to completion,
# vacuumed; their watermarks saved, so that every trial starts from the
# same state.
lc_incremental_prepare() {
	local layout=$1 status
	bench_psql <<SQL
SET client_min_messages = warning;
DROP TABLE IF EXISTS customer, lc_big, lc_small, lc_marks;
DELETE FROM retention.stage_state;
SELECT setseed(0.42);
$(lc_copy_sql lc_big "$(lc_incremental_source "$ROWS" "$layout")")
$(lc_copy_sql lc_small "$(lc_incremental_source "$LC_SMALL" "$layout")")
SECURITY LABEL FOR retention ON TABLE lc_big IS 'age from seen_at';
SECURITY LABEL FOR retention ON COLUMN lc_big.email IS 'anonymize after 1 year using hash';
SECURITY LABEL FOR retention ON TABLE lc_small IS 'age from seen_at';
SECURITY LABEL FOR retention ON COLUMN lc_small.email IS 'anonymize after 1 year using hash';
CALL retention.run();
VACUUM ANALYZE lc_big, lc_small;
CREATE TABLE lc_marks AS SELECT * FROM retention.stage_state;
SQL
	status=$(bench_psql -At -c "SELECT status FROM retention.run_history ORDER BY run_id DESC LIMIT 1")
	if [ "$status" != succeeded ]; then
		echo "lifecycle: the first run of the incremental tables ended $status" >&2
		return 1
	fi
}

# The setup of one incremental trial on TABLE: both tables back at 1 year
# and at their saved watermarks (the band rows anonymized by an earlier
# trial are anonymized again: the same work), then 11 months on TABLE: its
# band of LC_BAND rows is newly due, beyond its watermark.  (Moving ages
# backwards instead would put them behind the watermark: a known limit.)
# The late-row queue is emptied: the raw UPDATE's write trigger queues the
# rows it changed, which the next run would anonymize again, on the other
# table (measured: 0.8 blocks dirtied per row of the big table).
lc_incremental_setup() {
	local table=$1
	cat <<SQL
DELETE FROM retention.late_row;
SECURITY LABEL FOR retention ON COLUMN lc_big.email IS 'anonymize after 1 year using hash';
SECURITY LABEL FOR retention ON COLUMN lc_small.email IS 'anonymize after 1 year using hash';
UPDATE retention.stage_state s SET watermark_age = m.watermark_age, watermark_key = m.watermark_key
FROM lc_marks m WHERE (s.relid, s.attnum, s.action) = (m.relid, m.attnum, m.action);
VACUUM ANALYZE lc_big, lc_small, retention.late_row;
SECURITY LABEL FOR retention ON COLUMN $table.email IS 'anonymize after 11 months using hash';
SQL
}

# The raw statement doing a trial's work on TABLE: one UPDATE of its band.
lc_incremental_raw() {
	echo "UPDATE $1 SET email = retention.hash(email)
	 WHERE seen_at < now() - interval '11 months' AND seen_at >= now() - interval '1 year'"
}

# lc_incremental LAYOUT ROUNDS [AFTER]: trials incremental.LAYOUT.lc_big and
# .lc_small, and for comparison .raw_big and .raw_small: one raw UPDATE of
# the same band of rows on the same tables.  AFTER, a function, is called
# with LAYOUT after the rounds, before the tables are dropped.
lc_incremental() {
	local layout=$1 rounds=$2 after=${3:-} round table tables
	log "incremental, $layout order: $ROWS-row and $LC_SMALL-row tables, first run" >&2
	lc_incremental_prepare "$layout" >&2
	for round in $(seq 1 "$rounds"); do
		log "incremental, $layout order: round $round of $rounds" >&2
		tables="lc_big lc_small"
		[ $((round % 2)) -eq 1 ] || tables="lc_small lc_big"
		for table in $tables; do
			lc_record "incremental.$layout.$table" \
				"$(lc_trial "$(lc_incremental_setup "$table")" "CALL retention.run()" "$LC_RUN_ROWS")"
			lc_record "incremental.$layout.raw_${table#lc_}" \
				"$(lc_trial "$(lc_incremental_setup "$table")" "$(lc_incremental_raw "$table")")"
		done
	done
	[ -z "$after" ] || "$after" "$layout"
	bench_psql -c "DROP TABLE lc_big, lc_small, lc_marks; DELETE FROM retention.stage_state" >&2
}

# ---- dropping an expired partition ---------------------------------------

# A table partitioned by month on its age column: the ROWS rows of the
# template in a month two years ago, 1000 recent rows in the current months.
LC_PARTITION_SETUP=$(
	cat <<'SQL'
DROP TABLE IF EXISTS lc_part;
DELETE FROM retention.stage_state;
CREATE TABLE lc_part (id bigint NOT NULL, email text, phone text, seen_at timestamptz NOT NULL,
                      PRIMARY KEY (id, seen_at)) PARTITION BY RANGE (seen_at);
SELECT date_trunc('month', now()) - interval '24 months' AS p0,
       date_trunc('month', now()) - interval '23 months' AS p1,
       date_trunc('month', now()) - interval '1 month' AS r0,
       date_trunc('month', now()) + interval '1 month' AS r1 \gset
CREATE TABLE lc_part_expired PARTITION OF lc_part FOR VALUES FROM (:'p0') TO (:'p1');
CREATE TABLE lc_part_recent PARTITION OF lc_part FOR VALUES FROM (:'r0') TO (:'r1');
CREATE INDEX ON lc_part (seen_at);
INSERT INTO lc_part
SELECT id, email, phone, :'p0'::timestamptz + (id % 2000000) * interval '1 second' FROM lc_template;
INSERT INTO lc_part
SELECT id, email, phone, now() - (id % 20) * interval '1 day' FROM lc_template WHERE id <= 1000;
VACUUM (FREEZE, ANALYZE) lc_part;
SQL
)

# Trials partition.engine (extra: the drop stage's own time, from
# retention.run_detail) and partition.raw (DETACH + DROP).
lc_partition() {
	local round engine_setup
	engine_setup="$LC_PARTITION_SETUP
SECURITY LABEL FOR retention ON TABLE lc_part IS 'age from seen_at; purge after 1 year';"
	bench_psql -c "DROP TABLE IF EXISTS customer" >&2
	for round in $(seq 1 "$REPEAT"); do
		log "partition drop: round $round of $REPEAT" >&2
		lc_record partition.engine "$(lc_trial "$engine_setup" "CALL retention.run()" "$LC_RUN_ROWS" \
			"SELECT round(extract(epoch FROM updated_at - started_at) * 1000, 3)
			 FROM retention.run_detail WHERE action = 'drop partition' ORDER BY run_id DESC LIMIT 1")"
		lc_record partition.raw "$(lc_trial "$LC_PARTITION_SETUP" \
			"ALTER TABLE lc_part DETACH PARTITION lc_part_expired;
DROP TABLE lc_part_expired" "SELECT count(*) FROM lc_template")"
	done
	bench_psql -c "DROP TABLE lc_part" >&2
}

# ---- beside an application load ------------------------------------------

# lc_load MODE SECONDS: pgbench (2 clients, bench/lifecycle/load.sql) on a
# fresh customer table for SECONDS; 5 s in, MODE engine runs CALL
# retention.run() (anonymizing the due half), MODE raw the one UPDATE doing
# the same, MODE none nothing.  Keeps the per-transaction logs, the window
# of the run and the server log lines written meanwhile.
lc_load() {
	local mode=$1 seconds=$2 dir=$LC_DIR/load-$1 setup statement offset pid start t0 t1
	as_test_user mkdir -p "$dir"
	cp "$BENCH_ROOT/bench/lifecycle/load.sql" "$dir/load.sql"
	chmod 644 "$dir/load.sql"
	if [ "$mode" = engine ]; then
		setup=$(lc_engine_setup "$(lc_source random)" "age from seen_at" "anonymize after 1 year using hash")
		statement="CALL retention.run()"
	else
		setup=$(lc_copy_sql customer "$(lc_source random)")
		statement="UPDATE customer SET email = retention.hash(email) WHERE seen_at < $LC_CUTOFF"
	fi
	bench_psql >&2 <<SQL
SET client_min_messages = warning;
$setup
CHECKPOINT;
SQL
	offset=$(stat -c %s "$BENCH_DIR/server.log")
	start=$(date +%s.%N)
	as_test_user bash -c "cd '$dir' && exec pgbench -h '$BENCH_DIR' -p '$BENCH_PORT' -U postgres \
		-n -c 2 -j 2 -T '$seconds' -D rows='$ROWS' -f load.sql --log --log-prefix=tx '$BENCH_DB'" \
		>"$dir/pgbench.out" 2>&1 &
	pid=$!
	sleep 5
	if [ "$mode" = none ]; then
		t0=$(awk -v s="$start" 'BEGIN { printf "%.6f", s + 5 }')
		t1=$(awk -v s="$start" -v d="$seconds" 'BEGIN { printf "%.6f", s + d - 1 }')
	else
		t0=$(date +%s.%N)
		bench_psql >&2 <<SQL
SET client_min_messages = warning;
SET application_name = 'lifecycle';
$statement;
SQL
		t1=$(date +%s.%N)
	fi
	if ! wait "$pid"; then
		cat "$dir/pgbench.out" >&2
		tail -c +"$((offset + 1))" "$BENCH_DIR/server.log" | tail -40 >&2
		return 1
	fi
	tail -c +"$((offset + 1))" "$BENCH_DIR/server.log" >"$dir/server.log"
	printf '%s\t%s\n' "$t0" "$t1" >"$dir/window"
}

# lc_percentile P: the P-quantile (0..1) of the numbers on stdin.
lc_percentile() {
	sort -g | awk -v p="$1" '
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print "n/a"; exit }
			i = int(p * NR); if (i < p * NR) i++; if (i < 1) i = 1
			printf "%.2f", v[i]
		}'
}

# lc_load_figures MODE: "window_s tps p50_ms p99_ms waits longest_ms
# run_waits tps_all p99_all_ms slow max_ms" from the logs of lc_load MODE.  Window: the
# run (for MODE none, the load after its first 5 s); its TPS counts the
# transactions ending in it, its latencies those overlapping it.  waits: lock
# waits of the application over deadlock_timeout (200 ms) as log_lock_waits
# reports them, the longest one; run_waits: those of the run's session.
# tps_all, p99_all: the whole load after its first 5 s.  slow: transactions
# of the window slower than 50 ms; max: the slowest.
lc_load_figures() {
	local dir=$LC_DIR/load-$1 t0 t1 tx waits longest run_waits
	IFS=$'\t' read -r t0 t1 <"$dir/window"
	tx=$dir/transactions
	# pgbench --log: client, transaction, latency (us), script, end (s), end (us)
	cat "$dir"/tx.* | awk '{ printf "%.6f %.3f\n", $5 + $6 / 1e6, $3 / 1000 }' >"$tx"
	waits=$(grep -c 'pgbench: LOG: .*still waiting' "$dir/server.log" || true)
	run_waits=$(grep -c 'lifecycle: LOG: .*still waiting' "$dir/server.log" || true)
	longest=$(sed -n 's/.*pgbench: LOG: .* after \([0-9.]*\) ms.*/\1/p' "$dir/server.log" | sort -g | tail -1)
	local n first last all_n
	n=$(awk -v a="$t0" -v b="$t1" '$1 >= a && $1 <= b { n++ } END { print n + 0 }' "$tx")
	first=$(sort -g "$tx" | head -1 | cut -d' ' -f1)
	last=$(sort -g "$tx" | tail -1 | cut -d' ' -f1)
	all_n=$(awk -v a="$first" '$1 >= a + 5 { n++ } END { print n + 0 }' "$tx")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
		"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')" \
		"$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')" \
		"$(awk -v a="$t0" -v b="$t1" '$1 - $2 / 1000 < b && $1 > a { print $2 }' "$tx" | lc_percentile 0.5)" \
		"$(awk -v a="$t0" -v b="$t1" '$1 - $2 / 1000 < b && $1 > a { print $2 }' "$tx" | lc_percentile 0.99)" \
		"$waits" "${longest:-0}" "$run_waits" \
		"$(awk -v n="$all_n" -v a="$first" -v b="$last" 'BEGIN { printf "%.0f", n / (b - a - 5) }')" \
		"$(awk -v a="$first" '$1 >= a + 5 { print $2 }' "$tx" | lc_percentile 0.99)" \
		"$(awk -v a="$t0" -v b="$t1" '$1 - $2 / 1000 < b && $1 > a && $2 > 50 { n++ } END { print n + 0 }' "$tx")" \
		"$(awk -v a="$t0" -v b="$t1" '$1 - $2 / 1000 < b && $1 > a { print $2 }' "$tx" | lc_percentile 1)"
}

# The three load runs.  Lock waits are logged (log_lock_waits, after
# deadlock_timeout = 200 ms), with the application name of the session.
lc_loads() {
	local seconds=$1 mode
	bench_psql >&2 <<'SQL'
ALTER SYSTEM SET log_lock_waits = on;
ALTER SYSTEM SET deadlock_timeout = '200ms';
ALTER SYSTEM SET log_line_prefix = '%m [%p] %a: ';
SELECT pg_reload_conf();
SQL
	for mode in none engine raw; do
		log "beside a load: $mode, $seconds s of pgbench" >&2
		lc_load "$mode" "$seconds"
		printf '%s\t%s\n' "$mode" "$(lc_load_figures "$mode")" >>"$LC_DIR/loads"
	done
	bench_psql >&2 <<'SQL'
ALTER SYSTEM RESET log_lock_waits;
ALTER SYSTEM RESET deadlock_timeout;
ALTER SYSTEM RESET log_line_prefix;
SELECT pg_reload_conf();
DROP TABLE IF EXISTS customer;
SQL
}

# ---- the report ----------------------------------------------------------

# lc_median NAME FIELD: the median over the trials of NAME of FIELD: ms,
# wal, rows, extra, vac (the VACUUM after), cpu (the server process's CPU ms), rate (rows per second), ratevac
# (rows per second, the VACUUM after included) or walrow (WAL bytes per row).
lc_median() {
	awk -F'\t' -v n="$1" -v f="$2" '
		$1 == n {
			if (f == "ms") x = $2; else if (f == "wal") x = $3; else if (f == "rows") x = $4
			else if (f == "extra") x = $5; else if (f == "vac") x = $8; else if (f == "cpu") x = $9
			else if (f == "rate") x = $4 * 1000 / $2; else if (f == "ratevac") x = $4 * 1000 / ($2 + $8)
			else if (f == "walrow") x = $3 / $4
			v[++k] = x + 0
		}
		END {
			if (k == 0) { print "nan"; exit }
			for (i = 2; i <= k; i++) { x = v[i]; j = i - 1; while (j > 0 && v[j] > x) { v[j + 1] = v[j]; j-- } v[j + 1] = x }
			print (k % 2) ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
		}' "$LC_DIR/trials"
}

# lc_range NAME: "min–max" of the times of the trials of NAME.
lc_range() {
	awk -F'\t' -v n="$1" '
		$1 == n { x = $2 + 0; if (k++ == 0 || x < lo) lo = x; if (x > hi) hi = x }
		END { printf "%.0f–%.0f", lo, hi }' "$LC_DIR/trials"
}

# lc_wal_split NAME: "record_bytes<TAB>image_bytes" per row in the last
# trial of NAME (pg_waldump).
lc_wal_split() {
	awk -F'\t' -v n="$1" '$1 == n { r += $4; f += $5 } END { printf "%.1f\t%.1f\n", r, f }' "$LC_DIR/waldump"
}

# lc_wal_records NAME TYPE: records of TYPE per row in the last trial of NAME.
lc_wal_records() {
	awk -F'\t' -v n="$1" -v t="$2" '$1 == n && $2 == t { x = $3 } END { printf "%.2f", x + 0 }' "$LC_DIR/waldump"
}

# lc_engine_failed NAME: true when a run of NAME did not succeed.
lc_engine_failed() {
	awk -F'\t' -v n="$1" '$1 == n && $4 < 0 { bad = 1 } END { exit !bad }' "$LC_DIR/trials"
}

# Formatting: lc_int 1234567 -> 1,234,567; lc_num: 3 significant figures.
lc_int() { LC_ALL=C printf "%.0f" "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
lc_num() { awk -v x="$1" 'BEGIN { printf (x >= 100 ? "%.0f" : (x >= 10 ? "%.1f" : "%.2f")), x }'; }
lc_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }
# lc_verdict VALUE OP TARGET: PASS or **MISS** (OP is ge, le or lt).
lc_verdict() {
	awk -v x="$1" -v op="$2" -v t="$3" 'BEGIN {
		ok = (op == "ge") ? x >= t - 1e-9 : (op == "le") ? x <= t + 1e-9 : x < t
		print ok ? "PASS" : "**MISS**" }'
}

# lc_target_row KEY WHAT OURS THEIRS RATIO TARGET VERDICT: one row of the
# targets table; a miss is remembered under KEY for the explanations.
LC_MISSED=()
lc_target_row() {
	printf '| %s | %s | %s | %s | %s | %s |\n' "$2" "$3" "$4" "${5:+$5×}" "$6" "$7"
	[ "$7" = PASS ] || LC_MISSED+=("$1")
}
lc_missed() { [[ " ${LC_MISSED[*]} " == *" $1 "* ]]; }

# lc_throughput OP LAYOUT: ratio of the engine's throughput to the raw statement's.
lc_throughput() { lc_ratio "$(lc_median "$1.$2.engine" rate)" "$(lc_median "$1.$2.raw" rate)"; }

# The loads' figures, L[MODE.FIELD] (fields as lc_load_figures prints them).
declare -A LC_L
lc_read_loads() {
	local mode figures i parts
	while IFS=$'\t' read -r mode figures; do
		IFS=$'\t' read -r -a parts <<<"$figures"
		for i in "${!parts[@]}"; do LC_L[$mode.$i]=${parts[$i]}; done
	done <"$LC_DIR/loads"
}

lc_report_targets() {
	local op what raw target ratio e r big small stage run rawdrop
	echo "### Targets"
	echo
	echo "On the table in random order of \`seen_at\` (see above)."
	echo
	echo "| measurement | pg_retention | compared with | ratio | target | result |"
	echo "|---|---|---|---:|---:|---|"
	for op in anonymize purge archive; do
		case $op in
		anonymize)
			what="anonymize the due rows (\`email\`: \`anonymize after 1 year using hash\`): throughput"
			raw="one raw \`UPDATE ... SET email = retention.hash(email)\`" target=0.8 ;;
		purge) what="purge the due rows (\`purge after 1 year\`): throughput" raw="one raw \`DELETE\`" target=0.8 ;;
		archive)
			what="archive the due rows (\`archive after 1 year\`, encrypted): throughput"
			raw="raw \`WITH moved AS (DELETE ... RETURNING *) INSERT INTO plain_copy SELECT * FROM moved\`" target=0.5 ;;
		esac
		e=$(lc_median "$op.random.engine" rate)
		r=$(lc_median "$op.random.raw" rate)
		ratio=$(lc_ratio "$e" "$r")
		# both sides must have processed the same rows, or the ratio means nothing
		[ "$(lc_median "$op.random.engine" rows)" = "$(lc_median "$op.random.raw" rows)" ] ||
			raw="$raw (**it processed $(lc_int "$(lc_median "$op.random.raw" rows)") rows, the engine $(lc_int "$(lc_median "$op.random.engine" rows)")**)"
		lc_target_row "$op" "$what" "$(lc_int "$e") rows/s" "$raw: $(lc_int "$r") rows/s" \
			"$ratio" "≥ ${target}×" "$(lc_verdict "$ratio" ge "$target")"
		if [ "$op" = purge ]; then
			e=$(lc_median purge.random.engine walrow)
			r=$(lc_median purge.random.raw walrow)
			ratio=$(lc_ratio "$e" "$r")
			lc_target_row purge_wal "purge: WAL per row" "$(lc_num "$e") bytes" \
				"one raw \`DELETE\`: $(lc_num "$r") bytes" "$ratio" "≤ 1.2×" "$(lc_verdict "$ratio" le 1.2)"
		fi
	done

	big=$(lc_median incremental.random.lc_big ms)
	small=$(lc_median incremental.random.lc_small ms)
	ratio=$(lc_ratio "$big" "$small")
	lc_target_row incremental "a run with $(lc_int "$LC_BAND") newly due rows on a $(lc_int "$ROWS")-row table" \
		"$(lc_num "$big") ms" "the same run on a $(lc_int "$LC_SMALL")-row table: $(lc_num "$small") ms" \
		"$ratio" "≤ 2×" "$(lc_verdict "$ratio" le 2)"

	stage=$(lc_median partition.engine extra)
	run=$(lc_median partition.engine ms)
	rawdrop=$(lc_median partition.raw ms)
	lc_target_row partition "drop an expired $(lc_int "$ROWS")-row partition (\`purge after 1 year\`, monthly partitions)" \
		"the drop stage: $(lc_num "$stage") ms (the whole run: $(lc_num "$run") ms)" \
		"raw \`DETACH PARTITION\` + \`DROP TABLE\`: $(lc_num "$rawdrop") ms" "" "< 100 ms" \
		"$(lc_verdict "$stage" lt 100)"

	ratio=$(lc_ratio "${LC_L[engine.1]}" "${LC_L[none.1]}")
	lc_target_row load_tps "beside a pgbench load: TPS during the run" "$(lc_int "${LC_L[engine.1]}") TPS" \
		"the same load without a run: $(lc_int "${LC_L[none.1]}") TPS" "$ratio" "≥ 0.7×" "$(lc_verdict "$ratio" ge 0.7)"
	ratio=$(lc_ratio "${LC_L[engine.3]}" "${LC_L[none.3]}")
	lc_target_row load_p99 "beside a pgbench load: p99 latency during the run" "$(lc_num "${LC_L[engine.3]}") ms" \
		"the same load without a run: $(lc_num "${LC_L[none.3]}") ms" "$ratio" "≤ 2×" "$(lc_verdict "$ratio" le 2)"
	lc_target_row load_waits "beside a pgbench load: application lock waits over 200 ms" "${LC_L[engine.4]}" \
		"one raw \`UPDATE\` of the same rows beside the same load: ${LC_L[raw.4]} (the longest $(lc_num "${LC_L[raw.5]}") ms)" \
		"" "0" "$(lc_verdict "${LC_L[engine.4]}" le 0)"
	echo
	if [ ${#LC_MISSED[@]} -gt 0 ]; then
		echo "**Targets missed: ${#LC_MISSED[@]} of 9** (why: *Why targets are missed*, below)."
	else
		echo "Every target is met."
	fi
	if [ "$ROWS" -lt 10000000 ]; then
		echo
		echo "The incremental target is stated for a 10,000,000-row table: this run's big table has"
		echo "ROWS = $(lc_int "$ROWS") rows (\`ROWS=10000000 bench/run incremental\` measures this comparison alone at 10M)."
	fi
}

# shellcheck disable=SC2016 # Markdown backquotes, not expansions
lc_report_info() {
	local op e r s layout
	echo
	echo "### Other comparisons (for information)"
	echo
	echo "| comparison | pg_retention | compared with | ratio |"
	echo "|---|---|---|---:|"
	for op in anonymize purge archive; do
		e=$(lc_median "$op.age.engine" rate)
		r=$(lc_median "$op.age.raw" rate)
		printf '| %s, table in `seen_at` order: throughput | %s rows/s | raw: %s rows/s | %s× |\n' \
			"$op" "$(lc_int "$e")" "$(lc_int "$r")" "$(lc_ratio "$e" "$r")"
	done
	e=$(lc_median purge.age.engine walrow)
	r=$(lc_median purge.age.raw walrow)
	printf '| purge, table in `seen_at` order: WAL per row | %s bytes | raw: %s bytes | %s× |\n' \
		"$(lc_num "$e")" "$(lc_num "$r")" "$(lc_ratio "$e" "$r")"
	IFS=$'\t' read -r e _ <<<"$(lc_wal_split purge.random.engine)"
	IFS=$'\t' read -r r _ <<<"$(lc_wal_split purge.random.raw)"
	printf '| purge: WAL per row without full-page images (last trial) | %s bytes | raw: %s bytes | %s× |\n' \
		"$(lc_num "$e")" "$(lc_num "$r")" "$(lc_ratio "$e" "$r")"
	for op in anonymize purge archive; do
		e=$(lc_median "$op.random.engine" ratevac)
		r=$(lc_median "$op.random.raw" ratevac)
		printf '| %s, the `VACUUM` that follows included: throughput | %s rows/s | raw + `VACUUM`: %s rows/s | %s× |\n' \
			"$op" "$(lc_int "$e")" "$(lc_int "$r")" "$(lc_ratio "$e" "$r")"
	done
	for op in purge archive; do
		s=$(lc_median "$op.random.oneshot" rate)
		r=$(lc_median "$op.random.raw" rate)
		e=$(lc_median "$op.random.engine" rate)
		printf '| %s: the engine'"'"'s statement over all due rows at once, no batches | %s rows/s | raw: %s rows/s | %s× |\n' \
			"$op" "$(lc_int "$s")" "$(lc_int "$r")" "$(lc_ratio "$s" "$r")"
		printf '| %s: the engine in batches against its own statement at once | %s rows/s | at once: %s rows/s | %s× |\n' \
			"$op" "$(lc_int "$e")" "$(lc_int "$s")" "$(lc_ratio "$e" "$s")"
	done
	e=$(lc_median incremental.age.lc_big ms)
	s=$(lc_median incremental.age.lc_small ms)
	printf '| a run with %s newly due rows, tables in `seen_at` order | %s rows: %s ms | %s rows: %s ms | %s× |\n' \
		"$(lc_int "$LC_BAND")" "$(lc_int "$ROWS")" "$(lc_num "$e")" "$(lc_int "$LC_SMALL")" "$(lc_num "$s")" "$(lc_ratio "$e" "$s")"
	for layout in random age; do
		e=$(lc_median "incremental.$layout.raw_big" ms)
		s=$(lc_median "incremental.$layout.raw_small" ms)
		printf '| one raw `UPDATE` of the same %s rows, tables in %s | %s rows: %s ms | %s rows: %s ms | %s× |\n' \
			"$(lc_int "$LC_BAND")" "$([ "$layout" = random ] && echo "random order" || echo '`seen_at` order')" \
			"$(lc_int "$ROWS")" "$(lc_num "$e")" "$(lc_int "$LC_SMALL")" "$(lc_num "$s")" "$(lc_ratio "$e" "$s")"
	done
	printf '| one raw `UPDATE` beside the pgbench load: TPS during it | %s TPS | without: %s TPS | %s× |\n' \
		"$(lc_int "${LC_L[raw.1]}")" "$(lc_int "${LC_L[none.1]}")" "$(lc_ratio "${LC_L[raw.1]}" "${LC_L[none.1]}")"
	printf '| one raw `UPDATE` beside the pgbench load: the slowest transaction during it | %s ms | without: %s ms | %s× |\n' \
		"$(lc_num "${LC_L[raw.10]}")" "$(lc_num "${LC_L[none.10]}")" "$(lc_ratio "${LC_L[raw.10]}" "${LC_L[none.10]}")"
	printf '| `CALL retention.run()` beside the pgbench load: the slowest transaction during it | %s ms | without: %s ms | %s× |\n' \
		"$(lc_num "${LC_L[engine.10]}")" "$(lc_num "${LC_L[none.10]}")" "$(lc_ratio "${LC_L[engine.10]}" "${LC_L[none.10]}")"
}

lc_report_trials() {
	local name label layout vac batches
	echo
	echo "### Trials"
	echo
	echo "Medians over $REPEAT trials ($LC_INFO_REPEAT for the table in \`seen_at\` order and the"
	echo "statements at once), min–max of the times, and the \`VACUUM\` run after each trial."
	echo
	echo "| trial | rows | batches | median ms | min–max ms | rows/s | WAL bytes/row | VACUUM after, ms |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	while IFS= read -r name; do
		case $name in
		*.random.*) layout="random order" ;;
		*.age.*) layout="\`seen_at\` order" ;;
		*) layout="" ;;
		esac
		case $name in
		anonymize.*.engine | purge.*.engine | archive.*.engine) label="${name%%.*}, $layout: \`CALL retention.run()\`" ;;
		anonymize.*.raw) label="anonymize, $layout: \`UPDATE customer SET email = retention.hash(email) WHERE seen_at < now() - interval '1 year'\`" ;;
		purge.*.raw) label="purge, $layout: \`DELETE FROM customer WHERE seen_at < now() - interval '1 year'\`" ;;
		archive.*.raw) label="archive, $layout: \`WITH moved AS (DELETE FROM customer WHERE seen_at < now() - interval '1 year' RETURNING *) INSERT INTO plain_copy SELECT * FROM moved\`" ;;
		purge.*.oneshot) label="purge, $layout: the engine's \`DELETE ... WHERE ctid = ANY (ARRAY(SELECT ctid ... ORDER BY seen_at FOR UPDATE SKIP LOCKED))\` at once" ;;
		archive.*.oneshot) label="archive, $layout: the engine's \`WITH moved AS (DELETE ...) INSERT INTO retention_archive.archived_row ... retention._seal(...)\` at once" ;;
		incremental.*.lc_big) label="incremental, $layout, $(lc_int "$ROWS") rows: \`CALL retention.run()\`" ;;
		incremental.*.lc_small) label="incremental, $layout, $(lc_int "$LC_SMALL") rows: \`CALL retention.run()\`" ;;
		incremental.*.raw_big) label="incremental, $layout, $(lc_int "$ROWS") rows: one raw \`UPDATE\` of the same rows" ;;
		incremental.*.raw_small) label="incremental, $layout, $(lc_int "$LC_SMALL") rows: one raw \`UPDATE\` of the same rows" ;;
		partition.engine) label="expired partition: \`CALL retention.run()\`" ;;
		partition.raw) label="expired partition: \`ALTER TABLE lc_part DETACH PARTITION lc_part_expired; DROP TABLE lc_part_expired\`" ;;
		*) label=$name ;;
		esac
		vac=$(lc_median "$name" vac)
		if [ "$vac" = 0 ]; then vac=""; else vac=$(lc_num "$vac"); fi
		batches=""
		[[ $name != *.*.engine ]] || batches=$(lc_int "$(lc_median "$name" extra)")
		printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$(lc_int "$(lc_median "$name" rows)")" "$batches" \
			"$(lc_num "$(lc_median "$name" ms)")" "$(lc_range "$name")" "$(lc_int "$(lc_median "$name" rate)")" \
			"$(lc_num "$(lc_median "$name" walrow)")" "$vac"
	done < <(cut -f1 "$LC_DIR/trials" | awk '!seen[$0]++')
}

lc_report_load() {
	local mode label
	echo
	echo "### Beside an application load"
	echo
	cat <<TEXT
pgbench, 2 clients, \`bench/lifecycle/load.sql\` (each transaction updates the \`phone\` of one
random customer and reads another), on a fresh copy of the customer table (random order); 5 s
after it starts, \`CALL retention.run()\` anonymizes the due rows, or the one raw \`UPDATE\` does the
same, or nothing runs. TPS counts the transactions that end during the run; latencies are those
of the transactions overlapping it, from pgbench's per-transaction log (\`--log\`); without a run,
the window is the whole load after its first 5 s. Lock waits are waits longer than
\`deadlock_timeout\` = 200 ms, as \`log_lock_waits\` reports them: the application's, and the run's
own. One load run per case, each of $(lc_num "${LC_L[none.0]}") s or more.
TEXT
	echo
	echo "| beside the load | window s | TPS | p50 ms | p99 ms | max ms | transactions > 50 ms | app lock waits > 200 ms | longest wait ms | run's own waits > 200 ms | whole load TPS | whole load p99 ms |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for mode in none engine raw; do
		case $mode in
		none) label="nothing" ;;
		engine) label="\`CALL retention.run()\`" ;;
		raw) label="one raw \`UPDATE\` of the same rows" ;;
		esac
		printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "${LC_L[$mode.0]}" \
			"$(lc_int "${LC_L[$mode.1]}")" "${LC_L[$mode.2]}" "${LC_L[$mode.3]}" "$(lc_num "${LC_L[$mode.10]}")" \
			"${LC_L[$mode.9]}" "${LC_L[$mode.4]}" \
			"$(lc_num "${LC_L[$mode.5]}")" "${LC_L[$mode.6]}" "$(lc_int "${LC_L[$mode.7]}")" "${LC_L[$mode.8]}"
	done
}

lc_report_wal() {
	echo
	echo "### Where the WAL goes"
	echo
	echo "WAL records and bytes per processed row, by record type, in the last trial of each"
	echo "comparison on the table in random order (\`pg_waldump --stats=record\`; under 0.01 record per"
	echo "row left out). Full-page images are counted with the first record that touches each page"
	echo "after the checkpoint."
	echo
	echo "| trial | record type | records/row | record bytes/row | full-page image bytes/row |"
	echo "|---|---|---:|---:|---:|"
	awk -F'\t' '$1 ~ /\.random\./ && $3 >= 0.01 { printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' \
		"$LC_DIR/waldump"
}

# Why the missed targets are missed, in plain words, with this run's figures.
lc_report_why() {
	[ ${#LC_MISSED[@]} -gt 0 ] || return 0
	local x y z w
	echo
	echo "### Why targets are missed"
	if lc_missed anonymize; then
		x=$(lc_throughput anonymize age)
		y=$(lc_ratio "$(lc_median anonymize.random.engine ratevac)" "$(lc_median anonymize.random.raw ratevac)")
		cat <<TEXT

- **Anonymize.** Each batch reads its rows twice: first the batch's last (age, key) through the
  age index (\`WITH c AS (SELECT age, key ... ORDER BY age, key LIMIT n)\`, only the count and
  the last row returned), then \`UPDATE ... WHERE <window> AND (age, key) <= <last>\`, its bounds
  bound in their own types. And since every batch
  commits, the pages that earlier batches left dead tuples in are pruned again by the later ones:
  on a table whose physical order is not the age order, nearly every page at every batch. The raw
  \`UPDATE\` reads the table once, sequentially, and leaves all of its dead tuples to \`VACUUM\`.
  Ratio on the table written in \`seen_at\` order: ${x}×; with the \`VACUUM\` that follows counted
  on both sides: ${y}×.
TEXT
	fi
	if lc_missed purge; then
		x=$(lc_ratio "$(lc_median purge.random.oneshot rate)" "$(lc_median purge.random.raw rate)")
		y=$(lc_ratio "$(lc_median purge.random.engine rate)" "$(lc_median purge.random.oneshot rate)")
		z=$(lc_throughput purge age)
		cat <<TEXT

- **Purge.** Each batch selects \`ctid\`s through the age index in age order (from the newest
  age the previous batch deleted) \`FOR UPDATE SKIP LOCKED\`, then deletes them by TID: every row
  is visited three or four times (index fetch, lock, TID fetch, delete), in random physical order,
  where the raw \`DELETE\` reads the table once, sequentially. The engine's statement over all due
  rows at once is already ${x}× the raw \`DELETE\`; its batches bring it down by ${y}× more: each
  commits, and each prunes again the pages earlier batches touched. On the table written in
  \`seen_at\` order: ${z}×.
TEXT
	fi
	if lc_missed purge_wal; then
		x=$(lc_wal_records purge.random.engine Heap/LOCK)
		IFS=$'\t' read -r y _ <<<"$(lc_wal_split purge.random.engine)"
		IFS=$'\t' read -r z _ <<<"$(lc_wal_split purge.random.raw)"
		cat <<TEXT

- **Purge WAL.** \`FOR UPDATE SKIP LOCKED\` (so that the purge never waits for a row the application
  holds, and leaves it to the next run) writes a \`Heap/LOCK\` record for every row ($x per row
  here) before the \`Heap/DELETE\` record that both sides write: $(lc_num "$y") record bytes per row against $(lc_num "$z"). The
  full-page images, the same on both sides after the checkpoint, dilute the ratio; between
  checkpoints it is that of the records alone.
TEXT
	fi
	if lc_missed archive; then
		x=$(lc_ratio "$(lc_median archive.random.oneshot rate)" "$(lc_median archive.random.raw rate)")
		y=$(lc_ratio "$(lc_median archive.random.engine rate)" "$(lc_median archive.random.oneshot rate)")
		cat <<TEXT

- **Archive.** Most of the gap is what is archived and where: every row becomes JSON
  (\`row_to_json\`, about 1 µs a row), gets a keyed subject hash and an AES-256-GCM seal with a
  fresh nonce (in C++, a batch at a time), and goes into \`retention_archive.archived_row\`, with
  its primary key and subject index (\`plain_copy\` has none) and twice the raw row's WAL. The
  0.1.0 archive statement (per-row \`retention._seal\`) over all due rows at once is ${x}× the raw
  statement, far from 0.5× before any batching. Its batches bring it down by ${y}× more, for the purge's reasons, and more
  of them: each row costs more, so a batch of about 100 ms holds fewer rows
  ($(lc_int "$(lc_median archive.random.engine extra)") batches here, against $(lc_int "$(lc_median purge.random.engine extra)") for the purge).
TEXT
	fi
	if lc_missed incremental; then
		x=$(lc_median incremental.random.lc_big walrow)
		y=$(lc_median incremental.random.lc_small walrow)
		z=$(lc_ratio "$(lc_median incremental.age.lc_big ms)" "$(lc_median incremental.age.lc_small ms)")
		w=$(lc_ratio "$(lc_median incremental.random.raw_big ms)" "$(lc_median incremental.random.raw_small ms)")
		cat <<TEXT

- **Incremental.** The run reads only the newly due rows (through the age index, behind the
  watermark), but on a table in random age order its $(lc_int "$LC_BAND") rows lie on almost every page of the
  small table and on about $(lc_int "$LC_BAND") different pages of the big one: each page first touched after the
  checkpoint writes a full-page image ($(lc_int "$x") WAL bytes per row on the big table, $(lc_int "$y") on the
  small one) and is read and pruned; the updated rows' new index entries land on as many
  different leaf pages. The cost follows the pages touched, which the rows newly due bound, not
  the table's size. One raw \`UPDATE\` of the same rows on the same tables: ${w}×. On tables in
  \`seen_at\` order, where the newly due rows are together, the engine's ratio is ${z}×.
TEXT
	fi
	if lc_missed partition; then
		cat <<TEXT

- **Partition drop.** The stage runs the same \`DETACH PARTITION\` and \`DROP TABLE\` as the raw
  statements, which take $(lc_num "$(lc_median partition.raw ms)") ms here by themselves: most of it
  is the commit, where the partition's files are truncated and its buffers dropped.
TEXT
	fi
	if lc_missed load_tps || lc_missed load_p99; then
		cat <<TEXT

- **Beside the load.** The run keeps one of the machine's $(nproc) cores busy while it lasts; the two
  pgbench clients, their backends and pgbench itself share what is left, so most transactions
  slow down a little (the whole distribution moves, not only its tail: few transactions wait for a
  row of the batch in progress, see the transactions over 50 ms).
TEXT
	fi
	if lc_missed load_waits; then
		cat <<TEXT

- **Lock waits.** Application sessions waited more than 200 ms for rows the run held: a batch
  lasted longer than \`retention.batch_target\` allows (see the server log lines counted above).
TEXT
	fi
}

lc_report() {
	local due
	due=$(lc_median anonymize.random.raw rows)
	lc_read_loads
	echo "## Lifecycle engine"
	echo
	echo "Measured on $(bench_machine), with \`ROWS=$ROWS REPEAT=$REPEAT bench/run lifecycle\`."
	echo
	cat <<TEXT
Each comparison runs \`CALL retention.run()\` and the raw SQL statement doing the same work on
identical data: before every trial the table is recreated from a template (ROWS = $(lc_int "$ROWS")
customers: \`id bigint\` primary key, \`email\`, \`phone\`, \`seen_at timestamptz\` with an index;
$(lc_int "$due") of them, about half, older than the one-year cutoff), vacuumed, frozen and analyzed,
then a \`CHECKPOINT\`, so that both sides write the same full-page images. The rows are in random
order of \`seen_at\` (a customer table whose last-seen time is updated in place); the comparisons
are repeated, for information, on a table written in \`seen_at\` order. Time is wall clock around
the statement, its commits included (the engine commits every batch of about
\`retention.batch_target\` = 100 ms; the raw statement once). WAL is the difference of
\`pg_current_wal_insert_lsn()\`. Each side runs REPEAT times, the order alternating from round to
round; medians are reported. Throughput is rows processed per second; a ratio is pg_retention's
throughput over the raw statement's. The \`VACUUM\` after each trial is timed apart.
TEXT
	echo
	lc_report_targets
	lc_report_info
	lc_report_why
	lc_report_trials
	lc_report_load
	lc_report_wal
	wr_report
}

suite_lifecycle() {
	local seconds
	rm -rf "$LC_DIR"
	as_test_user mkdir -p "$LC_DIR"
	: >"$LC_DIR/trials"
	: >"$LC_DIR/waldump"
	: >"$LC_DIR/loads"
	log "loading the $ROWS-row template" >&2
	lc_load_template >&2

	local layout rounds
	for layout in random age; do
		rounds=$REPEAT
		[ "$layout" = random ] || rounds=$LC_INFO_REPEAT
		lc_compare anonymize "$layout" "$rounds" "age from seen_at" "anonymize after 1 year using hash" \
			"UPDATE customer SET email = retention.hash(email) WHERE seen_at < $LC_CUTOFF"
		lc_compare purge "$layout" "$rounds" "age from seen_at; purge after 1 year" "" \
			"DELETE FROM customer WHERE seen_at < $LC_CUTOFF" \
			"$([ "$layout" = age ] || echo "$LC_PURGE_ONESHOT")"
		lc_compare archive "$layout" "$rounds" "age from seen_at; archive after 1 year" "" \
			"WITH moved AS (DELETE FROM customer WHERE seen_at < $LC_CUTOFF RETURNING *) INSERT INTO plain_copy SELECT * FROM moved" \
			"$([ "$layout" = age ] || echo "$LC_ARCHIVE_ONESHOT")"
	done
	bench_psql -c "DROP TABLE IF EXISTS customer; TRUNCATE plain_copy, retention_archive.archived_row" >&2

	lc_incremental random "$REPEAT"
	lc_incremental age "$LC_INFO_REPEAT"
	lc_partition

	# long enough for a run slowed down by the load (3 times its median alone)
	seconds=$(awk -v ms="$(lc_median anonymize.random.engine ms)" -v min="$LC_LOAD_SECONDS" \
		'BEGIN { s = int(3 * ms / 1000 + 15); print (s > min) ? s : min }')
	lc_loads "$seconds"
	# the application's writes, labelled and not (bench/suites/writes.sh)
	wr_measure

	bench_psql -c "DROP TABLE IF EXISTS customer, lc_template, plain_copy;
		TRUNCATE retention_archive.archived_row; DELETE FROM retention.stage_state" >&2
	lc_report
}

# the write trigger's comparisons (wr_measure, wr_report)
if ! declare -F wr_measure >/dev/null; then
	# shellcheck source=bench/suites/writes.sh
	source "$BENCH_ROOT/bench/suites/writes.sh"
fi
