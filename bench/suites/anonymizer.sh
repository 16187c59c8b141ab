# pg_retention's anonymize stage against PostgreSQL Anonymizer 1.3.2's static
# masking (anon.anonymize_table), on identical data in the same run: a
# ROWS-row customer table whose rows are all past their anonymize delay,
# masked once by CALL retention.run() and once by anon.anonymize_table(), for
# an e-mail mask (retention mask_email, anon.partial_email) and a fake last
# name (retention fake_last_name, anon.fake_last_name). The one raw UPDATE
# with our method is timed too, as the floor, and the same UPDATE in
# committed block ranges (an_ranges_proc), the floor of committed batches.
# Sourced by bench/run.
#
# PostgreSQL Anonymizer is not part of this repository (nor built by it): the
# suite measures it when version 1.3.2 is installed into the PostgreSQL the
# benchmark uses, and says so in BENCHMARKS.md otherwise. To install it, from
# a checkout of its tag 1.3.2 (gitlab.com/dalibo/postgresql_anonymizer):
#   make extension PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
#   make install PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
# shellcheck shell=bash
: "${ROWS:?}" "${REPEAT:?}"

# lc_trial (the timing of one statement, its WAL and the server's CPU time)
# comes from the lifecycle suite.
# shellcheck source=bench/suites/lifecycle.sh
source "$BENCH_ROOT/bench/suites/lifecycle.sh"

AN_DIR=$BENCH_DIR/anonymizer

an_load_template() {
	bench_psql <<SQL
SET client_min_messages = warning;
DROP TABLE IF EXISTS an_template;
CREATE TABLE an_template (id bigint NOT NULL, email text, last_name text, seen_at timestamptz);
SELECT setseed(0.42);
INSERT INTO an_template
SELECT i, 'customer' || i || '@example.' || (ARRAY['com', 'org', 'net', 'co.uk'])[1 + i % 4],
       (ARRAY['Smith', 'Martin', 'Garcia', 'Nguyen', 'Dubois', 'Kowalski'])[1 + i % 6],
       now() - (400 + random() * 700) * interval '1 day'
FROM generate_series(1, $ROWS) AS i;
VACUUM ANALYZE an_template;
SQL
}

# The setup of a trial: a fresh customer table (primary key, age index,
# vacuumed and frozen), then the side's masking declaration.
an_setup() {
	local side=$1 column=$2 ours=$3 theirs=$4
	cat <<SQL
DROP TABLE IF EXISTS customer;
CREATE TABLE customer (LIKE an_template INCLUDING ALL) WITH (autovacuum_enabled = false);
INSERT INTO customer SELECT * FROM an_template;
ALTER TABLE customer ADD PRIMARY KEY (id);
CREATE INDEX ON customer (seen_at);
VACUUM (FREEZE, ANALYZE) customer;
SQL
	case $side in
	engine)
		cat <<SQL
DELETE FROM retention.stage_state;
SECURITY LABEL FOR retention ON TABLE customer IS 'age from seen_at';
SECURITY LABEL FOR retention ON COLUMN customer.$column IS 'anonymize after 1 year using $ours';
SQL
		;;
	anon)
		cat <<SQL
LOAD 'anon';
SECURITY LABEL FOR anon ON COLUMN customer.$column IS 'MASKED WITH FUNCTION $theirs';
SQL
		;;
	esac
}

# an_check_heap OP: fails the bench unless the run just made took the heap
# path (run_detail.access_path), which auto chooses when every row is due.
an_check_heap() {
	local got
	got=$(bench_psql -At -c "SELECT coalesce(string_agg(DISTINCT coalesce(access_path, 'index'), ','), 'none')
		FROM retention.run_detail WHERE action = 'anonymize'
		  AND run_id = (SELECT max(run_id) FROM retention.run_history)")
	if [ "$got" != heap ]; then
		echo "anonymizer: $1: the run's access_path is '$got', not heap" >&2
		return 1
	fi
}

# The limit of committed batches on this table: the heap path's range
# UPDATEs and nothing else, as plain SQL on the unlabelled table, committed
# every AN_RANGE_BLOCKS blocks (about the engine's ranges here, some 11,000
# rows), each changing the versions untouched since the procedure began (the
# engine's guard); no keys kept, no sweep, so neither exactly once nor safe
# beside an application.  $1: the SET clause.
AN_RANGE_BLOCKS=${AN_RANGE_BLOCKS:-115}
an_ranges_proc() {
	cat <<SQL
CREATE OR REPLACE PROCEDURE an_ranges(step int) LANGUAGE plpgsql AS \$\$
DECLARE b bigint := 0; n bigint := pg_relation_size('customer') / 8192; snap pg_snapshot := pg_current_snapshot();
BEGIN
  WHILE b < n LOOP
    UPDATE customer SET $1 WHERE seen_at < now() - interval '1 year'
      AND retention._untouched_since(xmin, snap)
      AND ctid >= format('(%s,0)', b)::tid AND ctid < format('(%s,0)', b + step)::tid;
    COMMIT;
    b := b + step;
  END LOOP;
END \$\$;
SQL
}

# an_compare OP COLUMN OURS THEIRS RAW: REPEAT interleaved rounds of the
# four sides; trials OP.engine, OP.anon, OP.raw, OP.ranges (RAW is
# "UPDATE customer SET ...", whose SET the ranges side reuses).
an_compare() {
	local op=$1 column=$2 ours=$3 theirs=$4 raw=$5 round side sides line
	for round in $(seq 1 "$REPEAT"); do
		log "vs anonymizer, $op: round $round of $REPEAT" >&2
		sides="engine anon raw ranges"
		[ $((round % 2)) -eq 1 ] || sides="ranges anon raw engine"
		for side in $sides; do
			case $side in
			engine) line=$(lc_trial "$(an_setup engine "$column" "$ours" "$theirs")" "CALL retention.run()" \
				"$LC_RUN_ROWS")
				an_check_heap "$op" ;;
			anon) line=$(lc_trial "$(an_setup anon "$column" "$ours" "$theirs")" \
				"SELECT anon.anonymize_table('customer')" "SELECT count(*) FROM customer") ;;
			raw) line=$(lc_trial "$(an_setup raw "$column" "$ours" "$theirs")" "$raw") ;;
			ranges) line=$(lc_trial "$(an_setup raw "$column" "$ours" "$theirs")
$(an_ranges_proc "${raw#UPDATE customer SET }")" "CALL an_ranges($AN_RANGE_BLOCKS)") ;;
			esac
			[ -n "$line" ] || { echo "anonymizer: no measurement for $op.$side" >&2; return 1; }
			printf '%s\t%s\n' "$op.$side" "$line" >>"$AN_DIR/trials"
		done
	done
	if awk -F'\t' -v n="$op.engine" '$1 == n && $4 != '"$ROWS"' { bad = 1 } END { exit !bad }' "$AN_DIR/trials"; then
		echo "anonymizer: a run did not anonymize all $ROWS rows in $op" >&2
		return 1
	fi
}

# an_median NAME FIELD: the median of a trial field (2: ms, 9: server CPU ms).
an_median() {
	awk -F'\t' -v n="$1" -v f="$2" '$1 == n { print $f }' "$AN_DIR/trials" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

an_row() {
	local op=$1 what=$2 e a r g ratio verdict ce ca cr cg
	e=$(an_median "$op.engine" 2)
	a=$(an_median "$op.anon" 2)
	r=$(an_median "$op.raw" 2)
	g=$(an_median "$op.ranges" 2)
	ce=$(an_median "$op.engine" 9)
	ca=$(an_median "$op.anon" 9)
	ratio=$(awk -v a="$a" -v e="$e" 'BEGIN { printf "%.2f", a / e }')
	verdict=$(awk -v x="$ratio" 'BEGIN { print (x >= 2) ? "PASS" : "**MISS**" }')
	cr=$(an_median "$op.raw" 9)
	cg=$(an_median "$op.ranges" 9)
	printf '| %s | %.0f ms | %.0f ms | %.0f ms | %.0f ms | %s× | %s× | %s× | %s× | %s× (CPU %s×) | %s× (CPU %s×) | ≥ 2× | %s |\n' \
		"$what" "$e" "$a" "$r" "$g" "$ratio" \
		"$(awk -v a="$ca" -v e="$ce" 'BEGIN { printf "%.2f", (e > 0) ? a / e : 0 }')" \
		"$(awk -v a="$a" -v r="$r" 'BEGIN { printf "%.2f", a / r }')" \
		"$(awk -v a="$a" -v g="$g" 'BEGIN { printf "%.2f", a / g }')" \
		"$(awk -v e="$e" -v r="$r" 'BEGIN { printf "%.2f", r / e }')" \
		"$(awk -v e="$ce" -v r="$cr" 'BEGIN { printf "%.2f", (e > 0) ? r / e : 0 }')" \
		"$(awk -v e="$e" -v g="$g" 'BEGIN { printf "%.2f", g / e }')" \
		"$(awk -v e="$ce" -v g="$cg" 'BEGIN { printf "%.2f", (e > 0) ? g / e : 0 }')" "$verdict"
}

suite_anonymizer() {
	local available
	available=$(bench_psql -At -c "SELECT count(*) FROM pg_available_extension_versions
		WHERE name = 'anon' AND version = '1.3.2'")
	echo "## vs PostgreSQL Anonymizer 1.3.2 (\`bench/run anonymizer\`)"
	echo
	if [ "$available" != 1 ]; then
		echo "Not measured in the last run: PostgreSQL Anonymizer 1.3.2 was not installed"
		echo "(see bench/suites/anonymizer.sh for how to install it; it is not part of this repository)."
		return 0
	fi
	as_test_user mkdir -p "$AN_DIR"
	: >"$AN_DIR/trials"
	# the extension's script sets labels of its own: its provider must be loaded
	bench_psql -c "LOAD 'anon'" -c "SET client_min_messages = warning" \
		-c "CREATE EXTENSION IF NOT EXISTS anon CASCADE" -c "SELECT anon.init()" >&2
	an_load_template >&2
	an_compare email email mask_email "anon.partial_email(email)" \
		"UPDATE customer SET email = retention.mask_email(email)"
	an_compare last_name last_name fake_last_name "anon.fake_last_name()" \
		"UPDATE customer SET last_name = retention.fake_last_name(last_name)"
	bench_psql -c "DROP TABLE customer, an_template; DELETE FROM retention.stage_state" >&2

	echo "Machine: $(bench_machine). Table: $ROWS rows, all past the anonymize delay, in random age"
	echo "order, with a primary key and an index on the age column. Medians of $REPEAT rounds, the four"
	echo "sides interleaved in each round; times are wall clock with the commits, and the server's CPU"
	echo "time gives the second ratio (steadier on a shared machine)."
	echo
	echo "| masking every row | \`CALL retention.run()\` | \`anon.anonymize_table()\` | raw \`UPDATE\` with our method | its committed ranges alone | Anonymizer ÷ pg_retention | by server CPU | ceiling: Anonymizer ÷ raw \`UPDATE\` | ceiling for committed batches: Anonymizer ÷ ranges | our run's throughput vs the raw \`UPDATE\` | our run vs the ranges alone | target | |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	an_row email "e-mail: \`using mask_email\` vs \`MASKED WITH FUNCTION anon.partial_email(email)\`"
	an_row last_name "last name: \`using fake_last_name\` vs \`MASKED WITH FUNCTION anon.fake_last_name()\`"
	echo
	echo "The ceiling column is the ratio a run with no overhead at all over the one raw \`UPDATE\` with"
	echo "our method would reach: where it is under 2×, the 2× target is out of reach of any engine that"
	echo "updates the rows in place, and what is left to gain is the run's own overhead over that"
	echo "\`UPDATE\` (the first column against the third). The ranges column is the limit of any design"
	echo "that commits in batches (as a run beside an application must): the same \`UPDATE\` as plain SQL,"
	echo "committed every $AN_RANGE_BLOCKS blocks (about the run's ranges here), each changing the row"
	echo "versions untouched since it began (the run's guard), with no key kept and no sweep, so neither"
	echo "exactly once nor safe beside an application; the last ratio is what our run adds to it."
	echo
	echo "Anonymizer's static masking is one \`UPDATE\` of the whole table; pg_retention's run, every row"
	echo "being due, takes the heap path (\`run_detail.access_path\` checked at every run: the suite fails"
	echo "otherwise): committed block-range batches that never wait for the application, then a sweep;"
	echo "its methods are C functions where Anonymizer's are SQL (\`partial_email\`:"
	echo "three regular expressions) or a random lookup in a table of names (\`fake_last_name\`)."
}
