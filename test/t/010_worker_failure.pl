# A run that fails is retried with backoff (1, 5, 25 minutes with the
# defaults), then waits for the next day; the failure is in the history and
# the log, and the worker exits normally each time (an error never becomes a
# crash of the cluster).
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/perl';
use RetentionNode;
use RetentionWorker;

my $node = RetentionNode::new_node('failure', conf => $RetentionWorker::WORKER_CONF);
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE app');
RetentionWorker::create_due_table($node, 'app', 100);
$node->poll_query_until('app', 'SELECT next_run_at IS NOT NULL FROM retention.worker_state')
  or die 'the worker never looked at the database';

# Every run of the worker fails as it starts.
$node->safe_psql('app', q{
CREATE FUNCTION fail_worker_runs() RETURNS trigger LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$;
CREATE TRIGGER fail_worker_runs BEFORE INSERT ON retention.run_history
FOR EACH ROW WHEN (NEW.started_by = 'worker') EXECUTE FUNCTION fail_worker_runs();
});

sub attempt_at
{
	my ($clock) = @_;
	RetentionWorker::after_worker_looks($node, 'app',
		sub { RetentionWorker::set_clock($node, $clock) });
	return $node->safe_psql('app',
		'SELECT failures, last_status, next_run_at FROM retention.worker_state');
}

my $offset = -s $node->logfile;
is(attempt_at('2030-01-15 03:00:00+00'), '1|failed|2030-01-15 03:01:00+00',
	'a failed run is retried a minute later');
$node->wait_for_log(
	qr/pg_retention worker: the lifecycle run in database "app" failed: disk on fire; it is retried with backoff/,
	$offset);
pass('the failure is in the log');
is(attempt_at('2030-01-15 03:00:59+00'), '1|failed|2030-01-15 03:01:00+00', 'not before');
is(attempt_at('2030-01-15 03:01:00+00'), '2|failed|2030-01-15 03:06:00+00', 'then 5 minutes later');
is(attempt_at('2030-01-15 03:06:00+00'), '3|failed|2030-01-15 03:31:00+00', 'then 25 minutes later');
is(attempt_at('2030-01-15 03:31:00+00'), '4|failed|2030-01-16 03:00:00+00',
	'then, retries used up, the next day');
is(attempt_at('2030-01-15 04:00:00+00'), '4|failed|2030-01-16 03:00:00+00',
	'and nothing more today');
is(RetentionWorker::rows_left($node, 'app'), '100', 'nothing was done');
ok(!$node->log_contains(qr/background worker "pg_retention worker" \(PID \d+\) exited with exit code 1/),
	'every failure was handled inside the worker');

$node->safe_psql('app', 'DROP TRIGGER fail_worker_runs ON retention.run_history');
RetentionWorker::set_clock($node, '2030-01-16 03:00:00+00');
RetentionWorker::wait_for_run_status($node, 'app', 'succeeded');
is(RetentionWorker::rows_left($node, 'app'), '0', 'the next day the run succeeds');
$node->poll_query_until('app', 'SELECT attempt IS NULL FROM retention.worker_state');
is($node->safe_psql('app', 'SELECT failures, last_status FROM retention.worker_state'),
	'0|succeeded', 'and the failures are forgotten');

$node->stop;
done_testing();
