# RetentionWorker: helpers for the background worker's TAP tests
# (test/t/010_worker_*.pl): the injected clock, waiting for the worker to
# look at a database, tables with rows already due, the worker's runs.
package RetentionWorker;

use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;

# Settings for a node whose worker runs on an injected clock, before 03:00
# UTC on a fixed day: nothing is due until a test moves the clock.
our $WORKER_CONF = <<'CONF';
timezone = 'UTC'
log_line_prefix = '%m [%p] %d '
retention.worker_enabled = on
retention.run_at = '03:00'
retention.time_zone = 'UTC'
retention.test_clock = '2030-01-15 01:00:00+00'
CONF

# ALTER SYSTEM for each setting, then reload.  Values are SQL literals.
sub set_conf
{
	my ($node, %settings) = @_;
	for my $name (sort keys %settings)
	{
		$node->safe_psql('postgres',
			"ALTER SYSTEM SET $name = $settings{$name}");
	}
	$node->reload;
	return;
}

# Moves the injected clock ('2030-01-15 03:00:00+00').
sub set_clock
{
	my ($node, $timestamp) = @_;
	set_conf($node, 'retention.test_clock' => "'$timestamp'");
	return;
}

# When the worker last saved its state in $db (text).
sub state_stamp
{
	my ($node, $db) = @_;
	return $node->safe_psql($db,
		'SELECT updated_at FROM retention.worker_state');
}

# Runs $change (a code ref), then waits until the worker has examined $db
# again and is done: its state was saved after the change, with no run
# under way (a run it decided to start has ended).
sub after_worker_looks
{
	my ($node, $db, $change) = @_;
	my $before = state_stamp($node, $db);
	$change->();
	$node->poll_query_until($db,
		"SELECT updated_at > '$before'::timestamptz AND attempt IS NULL FROM retention.worker_state")
	  or die "the worker did not look at database $db";
	return;
}

# The statuses of the worker's runs in $db, oldest first, comma-separated.
sub worker_runs
{
	my ($node, $db) = @_;
	return $node->safe_psql($db,
		q{SELECT coalesce(string_agg(status, ',' ORDER BY run_id), '')
		  FROM retention.run_history WHERE started_by = 'worker'});
}

# Waits until the worker's last run in $db has the status $status.
sub wait_for_run_status
{
	my ($node, $db, $status) = @_;
	$node->poll_query_until($db,
		qq{SELECT status = '$status' FROM retention.run_history
		   WHERE started_by = 'worker' ORDER BY run_id DESC LIMIT 1})
	  or die "no worker run in $db reached status $status";
	return;
}

# Waits until $db has $count finished worker runs.
sub wait_for_runs
{
	my ($node, $db, $count) = @_;
	$node->poll_query_until($db,
		qq{SELECT count(*) = $count FROM retention.run_history
		   WHERE started_by = 'worker' AND status <> 'running'})
	  or die "$db did not reach $count worker runs";
	return;
}

# Creates the extension and a table of $rows rows, all past their purge
# delay, in $db: in one transaction, so that the worker, told when CREATE
# EXTENSION commits, finds the table declared.
sub create_due_table
{
	my ($node, $db, $rows) = @_;
	$node->safe_psql($db, qq{
BEGIN;
CREATE EXTENSION IF NOT EXISTS pg_retention;
CREATE TABLE event (id bigint PRIMARY KEY, at timestamptz NOT NULL, note text);
CREATE INDEX ON event (at);
INSERT INTO event SELECT i, timestamptz '2020-01-01 00:00:00+00' + i * interval '1 second', 'note ' || i
FROM generate_series(1, $rows) AS i;
SECURITY LABEL FOR retention ON TABLE event IS 'age from at; purge after 1 year';
COMMIT;
ANALYZE event;
});
	return;
}

# Rows left in the table of create_due_table.
sub rows_left
{
	my ($node, $db) = @_;
	return $node->safe_psql($db, 'SELECT count(*) FROM event');
}

# Waits until the worker of $db is in the middle of a run (some of the
# $total due rows of create_due_table deleted by committed batches, some
# left) and returns its pid.
sub wait_mid_run
{
	my ($node, $db, $total) = @_;
	$node->poll_query_until($db, qq{
SELECT EXISTS (SELECT FROM retention.run_history WHERE started_by = 'worker' AND status = 'running')
       AND (SELECT count(*) FROM event) BETWEEN 1 AND $total - 1
}) or die "no worker run in progress in $db";
	return $node->safe_psql($db, q{
SELECT pid FROM pg_stat_activity
WHERE backend_type = 'pg_retention worker' AND datname = current_database()});
}

1;
