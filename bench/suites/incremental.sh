# The incremental ratio of issue 11 on its own, at any size: a run with
# LC_BAND (10k) newly due rows on a ROWS-row table against the same run on a
# table 10 times smaller (ROWS/10 rows), tables in random age order (the
# target) and in age order, rounds interleaved, with one raw UPDATE of the
# same rows on the same tables in the same run (the floor), medians and
# the server's CPU; then one more trial of each side with
# pg_stat_statements (track = all) and pg_waldump, to show where the time
# goes: blocks read, dirtied and written, full-page images per newly due
# row.  Uses the lifecycle suite's incremental comparison (lc_incremental);
# its own section of BENCHMARKS.md.  Sourced by bench/run, which provides
# bench/lib.sh.
#   ROWS=10000000 REPEAT=3 bench/run incremental    the target's size
# shellcheck shell=bash
: "${ROWS:?}" "${REPEAT:?}"
# shellcheck source=bench/suites/lifecycle.sh
source "$BENCH_ROOT/bench/suites/lifecycle.sh"
LC_DIR=$BENCH_DIR/incremental
# The small table follows ROWS (the lifecycle suite keeps 100k).
LC_SMALL=$((ROWS / 10))

# in_restart: restarts the benchmark cluster (after ALTER SYSTEM of a
# preloaded library).
in_restart() {
	as_test_user pg_ctl -D "$BENCH_DIR/data" -l "$BENCH_DIR/server.log" -m fast -w restart >/dev/null
}

# pg_stat_statements preloaded for this suite only, tracking nothing unless
# a session asks (the timed trials run as in the lifecycle suite).
in_stats_on() {
	bench_psql -c "ALTER SYSTEM SET shared_preload_libraries = pg_retention, pg_stat_statements" >&2
	in_restart
	bench_psql -c "ALTER SYSTEM SET pg_stat_statements.track = 'none'" -c "SELECT pg_reload_conf()" \
		-c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >&2
}

in_stats_off() {
	bench_psql -c "DROP EXTENSION IF EXISTS pg_stat_statements" \
		-c "ALTER SYSTEM RESET pg_stat_statements.track" -c "ALTER SYSTEM RESET shared_preload_libraries" >&2
	in_restart
}

# Setup lines of a trial without the application's write trigger (ordinary
# triggers do not fire for a session in replica mode): the raw UPDATE alone.
IN_PLAIN="SET session_replication_role = replica;"

# in_bounds LAYOUT (lc_incremental's AFTER): what bounds the ratio, REPEAT
# rounds, the tables alternating: the raw UPDATE without the write trigger
# (trials incremental.LAYOUT.plain_big, .plain_small), and the run with
# full_page_writes off (.nofpw_big, .nofpw_small: no full-page image after
# the checkpoint); then in_diagnose.
in_bounds() {
	local layout=$1 round table tables
	for round in $(seq 1 "$REPEAT"); do
		log "incremental, $layout order: the raw UPDATE without the write trigger, round $round of $REPEAT" >&2
		tables="lc_big lc_small"
		[ $((round % 2)) -eq 1 ] || tables="lc_small lc_big"
		for table in $tables; do
			lc_record "incremental.$layout.plain_${table#lc_}" \
				"$(lc_trial "$(lc_incremental_setup "$table")
$IN_PLAIN" "$(lc_incremental_raw "$table")")"
		done
	done
	bench_psql -c "ALTER SYSTEM SET full_page_writes = off" -c "SELECT pg_reload_conf()" >&2
	for round in $(seq 1 "$REPEAT"); do
		log "incremental, $layout order: full_page_writes off, round $round of $REPEAT" >&2
		tables="lc_big lc_small"
		[ $((round % 2)) -eq 1 ] || tables="lc_small lc_big"
		for table in $tables; do
			lc_record "incremental.$layout.nofpw_${table#lc_}" \
				"$(lc_trial "$(lc_incremental_setup "$table")" "CALL retention.run()" "$LC_RUN_ROWS")"
		done
	done
	bench_psql -c "ALTER SYSTEM RESET full_page_writes" -c "SELECT pg_reload_conf()" >&2
	in_diagnose "$layout"
}

# in_diagnose LAYOUT: the pages of each table and
# those its band lies on, then one more trial of each side on each table
# (diag.LAYOUT.engine_big, ...), with pg_stat_statements tracking every
# statement, nested ones included, and track_io_timing; keeps the
# top-level statement's counters and the engine's statements' (pgss), and
# the trial's WAL by record type (waldump).
in_diagnose() {
	local layout=$1 table side name statement
	bench_psql -At -F $'\t' -c "
		SELECT '$layout', c.relname, c.relpages,
		       (SELECT count(DISTINCT (t.ctid::text::point)[0]) FROM lc_big t
		        WHERE seen_at < now() - interval '11 months' AND seen_at >= now() - interval '1 year'),
		       (SELECT count(DISTINCT (t.ctid::text::point)[0]) FROM lc_small t
		        WHERE seen_at < now() - interval '11 months' AND seen_at >= now() - interval '1 year')
		FROM pg_class c WHERE c.relname IN ('lc_big', 'lc_small')" |
		awk -F'\t' '{ print $1 "\t" $2 "\t" $3 "\t" ($2 == "lc_big" ? $4 : $5) }' >>"$LC_DIR/pages"
	for table in lc_big lc_small; do
		for side in engine raw plain; do
			name="diag.$layout.${side}_${table#lc_}"
			log "incremental, $layout order: $name" >&2
			statement="CALL retention.run()"
			[ "$side" = engine ] || statement=$(lc_incremental_raw "$table")
			lc_record "$name" "$(lc_trial "$(lc_incremental_setup "$table")
$([ "$side" != plain ] || echo "$IN_PLAIN")
SELECT pg_stat_statements_reset();
SET pg_stat_statements.track = 'all';
SET track_io_timing = on;" "$statement" "$([ "$side" = raw ] || echo "$LC_RUN_ROWS")")"
			lc_waldump "$name"
			bench_psql -At -F $'\t' <<SQL >>"$LC_DIR/pgss"
SELECT '$name', CASE WHEN toplevel THEN 'total' ELSE 'stmt' END, calls, rows,
       shared_blks_hit, shared_blks_read, shared_blks_dirtied, shared_blks_written,
       wal_records, wal_fpi, wal_bytes, round(blk_read_time::numeric, 1),
       round(total_exec_time::numeric, 1), left(regexp_replace(query, '\s+', ' ', 'g'), 160)
FROM pg_stat_statements
WHERE (toplevel AND (query LIKE 'CALL retention.run%' OR query LIKE 'UPDATE lc_%'))
   OR (NOT toplevel AND shared_blks_hit + shared_blks_read > 0)
ORDER BY toplevel DESC, shared_blks_hit + shared_blks_read DESC
SQL
		done
	done
}

# ---- the report ------------------------------------------------------------

# in_pgss NAME KIND FIELD: the sum of FIELD (calls rows hit read dirtied
# written records fpi walbytes readms ms) over NAME's KIND lines of pgss.
in_pgss() {
	awk -F'\t' -v n="$1" -v k="$2" -v f="$3" '
		BEGIN { split("calls rows hit read dirtied written records fpi walbytes readms ms", names, " ")
		        for (i in names) col[names[i]] = i + 2 }
		$1 == n && $2 == k { s += $col[f] }
		END { print s + 0 }' "$LC_DIR/pgss"
}

# in_per_row X: X per newly due row.
in_per_row() { awk -v x="$1" -v r="$LC_BAND" 'BEGIN { printf (x / r >= 10 ? "%.1f" : "%.2f"), x / r }'; }

# in_label LAYOUT: the layout in words.
in_label() { if [ "$1" = random ]; then echo "random order"; else echo "\`seen_at\` order"; fi; }

# in_pair_row LAYOUT LABEL BIG SMALL: one row of the ratios table, trials
# incremental.LAYOUT.BIG against .SMALL.
in_pair_row() {
	local layout=$1 label=$2 big=incremental.$1.$3 small=incremental.$1.$4 e s
	e=$(lc_median "$big" ms)
	s=$(lc_median "$small" ms)
	printf '| %s | %s | %s ms (%s) | %s ms (%s) | **%s×** | %s / %s ms | %s× | %s / %s | %s× |\n' \
		"$(in_label "$layout")" "$label" "$(lc_num "$e")" "$(lc_range "$big")" "$(lc_num "$s")" "$(lc_range "$small")" \
		"$(lc_ratio "$e" "$s")" "$(lc_num "$(lc_median "$big" cpu)")" "$(lc_num "$(lc_median "$small" cpu)")" \
		"$(lc_ratio "$(lc_median "$big" cpu)" "$(lc_median "$small" cpu)")" \
		"$(lc_int "$(lc_median "$big" walrow)")" "$(lc_int "$(lc_median "$small" walrow)")" \
		"$(lc_ratio "$(lc_median "$big" wal)" "$(lc_median "$small" wal)")"
}

# shellcheck disable=SC2016 # Markdown backquotes, not expansions
in_report_ratios() {
	local layout
	echo "| tables in | trial | $(lc_int "$ROWS") rows | $(lc_int "$LC_SMALL") rows | ratio | server CPU, big / small | CPU ratio | WAL bytes/row, big / small | WAL ratio |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
	for layout in random age; do
		in_pair_row "$layout" '`CALL retention.run()`' lc_big lc_small
		in_pair_row "$layout" 'one raw `UPDATE` of the same rows' raw_big raw_small
		in_pair_row "$layout" 'the raw `UPDATE` without the write trigger' plain_big plain_small
		in_pair_row "$layout" '`CALL retention.run()`, `full_page_writes = off`' nofpw_big nofpw_small
	done
}

in_report_blocks() {
	local layout side size name pages band label
	echo "| trial | table pages | pages holding the band | blocks hit/row | read/row | read time, ms | dirtied/row | written/row | WAL records/row | full-page images/row | WAL bytes/row | time, ms |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for layout in random age; do
		for size in big small; do
			IFS=$'\t' read -r _ _ pages band < <(awk -F'\t' -v l="$layout" -v t="lc_$size" '$1 == l && $2 == t' "$LC_DIR/pages")
			for side in engine raw plain; do
				name="diag.$layout.${side}_$size"
				case $side in
				engine) label="\`CALL retention.run()\`" ;;
				raw) label="raw \`UPDATE\`" ;;
				plain) label="raw \`UPDATE\`, no write trigger" ;;
				esac
				printf '| %s, %s rows: %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
					"$(in_label "$layout")" "$(lc_int "$([ "$size" = big ] && echo "$ROWS" || echo "$LC_SMALL")")" "$label" \
					"$(lc_int "$pages")" "$(lc_int "$band")" \
					"$(in_per_row "$(in_pgss "$name" total hit)")" "$(in_per_row "$(in_pgss "$name" total read)")" \
					"$(lc_num "$(in_pgss "$name" total readms)")" \
					"$(in_per_row "$(in_pgss "$name" total dirtied)")" "$(in_per_row "$(in_pgss "$name" total written)")" \
					"$(in_per_row "$(in_pgss "$name" total records)")" "$(in_per_row "$(in_pgss "$name" total fpi)")" \
					"$(lc_int "$(awk -v x="$(in_pgss "$name" total walbytes)" -v r="$LC_BAND" 'BEGIN { print x / r }')")" \
					"$(lc_num "$(in_pgss "$name" total ms)")"
			done
		done
	done
}

# The engine's own statements (nested, from pg_stat_statements) in the
# diagnostic trials on the tables in random order.
in_report_statements() {
	echo "| trial | statement | calls | rows | blocks hit/row | read/row | dirtied/row | full-page images/row | time, ms |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
	awk -F'\t' -v r="$LC_BAND" '
		function f(x) { return sprintf(x / r >= 10 ? "%.1f" : "%.2f", x / r) }
		$1 ~ /^diag\.random\.engine_/ && $2 == "stmt" && ++k[$1] <= 4 {
			q = $14; gsub(/\|/, "\\|", q)
			printf "| %s | `%s` | %d | %d | %s | %s | %s | %s | %.1f |\n", $1, q, $3, $4, f($5), f($6), f($7), f($10), $13
		}' "$LC_DIR/pgss"
}

in_report_wal() {
	echo "| trial | record type | records/row | record bytes/row | full-page image bytes/row |"
	echo "|---|---|---:|---:|---:|"
	awk -F'\t' '$1 ~ /^diag\./ && $3 >= 0.01 { printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' \
		"$LC_DIR/waldump"
}

# in_diag_row TRIAL FIELD: FIELD per row in the diagnostic trial diag.random.TRIAL.
in_diag_row() { in_per_row "$(in_pgss "diag.random.$1" total "$2")"; }

# What the figures of this run say about the ratio on tables in random order.
in_report_why() {
	local pb ps
	pb=$(awk -F'\t' '$1 == "random" && $2 == "lc_big" { print $4 }' "$LC_DIR/pages")
	ps=$(awk -F'\t' '$1 == "random" && $2 == "lc_small" { print $4 }' "$LC_DIR/pages")
	echo
	cat <<TEXT
Why, on tables in random order (the diagnostic trials below): the $(lc_int "$LC_BAND") newly due rows lie on
$(lc_int "$pb") pages of the big table and $(lc_int "$ps") of the small one. The run dirties $(in_diag_row engine_big dirtied)
blocks per row on the big table against $(in_diag_row engine_small dirtied) (the band's heap pages, the pages receiving the
new versions of the rows not updated in place, and for those the leaf pages of both indexes),
each written whole to the WAL as it is first dirtied after the checkpoint: $(lc_ratio "$(lc_median incremental.random.lc_big wal)" "$(lc_median incremental.random.lc_small wal)")× the WAL.
Blocks read from the kernel per row: $(in_diag_row engine_big read) and $(in_diag_row engine_small read). The raw \`UPDATE\` without the
trigger dirties the same blocks ($(in_diag_row plain_big dirtied) and $(in_diag_row plain_small dirtied) per row) and its ratio is
$(lc_ratio "$(lc_median incremental.random.plain_big ms)" "$(lc_median incremental.random.plain_small ms)")×: the floor, what the same rows cost on the bigger table with no engine. With
\`full_page_writes = off\` the run's ratio is $(lc_ratio "$(lc_median incremental.random.nofpw_big ms)" "$(lc_median incremental.random.nofpw_small ms)")×.
TEXT
}

in_report() {
	local big small ratio verdict
	big=$(lc_median incremental.random.lc_big ms)
	small=$(lc_median incremental.random.lc_small ms)
	ratio=$(lc_ratio "$big" "$small")
	verdict=$(lc_verdict "$ratio" le 2)
	echo "## Incremental runs (\`bench/run incremental\`)"
	echo
	echo "Measured on $(bench_machine), with \`ROWS=$ROWS REPEAT=$REPEAT bench/run incremental\`."
	echo
	cat <<TEXT
Issue 11's incremental target: a run with $(lc_int "$LC_BAND") newly due rows on a large table takes at
most 2× the same run on a table 10 times smaller. The lifecycle suite's comparison
(\`lc_incremental\`), with the small table at ROWS/10: two tables of $(lc_int "$ROWS") and $(lc_int "$LC_SMALL")
rows (\`id\` primary key, \`email\`, \`phone\`, \`seen_at\` with an index; half of the rows older
than 370 days, the others younger than 320 days, and $(lc_int "$LC_BAND") rows 340 to 355 days old),
\`email\` labelled \`anonymize after 1 year using hash\`, a first run to completion, a \`VACUUM\`.
Before every trial both tables are put back at 1 year and at the watermarks of that first run,
vacuumed, and one of them is relabelled \`anonymize after 11 months\`: its $(lc_int "$LC_BAND") rows are
newly due; then a \`CHECKPOINT\`, and \`CALL retention.run()\` or one raw \`UPDATE\` of the same rows
on the same table is timed (wall clock, commits included; server CPU: the backend's, from
/proc). Rounds per layout: $REPEAT, the order of the tables alternating from round to round;
medians (min–max). The raw \`UPDATE\`'s own big/small ratio, in the same run, is the floor: what
the same rows cost on the bigger table with no engine at all.
TEXT
	echo
	echo "### Ratios"
	echo
	in_report_ratios
	echo
	cat <<TEXT
The raw \`UPDATE\` fires the table's write trigger, which queues every changed row that is due
(\`retention.late_row\`; emptied before each trial): a cost per row the same on both tables.
Two more comparisons, each with its own $REPEAT rounds after the others, bound the ratio: the
raw \`UPDATE\` without the trigger (\`session_replication_role = replica\`): the same rows and
pages, nothing else; and the run with \`full_page_writes = off\`: no full-page image of the
pages first dirtied after the checkpoint.
TEXT
	echo
	echo "Target (random order, the lifecycle suite's layout): ${ratio}× for ≤ 2×: $verdict$([ "$verdict" = PASS ] || echo " (why: *Where the time goes*, below)")."
	in_report_why
	if [ "$ROWS" -ne 10000000 ]; then
		echo
		echo "The target is stated for a 10,000,000-row table; this run's has $(lc_int "$ROWS") rows."
	fi
	echo
	echo "### Where the time goes"
	echo
	cat <<TEXT
One more trial of each side after the timed rounds, with \`pg_stat_statements\` (\`track = all\`,
for that trial only) and \`track_io_timing\`: the top-level statement's counters (the engine's
nested statements included) per newly due row. Blocks are shared-buffer accesses: *hit* in
\`shared_buffers\` (1 GB), *read* from the kernel (its page cache, or the disk); *written*
are dirty buffers the backend itself had to write out to make room. The pages holding the band
are those of its $(lc_int "$LC_BAND") rows before the trial.
TEXT
	echo
	in_report_blocks
	echo
	echo "The engine's statements in those trials (random order; the 4 touching most blocks):"
	echo
	in_report_statements
	echo
	echo "WAL by record type, per newly due row (\`pg_waldump --stats=record\` of the same trials; under"
	echo "0.01 record per row left out):"
	echo
	in_report_wal
}

suite_incremental() {
	if [ $((ROWS % 100000)) -ne 0 ] || [ "$ROWS" -lt 200000 ]; then
		echo "incremental: ROWS must be a multiple of 100000, at least 200000 (the small table, ROWS/10, holds whole bands of $LC_BAND rows)" >&2
		return 2
	fi
	rm -rf "$LC_DIR"
	as_test_user mkdir -p "$LC_DIR"
	: >"$LC_DIR/trials"
	: >"$LC_DIR/waldump"
	: >"$LC_DIR/pgss"
	: >"$LC_DIR/pages"
	in_stats_on
	lc_incremental random "$REPEAT" in_bounds
	lc_incremental age "$REPEAT" in_bounds
	in_stats_off
	in_report
}
