# Primary only: on a streaming standby nothing of pg_retention runs, even
# when a run is due by its clock; once the standby is promoted, its
# launcher starts and the due run happens there.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/perl';
use RetentionNode;
use RetentionWorker;

my $primary = RetentionNode::new_node('primary',
	conf => $RetentionWorker::WORKER_CONF . "wal_level = replica\nmax_wal_senders = 4\n");
$primary->start;
$primary->safe_psql('postgres', 'CREATE DATABASE app');
RetentionWorker::create_due_table($primary, 'app', 100);
$primary->poll_query_until('app', 'SELECT next_run_at IS NOT NULL FROM retention.worker_state')
  or die 'the worker never looked at the database';

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
# The standby's clock says the run is due.
$standby->append_conf('postgresql.conf', "retention.test_clock = '2030-01-15 03:00:00+00'\n");
$standby->start;
$primary->wait_for_catchup($standby);

is($standby->safe_psql('app', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');
is( $standby->safe_psql('postgres',
		q{SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'pg_retention%'}),
	'0', 'no launcher nor worker runs on a standby');
my ($rc, $stdout, $stderr) = $standby->psql('app', 'SELECT retention.run_now()');
like($stderr, qr/retention.run_now\(\) cannot be used during recovery/,
	'run_now() on a standby says why it cannot');
sleep 2;
is($standby->safe_psql('postgres',
		q{SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'pg_retention%'}),
	'0', 'still nothing after a while');
is(RetentionWorker::worker_runs($standby, 'app'), '', 'and no run');

$primary->stop;
$standby->promote;
RetentionWorker::wait_for_run_status($standby, 'app', 'succeeded');
is(RetentionWorker::rows_left($standby, 'app'), '0', 'after promotion the due run happens');
is( $standby->safe_psql('postgres',
		q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_retention launcher'}),
	'1', 'the promoted standby has its launcher');

$standby->stop;
done_testing();
