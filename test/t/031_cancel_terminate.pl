# A cancel or a termination stops a lifecycle run cleanly, whoever runs it.
#
# Each round adds 3,000 customers seen 0 to 6 years ago (half a day past
# whole days, so no row crosses a cutoff while the test runs): about 90
# batches of 50 rows, each slowed to at least 20 ms by a statement trigger,
# so that a signal lands inside a batch.  Once retention.progress shows a
# few committed batches and a batch waits at a gate the test holds closed
# (so the run cannot end before the signal), the run is interrupted:
#   (a) CALL retention.run(): pg_cancel_backend, then pg_terminate_backend;
#   (b) the background worker, started by retention.run_now():
#       pg_cancel_backend, pg_terminate_backend (SIGTERM: stop between
#       batches), and two terminations at once (the second stops it now).
# After each: the postmaster did not restart and its log has no crash nor
# failed assertion; the client got the original error; every original row is
# in at most one of live and archive (in neither only when past its purge
# delay), its email clear or hashed once -- never twice; the run history says
# stopped or crashed, never succeeded; and the next run completes, leaving
# every row where it belongs.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/perl';
use RetentionNode;
use RetentionWorker;

# The worker's daily run is 12 hours away: it runs only when asked.
my @t = gmtime(time() + 12 * 3600);
my $run_at = sprintf('%02d:%02d', $t[2], $t[1]);
my $node = RetentionNode::new_node('cancel', conf => qq{
log_line_prefix = '%m [%p] %d '
retention.worker_enabled = on
retention.run_at = '$run_at'
retention.time_zone = 'UTC'
retention.batch_max_rows = 50
});
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', q{
CREATE EXTENSION pg_retention;
CREATE TABLE customer (id int PRIMARY KEY, email text NOT NULL, seen_at timestamptz NOT NULL);
CREATE INDEX ON customer (seen_at);
CREATE TABLE orig_customer (LIKE customer);
-- every batch lasts at least 20 ms; while a row is in gate, every statement
-- after the fifth of the run waits (30 s at most) until the test removes it:
-- the run is still going when the signal is sent, and the signal lands
-- inside a batch
CREATE TABLE gate (on_since timestamptz);
CREATE SEQUENCE statements;
CREATE FUNCTION slow_statement() RETURNS trigger LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM pg_sleep(0.02);
    IF EXISTS (SELECT FROM public.gate) AND nextval('public.statements') > 5 THEN
        FOR i IN 1 .. 3000 LOOP
            EXIT WHEN NOT EXISTS (SELECT FROM public.gate);
            PERFORM pg_sleep(0.01);
        END LOOP;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER slow BEFORE UPDATE OR DELETE ON customer
FOR EACH STATEMENT EXECUTE FUNCTION slow_statement();
SECURITY LABEL FOR retention ON TABLE customer IS
  'age from seen_at; archive after 2 years; purge after 4 years';
SECURITY LABEL FOR retention ON COLUMN customer.email IS 'anonymize after 1 year using hash';
});
$node->poll_query_until('app', 'SELECT next_run_at IS NOT NULL FROM retention.worker_state')
  or die 'the worker never looked at the database';

my $round = 0;

# Adds 3,000 customers, 2,500 of them due for something.
sub add_customers
{
	$round++;
	my $first = $round * 10000;
	$node->safe_psql('app', qq{
INSERT INTO customer
SELECT i, 'customer' || i || '\@example.com', now() - make_interval(days => (i * 7919) % 2190, hours => 12)
FROM generate_series($first + 1, $first + 3000) AS i;
INSERT INTO orig_customer SELECT * FROM customer WHERE id > $first;
});
	return;
}

# The rules each original row breaks, "rule=count" (empty when none); $final
# adds what a completed run leaves.
sub violations
{
	my ($final) = @_;
	my @checks = (
		[ 'duplicated', 'copies > 1' ],
		[ 'lost', "copies = 0 AND seen_at >= now() - interval '4 years'" ],
		[ 'archived_early', "place = 'archive' AND seen_at >= now() - interval '2 years'" ],
		[ 'hashed_twice', 'cur = retention.hash(retention.hash(email))' ],
		[ 'neither_clear_nor_hashed', 'cur NOT IN (email, retention.hash(email))' ],
		[ 'anonymized_early',
		  "cur = retention.hash(email) AND seen_at >= now() - interval '1 year'" ]);
	push @checks,
	  [ 'left_clear', "cur = email AND seen_at < now() - interval '1 year'" ],
	  [ 'not_purged', "copies > 0 AND seen_at < now() - interval '4 years'" ],
	  [ 'not_archived', "place = 'live' AND seen_at < now() - interval '2 years'" ]
	  if $final;
	my $counts = join(', ', map { "count(*) FILTER (WHERE $_->[1])" } @checks);
	my @n = split /\|/, $node->safe_psql('app', qq{
WITH copies AS MATERIALIZED (
    SELECT 'live' AS place, id, email FROM customer
    UNION ALL
    SELECT 'archive', (row_data->>'id')::int, row_data->>'email'
    FROM retention.archived_rows('customer'))
SELECT $counts FROM (
    SELECT o.*, c.place, c.email AS cur, count(c.place) OVER (PARTITION BY o.id) AS copies
    FROM orig_customer o LEFT JOIN copies c ON c.id = o.id) s});
	return join(', ', map { "$checks[$_][0]=$n[$_]" } grep { $n[$_] != 0 } 0 .. $#checks);
}

my $started = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');

# The server did not crash nor trip an assertion since the log had $offset bytes.
sub server_survived
{
	my ($label, $offset) = @_;
	is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'),
		$started, "$label: the postmaster did not restart");
	my $log = substr(slurp_file($node->logfile), $offset);
	my @bad = grep { /terminated by signal|TRAP:|PANIC:|server process .* exited/ } split /\n/, $log;
	is(join("\n", @bad), '', "$label: no crash nor failed assertion in the log");
	return;
}

# Closes the gate before a run: its sixth statement on customer will wait.
sub close_gate
{
	$node->safe_psql('app', q{SELECT setval('statements', 1, false); INSERT INTO gate VALUES (now())});
	return;
}

sub open_gate
{
	$node->safe_psql('app', 'DELETE FROM gate');
	return;
}

# The run in progress (started after run $after): its id and pid once it has
# committed $batches batches and waits at the gate.
sub wait_mid_run
{
	my ($after, $batches) = @_;
	$node->poll_query_until('app', qq{
SELECT coalesce(sum(batches), 0) >= $batches FROM retention.progress WHERE run_id > $after})
	  or die 'no run in progress';
	$node->poll_query_until('app', q{SELECT is_called AND last_value > 5 FROM statements})
	  or die 'the run never reached the gate';
	return split /\|/, $node->safe_psql('app', qq{
SELECT run_id, backend_pid FROM retention.run_history WHERE run_id > $after AND status = 'running'});
}

sub last_run
{
	return $node->safe_psql('app', 'SELECT coalesce(max(run_id), 0) FROM retention.run_history');
}

sub run_status
{
	my ($run) = @_;
	return $node->safe_psql('app', "SELECT status FROM retention.run_history WHERE run_id = $run");
}

sub wait_gone
{
	my ($pid) = @_;
	$node->poll_query_until('app', "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid")
	  or die "process $pid did not exit";
	return;
}

# A CALL retention.run() that completes, then the final state.
sub completes_manually
{
	my ($label) = @_;
	$node->safe_psql('app', 'SET client_min_messages = warning; CALL retention.run()');
	is(run_status(last_run()), 'succeeded', "$label: the next run succeeds");
	is(violations(1), '', "$label: after it, every row is where it belongs");
	return;
}

# ---- (a) CALL retention.run() ---------------------------------------------------

my $psql = $node->installed_command('psql');
for my $signal ('cancel', 'terminate')
{
	my $label = "run() $signal";
	add_customers();
	my $offset = -s $node->logfile;
	my $before = last_run();
	my ($out, $err) = ('', '');
	close_gate();
	my $h = IPC::Run::start(
		[ $psql, '-XAtq', '-d', $node->connstr('app'),
		  '-c', 'SET client_min_messages = warning', '-c', 'CALL retention.run()' ],
		'>', \$out, '2>', \$err);
	my ($run, $pid) = wait_mid_run($before, 2);
	$node->safe_psql('app', "SELECT pg_${signal}_backend($pid)");
	open_gate();
	$h->finish;
	wait_gone($pid);
	if ($signal eq 'cancel')
	{
		# the error crossed the engine's commit of "stopped": it must arrive intact
		like($err, qr/ERROR:  canceling statement due to user request/,
			"$label: the client gets the cancel");
		# stopped when the cancel lands in a batch (nearly always: the batches take the
		# time); left running, then marked crashed, when it lands between two
		like(run_status($run), qr/^(stopped|running)$/, "$label: the run is not recorded succeeded");
	}
	else
	{
		like($err, qr/FATAL:  terminating connection due to administrator command/,
			"$label: the client is told the connection was terminated");
		is(run_status($run), 'running', "$label: the run is left running, as after a crash");
	}
	server_survived($label, $offset);
	is(violations(0), '', "$label: no row lost, duplicated, archived early or hashed twice");
	completes_manually($label);
	like(run_status($run), qr/^(stopped|crashed)$/, "$label: the interrupted run is stopped or crashed");
}

# ---- (b) the background worker --------------------------------------------------

# Starts a worker run, interrupts it mid-batch with $signals, checks, and lets the next worker run complete.
sub interrupt_worker
{
	my ($label, @signals) = @_;
	add_customers();
	my $offset = -s $node->logfile;
	my $before = last_run();
	close_gate();
	$node->safe_psql('app', 'SELECT retention.run_now()');
	my ($run, $pid) = wait_mid_run($before, 2);
	$node->safe_psql('app', "SELECT pg_${_}_backend($pid)") for @signals;
	open_gate();
	wait_gone($pid);
	server_survived($label, $offset);
	is(violations(0), '', "$label: no row lost, duplicated, archived early or hashed twice");
	$node->safe_psql('app', 'SELECT retention.run_now()');
	RetentionWorker::wait_for_run_status($node, 'app', 'succeeded');
	ok(last_run() > $run, "$label: the next worker run succeeds");
	is(violations(1), '', "$label: after it, every row is where it belongs");
	return run_status($run);
}

is(interrupt_worker('worker cancel', 'cancel'), 'stopped', 'worker cancel: the run is recorded stopped');
like(slurp_file($node->logfile), qr/lifecycle run in database "app" was canceled: canceling statement/,
	'worker cancel: the worker says so in the log');
is(interrupt_worker('worker terminate', 'terminate'), 'stopped',
	'worker terminate: SIGTERM stops the run between batches');
like(interrupt_worker('worker terminate twice', 'terminate', 'terminate'), qr/^(stopped|crashed)$/,
	'worker terminate twice: the run is stopped, or crashed and so marked');
is($node->safe_psql('app', q{SELECT count(*) FROM retention.run_history WHERE status = 'running'}),
	'0', 'no run is left running');

$node->stop;
done_testing();
