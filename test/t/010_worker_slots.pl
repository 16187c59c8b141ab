# Too few background worker slots: the launcher says so in the log, with
# the setting to raise, and processes the waiting database as soon as a
# slot frees up.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/perl';
use RetentionNode;
use RetentionWorker;

# One slot for the launcher, one for a worker; nothing else takes any.
my $node = RetentionNode::new_node('slots', conf => $RetentionWorker::WORKER_CONF . q{
max_worker_processes = 2
max_logical_replication_workers = 0
max_parallel_workers = 0
retention.batch_max_rows = 50
});
$node->start;
my $rows = 200000;
for my $db (qw(busy waiting))
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	RetentionWorker::create_due_table($node, $db, $db eq 'busy' ? $rows : 100);
	$node->poll_query_until($db, 'SELECT next_run_at IS NOT NULL FROM retention.worker_state')
	  or die "database $db was not noticed";
}

$node->safe_psql('busy', 'SELECT retention.run_now()');
my $pid = RetentionWorker::wait_mid_run($node, 'busy', $rows);
my $offset = -s $node->logfile;
$node->safe_psql('waiting', 'SELECT retention.run_now()');
$offset = $node->wait_for_log(
	qr/LOG:  pg_retention launcher: no background worker slot is free to process database "waiting"/,
	$offset);
pass('the launcher logs that no slot is free');
ok($node->log_contains(qr/HINT:  Raise max_worker_processes/), 'and which setting to raise');
is(RetentionWorker::worker_runs($node, 'waiting'), '', 'the waiting database has not run yet');

kill 'TERM', $pid;
RetentionWorker::wait_for_run_status($node, 'busy', 'stopped');
RetentionWorker::wait_for_run_status($node, 'waiting', 'succeeded');
is(RetentionWorker::rows_left($node, 'waiting'), '0', 'as soon as the slot is free, it runs');
$node->wait_for_log(qr/pg_retention launcher: background worker slots are free again/, $offset);
pass('and the launcher says the shortage is over');

$node->stop;
done_testing();
