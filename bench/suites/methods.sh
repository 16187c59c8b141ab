# The anonymization methods, one value at a time: SELECT count(f(col)) FROM t
# over ROWS realistic rows, against raw SQL doing comparable work in the same
# run: md5(col), pgcrypto's HMAC-SHA-256, and count(col) for the cost of the
# scan itself.  Sourced by bench/run, which provides bench/lib.sh.
# shellcheck shell=bash
# ROWS and REPEAT come from bench/run.
: "${ROWS:?}" "${REPEAT:?}"

# A 32-byte key for pgcrypto's hmac(), the baseline of the keyed methods.
METHODS_KEY="'0123456789abcdef0123456789abcdef'"
# The words the raw SQL equivalents of the fakes pick from.
METHODS_FIRST_NAMES="ARRAY['James','Mary','Robert','Patricia','John','Jennifer','Michael','Linda','David','Elizabeth','William','Barbara','Richard','Susan','Joseph','Jessica','Thomas','Sarah','Charles','Karen','Alice','Bruno','Chloé','Farid','Gabriel','Hélène','Ines','Jules','Karim','Léa','Marc','Nina','Oscar','Paula','Sofia','Yuki','Mateo','Amara','Noah','Zoé']"
METHODS_LAST_NAMES="ARRAY['Smith','Johnson','Williams','Brown','Jones','Garcia','Miller','Davis','Rodriguez','Martinez','Hernandez','Lopez','Wilson','Anderson','Thomas','Taylor','Moore','Jackson','Martin','Lee','Bernard','Dubois','Durand','Lefèvre','Moreau','Laurent','Simon','Michel','Müller','Rossi','Nguyen','Kowalski','Silva','Petit','O''Brien','Schmidt','Novak','Tanaka','Haddad','Okafor']"

# The benchmark table, filled reproducibly (setseed): ASCII e-mail addresses
# like 'mary.garcia412@example.com', names with some accents, phone numbers
# in three formats, IPv4 and some IPv6 addresses.
methods_load() {
	bench_psql <<SQL
DROP TABLE IF EXISTS t;
CREATE TABLE t (id bigint, email text, name text, phone text, amount numeric, n int,
                d date, ts timestamptz, ip inet);
SELECT setseed(0.42);
INSERT INTO t
SELECT i,
       lower(translate(f || '.' || l, 'éèëçüöñ''', 'eeecuon')) || nr || '@' || dom,
       f || ' ' || l,
       CASE phone_format
         WHEN 0 THEN '+1 ' || area || '-555-' || lpad(line::text, 4, '0')
         WHEN 1 THEN '(' || area || ') 555-' || lpad(line::text, 4, '0')
         ELSE '+33 6 ' || to_char(line * 7919 % 100000000, 'FM00 00 00 00')
       END,
       round((random() * 2000)::numeric, 2),
       floor(random() * 100000)::int,
       date '1940-01-01' + floor(random() * 29000)::int,
       timestamptz '2025-01-01 00:00:00+00' - random() * interval '5 years',
       CASE WHEN random() < 0.85
         THEN (concat_ws('.', 1 + floor(random() * 223)::int, floor(random() * 256)::int,
                         floor(random() * 256)::int, floor(random() * 256)::int))::inet
         ELSE ('2001:db8:' || to_hex(floor(random() * 65536)::int) || ':'
               || to_hex(floor(random() * 65536)::int) || '::' || to_hex(floor(random() * 65536)::int))::inet
       END
FROM (SELECT i,
             ($METHODS_FIRST_NAMES)[1 + floor(random() * 40)::int] AS f,
             ($METHODS_LAST_NAMES)[1 + floor(random() * 40)::int] AS l,
             floor(random() * 1000)::int AS nr,
             (ARRAY['example.com','example.org','mail.example.net','example.co.uk'])[1 + floor(random() * 4)::int] AS dom,
             floor(random() * 3)::int AS phone_format,
             200 + floor(random() * 800)::int AS area,
             floor(random() * 10000)::int AS line
      FROM generate_series(1, $ROWS) AS i) AS r;
VACUUM ANALYZE t;
SQL
}

# The measured expressions.  method EXPR COLUMN BASELINE TARGET [EQUIVALENT]
#   COLUMN    the column read (its count(col) is the scan cost to subtract)
#   BASELINE  hmac or md5: the same function over the same column when it is
#             text, md5(email) otherwise
#   TARGET    the largest acceptable ratio, or empty: reported for information
#   EQUIVALENT raw SQL doing about the same work, also measured
M_EXPR=()
M_COL=()
M_BASE=()
M_TARGET=()
M_EQUIV=()
method() {
	M_EXPR+=("$1")
	M_COL+=("$2")
	M_BASE+=("$3")
	M_TARGET+=("$4")
	M_EQUIV+=("${5:-}")
}

methods_define() {
	local k=$METHODS_KEY fn=$METHODS_FIRST_NAMES
	M_EXPR=() M_COL=() M_BASE=() M_TARGET=() M_EQUIV=()
	method "retention.hash(email)" email hmac 1.0 \
		"encode(hmac(email, $k, 'sha256'), 'hex')"
	method "retention.mask_email(email)" email md5 1.5 \
		"left(email, 1) || repeat('*', strpos(email, '@') - 2) || substr(email, strpos(email, '@'))"
	method "retention.partial(phone, 2, '******', 2)" phone md5 1.5 \
		"left(phone, 2) || '******' || right(phone, 2)"
	method "retention.fake_first_name(name)" name md5 2.0 \
		"($fn)[1 + get_byte(hmac(name, $k, 'sha256'), 0) % 40]"
	method "retention.fake_last_name(name)" name md5 2.0
	method "retention.fake_email(email)" email md5 2.0
	method "retention.fake_phone(phone)" phone md5 2.0
	method "retention.fake_city(name)" name md5 2.0
	method "retention.fake_address(name)" name md5 2.0
	method "retention.fake_company(name)" name md5 2.0
	method "retention.fake_first_name(name, 'fr')" name md5 2.0
	method "retention.fake_address(name, 'fr')" name md5 2.0
	method "retention.hash(email, 'base64', 16)" email hmac "" \
		"left(translate(encode(hmac(email, $k, 'sha256'), 'base64'), '+/', '-_'), 16)"
	method "retention.redact(name)" name md5 "" \
		"translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx0000000000')"
	method "retention.random_first_name()" id md5 "" \
		"($fn)[1 + floor(random() * 40)::int]"
	method "retention.random_last_name()" id md5 ""
	method "retention.random_email()" id md5 ""
	method "retention.random_phone()" id md5 ""
	method "retention.random_city()" id md5 ""
	method "retention.random_address()" id md5 ""
	method "retention.random_company()" id md5 ""
	method "retention.noise(amount, 0.1)" amount md5 "" \
		"(amount::float8 * (1 + 0.1 * (2 * random() - 1)))::numeric"
	method "retention.noise(n, 0.1)" n md5 "" \
		"round(n * (1 + 0.1 * (2 * random() - 1)))::int"
	method "retention.jitter(d, '30 days')" d md5 "" \
		"d + (floor(random() * 61)::int - 30)"
	method "retention.jitter(ts, '1 hour')" ts md5 "" \
		"ts + (2 * random() - 1) * interval '1 hour'"
	method "retention.generalize(d, 'month')" d md5 "" \
		"date_trunc('month', d)::date"
	method "retention.generalize(ts, 'year')" ts md5 "" \
		"date_trunc('year', ts)"
	method "retention.generalize(n, 10)" n md5 "" \
		"floor(n / 10.0)::int * 10"
	method "retention.generalize(amount, 100)" amount md5 "" \
		"floor(amount / 100) * 100"
	method "retention.ip_prefix(ip, 24)" ip md5 "" \
		"network(set_masklen(ip, 24))"
}

# Text columns have their own md5 baseline; the others use md5(email).
methods_md5_column() {
	case $1 in email | name | phone) echo "$1" ;; *) echo email ;; esac
}

# Every expression once on one row: fails early, naming what is missing, and
# gives the example outputs shown in the report.  Prints "index<TAB>example".
methods_examples() {
	local i missing=() out
	for i in "${!M_EXPR[@]}"; do
		if out=$(bench_psql -At -c "SELECT ${M_EXPR[$i]} FROM t WHERE id = 1" 2>&1); then
			printf '%s\t%s\n' "$i" "$out"
		else
			missing+=("${M_EXPR[$i]}: $(head -1 <<<"$out")")
		fi
		if [ -n "${M_EQUIV[$i]}" ] && ! out=$(bench_psql -At -c "SELECT ${M_EQUIV[$i]} FROM t WHERE id = 1" 2>&1); then
			missing+=("equivalent of ${M_EXPR[$i]}: $(head -1 <<<"$out")")
		fi
	done
	if [ ${#missing[@]} -gt 0 ]; then
		printf 'cannot benchmark:\n' >&2
		printf '  %s\n' "${missing[@]}" >&2
		return 1
	fi
}

# The queries, as bench_median_times wants them: baselines, then methods
# (m<i>) and their raw SQL equivalents (e<i>).
methods_queries() {
	local c i
	for c in id email name phone amount n d ts ip; do
		printf 'scan_%s\tSELECT count(%s) FROM t\n' "$c" "$c"
	done
	for c in email name phone; do
		printf 'md5_%s\tSELECT count(md5(%s)) FROM t\n' "$c" "$c"
	done
	printf 'hmac_email\tSELECT count(encode(hmac(email, %s, %s), %s)) FROM t\n' "$METHODS_KEY" "'sha256'" "'hex'"
	for i in "${!M_EXPR[@]}"; do
		printf 'm%s\tSELECT count(%s) FROM t\n' "$i" "${M_EXPR[$i]}"
		[ -z "${M_EQUIV[$i]}" ] || printf 'e%s\tSELECT count(%s) FROM t\n' "$i" "${M_EQUIV[$i]}"
	done
}

# A Markdown table cell: '|' escaped, the word list and the key shortened.
md() {
	local cell=${1//"$METHODS_FIRST_NAMES"/ARRAY[40 first names]}
	cell=${cell//"$METHODS_KEY"/key}
	printf '%s' "${cell//|/\\|}"
}

suite_methods() {
	local times examples i col base equiv
	methods_define
	log "loading $ROWS rows" >&2
	methods_load >&2
	methods_examples >"$BENCH_DIR/methods.examples"
	log "timing $(methods_queries | wc -l) queries, $REPEAT runs each after a warm-up run" >&2
	times=$BENCH_DIR/methods.times
	methods_queries | bench_median_times "$REPEAT" >"$times"

	# One line per method for the report, with everything it needs.
	local rows=$BENCH_DIR/methods.rows
	: >"$rows"
	for i in "${!M_EXPR[@]}"; do
		col=${M_COL[$i]}
		if [ "${M_BASE[$i]}" = hmac ]; then base=hmac_email; else base=md5_$(methods_md5_column "$col"); fi
		examples=$(awk -F'\t' -v i="$i" '$1 == i { sub(/^[^\t]*\t/, ""); print; exit }' "$BENCH_DIR/methods.examples")
		equiv=${M_EQUIV[$i]:+e$i}
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$(md "${M_EXPR[$i]}")" "scan_$col" "$base" \
			"${M_TARGET[$i]}" "$equiv" "$(md "${M_EQUIV[$i]}")" "$(md "$examples")" >>"$rows"
	done

	echo "## Anonymization methods"
	echo
	echo "Measured on $(bench_machine), with \`ROWS=$ROWS REPEAT=$REPEAT bench/run methods\`."
	echo
	cat <<'TEXT'
Each query is `SELECT count(f(col)) FROM t` on one core (`max_parallel_workers_per_gather = 0`),
timed by `EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON)` (executor time, no round trip); every query
runs once to warm up, then REPEAT times, all queries interleaved; the median is reported. The
baselines run in the same session: `md5(col)` over the same text column, pgcrypto's
`encode(hmac(col, key, 'sha256'), 'hex')`, and `count(col)`, the cost of the scan alone.

- **ratio** = method time / baseline time, the whole query. This is the ratio the target applies to.
- **net ratio** = (method − scan) / (baseline − scan), where scan is `count(col)` over the column
  each one reads: the per-value work alone, which the cost of the scan dilutes in the plain ratio.

`md5()` and pgcrypto's `hmac()` set up an OpenSSL context for every value, so much of their
per-value cost is overhead rather than hashing: they are lenient yardsticks. The raw SQL
equivalents in the last table are the stricter comparison.
TEXT
	echo
	awk -F'\t' -v rows="$ROWS" -v timesfile="$times" -v rowsfile="$rows" '
		function ns(ms) { return ms * 1e6 / rows }
		function fmt(x) { return sprintf(x >= 100 ? "%.0f" : (x >= 10 ? "%.1f" : "%.2f"), x) }
		function ratio(a, b) { return b > 0 ? sprintf("%.2f×", a / b) : "n/a" }
		# (a - its scan) / (b - its scan): the per-value work alone
		function net(a, as, b, bs) { return (b - bs) > 0 ? sprintf("%.2f×", (a - as) / (b - bs)) : "n/a" }
		function basename(b) { return b == "hmac_email" ? "pgcrypto hmac(email)" : "md5(" substr(b, 5) ")" }
		BEGIN {
			while ((getline line < timesfile) > 0) {
				split(line, f, "\t"); med[f[1]] = f[2]; lo[f[1]] = f[3]; hi[f[1]] = f[4]; order[++nq] = f[1]
			}
			while ((getline line < rowsfile) > 0) {
				split(line, f, "\t"); k = ++nm
				id[k] = f[1]; expr[k] = f[2]; scan[k] = f[3]; base[k] = f[4]; target[k] = f[5]
				eq[k] = f[6]; eqexpr[k] = f[7]; example[k] = f[8]
				bscan[k] = "scan_" substr(base[k], index(base[k], "_") + 1)
			}

			print "### Baselines"
			print ""
			print "| query | median ms | ns/row | min–max ms |"
			print "|---|---:|---:|---:|"
			for (q = 1; q <= nq; q++) {
				name = order[q]
				if (name !~ /^(scan|md5|hmac)_/) continue
				if (name ~ /^scan_/) label = "count(" substr(name, 6) ")"
				else if (name ~ /^md5_/) label = "count(md5(" substr(name, 5) "))"
				else label = "count(encode(hmac(email, key, '"'"'sha256'"'"'), '"'"'hex'"'"'))"
				printf "| `%s` | %s | %s | %s–%s |\n", label, fmt(med[name]), fmt(ns(med[name])), fmt(lo[name]), fmt(hi[name])
			}

			print ""
			print "### Targets"
			print ""
			print "| method | example (row 1) | median ms | ns/row | baseline | ratio | target | result | net ratio | net result |"
			print "|---|---|---:|---:|---|---:|---:|---|---:|---|"
			for (k = 1; k <= nm; k++) {
				if (target[k] == "") continue
				m = med["m" id[k]]; b = med[base[k]]; s = med[scan[k]]; bs = med[bscan[k]]
				r = m / b; nr = (b - bs) > 0 ? (m - s) / (b - bs) : 0
				res = r <= target[k] + 1e-9 ? "PASS" : "**MISS**"
				nres = nr <= target[k] + 1e-9 ? "PASS" : "**MISS**"
				if (r > target[k] + 1e-9) missed = missed sprintf("\n- `%s`: %.2f× %s (target ≤ %.1f×), %.0f ns/row against %.0f ns/row; net %.2f×", expr[k], r, basename(base[k]), target[k], ns(m), ns(b), nr)
				printf "| `%s` | `%s` | %s | %s | %s | %s | ≤ %.1f× | %s | %s | %s |\n", expr[k], example[k], fmt(m), fmt(ns(m)),
					basename(base[k]), ratio(m, b), target[k], res, net(m, s, b, bs), nres
			}
			print ""
			if (missed != "") print "**Targets missed** (whole-query ratio):" missed
			else print "Every target is met (whole-query ratio)."

			print ""
			print "### Other methods (for information)"
			print ""
			print "Against md5 of the same text column (`md5(email)` for the columns that are not text,"
			print "and for the random fakes, which read no column: their scan is `count(id)`), and against"
			print "raw SQL doing about the same work where there is an obvious one."
			print ""
			print "| method | example (row 1) | median ms | ns/row | vs md5 | net vs md5 | raw SQL equivalent | its ms | vs SQL | net vs SQL |"
			print "|---|---|---:|---:|---:|---:|---|---:|---:|---:|"
			for (k = 1; k <= nm; k++) {
				if (target[k] != "" && eq[k] == "") continue
				m = med["m" id[k]]; b = med[base[k]]; s = med[scan[k]]; bs = med[bscan[k]]
				vs = target[k] == "" ? ratio(m, b) : "see above"; nvs = target[k] == "" ? net(m, s, b, bs) : "see above"
				if (base[k] == "hmac_email") { vs = vs " (hmac)"; nvs = nvs " (hmac)" }
				if (eq[k] != "") { e = med[eq[k]]; printf "| `%s` | `%s` | %s | %s | %s | %s | `%s` | %s | %s | %s |\n", expr[k], example[k], fmt(m), fmt(ns(m)), vs, nvs, eqexpr[k], fmt(e), ratio(m, e), net(m, s, e, s) }
				else printf "| `%s` | `%s` | %s | %s | %s | %s | | | | |\n", expr[k], example[k], fmt(m), fmt(ns(m)), vs, nvs
			}
		}' </dev/null
}
