# Every lifecycle stage on Citus tables, run by the coordinator (issue 12).
#
# A coordinator and two workers (CitusCluster).  Distributed tables: a
# subject table `customer` (distributed on its key) and its colocated child
# `purchase` (distributed on customer_id, a foreign key to customer), a
# range-partitioned `event` distributed on region; a reference table
# `country`.  Labels set after distribution.  A keyed method (hash), which
# the shards cannot run, is computed on the coordinator.  Ages are whole days plus 12
# hours old, so no row crosses a cutoff while the test runs.  Small batches
# (37 rows) so every stage takes many.  After the runs every row is checked
# against what was due, from local copies of the originals on the
# coordinator: no wrong row changed, nothing done twice (the second run
# finds nothing), children archived before their parents.  Then the
# archive purge, check()'s warning about the keyed method, forget and export of a subject, and a run terminated mid-batch
# followed by a run that completes with nothing lost or doubled.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use lib 'test/perl';
use CitusCluster;

CitusCluster::skip_unless_citus();
my $cluster = CitusCluster->new('stages', conf => "retention.worker_enabled = off\n");
my $c = $cluster->coordinator;
my $sql = sub { return $cluster->sql($c, $_[0]); };

$sql->(q{
CREATE TABLE customer (
    id int PRIMARY KEY,
    email text NOT NULL,
    phone text NOT NULL,
    token text NOT NULL,
    seen_at timestamptz NOT NULL
);
CREATE TABLE purchase (
    customer_id int NOT NULL REFERENCES customer (id),
    id int NOT NULL,
    note text,
    email text NOT NULL,
    bought_at timestamptz NOT NULL,
    PRIMARY KEY (customer_id, id)
);
CREATE TABLE event (
    region int NOT NULL,
    id int NOT NULL,
    at timestamptz NOT NULL,
    PRIMARY KEY (region, id, at)
) PARTITION BY RANGE (at);
DO $$
DECLARE
    y timestamptz;
BEGIN
    FOR k IN 0..8 LOOP
        y := date_trunc('year', now()) - make_interval(years => 8 - k);
        EXECUTE format('CREATE TABLE %I PARTITION OF event FOR VALUES FROM (%L) TO (%L)',
                       'event_' || to_char(y, 'YYYY'), y, y + interval '1 year');
    END LOOP;
END
$$;
CREATE TABLE country (code text PRIMARY KEY, name text NOT NULL, updated_at timestamptz NOT NULL);
SELECT create_distributed_table('customer', 'id');
SELECT create_distributed_table('purchase', 'customer_id', colocate_with => 'customer');
SELECT create_distributed_table('event', 'region');
SELECT create_reference_table('country');

-- 400 customers seen 0 to 8 years ago, two purchases each bought before
INSERT INTO customer
SELECT i, 'customer' || i || '@example.com', '+33 6 ' || lpad(i::text, 8, '0'), 'tok' || i,
       now() - make_interval(days => (i * 7919) % 2920, hours => 12)
FROM generate_series(1, 400) AS i;
INSERT INTO purchase
SELECT c.id, k, 'order ' || k || ' for ' || c.email, c.email,
       c.seen_at - make_interval(days => (c.id * 13 + k * 101) % 400)
FROM customer c CROSS JOIN generate_series(0, 1) AS k;
INSERT INTO event
SELECT i % 7, i, now() - make_interval(days => (i * 6007) % 2920, hours => 12)
FROM generate_series(1, 700) AS i;
INSERT INTO country
SELECT 'c' || i, 'country ' || i, now() - make_interval(days => i * 10, hours => 12)
FROM generate_series(1, 60) AS i;

-- the originals, as local tables of the coordinator
CREATE TABLE orig_customer AS SELECT * FROM customer;
CREATE TABLE orig_purchase AS SELECT * FROM purchase;
CREATE TABLE orig_event AS SELECT * FROM event;
CREATE TABLE orig_country AS SELECT * FROM country;
});

$sql->(q{
SECURITY LABEL FOR retention ON TABLE customer IS
  'subject customer(id); age from seen_at; archive after 3 years; purge after 6 years';
SECURITY LABEL FOR retention ON COLUMN customer.email IS 'anonymize after 1 year using mask_email';
SECURITY LABEL FOR retention ON COLUMN customer.phone IS 'minimize to redact';
SECURITY LABEL FOR retention ON COLUMN customer.token IS 'anonymize after 1 year using hash';
SECURITY LABEL FOR retention ON TABLE purchase IS
  'subject customer via customer_id; age from bought_at; archive after 2 years; purge after 5 years';
SECURITY LABEL FOR retention ON COLUMN purchase.note IS 'purge after 1 year';
SECURITY LABEL FOR retention ON COLUMN purchase.email IS 'anonymize after 6 months using redact';
SECURITY LABEL FOR retention ON TABLE event IS 'age from at; purge after 4 years';
SECURITY LABEL FOR retention ON TABLE country IS 'age from updated_at; purge after 1 year';
});

like($sql->(q{SELECT string_agg(severity || ' ' || coalesce(column_name::text, '-') || ': ' || problem, E'\n')
              FROM retention.check() WHERE table_name = 'customer'::regclass}),
	qr/warning token: method hash cannot run on the Citus table/,
	'check(): a keyed method on a distributed table is reported');

my $due = sub { my ($col, $delay) = @_; return "$col < now() - interval '$delay'"; };
my %expected = (
	# values go first: rows later archived or purged are anonymized too
	# two columns of customer: email (mask_email, on the shards) and token (hash, on the coordinator)
	anonymized => $sql->("SELECT 2 * (SELECT count(*) FROM orig_customer WHERE "
		  . $due->('seen_at', '1 year') . ") + (SELECT count(*) FROM orig_purchase WHERE "
		  . $due->('bought_at', '6 months') . ')'),
	values_purged => $sql->("SELECT count(*) FROM orig_purchase WHERE " . $due->('bought_at', '1 year')),
	archived => $sql->("SELECT (SELECT count(*) FROM orig_customer WHERE "
		  . $due->('seen_at', '3 years') . ' AND NOT ' . $due->('seen_at', '6 years')
		  . ") + (SELECT count(*) FROM orig_purchase WHERE "
		  . $due->('bought_at', '2 years') . ' AND NOT ' . $due->('bought_at', '5 years') . ')'),
);
note(join(', ', map { "$_ $expected{$_}" } sort keys %expected));

my $run = sub {
	my ($settings) = @_;
	$sql->("SET client_min_messages = warning; SET retention.batch_max_rows = 37; "
		  . ($settings // '') . ' CALL retention.run();');
	return $sql->('SELECT status, rows_anonymized, values_purged, rows_archived, rows_minimized '
		  . 'FROM retention.run_history ORDER BY run_id DESC LIMIT 1');
};

my ($status, $anonymized, $values_purged, $archived, $minimized) = split /\|/, $run->();
is($status, 'succeeded', 'first run: succeeded');
is($anonymized, $expected{anonymized}, 'first run: every due value anonymized once');
is($values_purged, $expected{values_purged}, 'first run: every due value purged once');
is($archived, $expected{archived}, 'first run: every due row archived once');
is($minimized, '400', 'first run: every customer minimized');
is($sql->(q{SELECT string_agg(table_name::text || ' ' || action || ' ' || column_name, ', ')
            FROM retention.run_detail WHERE run_id = (SELECT max(run_id) FROM retention.run_history)
            AND status <> 'done'}),
	'', 'first run: every stage done');
is($sql->(q{SELECT string_agg(DISTINCT access_path, ',') FROM retention.run_detail
            WHERE run_id = (SELECT max(run_id) FROM retention.run_history) AND action IN ('purge', 'archive')}),
	'key', 'purges and archives of Citus tables take the key path');

# ---- every row where it belongs --------------------------------------------
my %violations = (
	customer => q{
WITH arch AS (SELECT (row_data->>'id')::int AS id, row_data FROM retention.archived_rows('customer'))
SELECT
  count(*) FILTER (WHERE l.id IS NOT NULL AND a.id IS NOT NULL) AS both_places,
  count(*) FILTER (WHERE l.id IS NULL AND a.id IS NULL AND NOT o.seen_at < now() - interval '6 years') AS lost,
  count(*) FILTER (WHERE (l.id IS NOT NULL OR a.id IS NOT NULL) AND o.seen_at < now() - interval '6 years') AS not_purged,
  count(*) FILTER (WHERE a.id IS NOT NULL AND NOT o.seen_at < now() - interval '3 years') AS archived_early,
  count(*) FILTER (WHERE l.id IS NOT NULL AND o.seen_at < now() - interval '3 years') AS not_archived,
  count(*) FILTER (WHERE l.email IS DISTINCT FROM CASE WHEN o.seen_at < now() - interval '1 year'
                   THEN retention.mask_email(o.email) ELSE o.email END AND l.id IS NOT NULL) AS wrong_email,
  count(*) FILTER (WHERE l.phone IS DISTINCT FROM retention.redact(o.phone) AND l.id IS NOT NULL) AS wrong_phone,
  count(*) FILTER (WHERE l.token IS DISTINCT FROM CASE WHEN o.seen_at < now() - interval '1 year'
                   THEN retention.hash(o.token) ELSE o.token END AND l.id IS NOT NULL) AS wrong_token
FROM orig_customer o LEFT JOIN customer l USING (id) LEFT JOIN arch a USING (id)},
	purchase => q{
WITH arch AS (SELECT (row_data->>'customer_id')::int AS customer_id, (row_data->>'id')::int AS id
              FROM retention.archived_rows('purchase'))
SELECT
  count(*) FILTER (WHERE l.id IS NOT NULL AND a.id IS NOT NULL) AS both_places,
  count(*) FILTER (WHERE l.id IS NULL AND a.id IS NULL AND NOT o.bought_at < now() - interval '5 years') AS lost,
  count(*) FILTER (WHERE (l.id IS NOT NULL OR a.id IS NOT NULL) AND o.bought_at < now() - interval '5 years') AS not_purged,
  count(*) FILTER (WHERE a.id IS NOT NULL AND NOT o.bought_at < now() - interval '2 years') AS archived_early,
  count(*) FILTER (WHERE l.id IS NOT NULL AND o.bought_at < now() - interval '2 years') AS not_archived,
  count(*) FILTER (WHERE l.id IS NOT NULL AND l.note IS DISTINCT FROM CASE WHEN o.bought_at < now() - interval '1 year'
                   THEN NULL ELSE o.note END) AS wrong_note,
  count(*) FILTER (WHERE l.id IS NOT NULL AND l.email IS DISTINCT FROM CASE WHEN o.bought_at < now() - interval '6 months'
                   THEN retention.redact(o.email) ELSE o.email END) AS wrong_email
FROM orig_purchase o LEFT JOIN purchase l USING (customer_id, id) LEFT JOIN arch a USING (customer_id, id)},
	event => q{
SELECT
  count(*) FILTER (WHERE l.id IS NULL AND NOT o.at < now() - interval '4 years') AS lost,
  count(*) FILTER (WHERE l.id IS NOT NULL AND o.at < now() - interval '4 years') AS not_purged
FROM orig_event o LEFT JOIN event l USING (region, id, at)},
	country => q{
SELECT
  count(*) FILTER (WHERE l.code IS NULL AND NOT o.updated_at < now() - interval '1 year') AS lost,
  count(*) FILTER (WHERE l.code IS NOT NULL AND o.updated_at < now() - interval '1 year') AS not_purged
FROM orig_country o LEFT JOIN country l USING (code)},
);

sub check_rows
{
	my ($when) = @_;
	for my $table (sort keys %violations)
	{
		my $v = $sql->($violations{$table});
		ok($v =~ /^0(\|0)*$/, "$when: every $table row where it belongs ($v)");
	}
}
check_rows('after the first run');

is($sql->(q{SELECT count(*) FROM pg_inherits WHERE inhparent = 'event'::regclass}),
	$sql->(q{SELECT count(*) FROM generate_series(0, 8) k
	         WHERE date_trunc('year', now()) - make_interval(years => 8 - k) + interval '1 year'
	               > now() - interval '4 years'}),
	'expired partitions of the distributed partitioned table were dropped');
is($sql->(q{SELECT count(*) || ' ' || sum(done) FROM retention.run_detail
            WHERE table_name = 'country'::regclass AND action = 'purge'
            AND run_id = (SELECT max(run_id) FROM retention.run_history)}),
	'1 ' . $sql->(q{SELECT count(*) FROM orig_country WHERE updated_at < now() - interval '1 year'}),
	'the reference table is purged once');
ok($sql->(q{SELECT max(updated_at) FILTER (WHERE table_name = 'purchase'::regclass)
                   <= min(started_at) FILTER (WHERE table_name = 'customer'::regclass)
            FROM retention.run_detail WHERE action = 'archive'
            AND run_id = (SELECT max(run_id) FROM retention.run_history)}) eq 't',
	'the colocated child is archived before its parent');

($status, $anonymized, $values_purged, $archived, $minimized) = split /\|/, $run->();
is("$anonymized $values_purged $archived $minimized", '0 0 0 0',
	'second run: nothing is done twice');
check_rows('after the second run');

# ---- archive purge ------------------------------------------------------------
my $expiring = $sql->(q{
WITH u AS (UPDATE retention_archive.archived_row SET purge_after = now() - interval '1 day'
           WHERE relid = 'purchase'::regclass AND id % 2 = 0 RETURNING 1)
SELECT count(*) FROM u});
ok($expiring > 0, "$expiring archived purchases made to expire");
$run->();
is($sql->('SELECT archive_purged FROM retention.run_history ORDER BY run_id DESC LIMIT 1'),
	$expiring, 'archived rows past their purge date are purged once');

# ---- forget and export of a subject -----------------------------------------
my $subject = $sql->(q{SELECT min(customer_id) FROM purchase WHERE customer_id IN (SELECT id FROM customer)});
my $export = $sql->("SELECT retention.export_subject('customer', '$subject')::text");
like($export, qr/"public\.customer": \{"rows": \[\{"id": $subject,/,
	'export_subject: the subject\'s customer row');
is($sql->("SELECT count(*) FROM purchase WHERE customer_id = $subject"),
	scalar(() = $export =~ /"bought_at"/g), 'export_subject: every purchase of the subject');
$sql->("SELECT retention.forget_subject('customer', '$subject')");
is($sql->("SELECT (SELECT count(*) FROM customer WHERE id = $subject) + "
	  . "(SELECT count(*) FROM purchase WHERE customer_id = $subject)"),
	'0', 'forget_subject: the subject\'s rows are gone from the distributed tables');
is($sql->("SELECT count(*) FROM retention.verify_forgotten('customer', '$subject') WHERE status = 'leftover'"),
	'0', 'verify_forgotten: nothing left');

# restriction on Citus tables: test/t/083_citus_rights.pl
my ($rc, $stdout, $stderr) = $cluster->psql($c,
	"SELECT retention.enable_restriction('customer'); SELECT retention.disable_restriction('customer')");
is($rc, 0, 'enable_restriction and disable_restriction on a distributed table') or diag($stderr);

# a subject table distributed on a column that is not its subject's key:
# forget anonymizes with hash (computed on the coordinator) across the shards
$sql->(q{
CREATE TABLE member (region int NOT NULL, id int NOT NULL, email text NOT NULL,
                     seen timestamptz NOT NULL, PRIMARY KEY (region, id), UNIQUE (id, region));
SELECT create_distributed_table('member', 'region');
INSERT INTO member SELECT i % 5, i, 'member' || i || '@example.com', now() - make_interval(days => i)
FROM generate_series(1, 50) i;
SECURITY LABEL FOR retention ON TABLE member IS
  'subject member(id); age from seen; purge after 10 years; on forget anonymize';
SECURITY LABEL FOR retention ON COLUMN member.email IS 'anonymize after 5 years using hash';
});
like($sql->(q{SELECT string_agg(problem, E'\n') FROM retention.check() WHERE table_name = 'member'::regclass}),
	qr/distributed on region, a column unrelated to its subject member/,
	'check(): a table distributed on a column unrelated to its subject');
$sql->("SELECT retention.forget_subject('member', '7')") for 1 .. 2;
is($sql->(q{SELECT string_agg(id || ' ' || (email = retention.hash('member' || id || '@example.com')), ',' ORDER BY id)
            FROM member WHERE id IN (7, 8)}),
	'7 true,8 false', 'forget_subject (on forget anonymize, hash): the subject hashed once, no other row');
is($sql->("SELECT string_agg(status, ',') FROM retention.verify_forgotten('member', '7')"),
	'anonymized', 'verify_forgotten: the subject is anonymized');

# ---- a run terminated mid-batch, then resumed ---------------------------------
$sql->(q{
CREATE TABLE ticket (id int PRIMARY KEY, body text NOT NULL, opened_at timestamptz NOT NULL);
SELECT create_distributed_table('ticket', 'id');
INSERT INTO ticket SELECT i, 'ticket ' || i, now() - make_interval(days => 30 + i % 900, hours => 12)
FROM generate_series(1, 3000) i;
CREATE TABLE orig_ticket AS SELECT * FROM ticket;
SECURITY LABEL FOR retention ON TABLE ticket IS 'age from opened_at; archive after 1 year; purge after 10 years';
SECURITY LABEL FOR retention ON COLUMN ticket.body IS 'anonymize after 60 days using hash';
});
my $last_run = $sql->('SELECT max(run_id) FROM retention.run_history');
my ($out, $err) = ('', '');
my $h = IPC::Run::start(
	[ 'psql', '-XAtq', '-d', $c->connstr('postgres'),
	  '-c', 'SET client_min_messages = warning',
	  '-c', 'SET retention.batch_max_rows = 10',
	  '-c', 'SET retention.batch_target = 1',
	  '-c', 'SET retention.cost_delay = 50',
	  '-c', 'SET retention.cost_limit = 1',
	  '-c', 'CALL retention.run()' ],
	'>', \$out, '2>', \$err);
$c->poll_query_until('postgres',
	"SELECT coalesce(sum(d.done), 0) > 20 FROM retention.run_detail d WHERE d.run_id > $last_run "
	  . "AND d.table_name = 'ticket'::regclass");
my $pid = $sql->("SELECT backend_pid FROM retention.run_history WHERE run_id > $last_run");
$sql->("SELECT pg_terminate_backend($pid)");
$h->finish;
$c->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid");
is($sql->(q{SELECT count(*) > 0 AND count(*) < 2900 FROM ticket t JOIN orig_ticket o USING (id)
            WHERE t.body = retention.hash(o.body)}),
	't', 'the terminated run had anonymized part of the tickets');
($status) = split /\|/, $run->();
is($status, 'succeeded', 'the resumed run completes');
is($sql->(q{
WITH arch AS (SELECT (row_data->>'id')::int AS id, row_data->>'body' AS body FROM retention.archived_rows('ticket'))
SELECT count(*) FILTER (WHERE l.id IS NOT NULL AND a.id IS NOT NULL) || ' ' ||
       count(*) FILTER (WHERE l.id IS NULL AND a.id IS NULL) || ' ' ||
       count(*) FILTER (WHERE (a.id IS NOT NULL) <> (o.opened_at < now() - interval '1 year')) || ' ' ||
       count(*) FILTER (WHERE coalesce(l.body, a.body) <> CASE WHEN o.opened_at < now() - interval '60 days'
                        THEN retention.hash(o.body) ELSE o.body END)
FROM orig_ticket o LEFT JOIN ticket l USING (id) LEFT JOIN arch a USING (id)}),
	'0 0 0 0', 'after the kill and the resumed run: no ticket doubled, lost, misplaced, left clear or hashed twice');
is($sql->(q{SELECT count(*) FROM (SELECT row_data->>'id' FROM retention.archived_rows('ticket')
            GROUP BY 1 HAVING count(*) > 1) d}), '0', 'no ticket archived twice');

# ---- a worker with another server key --------------------------------------
my ($w2) = reverse $cluster->workers;
my $other_key = $w2->data_dir . '/other.key';
open(my $fh, '>', $other_key) or die "$other_key: $!";
print $fh ('ab' x 32) . "\n";
close $fh;
chmod 0600, $other_key;
$w2->append_conf('postgresql.conf', "retention.key_file = '$other_key'");
$w2->restart;
like($sql->(q{SELECT string_agg(DISTINCT problem, E'\n') FROM retention.check() WHERE severity = 'error'}),
	qr/node \S+ holds a different server key \(fingerprint \w+\) from this coordinator's/,
	'check(): a worker with another server key is reported');

$cluster->stop;
done_testing();
