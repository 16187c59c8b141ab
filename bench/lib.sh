# Shared by bench/run and bench/suites/*.sh: a throwaway benchmark cluster
# (pg_retention preloaded, its own server key, pgcrypto for the baselines),
# a timing helper that runs many queries in one session, and the code that
# rewrites one suite's section of BENCHMARKS.md.
# shellcheck shell=bash

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
source "$BENCH_ROOT/scripts/lib.sh"

BENCH_DIR=${BENCH_DIR:-/tmp/pg_retention_bench}
BENCH_PORT=${BENCH_PORT:-54330}
BENCH_DB=bench

# Starts the cluster and creates the bench database; a trap removes it all.
# Settings are chosen so that runs compare like with like: the data fits in
# shared_buffers, no checkpoint lands in the middle of a measurement, and no
# JIT compilation (which favours long queries over short ones).
bench_start() {
	log "starting a throwaway benchmark cluster in $BENCH_DIR (port $BENCH_PORT)"
	bench_stop
	mkdir -p "$BENCH_DIR"
	[ "$(id -u)" -ne 0 ] || chown "$(test_user):" "$BENCH_DIR"
	trap bench_stop EXIT
	trap 'exit 130' INT TERM
	as_test_user bash -c "
		set -e
		umask 077
		openssl rand -hex 32 > '$BENCH_DIR/server.key'
		initdb -D '$BENCH_DIR/data' -A trust -U postgres >/dev/null
		cat >> '$BENCH_DIR/data/postgresql.conf' <<CONF
port = $BENCH_PORT
unix_socket_directories = '$BENCH_DIR'
listen_addresses = ''
shared_preload_libraries = 'pg_retention'
retention.key_file = '$BENCH_DIR/server.key'
shared_buffers = 1GB
max_wal_size = 4GB
jit = off
lc_messages = 'C'
CONF
		pg_ctl -D '$BENCH_DIR/data' -l '$BENCH_DIR/server.log' -w start >/dev/null
	"
	as_test_user createdb -h "$BENCH_DIR" -p "$BENCH_PORT" -U postgres "$BENCH_DB"
	bench_psql -c "CREATE EXTENSION pg_retention; CREATE EXTENSION pgcrypto;"
}

# Stops and removes the cluster (also from an earlier run that was killed).
bench_stop() {
	if [ -f "$BENCH_DIR/data/postmaster.pid" ]; then
		as_test_user pg_ctl -D "$BENCH_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
	# Ours to remove, unless an earlier run as root left it to the test user.
	rm -rf "$BENCH_DIR" 2>/dev/null || as_root rm -rf "$BENCH_DIR"
}

# psql on the bench database; reads a script from stdin when given no -c/-f.
bench_psql() {
	as_test_user psql -h "$BENCH_DIR" -p "$BENCH_PORT" -U postgres -d "$BENCH_DB" \
		-X -q -v ON_ERROR_STOP=1 "$@"
}

# bench_median_times REPEAT < QUERIES
#   QUERIES: lines "name<TAB>statement" (one line each, no trailing ';').
#   Runs every statement once to warm up, then REPEAT rounds of all of them,
#   interleaved so that a slow moment of the machine hits every query alike,
#   in one session with parallel query off (the comparison is per core).
#   Each run is timed by EXPLAIN (ANALYZE, TIMING OFF): the executor's own
#   time, without the round trip or the planning.
#   Prints "name<TAB>median_ms<TAB>min_ms<TAB>max_ms", in input order.
bench_median_times() {
	local repeat=$1 queries script
	queries=$(cat)
	script=$(
		echo "SET max_parallel_workers_per_gather = 0;"
		echo "\\pset format unaligned"
		echo "\\pset tuples_only on"
		for round in $(seq 0 "$repeat"); do
			while IFS=$'\t' read -r name statement; do
				[ -n "$name" ] || continue
				printf '\\echo @@ %s %s\n' "$round" "$name"
				echo "EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) $statement;"
			done <<<"$queries"
		done
	)
	bench_psql <<<"$script" | awk -F'\t' -v order="$(cut -f1 <<<"$queries" | paste -sd' ')" '
		/^@@ / { round = $0; sub(/^@@ /, "", round); split(round, parts, " "); r = parts[1]; name = parts[2]; next }
		/Execution Time:/ {
			if (r == 0) next  # warm-up round
			ms = $0; sub(/.*Execution Time: /, "", ms); sub(/ ms.*/, "", ms)
			n[name]++; t[name, n[name]] = ms + 0
		}
		END {
			count = split(order, names, " ")
			for (i = 1; i <= count; i++) {
				q = names[i]; k = n[q]
				if (k == 0) { print "no timing for " q > "/dev/stderr"; exit 1 }
				for (a = 1; a <= k; a++) v[a] = t[q, a]
				for (a = 2; a <= k; a++) { x = v[a]; b = a - 1; while (b > 0 && v[b] > x) { v[b + 1] = v[b]; b-- } v[b + 1] = x }
				med = (k % 2) ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
				printf "%s\t%.3f\t%.3f\t%.3f\n", q, med, v[1], v[k]
			}
		}'
}

# One line describing where and when a suite was measured.
bench_machine() {
	local cpu ram version
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
	ram=$(awk '/^MemTotal:/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
	version=$(bench_psql -At -c "SHOW server_version" | sed 's/ .*//')
	echo "$(nproc) CPU ($cpu), $ram RAM, PostgreSQL $version, $(date -u '+%Y-%m-%d %H:%M UTC')"
}

# bench_write_section SUITE FILE
#   Puts FILE between <!-- suite:SUITE --> and <!-- /suite:SUITE --> in
#   BENCHMARKS.md, replacing what was there (other suites are kept), or adds
#   the section at the end; creates BENCHMARKS.md with its introduction,
#   whose "last run" line is updated too.
bench_write_section() {
	local suite=$1 body=$2 doc=$BENCH_ROOT/BENCHMARKS.md last
	if [ ! -f "$doc" ]; then
		cat >"$doc" <<'DOC'
# Benchmarks

SQL-level benchmarks of pg_retention. Each suite compares the extension with
raw SQL doing the same work, measured in the same run on the same throwaway
cluster (`shared_buffers = 1GB`, `max_wal_size = 4GB`, `jit = off`), and reports
medians and ratios: absolute times depend on the machine, ratios much less.
Each section says on which machine and when it was measured.

Reproduce on Debian 12 (as root, or as a user with sudo; missing packages are
installed and the extension is built and installed first):

    bench/run                      # every suite
    bench/run methods              # one suite
    ROWS=100000 REPEAT=3 bench/run methods
    SKIP_BUILD=1 bench/run methods # use the installed extension as is

<!-- last-run -->
<!-- /last-run -->
DOC
	fi
	last=$(mktemp)
	echo "Last run (\`bench/run $suite\`): $(bench_machine)." >"$last"
	bench_replace_block "$doc" "<!-- last-run -->" "<!-- /last-run -->" "$last"
	bench_replace_block "$doc" "<!-- suite:$suite -->" "<!-- /suite:$suite -->" "$body"
	rm -f "$last"
}

# bench_replace_block DOC START STOP FILE: FILE between the marker lines
# START and STOP of DOC, replacing what was there, or at the end of DOC.
bench_replace_block() {
	local doc=$1 start=$2 stop=$3 body=$4 tmp
	tmp=$(mktemp)
	awk -v start="$start" -v stop="$stop" -v body="$body" '
		function emit(   line) { print start; while ((getline line < body) > 0) print line; print stop; done = 1 }
		$0 == start { skipping = 1; emit(); next }
		$0 == stop { skipping = 0; next }
		!skipping { print }
		END { if (!done) { print ""; emit() } }' "$doc" >"$tmp"
	cat "$tmp" >"$doc"
	rm -f "$tmp"
}
