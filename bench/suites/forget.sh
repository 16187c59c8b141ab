# Forgetting and exporting one subject: retention.forget_subject() against
# the same deletes written by hand in one transaction, and
# retention.export_subject(), on five tables totalling ROWS rows (10M for
# the full-size run: ROWS=10000000 bench/run forget) with every index an
# application would have.  Each subject holds 50 rows: a customer, 4
# addresses, 10 orders of 3 lines each, 5 tickets.  Latencies are measured
# by pgbench (-M prepared, one client), as the client sees them, commit
# included; every transaction takes a new subject.  Sourced by bench/run,
# which provides bench/lib.sh.
# shellcheck shell=bash
# ROWS and REPEAT come from bench/run.
: "${ROWS:?}" "${REPEAT:?}"

FORGET_DIR=$BENCH_DIR/forget
# Transactions per pgbench run; REPEAT rounds of each operation, interleaved.
FORGET_BATCH=${FORGET_BATCH:-100}
FORGET_WARMUP=50

# Subjects are visited through id = (n * FORGET_STRIDE) % customers + 1 for
# n = 1, 2, ...: scattered over the tables, never the same twice.
FORGET_STRIDE=7919

forget_customers() { echo $((ROWS / 50)); }

forget_load() {
	local n
	n=$(forget_customers)
	bench_psql <<SQL
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS fb CASCADE;
CREATE SCHEMA fb;
CREATE TABLE fb.customer (id int PRIMARY KEY, name text, email text, phone text, seen_at timestamptz NOT NULL);
CREATE TABLE fb.address (id bigint PRIMARY KEY, customer_id int NOT NULL, line text, city text);
CREATE TABLE fb.orders (id bigint PRIMARY KEY, customer_id int NOT NULL, ordered_at timestamptz NOT NULL,
                        total numeric);
CREATE TABLE fb.order_line (id bigint PRIMARY KEY, order_id bigint NOT NULL, product text, qty int);
CREATE TABLE fb.ticket (id bigint PRIMARY KEY, customer_id int NOT NULL, opened_at timestamptz NOT NULL,
                        body text);
INSERT INTO fb.customer
SELECT i, 'Customer ' || i, 'customer' || i || '@example.org', '+33 6 ' || lpad((i * 7919 % 100000000)::text, 8, '0'),
       now() - (i % 700) * interval '1 day'
FROM generate_series(1, $n) i;
INSERT INTO fb.address
SELECT i, (i - 1) / 4 + 1, i || ' Main Street', 'City ' || i % 100 FROM generate_series(1, $n * 4::bigint) i;
INSERT INTO fb.orders
SELECT i, (i - 1) / 10 + 1, now() - (i % 900) * interval '1 day', i % 500 FROM generate_series(1, $n * 10::bigint) i;
INSERT INTO fb.order_line
SELECT i, (i - 1) / 3 + 1, 'product ' || i % 1000, 1 + i % 5 FROM generate_series(1, $n * 30::bigint) i;
INSERT INTO fb.ticket
SELECT i, (i - 1) / 5 + 1, now() - (i % 600) * interval '1 day', 'ticket body ' || i
FROM generate_series(1, $n * 5::bigint) i;
ALTER TABLE fb.address ADD FOREIGN KEY (customer_id) REFERENCES fb.customer;
ALTER TABLE fb.orders ADD FOREIGN KEY (customer_id) REFERENCES fb.customer;
ALTER TABLE fb.order_line ADD FOREIGN KEY (order_id) REFERENCES fb.orders;
ALTER TABLE fb.ticket ADD FOREIGN KEY (customer_id) REFERENCES fb.customer;
CREATE INDEX ON fb.address (customer_id);
CREATE INDEX ON fb.orders (customer_id);
CREATE INDEX ON fb.order_line (order_id);
CREATE INDEX ON fb.ticket (customer_id);
SECURITY LABEL FOR retention ON TABLE fb.customer IS 'subject customer(id)';
SECURITY LABEL FOR retention ON COLUMN fb.customer.name IS 'personal';
SECURITY LABEL FOR retention ON COLUMN fb.customer.email IS 'personal';
SECURITY LABEL FOR retention ON COLUMN fb.customer.phone IS 'personal';
SECURITY LABEL FOR retention ON TABLE fb.address IS 'subject customer';
SECURITY LABEL FOR retention ON COLUMN fb.address.line IS 'personal';
SECURITY LABEL FOR retention ON TABLE fb.orders IS 'subject customer';
SECURITY LABEL FOR retention ON TABLE fb.order_line IS 'subject customer';
SECURITY LABEL FOR retention ON TABLE fb.ticket IS 'subject customer';
SECURITY LABEL FOR retention ON COLUMN fb.ticket.body IS 'personal';
CREATE SEQUENCE fb.next_subject;
VACUUM ANALYZE;
SQL
}

# The pgbench scripts.  Each transaction first draws its subject.
forget_scripts() {
	local n draw
	n=$(forget_customers)
	draw="SELECT (nextval('fb.next_subject') * $FORGET_STRIDE) % $n + 1 AS id \\gset"
	cat >"$FORGET_DIR/forget.sql" <<SQL
$draw
SELECT retention.forget_subject('customer', :id::text, 'benchmark');
SQL
	cat >"$FORGET_DIR/by_hand.sql" <<SQL
$draw
BEGIN;
DELETE FROM fb.order_line WHERE order_id IN (SELECT id FROM fb.orders WHERE customer_id = :id);
DELETE FROM fb.orders WHERE customer_id = :id;
DELETE FROM fb.address WHERE customer_id = :id;
DELETE FROM fb.ticket WHERE customer_id = :id;
DELETE FROM fb.customer WHERE id = :id;
COMMIT;
SQL
	cat >"$FORGET_DIR/export.sql" <<SQL
$draw
SELECT retention.export_subject('customer', :id::text);
SQL
	# the rows an export returns, read by hand: one query per table
	cat >"$FORGET_DIR/read_by_hand.sql" <<SQL
$draw
SELECT (SELECT jsonb_agg(to_jsonb(c)) FROM fb.customer c WHERE c.id = :id),
       (SELECT jsonb_agg(to_jsonb(a) ORDER BY a.id) FROM fb.address a WHERE a.customer_id = :id),
       (SELECT jsonb_agg(to_jsonb(o) ORDER BY o.id) FROM fb.orders o WHERE o.customer_id = :id),
       (SELECT jsonb_agg(to_jsonb(l) ORDER BY l.id) FROM fb.order_line l
        WHERE l.order_id IN (SELECT id FROM fb.orders WHERE customer_id = :id)),
       (SELECT jsonb_agg(to_jsonb(t) ORDER BY t.id) FROM fb.ticket t WHERE t.customer_id = :id);
SQL
}

# forget_pgbench A B COUNT [SUFFIX OPTIONS]: COUNT transactions of A.sql and
# as many of B.sql, picked at random one by one, in one new session (with
# server OPTIONS, e.g. -c synchronous_commit=off): both see the same moments
# of the machine.  For each script, appends the latency (microseconds) of its
# first transaction in the session to NAME[SUFFIX].first, of the others once
# the session is warm (after FORGET_SESSION_WARMUP transactions) to
# NAME[SUFFIX].lat, and counts failed transactions in NAME[SUFFIX].failed.
FORGET_SESSION_WARMUP=5
forget_pgbench() {
	local a=$1 b=$2 count=$3 suffix=${4:-} options=${5:-}
	(cd "$FORGET_DIR" && rm -f "pgbench_log_$a$suffix".* &&
		as_test_user env PGOPTIONS="$options" pgbench -h "$BENCH_DIR" -p "$BENCH_PORT" -U postgres -n \
			-M prepared -c 1 -t $((2 * count)) -f "$a.sql@1" -f "$b.sql@1" \
			-l --log-prefix="pgbench_log_$a$suffix" "$BENCH_DB" >/dev/null 2>&1 &&
		cat "pgbench_log_$a$suffix".* | awk -v warm="$FORGET_SESSION_WARMUP" \
			-v a="$a$suffix" -v b="$b$suffix" '
			{ name = $4 == 0 ? a : b }
			$3 !~ /^[0-9]+$/ { failed[name]++; next }
			!(name in seen) { seen[name] = 1; print $3 >>(name ".first"); next }
			FNR > warm { print $3 >>(name ".lat") }
			END { for (n in failed) print failed[n] >>(n ".failed") }')
}

# Failed transactions of NAME, if any, as a sentence.
forget_failed() {
	local f=$FORGET_DIR/$1.failed
	[ -f "$f" ] || return 0
	echo "$(awk '{ n += $1 } END { print n }' "$f") transactions of $1 failed and are not counted."
}

# "p50 p99 mean count max" in milliseconds of NAME.lat (or of the file NAME).
forget_stats() {
	local file=$FORGET_DIR/$1
	[ -f "$file" ] || file=$file.lat
	sort -n "$file" | awk '
		{ v[NR] = $1; sum += $1 }
		END {
			p50 = v[int((NR - 1) * 0.50) + 1]; p99 = v[int((NR - 1) * 0.99) + 1]
			printf "%.2f %.2f %.2f %d %.2f\n", p50 / 1000, p99 / 1000, sum / NR / 1000, NR, v[NR] / 1000
		}'
}

suite_forget() {
	local n rows_per total name round
	n=$(forget_customers)
	total=$((n * 50))
	if [ $((n % FORGET_STRIDE)) -eq 0 ]; then
		echo "ROWS / 50 must not be a multiple of $FORGET_STRIDE" >&2
		return 1
	fi
	mkdir -p "$FORGET_DIR"
	[ "$(id -u)" -ne 0 ] || chown "$(test_user):" "$FORGET_DIR"
	log "loading $n subjects, $total rows in 5 tables" >&2
	forget_load >&2
	forget_scripts
	rm -f "$FORGET_DIR"/*.lat "$FORGET_DIR"/*.first

	log "warming up" >&2
	forget_pgbench export read_by_hand "$FORGET_WARMUP"
	forget_pgbench forget by_hand "$FORGET_WARMUP"
	rm -f "$FORGET_DIR"/*.lat "$FORGET_DIR"/*.first "$FORGET_DIR"/*.failed
	# exports first, on subjects not forgotten yet (the draw sequence restarts)
	bench_psql -c "ALTER SEQUENCE fb.next_subject RESTART WITH 1000"
	log "timing export_subject and the same reads by hand, $REPEAT x $FORGET_BATCH each" >&2
	for round in $(seq 1 "$REPEAT"); do
		forget_pgbench export read_by_hand "$FORGET_BATCH"
	done
	log "timing forget_subject and the same deletes by hand, $REPEAT x $FORGET_BATCH each" >&2
	for round in $(seq 1 "$REPEAT"); do
		forget_pgbench forget by_hand "$FORGET_BATCH"
	done
	# the same without waiting for the WAL flush at commit: the work alone
	for round in $(seq 1 "$REPEAT"); do
		forget_pgbench forget by_hand "$FORGET_BATCH" _async "-c synchronous_commit=off"
	done
	local left
	left=$(bench_psql -At -c "SELECT count(*) FROM retention.erasure_log")
	log "$left erasures logged" >&2

	read -r f50 f99 fmean fn _ <<<"$(forget_stats forget)"
	read -r h50 h99 hmean hn _ <<<"$(forget_stats by_hand)"
	read -r e50 e99 emean en _ <<<"$(forget_stats export)"
	read -r r50 r99 rmean rn _ <<<"$(forget_stats read_by_hand)"
	read -r fa50 fa99 famean fan _ <<<"$(forget_stats forget_async)"
	read -r ha50 ha99 hamean han _ <<<"$(forget_stats by_hand_async)"
	read -r c50 _ _ cn cmax <<<"$(forget_stats forget.first)"
	read -r ce50 _ _ _ cemax <<<"$(forget_stats export.first)"

	echo "## Forgetting and exporting a subject"
	echo
	echo "Measured on $(bench_machine), with \`ROWS=$ROWS REPEAT=$REPEAT bench/run forget\`."
	echo
	cat <<TEXT
Five tables totalling $total rows ($n customers, each with 4
addresses, 10 orders of 3 lines, 5 tickets: 50 rows a subject), every foreign key indexed. Each
transaction forgets (or exports) a different subject, drawn at random; latencies are measured by
pgbench (\`-M prepared\`, one client) as the client sees them, commit included, over $REPEAT rounds of
$FORGET_BATCH transactions of each kind, picked at random one after the other in the same session
so that both see the same moments of the machine, after $FORGET_WARMUP of each to warm up. Each round is
a new session; its first $FORGET_SESSION_WARMUP transactions are left out of the table (the first call in
a session reads the declarations and plans the statements: reported below).

- **by hand**: the five \`DELETE\`s an application would write, children first, in one transaction.
- **forget_subject**: the same rows deleted, plus what forget adds: locking the subject's
  referenced rows first, the archive and data key lookups, and the receipt in the erasure log.
- **read by hand**: one query returning the subject's rows of the five tables as JSON.
- **export_subject**: the same rows, plus the archive and the declarations, as one document.
TEXT
	echo
	echo "| operation | transactions | p50 ms | p99 ms | mean ms | p50 vs by hand | target | result |"
	echo "|---|---:|---:|---:|---:|---:|---|---|"
	awk -v f50="$f50" -v f99="$f99" -v fmean="$fmean" -v fn="$fn" \
		-v h50="$h50" -v h99="$h99" -v hmean="$hmean" -v hn="$hn" \
		-v e50="$e50" -v e99="$e99" -v emean="$emean" -v en="$en" \
		-v r50="$r50" -v r99="$r99" -v rmean="$rmean" -v rn="$rn" 'BEGIN {
		ratio = f50 / h50
		ok = (ratio <= 1.5 && f50 <= 5) ? "PASS" : "**MISS**"
		eok = (e50 <= 10) ? "PASS" : "**MISS**"
		printf "| deletes by hand, one transaction | %d | %.2f | %.2f | %.2f | 1.00× | | |\n", hn, h50, h99, hmean
		printf "| `retention.forget_subject` | %d | %.2f | %.2f | %.2f | %.2f× | ≤ 1.5× and p50 ≤ 5 ms | %s |\n", fn, f50, f99, fmean, ratio, ok
		printf "| reads by hand, one query | %d | %.2f | %.2f | %.2f | | | |\n", rn, r50, r99, rmean
		printf "| `retention.export_subject` | %d | %.2f | %.2f | %.2f | %.2f× | p50 ≤ 10 ms | %s |\n", en, e50, e99, emean, e50 / r50, eok
		printf "\nforget_subject p99 against the deletes by hand: %.2f×.\n", f99 / h99
	}'
	for name in forget by_hand export read_by_hand forget_async by_hand_async; do
		forget_failed "$name"
	done
	echo
	echo "The first call in a new session (median and worst of the $cn rounds) also reads the"
	echo "declarations and the foreign keys and plans its statements: forget_subject $c50 ms (worst"
	echo "$cmax ms), export_subject $ce50 ms (worst $cemax ms)."
	echo
	echo "The commit waits for the WAL flush. The same"
	echo "transactions with \`synchronous_commit = off\`, the work alone (for information):"
	echo
	echo "| operation | transactions | p50 ms | p99 ms | mean ms | p50 vs by hand |"
	echo "|---|---:|---:|---:|---:|---:|"
	awk -v f50="$fa50" -v f99="$fa99" -v fmean="$famean" -v fn="$fan" \
		-v h50="$ha50" -v h99="$ha99" -v hmean="$hamean" -v hn="$han" 'BEGIN {
		printf "| deletes by hand, one transaction | %d | %.2f | %.2f | %.2f | 1.00× |\n", hn, h50, h99, hmean
		printf "| `retention.forget_subject` | %d | %.2f | %.2f | %.2f | %.2f× |\n", fn, f50, f99, fmean, f50 / h50
	}'
}
