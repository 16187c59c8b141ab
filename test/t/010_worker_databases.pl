# One launcher serves every database: each database with the extension is
# processed by its own worker; a database that gains the extension (CREATE
# EXTENSION, or CREATE DATABASE from a template that has it) is noticed
# without a restart; and since no
# worker stays connected while nothing is due, DROP DATABASE just works.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/perl';
use RetentionNode;
use RetentionWorker;

my $node = RetentionNode::new_node('databases', conf => $RetentionWorker::WORKER_CONF);
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE one; CREATE DATABASE two; CREATE DATABASE plain');
RetentionWorker::create_due_table($node, $_, 50) for qw(one two);
$node->safe_psql('plain', 'CREATE TABLE event (id int)');
for my $db (qw(one two))
{
	$node->poll_query_until($db, 'SELECT next_run_at IS NOT NULL FROM retention.worker_state')
	  or die "database $db was not noticed";
}
pass('both databases with the extension are noticed');

RetentionWorker::set_clock($node, '2030-01-15 03:00:00+00');
RetentionWorker::wait_for_run_status($node, $_, 'succeeded') for qw(one two);
is(RetentionWorker::rows_left($node, 'one'), '0', 'database one is processed');
is(RetentionWorker::rows_left($node, 'two'), '0', 'database two is processed');
is( $node->safe_psql('postgres',
		q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_retention launcher'}),
	'1', 'by one launcher');

# CREATE EXTENSION in a new database: its due run starts without a restart.
$node->safe_psql('postgres', 'CREATE DATABASE three');
RetentionWorker::create_due_table($node, 'three', 50);
RetentionWorker::wait_for_run_status($node, 'three', 'succeeded');
is(RetentionWorker::rows_left($node, 'three'), '0',
	'a database that gains the extension is processed');

# No worker stays connected once its work is done: the database can be dropped
# or copied like any other.
$node->poll_query_until('postgres',
	q{SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pg_retention worker'})
  or die 'a worker stays connected';
$node->safe_psql('postgres', 'DROP DATABASE two');
pass('DROP DATABASE of a database with the extension succeeds');

# A copy of a database with the extension is found by the launcher's
# periodic read of pg_database (at most a minute later).
$node->safe_psql('postgres', 'CREATE DATABASE four TEMPLATE three');
my $copied = RetentionWorker::state_stamp($node, 'four');
$node->poll_query_until('four',
	"SELECT updated_at > '$copied'::timestamptz FROM retention.worker_state")
  or die 'the copied database was not noticed';
pass('a database created from a template with the extension is noticed');

# Dropping the extension: the database is forgotten, the others go on.
$node->safe_psql('one', 'DROP EXTENSION pg_retention CASCADE');
$node->safe_psql('three',
	q{INSERT INTO event SELECT i, '2020-06-01', 'x' FROM generate_series(1001, 1010) i});
RetentionWorker::set_clock($node, '2030-01-16 03:00:00+00');
RetentionWorker::wait_for_runs($node, 'three', 2);
is(RetentionWorker::rows_left($node, 'three'), '0', 'the next day, database three runs again');
ok(!$node->log_contains('FATAL'), 'no worker failed along the way');

$node->stop;
done_testing();
