# Anonymize in heap order beside an application that keeps writing, against
# an oracle (docs/lifecycle.md, "Values in heap order").
#
# A 20,000-row table (ages in random physical order, 70 % due) is anonymized
# in heap order in small ranges while an application procedure, committing
# every few rows, updates an unwatched indexed column of random rows (moving
# them between pages), writes new clear e-mails into random rows, inserts rows
# (some already due) and deletes some; every e-mail it writes is logged in
# the same transaction.  After the application stops, one more run (the late
# rows queued behind the watermark).  The oracle, in plain SQL: each live row's
# last clear e-mail (the original, or the last one logged); a due row must hold
# its hash exactly once, a row not due its clear value, and every row not
# deleted must be there.  RANDOM_SEED (default: the time) reproduces the
# application's choices.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use lib 'test/perl';
use RetentionNode;

my $seed = $ENV{RANDOM_SEED} // (time() % 100000);
note("seed $seed (RANDOM_SEED=$seed replays the application's choices)");
my $node = RetentionNode::new_node('concurrent');
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', qq{
CREATE EXTENSION pg_retention;
CREATE SCHEMA vp;
CREATE TABLE vp.customer (id int PRIMARY KEY, email text NOT NULL, note text NOT NULL,
                          seen_at timestamptz NOT NULL)
  WITH (fillfactor = 90, autovacuum_enabled = false);
CREATE INDEX ON vp.customer (note);
CREATE INDEX ON vp.customer (seen_at);
SELECT setseed($seed / 100000.0);
INSERT INTO vp.customer
SELECT i, 'customer' || i || '\@example.com', 'n',
       now() - CASE WHEN random() < 0.7 THEN interval '3 years' ELSE interval '1 year' END
             - (i % 1000) * interval '1 minute'
FROM generate_series(1, 20000) AS i ORDER BY random();
VACUUM ANALYZE vp.customer;
CREATE TABLE vp.original AS SELECT id, email, seen_at FROM vp.customer;
-- every e-mail the application writes, and every row it deletes
CREATE TABLE vp.written (seq bigserial, id int, email text, seen_at timestamptz);
CREATE TABLE vp.deleted (id int);
CREATE TABLE vp.stop (at timestamptz);
CREATE PROCEDURE vp.application(seed double precision) LANGUAGE plpgsql AS \$\$
DECLARE
    n int := 0;
    r int;
    e text;
    next_id int := 1000000;
BEGIN
    PERFORM setseed(seed);
    WHILE NOT EXISTS (SELECT FROM vp.stop) AND n < 100000 LOOP
        n := n + 1;
        r := 1 + floor(random() * 20000)::int;
        CASE floor(random() * 10)::int
        WHEN 0, 1, 2, 3, 4 THEN   -- an unwatched column (indexed: its new version moves)
            UPDATE vp.customer SET note = 'note ' || n WHERE id = r;
        WHEN 5, 6 THEN            -- a new clear e-mail
            e := 'new' || n || '\@example.org';
            UPDATE vp.customer SET email = e WHERE id = r;
            IF FOUND THEN
                INSERT INTO vp.written (id, email) VALUES (r, e);
            END IF;
        WHEN 7, 8 THEN            -- a new row, already due or not
            next_id := next_id + 1;
            e := 'late' || next_id || '\@example.net';
            INSERT INTO vp.customer VALUES (next_id, e, 'n',
                now() - CASE WHEN random() < 0.5 THEN interval '4 years' ELSE interval '1 month' END);
            INSERT INTO vp.written (id, email, seen_at)
            SELECT next_id, e, seen_at FROM vp.customer WHERE id = next_id;
        ELSE                      -- a deleted row
            DELETE FROM vp.customer WHERE id = r;
            IF FOUND THEN
                INSERT INTO vp.deleted VALUES (r);
            END IF;
        END CASE;
        IF n % 5 = 0 THEN
            COMMIT;
        END IF;
    END LOOP;
    COMMIT;
END \$\$;
SECURITY LABEL FOR retention ON TABLE vp.customer IS 'age from seen_at';
SECURITY LABEL FOR retention ON COLUMN vp.customer.email IS 'anonymize after 2 years using hash';
});

my ($out, $err) = ('', '');
my $app = IPC::Run::start(
	[ $node->installed_command('psql'), '-XAtq', '-d', $node->connstr('app'), '-c',
	  sprintf('CALL vp.application(%.5f)', $seed / 100000.0) ],
	'>', \$out, '2>', \$err);
# the application has started writing
$node->poll_query_until('app', 'SELECT count(*) > 20 FROM vp.written');

my $run = $node->safe_psql('app', q{
SET client_min_messages = warning;
SET retention.batch_max_rows = 200;
SET retention.access_path = heap;
CALL retention.run();
SELECT h.status || '|' || coalesce(d.access_path, '') || '|' || coalesce(d.error, '')
FROM retention.run_history h JOIN retention.run_detail d USING (run_id)
WHERE d.action = 'anonymize' ORDER BY h.run_id DESC LIMIT 1});
like($run, qr/^(succeeded|partial)\|heap\|/, "the run beside the application takes the heap path ($run)");
my $writes = $node->safe_psql('app', 'SELECT count(*) FROM vp.written');
$node->safe_psql('app', 'INSERT INTO vp.stop VALUES (now())');
$app->finish;
is($err, '', 'the application ran without an error');
ok($writes > 100, "the application wrote $writes e-mails while the run went on");

# after the application: the late rows (and a pass left open by a held row) finish
for my $i (1 .. 2)
{
	$node->safe_psql('app', 'SET client_min_messages = warning; CALL retention.run()');
}
is($node->safe_psql('app', q{SELECT status FROM retention.run_history ORDER BY run_id DESC LIMIT 1}),
	'succeeded', 'the runs after it succeed');

my ($lost, $once, $twice, $clear, $changed, $due, $extra) = split /\|/, $node->safe_psql('app', q{
WITH last AS (
    SELECT DISTINCT ON (id) id, email FROM vp.written ORDER BY id, seq DESC),
model AS (
    SELECT o.id, coalesce(l.email, o.email) AS email, o.seen_at FROM vp.original o
    LEFT JOIN last l USING (id)
    UNION ALL
    SELECT w.id, l.email, w.seen_at FROM vp.written w JOIN last l USING (id)
    WHERE w.seen_at IS NOT NULL),
live AS (SELECT * FROM model WHERE id NOT IN (SELECT id FROM vp.deleted))
SELECT count(*) FILTER (WHERE c.id IS NULL),
       count(*) FILTER (WHERE m.seen_at < now() - interval '2 years' AND c.email = retention.hash(m.email)),
       count(*) FILTER (WHERE m.seen_at < now() - interval '2 years'
                          AND c.email = retention.hash(retention.hash(m.email))),
       count(*) FILTER (WHERE m.seen_at < now() - interval '2 years' AND c.email = m.email),
       count(*) FILTER (WHERE m.seen_at >= now() - interval '2 years' AND c.email <> m.email),
       count(*) FILTER (WHERE m.seen_at < now() - interval '2 years'),
       (SELECT count(*) FROM vp.customer) - count(c.id)
FROM live m LEFT JOIN vp.customer c USING (id)});
is($lost, 0, 'no live row is lost');
is($extra, 0, 'no row is there that the model does not know');
is($twice, 0, 'no row is hashed twice');
is($clear, 0, 'no due row is left clear');
is($changed, 0, 'no row not due is changed');
is($once, $due, "all $due due rows are their last clear e-mail hashed once");
is($node->safe_psql('app', q{
SELECT (SELECT count(*) FROM retention.value_pass) + (SELECT count(*) FROM retention.value_pass_done)
     + (SELECT count(*) FROM retention.late_row)}),
	0, 'the pass and the queue are empty');

$node->stop;
done_testing();
