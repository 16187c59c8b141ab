# Anonymize in heap order (docs/lifecycle.md, "Values in heap order"): the
# exactly-once guard of a pass, attacked where it is weakest.
#
# A 24,000-row table (fillfactor 100, ages in random physical order, three
# quarters due) gets 'anonymize after 2 years using hash' and runs in heap
# order.  An AFTER UPDATE trigger fails the pass's batch when it reaches a
# row in the middle of the table: the run stops with the pass open, the
# first ranges anonymized, the rest not.  Then, while a prepared transaction
# keeps every dead version on its page (nothing prunable, so each new version
# goes where the free space map points):
#   - the application updates an unwatched, indexed column of 400 rows the
#     pass already anonymized: their new versions land in blocks the pass
#     has not visited yet (checked: the case the guard exists for);
#   - it writes new clear values into 20 anonymized rows (the write trigger
#     queues them), inserts 10 rows already due, deletes 10;
# then, the prepared transaction gone and the table vacuumed, it updates the
# indexed column of 300 clear due rows not yet visited: their new versions
# land in blocks the pass already visited (checked).  The trap removed, the
# next run resumes the pass.  Every row is compared with the model: a due
# row's email is the hash of its clear value exactly once, a row not due is
# untouched, nothing is left queued or recorded, and a third run changes
# nothing.  A second table takes the same path with a composite key of
# text columns (one named with quotes, values with spaces and accents).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/perl';
use RetentionNode;

my $node = RetentionNode::new_node('pass', conf => "max_prepared_transactions = 2\n");
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE pass');
my $db = 'pass';
$node->safe_psql($db, q{
CREATE EXTENSION pg_retention;
CREATE SCHEMA vp;
CREATE TABLE vp.customer (id int PRIMARY KEY, email text NOT NULL, note text NOT NULL,
                          seen_at timestamptz NOT NULL)
  WITH (fillfactor = 100, autovacuum_enabled = false);
CREATE INDEX ON vp.customer (note);
CREATE INDEX ON vp.customer (seen_at);
-- three quarters seen 3 years ago, the rest 1 year ago, in random physical order
INSERT INTO vp.customer
SELECT i, 'customer' || i || '@example.com', 'n',
       now() - CASE WHEN (i * 7919) % 4 < 3 THEN interval '3 years' ELSE interval '1 year' END
             - (i * 7919 % 1000) * interval '1 minute'
FROM generate_series(1, 24000) AS i ORDER BY (i * 7919) % 24000;
-- free space in the second half of the table only: 4 rows in 5 deleted there
DELETE FROM vp.customer
WHERE (ctid::text::point)[0] > (SELECT max((ctid::text::point)[0]) / 2 FROM vp.customer)
  AND id % 5 <> 0;
VACUUM ANALYZE vp.customer;
CREATE TABLE vp.original AS SELECT * FROM vp.customer;
-- the trap: the pass's batch fails on one due row in the middle of the table
CREATE TABLE vp.trap (id int);
INSERT INTO vp.trap
SELECT id FROM vp.customer WHERE seen_at < now() - interval '2 years'
ORDER BY abs((ctid::text::point)[0] - (SELECT max((ctid::text::point)[0]) / 6 FROM vp.customer))
LIMIT 1;
CREATE FUNCTION vp.spring() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IN (SELECT id FROM vp.trap) THEN
        RAISE EXCEPTION 'trap';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER spring AFTER UPDATE ON vp.customer FOR EACH ROW EXECUTE FUNCTION vp.spring();
SECURITY LABEL FOR retention ON TABLE vp.customer IS 'age from seen_at';
SECURITY LABEL FOR retention ON COLUMN vp.customer.email IS 'anonymize after 2 years using hash';
});

sub run_lifecycle
{
	my ($settings) = @_;
	$settings //= '';
	my ($rc, $out, $err) = $node->psql($db,
		"SET client_min_messages = warning; SET retention.batch_max_rows = 300; "
		  . "SET retention.heap_path_min_pages = 64; $settings "
		  . "CALL retention.run()");
	return $node->safe_psql($db,
		'SELECT h.status || coalesce(\'|\' || d.access_path, \'\') || \'|\' || coalesce(d.error, \'\') '
		  . 'FROM retention.run_history h LEFT JOIN retention.run_detail d ON d.run_id = h.run_id '
		  . "AND d.action = 'anonymize' ORDER BY h.run_id DESC LIMIT 1");
}

# A trap on vp.TABLE: an AFTER UPDATE trigger that fails the batch updating
# the row whose KEY (a column name, quoted as needed) the query PICK selects
# (as k), with the message "TABLE trap".
sub set_trap
{
	my ($table, $key, $pick) = @_;
	$node->safe_psql($db, qq{
CREATE TABLE vp.${table}_trap AS $pick;
CREATE FUNCTION vp.${table}_trap() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
    IF NEW.$key IN (SELECT k FROM vp.${table}_trap) THEN
        RAISE EXCEPTION '$table trap';
    END IF;
    RETURN NULL;
END \$\$;
CREATE TRIGGER ${table}_trap AFTER UPDATE ON vp.$table FOR EACH ROW EXECUTE FUNCTION vp.${table}_trap();
});
}

# ---- the first run: stopped by the trap, the pass open ----------------------
# nothing the run or the application deletes from now on can be pruned: a new
# version goes where the free space map points, never to its old page
$node->safe_psql($db, q{BEGIN; SELECT pg_current_xact_id(); PREPARE TRANSACTION 'hold'});
my $first = run_lifecycle();
like($first, qr/^partial\|heap\|.*trap/, 'the first run takes the heap path and fails at the trap')
  or diag($first);
my ($next_block, $end_block) = split /\|/, $node->safe_psql($db,
	'SELECT next_block, end_block FROM retention.value_pass');
ok($next_block > 0 && $next_block < $end_block,
	"the pass is open in the middle of the table (block $next_block of $end_block)");
my $done_first = $node->safe_psql($db, q{
SELECT count(*) FROM vp.customer c JOIN vp.original o USING (id) WHERE c.email <> o.email});
ok($done_first > 1000, "the first ranges were anonymized ($done_first rows)");
# a key of one integer column: the ranges keep the keys as integers, no text
is($node->safe_psql($db, q{
SELECT count(*) FILTER (WHERE row_ids IS NOT NULL) > 0, count(*) FILTER (WHERE row_keys IS NOT NULL),
       coalesce(sum(cardinality(row_ids)), 0) = (SELECT count(*) FROM vp.customer c JOIN vp.original o USING (id)
                                                 WHERE c.email <> o.email)
FROM retention.value_pass_done}), 't|0|t', 'the open pass kept its ranges\' keys as integers, one per row anonymized');
# the trap has done its work
$node->safe_psql($db, 'DELETE FROM vp.trap');

# ---- application writes while nothing can be pruned ----------------------------
$node->safe_psql($db, q{
CREATE TABLE vp.moved AS
WITH u AS (
    UPDATE vp.customer c SET note = 'moved ' || c.id
    WHERE c.id IN (SELECT c2.id FROM vp.customer c2 JOIN vp.original o USING (id)
                   WHERE c2.email <> o.email AND c2.note = 'n' ORDER BY c2.id LIMIT 400)
    RETURNING c.id, (c.ctid::text::point)[0]::bigint AS block)
SELECT * FROM u;
CREATE TABLE vp.rewritten AS
WITH u AS (
    UPDATE vp.customer c SET email = 'new' || c.id || '@example.org'
    WHERE c.id IN (SELECT c2.id FROM vp.customer c2 JOIN vp.original o USING (id)
                   WHERE c2.email <> o.email AND c2.note = 'n' ORDER BY c2.id DESC LIMIT 20)
    RETURNING c.id, c.email)
SELECT * FROM u;
INSERT INTO vp.customer
SELECT 100000 + i, 'late' || i || '@example.com', 'n', now() - interval '5 years'
FROM generate_series(1, 10) AS i;
CREATE TABLE vp.deleted AS
WITH d AS (DELETE FROM vp.customer WHERE id IN (SELECT id FROM vp.customer WHERE id % 997 = 0)
           RETURNING id)
SELECT * FROM d;
});
my $into_unvisited = $node->safe_psql($db,
	"SELECT count(*) FROM vp.moved WHERE block >= $next_block AND block < $end_block");
ok($into_unvisited > 0,
	"$into_unvisited anonymized rows got their new version in blocks the pass has not visited")
  or diag($node->safe_psql($db, "SELECT block / 10 * 10, count(*) FROM vp.moved GROUP BY 1 ORDER BY 1"));
$node->safe_psql($db, q{COMMIT PREPARED 'hold'});
$node->safe_psql($db, 'VACUUM vp.customer');
$node->safe_psql($db, qq{
CREATE TABLE vp.hidden AS
WITH u AS (
    UPDATE vp.customer c SET note = 'hidden ' || c.id
    WHERE c.id IN (SELECT c2.id FROM vp.customer c2 JOIN vp.original o USING (id)
                   WHERE c2.email = o.email AND o.seen_at < now() - interval '2 years'
                     AND (c2.ctid::text::point)[0] >= $next_block ORDER BY c2.id LIMIT 300)
    RETURNING c.id, (c.ctid::text::point)[0]::bigint AS block)
SELECT * FROM u;
});
my $into_visited = $node->safe_psql($db,
	"SELECT count(*) FROM vp.hidden WHERE block < $next_block");
ok($into_visited > 0,
	"$into_visited clear due rows got their new version in blocks the pass already visited");

# ---- the next run resumes the pass ---------------------------------------------
my $second = run_lifecycle();
is($second, 'succeeded|heap|', 'the next run resumes the pass and succeeds');

# the model: every row's email from its clear value
my $model = q{
WITH clear AS (
    SELECT o.id, coalesce(r.email, o.email) AS email, o.seen_at FROM vp.original o
    LEFT JOIN vp.rewritten r USING (id)
    WHERE o.id NOT IN (SELECT id FROM vp.deleted)
    UNION ALL
    SELECT 100000 + i, 'late' || i || '@example.com', now() - interval '5 years'
    FROM generate_series(1, 10) AS i)
SELECT count(*) FILTER (WHERE c.id IS NULL) AS missing,
       count(*) FILTER (WHERE m.seen_at < now() - interval '2 years'
                          AND c.email = retention.hash(m.email)) AS hashed_once,
       count(*) FILTER (WHERE m.seen_at < now() - interval '2 years'
                          AND c.email = retention.hash(retention.hash(m.email))) AS hashed_twice,
       count(*) FILTER (WHERE m.seen_at < now() - interval '2 years' AND c.email = m.email) AS clear_due,
       count(*) FILTER (WHERE m.seen_at >= now() - interval '2 years' AND c.email <> m.email) AS changed_not_due,
       count(*) FILTER (WHERE m.seen_at < now() - interval '2 years') AS due
FROM clear m LEFT JOIN vp.customer c USING (id)};
my ($missing, $once, $twice, $clear, $changed, $due) = split /\|/, $node->safe_psql($db, $model);
is($missing, 0, 'no row is lost');
is($twice, 0, 'no row is hashed twice, wherever its new version landed');
is($clear, 0, 'no due row is left clear, wherever its new version landed');
is($changed, 0, 'no row not due is changed');
is($once, $due, "every one of the $due due rows is its clear value hashed once");
is($node->safe_psql($db, q{
SELECT (SELECT count(*) FROM retention.value_pass) + (SELECT count(*) FROM retention.value_pass_done)
     + (SELECT count(*) FROM retention.late_row)}),
	0, 'the pass and the queue are empty');
my $third = run_lifecycle();
is($third, 'succeeded|index|', 'a third run succeeds, on the age index') or diag($third);
is($node->safe_psql($db, 'SELECT rows_anonymized FROM retention.run_history ORDER BY run_id DESC LIMIT 1'),
	0, '... and anonymizes nothing');

# ---- a composite key of text columns -------------------------------------------
$node->safe_psql($db, q{
SECURITY LABEL FOR retention ON COLUMN vp.customer.email IS NULL;
SECURITY LABEL FOR retention ON TABLE vp.customer IS NULL;
CREATE TABLE vp.member (club text, "Nick ""name""" text, email text NOT NULL, seen date NOT NULL,
                        PRIMARY KEY (club, "Nick ""name"""))
  WITH (fillfactor = 100, autovacuum_enabled = false);
INSERT INTO vp.member
SELECT 'club ' || (i % 7), 'nick ' || i || ' é', 'm' || i || '@example.com',
       current_date - CASE WHEN i % 5 < 4 THEN 1500 ELSE 10 END - i % 30
FROM generate_series(1, 15000) AS i ORDER BY md5(i::text);
ANALYZE vp.member;
CREATE TABLE vp.member_original AS SELECT * FROM vp.member;
SECURITY LABEL FOR retention ON TABLE vp.member IS 'age from seen';
SECURITY LABEL FOR retention ON COLUMN vp.member.email IS 'anonymize after 3 years using hash';
});
my $member_model = q{
SELECT count(*) FILTER (WHERE o.seen < current_date - 1095 AND m.email = retention.hash(o.email)),
       count(*) FILTER (WHERE o.seen < current_date - 1095 AND m.email = retention.hash(retention.hash(o.email))),
       count(*) FILTER (WHERE o.seen < current_date - 1095 AND m.email = o.email),
       count(*) FILTER (WHERE o.seen >= current_date - 1095 AND m.email <> o.email),
       count(*) FILTER (WHERE o.seen < current_date - 1095)
FROM vp.member_original o JOIN vp.member m USING (club, "Nick ""name""")};
# the first run fails in its second range (an AFTER UPDATE trigger raises on one row)
set_trap('member', '"Nick ""name"""', q{
SELECT min("Nick ""name""") AS k FROM vp.member
WHERE club = 'club 3' AND seen < current_date - 1095 AND (ctid::text::point)[0] > 40});
my $stopped = run_lifecycle("SET retention.batch_max_rows = 100;");
like($stopped, qr/^partial\|heap\|.*member trap/, 'the first member run stops at its trap')
  or diag($stopped);
my $open = $node->safe_psql($db, 'SELECT count(*) FROM retention.value_pass');
is($node->safe_psql($db, q{
SELECT count(*) FILTER (WHERE row_keys IS NOT NULL) > 0, count(*) FILTER (WHERE row_ids IS NOT NULL)
FROM retention.value_pass_done}), 't|0', 'a composite key is kept as text');
$node->safe_psql($db, 'DROP TRIGGER member_trap ON vp.member');
my $resumed = run_lifecycle();
is($resumed, 'succeeded|heap|', "the member pass, left open ($open), ends")
  or diag($resumed);
my ($m_once, $m_twice, $m_clear, $m_changed, $m_due) = split /\|/, $node->safe_psql($db, $member_model);
is($m_twice + $m_clear + $m_changed, 0, 'composite text key: no row twice, none left clear, none changed early');
is($m_once, $m_due, "composite text key: all $m_due due rows hashed once");

# ---- an integer key that becomes text while its pass is open ---------------------
# The ranges kept the keys as integers; the ALTER rewrites every row (each
# version then written after the pass began: the ranges leave them all), so
# the sweep finds every row due and leaves only those the integers name.
$node->safe_psql($db, q{
SECURITY LABEL FOR retention ON COLUMN vp.member.email IS NULL;
SECURITY LABEL FOR retention ON TABLE vp.member IS NULL;
CREATE TABLE vp.tag (id bigint PRIMARY KEY, email text NOT NULL, seen date NOT NULL)
  WITH (fillfactor = 100, autovacuum_enabled = false);
INSERT INTO vp.tag
SELECT i::bigint * 1000003 - 5000000000, 't' || i || '@example.com', current_date - CASE WHEN i % 4 < 3 THEN 1500 ELSE 10 END
FROM generate_series(1, 12000) AS i ORDER BY md5(i::text);
ANALYZE vp.tag;
CREATE TABLE vp.tag_original AS SELECT * FROM vp.tag;
SECURITY LABEL FOR retention ON TABLE vp.tag IS 'age from seen';
SECURITY LABEL FOR retention ON COLUMN vp.tag.email IS 'anonymize after 3 years using hash';
});
set_trap('tag', 'id', q{
SELECT min(id) AS k FROM vp.tag WHERE seen < current_date - 1095 AND (ctid::text::point)[0] > 30});
my $tag_stopped = run_lifecycle("SET retention.batch_max_rows = 100;");
like($tag_stopped, qr/^partial\|heap\|.*tag trap/, 'the first tag run stops at its trap')
  or diag($tag_stopped);
my $tag_kept = $node->safe_psql($db, q{
SELECT coalesce(sum(cardinality(row_ids)), 0) FROM retention.value_pass_done WHERE row_keys IS NULL});
ok($tag_kept > 0, "the open pass kept $tag_kept integer keys");
$node->safe_psql($db, q{
DROP TRIGGER tag_trap ON vp.tag;
ALTER TABLE vp.tag ALTER COLUMN id TYPE text;
ALTER TABLE vp.tag_original ALTER COLUMN id TYPE text;
});
my $tag_resumed = run_lifecycle();
is($tag_resumed, 'succeeded|heap|', 'the pass resumes on the text key and ends') or diag($tag_resumed);
my ($t_once, $t_wrong, $t_changed, $t_due) = split /\|/, $node->safe_psql($db, q{
SELECT count(*) FILTER (WHERE o.seen < current_date - 1095 AND t.email = retention.hash(o.email)),
       count(*) FILTER (WHERE o.seen < current_date - 1095 AND t.email <> retention.hash(o.email)),
       count(*) FILTER (WHERE o.seen >= current_date - 1095 AND t.email <> o.email),
       count(*) FILTER (WHERE o.seen < current_date - 1095)
FROM vp.tag_original o JOIN vp.tag t USING (id)});
is("$t_wrong|$t_changed", '0|0', 'integer key turned text mid-pass: no due row twice or clear, no other row changed');
is($t_once, $t_due, "integer key turned text mid-pass: all $t_due due rows hashed once");

$node->stop;
done_testing();
