# The lifecycle on a Citus distributed table: CALL retention.run() on the
# coordinator of its own 3-node cluster (a coordinator and 2 workers on this
# machine, 32 shards) against the same work done by hand with Citus-compatible
# raw SQL, and against the same table on a single node (a plain table on the
# coordinator), in the same run: anonymize with an IMMUTABLE method (run on
# the shards) and with hash (computed on the coordinator), row purge,
# archive.  Without Citus installed into PG_BIN's server the section says
# "not measured" and the suite succeeds.  Sourced by bench/run, which
# provides bench/lib.sh.
# shellcheck shell=bash
# ROWS and REPEAT come from bench/run.
: "${ROWS:?}" "${REPEAT:?}"
# The formatting helpers (lc_int, lc_num, lc_ratio).
# shellcheck source=bench/suites/lifecycle.sh
source "$BENCH_ROOT/bench/suites/lifecycle.sh"

# The cluster: its own directory and ports (beside bench/run's single node).
CT_DIR=$BENCH_DIR/citus
CT_PORT=${CT_PORT:-$((BENCH_PORT + 10))}
CT_NODES=(coordinator worker1 worker2)
CT_SHARDS=32
# The raw statements' cutoff (a STABLE value without a column: Citus accepts
# it in an UPDATE); the engine's is clock_timestamp() - 1 year.
CT_CUTOFF="now() - interval '1 year'"

# ---- the cluster -----------------------------------------------------------

ct_port() {
	local i
	for i in "${!CT_NODES[@]}"; do
		[ "${CT_NODES[$i]}" != "$1" ] || echo $((CT_PORT + i))
	done
}

# ct_psql NODE [psql arguments]: psql on NODE's bench database.
ct_psql() {
	local node=$1
	shift
	as_test_user psql -h "$CT_DIR/$node" -p "$(ct_port "$node")" -U postgres -d "$BENCH_DB" \
		-X -q -v ON_ERROR_STOP=1 "$@"
}

# Is Citus installed into the PostgreSQL of PG_BIN?
ct_citus_installed() {
	[ -f "$("$PG_CONFIG" --sharedir)/extension/citus.control" ]
}

# Starts the coordinator and the two workers (the settings of bench_start,
# plus Citus, the same key file on every node, 32 shards), registers them;
# a trap stops them with bench/run's node.
ct_start() {
	local node port
	ct_stop
	trap 'ct_stop; bench_stop' EXIT
	as_test_user bash -c "umask 077; mkdir -p '$CT_DIR' && openssl rand -hex 32 > '$CT_DIR/server.key'"
	for node in "${CT_NODES[@]}"; do
		port=$(ct_port "$node")
		log "starting the Citus $node in $CT_DIR/$node (port $port)"
		as_test_user bash -c "
			set -e
			umask 077
			mkdir -p '$CT_DIR/$node'
			initdb -D '$CT_DIR/$node/data' -A trust -U postgres >/dev/null
			cat >> '$CT_DIR/$node/data/postgresql.conf' <<CONF
port = $port
unix_socket_directories = '$CT_DIR/$node'
listen_addresses = ''
shared_preload_libraries = 'citus,pg_retention'
retention.key_file = '$CT_DIR/server.key'
retention.worker_enabled = off
citus.local_hostname = '$CT_DIR/$node'
citus.shard_count = $CT_SHARDS
citus.shard_replication_factor = 1
max_prepared_transactions = 20
shared_buffers = 1GB
max_wal_size = 4GB
jit = off
lc_messages = 'C'
CONF
			pg_ctl -D '$CT_DIR/$node/data' -l '$CT_DIR/$node/server.log' -w start >/dev/null
		"
		as_test_user createdb -h "$CT_DIR/$node" -p "$port" -U postgres "$BENCH_DB"
		ct_psql "$node" -c "SET client_min_messages = warning" \
			-c "CREATE EXTENSION citus; CREATE EXTENSION pg_retention;"
	done
	ct_psql coordinator -At >/dev/null <<SQL
SELECT citus_set_coordinator_host('$CT_DIR/coordinator', $CT_PORT);
SELECT citus_add_node('$CT_DIR/worker1', $(ct_port worker1));
SELECT citus_add_node('$CT_DIR/worker2', $(ct_port worker2));
SQL
}

# Stops the nodes (also those of an earlier run that was killed).
ct_stop() {
	local node
	for node in "${CT_NODES[@]}"; do
		if [ -f "$CT_DIR/$node/data/postmaster.pid" ]; then
			as_test_user pg_ctl -D "$CT_DIR/$node/data" -m fast -w stop >/dev/null 2>&1 || true
		fi
	done
}

# ---- data and trials -------------------------------------------------------

# The template: the lifecycle suite's customer rows (ROWS rows, about half
# older than one year, none within 5 days of the cutoff), as a plain table
# on the coordinator (for the single-node copies) and as a distributed one
# (colocated with every copy: INSERT ... SELECT is pushed down shard by shard).
ct_load_template() {
	ct_psql coordinator -At >/dev/null <<SQL
SET client_min_messages = warning;
CREATE TABLE ct_local_template (id bigint NOT NULL, email text, phone text, seen_at timestamptz);
SELECT setseed(0.42);
INSERT INTO ct_local_template
SELECT i,
       'customer' || i || '@example.' || (ARRAY['com', 'org', 'net', 'co.uk'])[1 + i % 4],
       '+1 ' || (200 + i % 800) || '-555-' || lpad((i % 10000 * 7919 % 10000)::text, 4, '0'),
       now() - CASE WHEN random() < 0.5 THEN 370 + random() * 360 ELSE random() * 360 END
                 * interval '1 day'
FROM generate_series(1, $ROWS) AS i;
CREATE TABLE ct_template (LIKE ct_local_template);
SELECT create_distributed_table('ct_template', 'id');
INSERT INTO ct_template SELECT * FROM ct_local_template;
VACUUM ANALYZE ct_local_template;
VACUUM ANALYZE ct_template;
CREATE TABLE plain_copy (LIKE ct_local_template);
SQL
}

# SQL (re)creating the table customer, distributed (on id, 32 shards,
# colocated with the template) or local, from the template, with its primary
# key and the index on its age column, vacuumed, frozen and analyzed, no
# autovacuum: every trial starts from the same state.
ct_copy_sql() {
	local where=$1
	cat <<SQL
DROP TABLE IF EXISTS customer;
CREATE TABLE customer (id bigint NOT NULL, email text, phone text, seen_at timestamptz)
    WITH (autovacuum_enabled = false);
SQL
	if [ "$where" = citus ]; then
		cat <<SQL
SELECT create_distributed_table('customer', 'id', colocate_with => 'ct_template');
INSERT INTO customer SELECT * FROM ct_template;
SQL
	else
		echo "INSERT INTO customer SELECT * FROM ct_local_template;"
	fi
	cat <<SQL
ALTER TABLE customer ADD PRIMARY KEY (id);
CREATE INDEX ON customer (seen_at);
VACUUM (FREEZE, ANALYZE) customer;
SQL
}

# The labels of each operation: table label, column label of email.
ct_labels() {
	case $1 in
	mask) echo "age from seen_at|anonymize after 1 year using mask_email" ;;
	hash) echo "age from seen_at|anonymize after 1 year using hash" ;;
	purge) echo "age from seen_at; purge after 1 year|" ;;
	archive) echo "age from seen_at; archive after 1 year|" ;;
	esac
}

# The raw statements by hand on the distributed table, each accepted by
# Citus.  hash is STABLE, which Citus refuses over a column in an UPDATE:
# by hand, its values are computed on the coordinator from a materialized
# CTE and written back by key, the route the engine takes.
ct_raw() {
	case $1 in
	mask) echo "UPDATE customer SET email = retention.mask_email(email) WHERE seen_at < $CT_CUTOFF" ;;
	hash) echo "WITH due AS MATERIALIZED (SELECT id, email FROM customer WHERE seen_at < $CT_CUTOFF),
new AS MATERIALIZED (SELECT id, retention.hash(email) AS email FROM due OFFSET 0)
UPDATE customer c SET email = new.email FROM new WHERE c.id = new.id" ;;
	purge) echo "DELETE FROM customer WHERE seen_at < $CT_CUTOFF" ;;
	archive) echo "WITH moved AS (DELETE FROM customer WHERE seen_at < $CT_CUTOFF RETURNING *)
INSERT INTO plain_copy SELECT * FROM moved" ;;
	esac
}

# The setup of one trial: OP on SIDE (citus: the engine on the distributed
# table; citus_1s: the same with batches of 1 s instead of 100 ms; raw: the
# raw statement on it; single: the engine on the local table).
ct_setup() {
	local op=$1 side=$2 labels table_label column_label
	case $side in
	citus | citus_1s | raw) ct_copy_sql citus ;;
	single) ct_copy_sql local ;;
	esac
	echo "TRUNCATE plain_copy, retention_archive.archived_row;"
	echo "DELETE FROM retention.stage_state;"
	[ "$side" != raw ] || return 0
	labels=$(ct_labels "$op")
	table_label=${labels%%|*}
	column_label=${labels#*|}
	echo "SECURITY LABEL FOR retention ON TABLE customer IS '$table_label';"
	[ -z "$column_label" ] ||
		echo "SECURITY LABEL FOR retention ON COLUMN customer.email IS '$column_label';"
}

# What the last run did, "rows|batches|stage_ms|access_path": rows -1 when it
# did not succeed; the stages' own time from retention.run_detail.
CT_RUN_FIGURES="SELECT CASE WHEN h.status = 'succeeded' THEN h.rows_anonymized + h.values_purged
    + h.rows_archived + h.rows_purged ELSE -1 END || '|' || coalesce(sum(d.batches), 0) || '|'
    || coalesce(round(sum(extract(epoch FROM d.updated_at - d.started_at)) * 1000, 1), 0) || '|'
    || coalesce(string_agg(DISTINCT d.access_path, ','), '')
  FROM retention.run_history h LEFT JOIN retention.run_detail d USING (run_id)
  WHERE h.run_id = (SELECT max(run_id) FROM retention.run_history)
  GROUP BY h.run_id, h.status, h.rows_anonymized, h.values_purged, h.rows_archived, h.rows_purged"

# ct_trial OP SIDE: runs the setup, a CHECKPOINT on every node, then times
# the statement (wall clock on the coordinator, its commits included).
# Prints "ms<TAB>rows<TAB>batches<TAB>stage_ms<TAB>access_path".
ct_trial() {
	local op=$1 side=$2 statement node
	{
		echo "SET client_min_messages = warning;"
		ct_setup "$op" "$side"
	} | ct_psql coordinator -At >/dev/null || return 1
	for node in "${CT_NODES[@]}"; do
		ct_psql "$node" -c CHECKPOINT || return 1
	done
	case $side in
	raw) statement=$(ct_raw "$op") ;;
	citus_1s) statement="SET retention.batch_target = '1s';
CALL retention.run()" ;;
	*) statement="CALL retention.run()" ;;
	esac
	ct_psql coordinator -At <<SQL | sed -n 's/^@@ //p' | tr '|' '\t'
SET client_min_messages = warning;
SELECT clock_timestamp() AS t0 \gset
$statement;
\set n :ROW_COUNT
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000, 3) AS ms \gset
\set f :n|||
$([ "$side" = raw ] || echo "SELECT ($CT_RUN_FIGURES) AS f \\gset")
\echo @@ :ms|:f
SQL
}

# ct_compare OP [citus_1s]: REPEAT rounds of the three sides (and of the
# engine on Citus with 1 s batches), each on a fresh copy, the order
# alternating from round to round; trials OP.citus, OP.raw, OP.single
# (OP.citus_1s).
ct_compare() {
	local op=$1 more=${2:-} round side sides line
	for round in $(seq 1 "$REPEAT"); do
		log "citus, $op: round $round of $REPEAT" >&2
		sides="citus raw single${more:+ $more}"
		[ $((round % 2)) -eq 1 ] || sides="${more:+$more }single raw citus"
		for side in $sides; do
			line=$(ct_trial "$op" "$side")
			if [ -z "$line" ]; then
				echo "citus: no measurement for $op.$side" >&2
				return 1
			fi
			printf '%s\t%s\n' "$op.$side" "$line" >>"$CT_DIR/trials"
		done
	done
	if awk -F'\t' -v op="$op" 'index($1, op ".") == 1 && $3 < 0 { bad = 1 } END { exit !bad }' "$CT_DIR/trials"; then
		echo "citus: a run did not succeed in the $op comparison" >&2
		ct_psql coordinator -c "SELECT * FROM retention.run_detail WHERE status <> 'succeeded'" >&2
		return 1
	fi
}

# The fixed cost of one statement, without rows: CT_STATEMENTS runs each of
# an UPDATE and of a value batch's first query (its window's count and newest
# age, an aggregate every shard answers) on an empty
# distributed table (32 shards) and on an empty local one, each statement
# committed on its own, in one session.  Lines "name<TAB>ms per statement".
CT_STATEMENTS=30
ct_overhead() {
	local name statement
	ct_psql coordinator -At >/dev/null <<SQL
SET client_min_messages = warning;
CREATE TABLE ct_empty (id bigint PRIMARY KEY, email text, phone text, seen_at timestamptz);
CREATE INDEX ON ct_empty (seen_at);
SELECT create_distributed_table('ct_empty', 'id', colocate_with => 'ct_template');
CREATE TABLE ct_empty_local (LIKE ct_empty INCLUDING ALL);
SQL
	for name in update.citus select.citus update.single select.single; do
		case $name in
		update.*) statement="UPDATE TABLE SET email = retention.mask_email(email) WHERE seen_at < $CT_CUTOFF" ;;
		select.*) statement="SELECT count(*), max(seen_at) FROM TABLE WHERE seen_at < $CT_CUTOFF" ;;
		esac
		case $name in
		*.citus) statement=${statement/TABLE/ct_empty} ;;
		*.single) statement=${statement/TABLE/ct_empty_local} ;;
		esac
		ct_psql coordinator -At <<SQL | sed -n 's/^@@ //p' | sed "s/^/$name\t/"
SET client_min_messages = warning;
$statement;
SELECT clock_timestamp() AS t0 \gset
$(for _ in $(seq 1 "$CT_STATEMENTS"); do echo "$statement;"; done)
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000 / $CT_STATEMENTS, 2) AS ms \gset
\echo @@ :ms
SQL
	done >"$CT_DIR/overhead"
	ct_psql coordinator -c "DROP TABLE ct_empty, ct_empty_local"
}

# The plan of one purge batch as the engine sends it (MoveRowsByKey in
# src/pg/lifecycle/key_rows.cpp): the age window of the CT_PLAN_BATCH oldest
# rows, on a fresh copy of the distributed table: EXPLAIN ANALYZE, kept in
# $CT_DIR/plan.
CT_PLAN_BATCH=5000
ct_plan() {
	{
		echo "SET client_min_messages = warning;"
		ct_copy_sql citus
	} | ct_psql coordinator -At >/dev/null
	ct_psql coordinator -At >"$CT_DIR/plan" <<SQL
SELECT min(seen_at) AS lo FROM customer \gset
SELECT seen_at AS hi FROM customer ORDER BY seen_at OFFSET $CT_PLAN_BATCH LIMIT 1 \gset
BEGIN;
EXPLAIN (ANALYZE, COSTS off, TIMING off, SUMMARY off)
DELETE FROM customer AS r WHERE r.seen_at < $CT_CUTOFF AND r.seen_at >= :'lo' AND r.seen_at < :'hi';
ROLLBACK;
SQL
	ct_psql coordinator -c "DROP TABLE customer"
}

# ct_plan_line PATTERN [AFTER]: the first line of the plan matching PATTERN
# (after the first line matching AFTER), trimmed.
ct_plan_line() {
	awk -v p="$1" -v a="${2:-}" 'a != "" && $0 ~ a { on = 1 } (a == "" || on) && $0 ~ p { sub(/^[ ->]*/, ""); print; exit }' \
		"$CT_DIR/plan"
}

ct_overhead_ms() { awk -F'\t' -v n="$1" '$1 == n { print $2 }' "$CT_DIR/overhead"; }

# ---- the report ------------------------------------------------------------

# ct_median NAME FIELD: median over the trials of NAME of ms, rows, batches,
# stage (the stages' own ms), own (the run's ms outside its stages), rate
# (rows/s), perbatch (stage ms per batch), rowsbatch (rows per batch).
ct_median() {
	awk -F'\t' -v n="$1" -v f="$2" '
		$1 == n {
			if (f == "ms") x = $2; else if (f == "rows") x = $3; else if (f == "batches") x = $4
			else if (f == "stage") x = $5; else if (f == "rate") x = $3 * 1000 / $2
			else if (f == "own") x = $2 - $5
			else if (f == "perbatch") x = ($4 > 0) ? $5 / $4 : 0
			else if (f == "rowsbatch") x = ($4 > 0) ? $3 / $4 : 0
			v[++k] = x + 0
		}
		END {
			if (k == 0) { print "nan"; exit }
			for (i = 2; i <= k; i++) { x = v[i]; j = i - 1; while (j > 0 && v[j] > x) { v[j + 1] = v[j]; j-- } v[j + 1] = x }
			print (k % 2) ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
		}' "$CT_DIR/trials"
}

# ct_field NAME COLUMN: the value of COLUMN in the last trial of NAME.
ct_field() { awk -F'\t' -v n="$1" -v c="$2" '$1 == n { x = $c } END { print x }' "$CT_DIR/trials"; }

ct_range() {
	awk -F'\t' -v n="$1" '
		$1 == n { x = $2 + 0; if (k++ == 0 || x < lo) lo = x; if (x > hi) hi = x }
		END { printf "%.0f–%.0f", lo, hi }' "$CT_DIR/trials"
}


ct_what() {
	case $1 in
	mask) echo "anonymize \`using mask_email\` (IMMUTABLE: on the shards)" ;;
	hash) echo "anonymize \`using hash\` (computed on the coordinator)" ;;
	purge) echo "row purge (\`purge after 1 year\`)" ;;
	archive) echo "archive (\`archive after 1 year\`, encrypted)" ;;
	esac
}

ct_raw_label() {
	case $1 in
	mask) echo "\`UPDATE customer SET email = retention.mask_email(email) WHERE seen_at < \$cutoff\`" ;;
	hash) echo "\`WITH due AS MATERIALIZED (SELECT id, email ... WHERE seen_at < \$cutoff), new AS MATERIALIZED (SELECT id, retention.hash(email) ... FROM due) UPDATE customer c SET email = new.email FROM new WHERE c.id = new.id\`" ;;
	purge) echo "\`DELETE FROM customer WHERE seen_at < \$cutoff\`" ;;
	archive) echo "\`WITH moved AS (DELETE FROM customer WHERE seen_at < \$cutoff RETURNING *) INSERT INTO plain_copy SELECT * FROM moved\` (\`plain_copy\`: a plain table on the coordinator, like the archive)" ;;
	esac
}

ct_report() {
	local op c r s rows due version
	version=$(ct_psql coordinator -At -c "SELECT substring(citus_version() FROM 'Citus ([0-9.]+)')")
	due=$(ct_psql coordinator -At -c "SELECT count(*) FROM ct_local_template WHERE seen_at < $CT_CUTOFF")
	echo "Machine: $(bench_machine), with \`ROWS=$ROWS REPEAT=$REPEAT bench/run citus\`."
	echo
	echo "A Citus $version cluster on this machine: a coordinator and 2 workers (each with the settings of"
	echo "the other suites' node, \`shared_preload_libraries = 'citus,pg_retention'\`, the same key file),"
	echo "\`citus.shard_count = $CT_SHARDS\`. Table: the lifecycle suite's customer table, $(lc_int "$ROWS") rows"
	echo "(\`id bigint\` primary key, \`email\`, \`phone\`, \`seen_at\` with an index, random order), $(lc_int "$due")"
	echo "of them older than the one-year cutoff; distributed on \`id\` ($CT_SHARDS shards), and for the"
	echo "single node the same rows in a plain table on the coordinator. Every trial starts from a fresh"
	echo "copy (vacuumed, frozen, analyzed, then a \`CHECKPOINT\` on every node); the three sides are"
	echo "interleaved in each round, the order alternating; medians of $REPEAT round(s). Times are wall clock"
	echo "on the coordinator, commits included (the engine commits every batch); throughput is rows"
	echo "processed per second. The issue states no target for Citus: the ratios are reported."
	if [ "$ROWS" -lt 1000000 ]; then
		echo
		echo "**This run used $(lc_int "$ROWS") rows**, not the 1,000,000 the issue names (it took"
		echo "$(( ($(date +%s) - CT_T0 + 30) / 60 )) min on this shared machine). \`ROWS=1000000 bench/run citus\` measures 1M rows."
	fi
	echo
	echo "| stage | Citus: \`CALL retention.run()\` | Citus: raw SQL by hand | engine ÷ raw | single node: \`CALL retention.run()\` | Citus ÷ single node |"
	echo "|---|---:|---:|---:|---:|---:|"
	for op in mask hash purge archive; do
		c=$(ct_median "$op.citus" rate)
		r=$(ct_median "$op.raw" rate)
		s=$(ct_median "$op.single" rate)
		rows=""
		[ "$(ct_median "$op.citus" rows)" = "$(ct_median "$op.raw" rows)" ] ||
			rows=" (**raw: $(lc_int "$(ct_median "$op.raw" rows)") rows, engine: $(lc_int "$(ct_median "$op.citus" rows)")**)"
		printf '| %s | %s rows/s | %s rows/s%s | %s× | %s rows/s | %s× |\n' "$(ct_what "$op")" \
			"$(lc_int "$c")" "$(lc_int "$r")" "$rows" "$(lc_ratio "$c" "$r")" "$(lc_int "$s")" "$(lc_ratio "$c" "$s")"
	done
	echo
	echo "Raw SQL by hand, on the distributed table (\`\$cutoff\` = \`now() - interval '1 year'\`; each one"
	echo "statement, accepted by Citus):"
	echo
	for op in mask hash purge archive; do
		echo "- $(ct_what "$op" | sed 's/ (.*//'): $(ct_raw_label "$op")"
	done
	ct_report_before
	ct_report_trials
	ct_report_why
}

# The engine on Citus before the age windows (one multi-shard key query
# per batch, time-sized batches; BENCHMARKS.md of 2026-12-06 04:49 UTC,
# ROWS=300000 REPEAT=3), against this run.
CT_BEFORE_ROWS=300000
ct_before() {
	case $1 in
	mask) echo "6404 0.08 211 707" ;;
	hash) echo "5895 0.17 236 632" ;;
	purge) echo "6725 0.03 211 707" ;;
	archive) echo "5853 0.06 243 614" ;;
	esac
}
ct_report_before() {
	local op rate ratio batches rows
	echo
	echo "### Before and after the age windows"
	echo
	echo "Before: one multi-shard key query per batch (\`... ORDER BY seen_at LIMIT n\`), batches sized by"
	echo "time alone (run of 2026-12-06 04:49 UTC, $(lc_int "$CT_BEFORE_ROWS") rows, 3 rounds). After: this run"
	echo "($(lc_int "$ROWS") rows)."
	echo
	echo "| stage | before: rows/s | before: engine ÷ raw | before: batches × rows | after: rows/s | after: engine ÷ raw | after: batches × rows |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	for op in mask hash purge archive; do
		read -r rate ratio batches rows <<<"$(ct_before "$op")"
		printf '| %s | %s | %s× | %s × %s | %s | %s× | %s × %s |\n' "$(ct_what "$op" | sed 's/ (.*//')" \
			"$(lc_int "$rate")" "$ratio" "$batches" "$(lc_int "$rows")" \
			"$(lc_int "$(ct_median "$op.citus" rate)")" "$(lc_ratio "$(ct_median "$op.citus" rate)" "$(ct_median "$op.raw" rate)")" \
			"$(lc_int "$(ct_median "$op.citus" batches)")" "$(lc_int "$(ct_median "$op.citus" rowsbatch)")"
	done
}

ct_report_trials() {
	local op side name label
	echo
	echo "### Trials"
	echo
	echo "Medians; batches, their rows and time from \`retention.run_detail\` (the stages' own time, without"
	echo "the run's start and end)."
	echo
	echo "| trial | rows | median ms | min–max ms | rows/s | batches | rows per batch | ms per batch | access path |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
	for op in mask hash purge archive; do
		for side in citus citus_1s raw single; do
			name=$op.$side
			grep -q "^$name	" "$CT_DIR/trials" || continue
			case $side in
			citus) label="$(ct_what "$op" | sed 's/ (.*//'), Citus: \`CALL retention.run()\`" ;;
			citus_1s) label="$(ct_what "$op" | sed 's/ (.*//'), Citus: \`CALL retention.run()\` with \`retention.batch_target = '1s'\`" ;;
			raw) label="$(ct_what "$op" | sed 's/ (.*//'), Citus: raw SQL" ;;
			single) label="$(ct_what "$op" | sed 's/ (.*//'), single node: \`CALL retention.run()\`" ;;
			esac
			if [ "$side" = raw ]; then
				printf '| %s | %s | %s | %s | %s | 1 | | | |\n' "$label" "$(lc_int "$(ct_median "$name" rows)")" \
					"$(lc_num "$(ct_median "$name" ms)")" "$(ct_range "$name")" "$(lc_int "$(ct_median "$name" rate)")"
			else
				printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$(lc_int "$(ct_median "$name" rows)")" \
					"$(lc_num "$(ct_median "$name" ms)")" "$(ct_range "$name")" "$(lc_int "$(ct_median "$name" rate)")" \
					"$(lc_int "$(ct_median "$name" batches)")" "$(lc_int "$(ct_median "$name" rowsbatch)")" \
					"$(lc_num "$(ct_median "$name" perbatch)")" "$(ct_field "$name" 6 | sed 's/^$/—/')"
			fi
		done
	done
}

# Where the time goes, with this run's figures.
# shellcheck disable=SC2016 # Markdown backquotes, not expansions
ct_report_why() {
	local ou os lu ls op share queries
	ou=$(ct_overhead_ms update.citus)
	os=$(ct_overhead_ms select.citus)
	lu=$(ct_overhead_ms update.single)
	ls=$(ct_overhead_ms select.single)
	echo
	echo "### Where the time goes"
	echo
	cat <<TEXT
On a Citus table every stage takes the key path ([docs/lifecycle.md](docs/lifecycle.md#the-key-path-citus-tables)):
Citus refuses \`ctid\` and \`FOR UPDATE\`. Each batch is an **age window** \`[lo, hi)\` of the age
column, named by conditions on the row alone, so every statement goes to the $CT_SHARDS shards at once
and each shard finds its rows through its own index on \`seen_at\`; no batch's keys travel to the
coordinator and back. Purge and archive send one statement per batch (\`DELETE ... WHERE seen_at <
\$cutoff AND seen_at >= \$lo AND seen_at < \$hi\`, for archive \`RETURNING *\` into the coordinator's
archive). Anonymize sends three: the window's count and newest age (an aggregate), the newest row up
to that age (one row from each shard), then the \`UPDATE\` of the keyset range up to that row, whose
last row is the watermark as before; \`hash\` adds a read of the values (below). Each multi-shard
statement costs a fixed amount before any row: on an empty $CT_SHARDS-shard table, the aggregate takes
$(lc_num "$os") ms and the \`UPDATE\` with its commit (two-phase, across the nodes) $(lc_num "$ou") ms (on an empty local table:
$(lc_num "$ls") and $(lc_num "$lu") ms; means of $CT_STATEMENTS statements). Sized by
\`retention.batch_target\` (100 ms) alone, the batches shrank until this cost was all they did; on a
Citus table a batch now takes at least 5,000 rows:
TEXT
	echo
	for op in mask hash purge archive; do
		# multi-shard statements per batch besides the UPDATE or DELETE
		case $op in
		mask) queries=2 ;;
		hash) queries=3 ;;
		*) queries=0 ;;
		esac
		share=$(awk -v b="$(ct_median "$op.citus" batches)" -v st="$(ct_median "$op.citus" stage)" \
			-v o="$(awk -v a="$ou" -v b="$os" -v q="$queries" 'BEGIN { print a + q * b }')" \
			'BEGIN { if (st > 0) printf "%.0f", 100 * b * o / st; else print "nan" }')
		printf -- '- %s: %s batches of %s rows, %s ms each (single node: %s batches of %s rows, %s ms); the fixed cost of its %s multi-shard statement(s) per batch is about %s%% of the stage'"'"'s time.\n' \
			"$(ct_what "$op" | sed 's/ (.*//')" "$(lc_int "$(ct_median "$op.citus" batches)")" \
			"$(lc_int "$(ct_median "$op.citus" rowsbatch)")" "$(lc_num "$(ct_median "$op.citus" perbatch)")" \
			"$(lc_int "$(ct_median "$op.single" batches)")" "$(lc_int "$(ct_median "$op.single" rowsbatch)")" \
			"$(lc_num "$(ct_median "$op.single" perbatch)")" "$((queries + 1))" "$share"
	done
	echo
	cat <<TEXT
The fixed costs above are measured once, before the trials; on this shared machine they move
with the other work (a share above 100% means the statements cost less during the stage than in
that measurement).

Outside its stages (finding the declared tables, the checks, the history), a run takes
$(lc_num "$(ct_median mask.citus own)") ms on Citus and $(lc_num "$(ct_median mask.single own)") ms on the single node (anonymize with \`mask_email\`).

The plan of one purge batch, the window of the $(lc_int "$CT_PLAN_BATCH") oldest rows (\`EXPLAIN ANALYZE\` on a fresh
copy): each shard's \`DELETE\` reads its part of the window through its age index,
\`$(ct_plan_line "Scan on customer_" "Delete on")\`, with
\`$(ct_plan_line "Index Cond")\`; a batch reads its own rows
only, whatever the table's size (before: every shard joined the batch's keys, sent from the
coordinator, with a sequential scan of the whole shard per batch).
The raw statement is one multi-shard statement for all due rows, one commit: each shard scans its
part once, the two workers in parallel; the engine pays the fixed cost once per batch and commits
each batch.
\`hash\` is STABLE (it reads the server key and checks the engine's capability), which Citus
refuses over a column in an \`UPDATE\`: each batch's values are read to the coordinator, hashed
there and written back by key (\`UPDATE ... FROM unnest(keys, old, new)\`), and every row crosses
the network twice. The write-back carries the batch's keys, old and new values as three array
parameters to every one of the $CT_SHARDS shards, each joining them with its part of the window: its
cost grows with rows × shards, which is why a \`hash\` batch costs $(lc_num "$(ct_median hash.citus perbatch)") ms where a \`mask_email\`
batch of about as many rows costs $(lc_num "$(ct_median mask.citus perbatch)") ms (sending each shard only its own rows is not
built). The raw statement by hand takes the same route in one statement. Archive also
moves every row through the coordinator, on both sides (sealed there, where the key is: the archive
is a coordinator table). The single node has none of these costs
and runs the same statements on one table; on this machine the workers share its 2 cores, so
Citus cannot gain from more hardware here: the Citus ÷ single-node ratio shows the price of
distribution, not its benefit.
TEXT
}

suite_citus() {
	echo "## Lifecycle on Citus (\`bench/run citus\`)"
	echo
	if ! ct_citus_installed; then
		echo "Not measured in the last run: Citus was not installed into the PostgreSQL of \`PG_BIN\`"
		echo "($PG_BIN; \`scripts/build-citus\` builds Citus 13.2.2 from \`../shared/vendor\` and installs it)."
		return 0
	fi
	CT_T0=$(date +%s)
	ct_start >&2
	rm -f "$CT_DIR/trials"
	: >"$CT_DIR/trials"
	log "loading the $ROWS-row template" >&2
	ct_load_template >&2
	log "the fixed cost of one statement, the plan of a purge batch" >&2
	ct_overhead >&2
	ct_plan >&2
	local op
	for op in mask hash purge archive; do
		ct_compare "$op"
	done
	ct_report
	ct_stop
	trap bench_stop EXIT
}
