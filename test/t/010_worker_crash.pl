# The worker survives what happens to a long run: kill -9 (the postmaster
# restarts the cluster), an immediate restart, SIGTERM between batches, and
# the end of its window.  Each time the history says what happened, the
# committed batches stay done, and the next start finishes the work.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/perl';
use RetentionNode;
use RetentionWorker;

# Small batches make a run long enough to interrupt.
my $rows = 200000;
my $node = RetentionNode::new_node('crash',
	conf => $RetentionWorker::WORKER_CONF . "retention.batch_max_rows = 50\nrestart_after_crash = on\n");
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE app');
RetentionWorker::create_due_table($node, 'app', $rows);
$node->poll_query_until('app', 'SELECT next_run_at IS NOT NULL FROM retention.worker_state')
  or die 'the worker never looked at the database';

sub runs { return RetentionWorker::worker_runs($node, 'app'); }
sub rows { return RetentionWorker::rows_left($node, 'app'); }

# Puts the due rows back (ids above those of earlier rounds).
my $round = 0;
sub refill
{
	$round++;
	my $first = $round * 1000000;
	$node->safe_psql('app', qq{
INSERT INTO event SELECT i, timestamptz '2020-01-01 00:00:00+00' + i * interval '1 millisecond', 'x'
FROM generate_series($first + 1, $first + $rows) AS i});
}

# kill -9 in the middle of a run.
RetentionWorker::set_clock($node, '2030-01-15 03:00:00+00');
my $pid = RetentionWorker::wait_mid_run($node, 'app', $rows);
like( $node->safe_psql('app', "SELECT application_name || ': ' || query FROM pg_stat_activity WHERE pid = $pid"),
	qr/^pg_retention worker: pg_retention: scheduled lifecycle run$/,
	'pg_stat_activity shows the worker and what it does');
kill 'KILL', $pid;
$node->poll_query_until('app',
	q{SELECT status = 'crashed' FROM retention.run_history WHERE started_by = 'worker' ORDER BY run_id LIMIT 1})
  or die 'the crashed run was not detected';
pass('after the restart, the interrupted run is marked crashed');
my $left = rows();
ok($left > 0 && $left < $rows, "the batches committed before the crash stay done ($left rows left)");
is( $node->safe_psql('app', 'SELECT failures, last_status, next_run_at FROM retention.worker_state'),
	'1|crashed|2030-01-15 03:01:00+00',
	'the crash counts as a failure: retried one minute later');
RetentionWorker::set_clock($node, '2030-01-15 03:01:00+00');
RetentionWorker::wait_for_run_status($node, 'app', 'succeeded');
is(rows(), '0', 'the retry finishes the work');
is(runs(), 'crashed,succeeded', 'the history shows the crash, then the success');

# pg_ctl restart -m immediate in the middle of a run.
refill();
RetentionWorker::set_clock($node, '2030-01-16 03:00:00+00');
RetentionWorker::wait_mid_run($node, 'app', $rows);
PostgreSQL::Test::Utils::system_or_bail('pg_ctl', '-w', '-D', $node->data_dir, '-l',
	$node->logfile, '-m', 'immediate', 'restart');
$node->_update_pid(1);
$node->poll_query_until('app',
	q{SELECT status = 'crashed' FROM retention.run_history WHERE started_by = 'worker' ORDER BY run_id DESC LIMIT 1})
  or die 'the run interrupted by the immediate restart was not detected';
RetentionWorker::set_clock($node, '2030-01-16 03:01:00+00');
RetentionWorker::wait_for_run_status($node, 'app', 'succeeded');
is(rows(), '0', 'after an immediate restart the work resumes and completes');
is(runs(), 'crashed,succeeded,crashed,succeeded', 'and the history shows it');

# SIGTERM: the run stops between batches, and resumes a minute later.
refill();
RetentionWorker::set_clock($node, '2030-01-17 03:00:00+00');
$pid = RetentionWorker::wait_mid_run($node, 'app', $rows);
my $log_offset = -s $node->logfile;
kill 'TERM', $pid;
RetentionWorker::wait_for_run_status($node, 'app', 'stopped');
$node->wait_for_log(qr/stopped because the worker received SIGTERM/, $log_offset);
pass('SIGTERM stops the run cleanly between batches');
$node->poll_query_until('app', 'SELECT attempt IS NULL FROM retention.worker_state');
is( $node->safe_psql('app', 'SELECT failures, last_status, next_run_at FROM retention.worker_state'),
	'0|stopped|2030-01-17 03:01:00+00',
	'a stop is not a failure; the worker comes back a minute later');
$left = rows();
ok($left > 0 && $left < $rows, 'part of the work is done');
RetentionWorker::set_clock($node, '2030-01-17 03:01:00+00');
RetentionWorker::wait_for_run_status($node, 'app', 'succeeded');
is(rows(), '0', 'and the next run finishes it');

# The window closes (03:00 + 4h) in the middle of a run: it stops, and
# resumes the next night.
refill();
RetentionWorker::set_clock($node, '2030-01-18 03:00:00+00');
RetentionWorker::wait_mid_run($node, 'app', $rows);
$log_offset = -s $node->logfile;
RetentionWorker::set_clock($node, '2030-01-18 07:00:00+00');
RetentionWorker::wait_for_run_status($node, 'app', 'stopped');
$node->wait_for_log(qr/stopped because its window closed \(retention.max_run_duration\)/,
	$log_offset);
pass('the run stops when its window closes');
$node->poll_query_until('app', 'SELECT attempt IS NULL FROM retention.worker_state');
is($node->safe_psql('app', 'SELECT next_run_at FROM retention.worker_state'),
	'2030-01-19 03:00:00+00', 'it resumes at the next scheduled run');
RetentionWorker::set_clock($node, '2030-01-19 03:00:00+00');
RetentionWorker::wait_for_run_status($node, 'app', 'succeeded');
is(rows(), '0', 'which finishes the work');

ok(!$node->log_contains('terminated by signal 6'), 'no worker ever aborted');
$node->stop;
done_testing();
