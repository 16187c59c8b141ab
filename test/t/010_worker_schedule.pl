# The background worker runs the lifecycle at the configured time of day,
# in the configured time zone, and not before; a reload changes the
# schedule; a window that closed is not caught up; retention.run_now()
# runs at once; the worker can be disabled; bad settings are refused.
# The clock is injected (retention.test_clock), so nothing here waits for
# real time to pass.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/perl';
use RetentionNode;
use RetentionWorker;

my $node = RetentionNode::new_node('schedule', conf => $RetentionWorker::WORKER_CONF);
$node->start;

sub runs { return RetentionWorker::worker_runs($node, 'app'); }
sub rows { return RetentionWorker::rows_left($node, 'app'); }
sub wstate { return $node->safe_psql('app', "SELECT $_[0] FROM retention.worker_state"); }
sub looks { RetentionWorker::after_worker_looks($node, 'app', $_[0]); }
sub clock { my $t = shift; return sub { RetentionWorker::set_clock($node, $t) }; }

$node->safe_psql('postgres', 'CREATE DATABASE app');
RetentionWorker::create_due_table($node, 'app', 100);
$node->poll_query_until('app', 'SELECT next_run_at IS NOT NULL FROM retention.worker_state')
  or die 'the worker never looked at the new database';
is(wstate('next_run_at'), '2030-01-15 03:00:00+00',
	'CREATE EXTENSION is noticed: the worker plans the next run at 03:00');
is(runs(), '', 'nothing runs at 01:00');

looks(clock('2030-01-15 02:59:59+00'));
is(runs(), '', 'nor at 02:59:59');
is(rows(), '100', 'the due rows are still there');

RetentionWorker::set_clock($node, '2030-01-15 03:00:00+00');
RetentionWorker::wait_for_run_status($node, 'app', 'succeeded');
is(rows(), '0', 'the run at 03:00 purged the due rows');
is( $node->safe_psql('app',
		q{SELECT started_at FROM retention.run_history WHERE started_by = 'worker'}),
	'2030-01-15 03:00:00+00',
	"the run's clock is the injected one");
$node->poll_query_until('app', 'SELECT attempt IS NULL FROM retention.worker_state');
is(wstate('slot_done, next_run_at'), 't|2030-01-16 03:00:00+00',
	'the day is done; the next run is tomorrow at 03:00');

$node->safe_psql('app',
	q{INSERT INTO event SELECT i, '2020-06-01', 'late' FROM generate_series(1001, 1010) i});
looks(clock('2030-01-15 05:00:00+00'));
is(runs(), 'succeeded', 'a day whose run completed does not run again');
is(rows(), '10', 'so later rows wait');

looks(sub { RetentionWorker::set_conf($node, 'retention.run_at' => "'06:00'") });
is(wstate('next_run_at'), '2030-01-15 06:00:00+00', 'a reload moves the next run to 06:00');
RetentionWorker::set_clock($node, '2030-01-15 06:00:00+00');
RetentionWorker::wait_for_runs($node, 'app', 2);
is(rows(), '0', 'and runs there');

# Every night at 02:30 in Paris: 00:30 UTC in summer.
looks(sub {
	RetentionWorker::set_conf($node,
		'retention.time_zone' => "'Europe/Paris'",
		'retention.run_at' => "'02:30'",
		'retention.test_clock' => "'2030-07-01 00:29:00+00'");
});
is(wstate('next_run_at'), '2030-07-01 00:30:00+00', '02:30 in Paris is 00:30 UTC in summer');
is(runs(), 'succeeded,succeeded', 'not due at 02:29 Paris time');
RetentionWorker::set_clock($node, '2030-07-01 00:30:00+00');
RetentionWorker::wait_for_runs($node, 'app', 3);
pass('it runs at 02:30 Paris time');

# Four hours later the next day's window (00:30 to 04:30 UTC) has closed:
# a server that was down during it does not catch up in the afternoon.
looks(clock('2030-07-02 04:30:00+00'));
is(runs(), 'succeeded,succeeded,succeeded', 'a closed window is not caught up');
is(wstate('next_run_at'), '2030-07-03 00:30:00+00', 'the next run is the next night');

$node->safe_psql('app', 'SELECT retention.run_now()');
RetentionWorker::wait_for_runs($node, 'app', 4);
is( $node->safe_psql('app',
		q{SELECT max(started_at) FROM retention.run_history WHERE started_by = 'worker'}),
	'2030-07-02 04:30:00+00',
	'retention.run_now() runs at once, whatever the schedule');

is( $node->safe_psql('postgres',
		q{SELECT datname IS NULL, application_name FROM pg_stat_activity
		  WHERE backend_type = 'pg_retention launcher'}),
	't|pg_retention launcher',
	'one launcher, connected to no database');
$node->poll_query_until('app', 'SELECT attempt IS NULL FROM retention.worker_state');
is( $node->safe_psql('app',
		'SELECT enabled, run_at, time_zone, max_run_duration, state, next_run_at FROM retention.worker_status'),
	't|02:30|Europe/Paris|4h|waiting|2030-07-03 00:30:00+00',
	'retention.worker_status shows the schedule and the next run');

# A paused table is left alone until it is resumed.
$node->safe_psql('app', q{
INSERT INTO event SELECT i, '2020-06-01', 'p' FROM generate_series(2001, 2005) i;
SELECT retention.pause_table('event', 'migration in progress');
SELECT retention.run_now();
});
RetentionWorker::wait_for_runs($node, 'app', 5);
is(rows(), '5', 'a paused table is skipped');
is($node->safe_psql('app', 'SELECT table_name, reason FROM retention.paused_table'),
	'event|migration in progress', 'retention.paused_table says which and why');
is($node->safe_psql('app', q{SELECT retention.resume_table('event')}), 't', 'resume_table()');
$node->safe_psql('app', 'SELECT retention.run_now()');
RetentionWorker::wait_for_runs($node, 'app', 6);
is(rows(), '0', 'the resumed table is processed again');

# Disabled: nothing starts, run_now() says why.
RetentionWorker::set_conf($node, 'retention.worker_enabled' => 'off');
my ($rc, $stdout, $stderr) = $node->psql('app', 'SELECT retention.run_now()');
like($stderr, qr/ERROR:  the background worker is disabled/, 'run_now() refuses while disabled');
like($stderr, qr/HINT:  Set retention.worker_enabled = on/, 'and says how to enable it');
RetentionWorker::set_clock($node, '2030-07-03 00:30:00+00');
sleep 2;
is(runs(), join(',', ('succeeded') x 6), 'a due run does not start while disabled');
RetentionWorker::set_conf($node, 'retention.worker_enabled' => 'on');
RetentionWorker::wait_for_runs($node, 'app', 7);
pass('enabling the worker again runs the due run');

# Settings the schedule could not use are refused, with a reason.
($rc, $stdout, $stderr) = $node->psql('postgres', "ALTER SYSTEM SET retention.run_at = '25:00'");
like($stderr, qr/invalid value for parameter "retention.run_at": "25:00"/, 'run_at 25:00 refused');
like($stderr, qr/DETAIL:  retention.run_at is a time of day written HH:MM/, 'with the format');
($rc, $stdout, $stderr) =
  $node->psql('postgres', "ALTER SYSTEM SET retention.time_zone = 'Mars/Olympus_Mons'");
like($stderr, qr/"Mars\/Olympus_Mons" is not a time zone name PostgreSQL knows/,
	'an unknown time zone refused');
($rc, $stdout, $stderr) = $node->psql('postgres', "ALTER SYSTEM SET retention.test_clock = 'now'");
like($stderr, qr/invalid value for parameter "retention.test_clock"/, 'a clock must be an instant');
($rc, $stdout, $stderr) =
  $node->psql('postgres', "ALTER SYSTEM SET retention.max_run_duration = '25h'");
like($stderr, qr/outside the valid range for parameter "retention.max_run_duration"/,
	'a window longer than a day refused');

$node->stop;
done_testing();
