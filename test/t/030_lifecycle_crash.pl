# The lifecycle survives its backend being killed at any point.
#
# About 20,000 rows across every stage (minimize, anonymize, archive, purge,
# partition drop, archive purge): a subject table and its child (NOT NULL
# columns, a foreign key), a partitioned table with a composite primary key,
# and archived rows whose purge date has passed.  With batches of 50 rows,
# CALL retention.run() is started in the background and its backend killed
# at a random point, CRASH_ITERATIONS times (10 by default): SIGKILL (the
# postmaster restarts the cluster) or pg_terminate_backend.  After each kill
# every original row must be in at most one of live and archive, in neither
# only when past its purge delay, never archived early, and its anonymized
# values either clear or hash(original) -- never hash(hash(original)).  The
# next run marks the killed one 'crashed'; a last run completes ('succeeded')
# and leaves nothing due, every row where it belongs.
#
# Each batch is slowed to last at least 10 ms, so that the kills land all
# along the work.  Rows' ages are whole days plus 12 hours old, so no row crosses a cutoff
# while the test runs.  CRASH_SEED replays the kill points of a failed run.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use lib 'test/perl';
use RetentionNode;

my $iterations = $ENV{CRASH_ITERATIONS} // 10;
my $seed = $ENV{CRASH_SEED} // time();
srand($seed);
note("CRASH_SEED=$seed CRASH_ITERATIONS=$iterations");

# the background worker would start runs of its own: only CALL retention.run() here
my $node = RetentionNode::new_node('crash',
	conf => "restart_after_crash = on\nretention.worker_enabled = off\n");
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE crash');

# ---- the data ---------------------------------------------------------------
$node->safe_psql('crash', q{
CREATE EXTENSION pg_retention;

-- 4,000 customers seen 0 to 8 years ago
CREATE TABLE customer (
    id int PRIMARY KEY,
    email text NOT NULL,
    phone text NOT NULL,
    birthday date NOT NULL,
    seen_at timestamptz NOT NULL
);
CREATE INDEX ON customer (seen_at);
INSERT INTO customer
SELECT i, 'customer' || i || '@example.com', '+33 6 ' || lpad(i::text, 8, '0'),
       date '1970-01-01' + (i * 37) % 15000,
       now() - make_interval(days => (i * 7919) % 2920, hours => 12)
FROM generate_series(1, 4000) AS i;

-- two purchases each, bought before the customer was last seen
CREATE TABLE purchase (
    id int PRIMARY KEY,
    customer_id int NOT NULL REFERENCES customer,
    note text NOT NULL,
    bought_at timestamptz NOT NULL
);
CREATE INDEX ON purchase (customer_id);
CREATE INDEX ON purchase (bought_at);
INSERT INTO purchase
SELECT c.id * 2 + k, c.id, 'order ' || (c.id * 2 + k) || ' for ' || c.email,
       c.seen_at - make_interval(days => (c.id * 13 + k * 101) % 400)
FROM customer c CROSS JOIN generate_series(0, 1) AS k;

-- 6,000 events in yearly partitions, composite primary key
CREATE TABLE event (
    region int NOT NULL,
    id int NOT NULL,
    ip text NOT NULL,
    at timestamptz NOT NULL,
    PRIMARY KEY (region, id, at)
) PARTITION BY RANGE (at);
DO $$
DECLARE
    y timestamptz;
BEGIN
    FOR k IN 0..9 LOOP
        y := date_trunc('year', now()) - make_interval(years => 8 - k);
        EXECUTE format('CREATE TABLE %I PARTITION OF event FOR VALUES FROM (%L) TO (%L)',
                       'event_' || to_char(y, 'YYYY'), y, y + interval '1 year');
    END LOOP;
END
$$;
CREATE INDEX ON event (at);
INSERT INTO event
SELECT i % 7, i, '10.' || (i / 65536) || '.' || (i / 256 % 256) || '.' || (i % 256),
       now() - make_interval(days => (i * 6007) % 2920, hours => 12)
FROM generate_series(1, 6000) AS i;

-- 2,000 notes archived by an earlier run; half of them expire in the archive
CREATE TABLE old_note (id int PRIMARY KEY, body text NOT NULL, written_at timestamptz NOT NULL);
CREATE INDEX ON old_note (written_at);
INSERT INTO old_note
SELECT i, 'note ' || i, now() - make_interval(days => 400 + i, hours => 12)
FROM generate_series(1, 2000) AS i;

-- every batch lasts at least 10 ms, as on a busy server, so that the kills
-- land all along the work (statement triggers: the engine writes leaves)
CREATE FUNCTION slow_statement() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN PERFORM pg_sleep(0.01); RETURN NULL; END $$;
DO $$
DECLARE
    r regclass;
BEGIN
    FOR r IN SELECT c.oid FROM pg_class c
             WHERE c.relkind = 'r' AND c.relname ~ '^(customer|purchase|event_\d+|old_note)$' LOOP
        EXECUTE format('CREATE TRIGGER slow BEFORE UPDATE OR DELETE ON %s '
                       'FOR EACH STATEMENT EXECUTE FUNCTION slow_statement()', r);
    END LOOP;
END
$$;

-- the originals, to check every run against
CREATE TABLE orig_customer AS SELECT * FROM customer;
CREATE TABLE orig_purchase AS SELECT * FROM purchase;
CREATE TABLE orig_event AS SELECT * FROM event;
CREATE TABLE orig_note AS SELECT * FROM old_note;
});

$node->safe_psql('crash', q{
SECURITY LABEL FOR retention ON TABLE old_note IS 'age from written_at; archive after 1 year; purge after 50 years';
SET client_min_messages = warning;
CALL retention.run();
-- archived rows whose purge date has passed, as if archived long ago
UPDATE retention_archive.archived_row SET purge_after = now() - interval '1 day'
WHERE relid = 'old_note'::regclass AND id % 2 = 0;
CREATE TABLE expired_note AS
SELECT (row_data->>'id')::int AS id FROM retention.archived_rows('old_note')
WHERE purge_after < now();
});
is($node->safe_psql('crash', 'SELECT count(*) FROM expired_note'),
	'1000', 'half of the archived notes are past their purge date');

$node->safe_psql('crash', q{
SECURITY LABEL FOR retention ON TABLE customer IS
  'subject customer(id); age from seen_at; archive after 3 years; purge after 6 years';
SECURITY LABEL FOR retention ON COLUMN customer.email IS 'anonymize after 1 year using hash';
SECURITY LABEL FOR retention ON COLUMN customer.phone IS 'anonymize after 2 years using hash';
SECURITY LABEL FOR retention ON COLUMN customer.birthday IS 'minimize to month_day';
SECURITY LABEL FOR retention ON TABLE purchase IS
  'subject customer via customer_id; age from bought_at; archive after 2 years; purge after 5 years';
SECURITY LABEL FOR retention ON COLUMN purchase.note IS 'anonymize after 1 year using hash';
SECURITY LABEL FOR retention ON TABLE event IS 'age from at; archive after 2 years; purge after 4 years';
SECURITY LABEL FOR retention ON COLUMN event.ip IS 'anonymize after 1 year using hash';
});

# ---- the invariants ---------------------------------------------------------

# Each original row of a table with where it is now: `place` (live or
# archive, NULL when in neither), `copies` (how many places hold it) and the
# current value of each anonymized column (cur_<column>, as text).
sub placement_sql
{
	my (%t) = @_;
	my @key = @{ $t{key} };
	my @anon = sort keys %{ $t{anon} };
	my $live_cols = join(', ', (map { "l.$_" } @key), (map { "l.${_}::text AS $_" } @anon));
	my $arch_cols = join(', ',
		(map { "(a.row_data->>'$_')::$t{types}{$_} AS $_" } @key),
		(map { "a.row_data->>'$_' AS $_" } @anon));
	my $join = join(' AND ', map { "o.$_ = x.$_" } @key);
	my $cur = join('', map { ", x.$_ AS cur_$_" } @anon);
	my $partition = join(', ', map { "o.$_" } @key);
	return qq{
WITH live AS MATERIALIZED (SELECT $live_cols FROM $t{table} l),
arch AS MATERIALIZED (SELECT $arch_cols FROM retention.archived_rows('$t{table}') a),
copies AS (SELECT 'live' AS place, * FROM live UNION ALL SELECT 'archive', * FROM arch)
SELECT o.*, x.place$cur, count(x.place) OVER (PARTITION BY $partition) AS copies
FROM $t{orig} o LEFT JOIN copies x ON $join};
}

# Violations of what holds at every instant and, when $final, of the state a
# completed run leaves.  Returns "name=count" for each violated rule.
sub violations
{
	my ($final, %t) = @_;
	my $due = sub { "$t{age} < now() - interval '$_[0]'" };
	my $expired = $t{expired} ? "id IN (SELECT id FROM $t{expired})" : 'false';
	my @checks = (
		[ 'duplicated', 'copies > 1' ],
		[ 'lost', "copies = 0 AND NOT " . $due->($t{purge}) . " AND NOT $expired" ],
		[ 'archived_early', "place = 'archive' AND NOT " . $due->($t{archive}) ]);
	for my $c (sort keys %{ $t{anon} })
	{
		my $d = $due->($t{anon}{$c});
		push @checks,
		  [ "${c}_hashed_twice", "cur_$c = retention.hash(retention.hash(${c}::text))" ],
		  [ "${c}_neither_clear_nor_hashed", "cur_$c NOT IN (${c}::text, retention.hash(${c}::text))" ],
		  [ "${c}_anonymized_early", "cur_$c = retention.hash(${c}::text) AND NOT $d" ];
		push @checks, [ "${c}_left_clear", "cur_$c = ${c}::text AND $d" ] if $final;
	}
	if ($final)
	{
		push @checks,
		  [ 'not_purged', "copies > 0 AND (" . $due->($t{purge}) . " OR $expired)" ],
		  [ 'not_archived', "place = 'live' AND " . $due->($t{archive}) ];
	}
	my $select = join(",\n  ", map { "count(*) FILTER (WHERE $_->[1])" } @checks);
	my @counts = split /\|/,
	  $node->safe_psql('crash', "SELECT $select FROM (" . placement_sql(%t) . ") s");
	return join(', ',
		map { "$checks[$_][0]=$counts[$_]" } grep { $counts[$_] != 0 } 0 .. $#checks);
}

my %tables = (
	customer => {
		table => 'customer', orig => 'orig_customer', key => ['id'],
		types => { id => 'int' }, age => 'seen_at',
		archive => '3 years', purge => '6 years',
		anon => { email => '1 year', phone => '2 years' } },
	purchase => {
		table => 'purchase', orig => 'orig_purchase', key => ['id'],
		types => { id => 'int' }, age => 'bought_at',
		archive => '2 years', purge => '5 years',
		anon => { note => '1 year' } },
	event => {
		table => 'event', orig => 'orig_event', key => [ 'region', 'id', 'at' ],
		types => { region => 'int', id => 'int', at => 'timestamptz' }, age => 'at',
		archive => '2 years', purge => '4 years',
		anon => { ip => '1 year' } },
	old_note => {
		table => 'old_note', orig => 'orig_note', key => ['id'],
		types => { id => 'int' }, age => 'written_at',
		archive => '1 year', purge => '50 years', anon => {},
		expired => 'expired_note' });

sub check_all
{
	my ($final, $label) = @_;
	for my $name (sort keys %tables)
	{
		is(violations($final, %{ $tables{$name} }), '', "$label: $name");
	}
	# minimize runs first in each table: an archived row was minimized before
	is( $node->safe_psql('crash', q{
		SELECT count(*) FROM retention.archived_rows('customer')
		WHERE extract(year FROM (row_data->>'birthday')::date) <> 4}),
		'0', "$label: archived birthdays are minimized");
	is($node->safe_psql('crash',
		'SELECT count(*) FROM customer WHERE extract(year FROM birthday) <> 4'),
		'0', "$label: live birthdays are minimized") if $final;
}

# ---- crash, restart, check: many times ----------------------------------------

my $psql = $node->installed_command('psql');
my $last_run = $node->safe_psql('crash', 'SELECT coalesce(max(run_id), 0) FROM retention.run_history');
my @killed;    # runs killed while running

for my $i (1 .. $iterations)
{
	my $mode = rand() < 0.5 ? 'SIGKILL' : 'terminate';
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ $psql, '-XAtq', '-d', $node->connstr('crash') . ' application_name=crashrun',
		  '-c', 'SET client_min_messages = warning',
		  '-c', 'SET retention.batch_max_rows = 50',
		  '-c', 'CALL retention.run()' ],
		'>', \$out, '2>', \$err);

	# the run has started when its history row is committed
	$node->poll_query_until('crash',
		"SELECT count(*) > 0 FROM retention.run_history WHERE run_id > $last_run");
	my $run = $node->safe_psql('crash',
		"SELECT min(run_id) FROM retention.run_history WHERE run_id > $last_run");
	my $pid = $node->safe_psql('crash',
		"SELECT backend_pid FROM retention.run_history WHERE run_id = $run");

	# the previous killed run is marked crashed once this one has started
	if (@killed)
	{
		is($node->safe_psql('crash',
			"SELECT string_agg(status, ',') FROM retention.run_history WHERE run_id = $killed[-1]"),
			'crashed', "iteration $i: run $killed[-1], killed, is marked crashed");
	}

	# let it go a random number of batches, then a random 0-300 ms more
	my $batches = int(rand(60));
	my $waited = 0;
	while ($waited < 200)
	{
		my $state = $node->safe_psql('crash',
			"SELECT h.status, coalesce(sum(d.batches), 0) FROM retention.run_history h "
			  . "LEFT JOIN retention.run_detail d USING (run_id) WHERE h.run_id = $run GROUP BY h.status");
		my ($status, $done) = split /\|/, $state;
		last if $status ne 'running' || $done >= $batches;
		usleep(20_000);
		$waited++;
	}
	usleep(int(rand(300_000)));

	if ($mode eq 'SIGKILL')
	{
		kill 'KILL', $pid;
	}
	else
	{
		$node->safe_psql('crash', "SELECT pg_terminate_backend($pid)");
	}
	$h->finish;
	# back up (after a SIGKILL the postmaster reinitializes)
	$node->poll_query_until('crash', 'SELECT true');
	$node->poll_query_until('crash',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid");

	# killed ('running', or already 'crashed' if something marked it since), or done first
	my $status = $node->safe_psql('crash',
		"SELECT status FROM retention.run_history WHERE run_id = $run");
	ok($status =~ /^(running|crashed|succeeded)$/,
		"iteration $i: run $run, $mode, is left '$status'");
	push @killed, $run if $status ne 'succeeded';
	my $where = $node->safe_psql('crash',
		"SELECT string_agg(table_text || ' ' || action || ' ' || batches, ', ' ORDER BY started_at) "
		  . "FROM retention.run_detail WHERE run_id = $run AND status = 'running'");
	note("iteration $i: $mode after $batches batches: run $run $status, in: $where");
	check_all(0, "iteration $i ($mode)");
	$last_run = $run;
}

# ---- the last run completes -----------------------------------------------------

$node->safe_psql('crash', q{
SET client_min_messages = warning;
SET retention.batch_max_rows = 50;
CALL retention.run();
});
my $final = $node->safe_psql('crash',
	'SELECT run_id, status FROM retention.run_history ORDER BY run_id DESC LIMIT 1');
like($final, qr/\|succeeded$/, 'the last run succeeds');
is($node->safe_psql('crash',
	"SELECT count(*) FROM retention.run_history WHERE status = 'running'"),
	'0', 'no run is left running');
if (@killed)
{
	is($node->safe_psql('crash',
		"SELECT count(*) FROM retention.run_history WHERE run_id IN (" . join(',', @killed) .
		  ") AND status <> 'crashed'"), '0', 'every killed run is marked crashed');
	# and records what its committed batches did (run_detail), not zeros
	is($node->safe_psql('crash',
		"SELECT count(*) FROM retention.run_history h WHERE run_id IN (" . join(',', @killed) .
		  ") AND rows_minimized + rows_anonymized + values_purged + rows_archived + rows_purged "
		  . "<> (SELECT coalesce(sum(done), 0) FROM retention.run_detail d WHERE d.run_id = h.run_id)"),
		'0', 'every crashed run counts the rows its batches moved');
}
is($node->safe_psql('crash', 'SELECT count(*) FROM retention.preview()'),
	'0', 'nothing is left due');
check_all(1, 'after the last run');

$node->stop;
done_testing();
