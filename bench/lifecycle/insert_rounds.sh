#!/usr/bin/env bash
# INSERT and COPY of ROWS/10 rows not due (seen in the last 300 days) into a
# labelled and an unlabelled copy of the lifecycle suite's table (issue 11.4:
# the write trigger's WHEN is false for them), ROUNDS interleaved rounds on
# tables built once (each round first deletes the rows the last one wrote and
# vacuums): wall clock and the backend's CPU time (10 ms ticks), medians and
# the median of each round's ratio.  More rounds than the writes suite can
# afford (it builds a fresh 1,000,000-row table for every trial), for
# statements of a few hundred milliseconds.  Prints its figures on stdout.
# Not part of bench/run (no section of its own).
#   ROWS=1000000 ROUNDS=10 bench/lifecycle/insert_rounds.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
export ROWS=${ROWS:-1000000} REPEAT=1
ROUNDS=${ROUNDS:-10}
# shellcheck source=bench/lib.sh
source bench/lib.sh
# shellcheck source=bench/suites/lifecycle.sh
source bench/suites/lifecycle.sh
LC_DIR=$BENCH_DIR/insert_rounds

bench_start
as_test_user mkdir -p "$LC_DIR"
lc_load_template >/dev/null
SOURCE=$(lc_source random)
bench_psql -q >/dev/null <<SQL
SET client_min_messages = warning;
CREATE TABLE wr_new AS SELECT id + $ROWS AS id, email, phone, now() - (id % 300) * interval '1 day' AS seen_at
FROM lc_template WHERE id <= $((ROWS / 10));
COPY wr_new TO '$LC_DIR/new_rows.copy';
$(lc_copy_sql labelled "$SOURCE")
$(lc_copy_sql unlabelled "$SOURCE")
SECURITY LABEL FOR retention ON TABLE labelled IS 'age from seen_at';
SECURITY LABEL FOR retention ON COLUMN labelled.email IS 'anonymize after 1 year using hash';
SQL
TRIALS=$LC_DIR/trials
: >"$TRIALS"
for round in $(seq 1 "$ROUNDS"); do
	sides="labelled unlabelled"
	[ $((round % 2)) -eq 1 ] || sides="unlabelled labelled"
	for op in insert copy; do
		for t in $sides; do
			if [ "$op" = insert ]; then
				statement="INSERT INTO $t SELECT * FROM wr_new"
			else
				statement="COPY $t FROM '$LC_DIR/new_rows.copy'"
			fi
			printf '%s\t%s\t%s\t%s\n' "$op" "$t" "$round" \
				"$(lc_trial "DELETE FROM $t WHERE id > $ROWS; VACUUM $t;" "$statement")" >>"$TRIALS"
		done
	done
done
echo "$ROUNDS rounds, $((ROWS / 10)) rows each (ms, backend CPU ms, WAL bytes: labelled / unlabelled)"
awk -F'\t' '
function median(a, n,   i, j, t) {
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ k = $1 SUBSEP $2 SUBSEP $3; ms[k] = $4; wal[$1, $2] = $5; cpu[k] = $11; ops[$1] = 1; rounds[$3] = 1 }
END {
	for (op in ops) {
		n = 0
		for (r in rounds) {
			n++
			lw[n] = ms[op, "labelled", r]; uw[n] = ms[op, "unlabelled", r]; pw[n] = lw[n] / uw[n]
			lc[n] = cpu[op, "labelled", r]; uc[n] = cpu[op, "unlabelled", r]; pc[n] = uc[n] > 0 ? lc[n] / uc[n] : 1
		}
		mlw = median(lw, n); muw = median(uw, n); mlc = median(lc, n); muc = median(uc, n)
		printf "%s: wall %.0f / %.0f ms = %.2fx (rounds %.2fx); CPU %.0f / %.0f ms = %.2fx (rounds %.2fx); WAL %.2fx\n",
			op, mlw, muw, mlw / muw, median(pw, n), mlc, muc, mlc / muc, median(pc, n), wal[op, "labelled"] / wal[op, "unlabelled"]
	}
}' "$TRIALS"
