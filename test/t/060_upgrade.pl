# ALTER EXTENSION pg_retention UPDATE from 0.1.0: a database filled by 0.1.0
# (labels, a run that archived rows, an erasure log, a paused table, erasure
# requests, a restriction) keeps working once updated, and its objects are
# exactly those of a fresh install of the current version.
#
# What 0.1.0's engine wrote (archive sealed under the test key, erasure log,
# run history, watermarks, and the application rows after its run) is
# test/upgrade/state-0.1.0.sql, made once, when the engine was still 0.1.0's
# (the schema of 0.2.0 then equal to 0.1.0's), with
#   PGR_UPGRADE_STATE_OUT=/tmp/state.sql scripts/check tap=060
# and never again: the current library refuses to run on a 0.1.0 schema, and
# the point is to read what the old engine wrote.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/perl';
use RetentionNode;

my $node = RetentionNode::new_node('upgrade');
$node->start;

my $setup = slurp_file('test/upgrade/setup-0.1.0.sql');

# The tables whose rows make up 0.1.0's state, parents first; those with an
# oid column relid are written with the table's name (OIDs differ between
# databases).
my @state_tables = (
	[ 'crm.customer', 0 ], [ 'crm.orders', 0 ], [ 'crm.visit', 0 ],
	[ 'retention.run_history', 0 ], [ 'retention.run_detail', 0 ],
	[ 'retention.stage_state', 1 ], [ 'retention.late_row', 1 ],
	[ 'retention_archive.data_key', 0 ], [ 'retention_archive.archived_row', 1 ],
	[ 'retention.erasure_log', 0 ], [ 'retention.forgotten_row', 0 ]);

if ($ENV{PGR_UPGRADE_STATE_OUT})
{
	make_state($ENV{PGR_UPGRADE_STATE_OUT});
	done_testing();
	exit 0;
}

# --- a database at 0.1.0, filled -------------------------------------------
$node->safe_psql('postgres', 'CREATE DATABASE old; CREATE DATABASE fresh; CREATE DATABASE stale');
$node->safe_psql('old', "CREATE EXTENSION pg_retention VERSION '0.1.0'");
$node->safe_psql('old', $setup);
$node->safe_psql('old', slurp_file('test/upgrade/state-0.1.0.sql'));
$node->safe_psql('old', q{
CREATE ROLE app LOGIN;
GRANT USAGE ON SCHEMA crm TO app;
GRANT SELECT ON crm.customer TO app;
SELECT retention.enable_restriction('crm.customer');
SELECT retention.restrict_subject('customer', '4', 'contested');
SELECT retention.request_erasure('customer', '3', 'pending request');
SELECT retention.approve_erasure(retention.request_erasure('customer', '6', 'approved request'));
});
is($node->safe_psql('old', 'SELECT extversion FROM pg_extension WHERE extname = \'pg_retention\''),
	'0.1.0', 'installed at 0.1.0');
is($node->safe_psql('old', 'SELECT count(*) FROM retention_archive.archived_row'),
	'1', '0.1.0 archived a row (customer 2 was forgotten, customer 1 is left)');

# --- the current library on a 0.1.0 schema refuses clearly ----------------
for my $call ('CALL retention.run()', "SELECT retention.forget_subject('customer', '5')",
	"SELECT retention.restore_archived('crm.customer')")
{
	my ($rc, $out, $err) = $node->psql('old', $call);
	like(
		$err,
		qr/extension "pg_retention" is at version 0\.1\.0 in this database, its library at version .*\n.*\nHINT:  run ALTER EXTENSION pg_retention UPDATE in this database/,
		"$call is refused on the 0.1.0 schema with a hint to update");
}
is($node->safe_psql('old', q{SELECT count(*) FROM crm.customer WHERE id = 5}),
	'1', 'nothing was forgotten by the refused call');

# --- the update ------------------------------------------------------------
my $triggers = q{SELECT string_agg(pg_get_triggerdef(oid), E'\n' ORDER BY tgrelid::regclass::text, tgname)
                 FROM pg_trigger WHERE NOT tgisinternal AND tgrelid::regclass::text LIKE 'crm.%'};
like($node->safe_psql('old', $triggers), qr/TRIGGER retention_write BEFORE INSERT OR UPDATE ON crm\.customer/,
	'0.1.0 gave the labelled tables its single BEFORE trigger retention_write');
$node->safe_psql('old', q{INSERT INTO crm.customer VALUES (100, 'late@example.com', '+3310000000', 'Nice', now() - interval '2 years')});
is($node->safe_psql('old', q{SELECT string_agg(attnum::text, ',' ORDER BY attnum) FROM retention.late_row WHERE row_key = '{100}'}),
	'2,3', 'with the current library, 0.1.0\'s trigger still queues a row written already due');
$node->safe_psql('old', q{DELETE FROM crm.customer WHERE id = 100; DELETE FROM retention.late_row WHERE row_key = '{100}'});
$node->safe_psql('old', 'ALTER EXTENSION pg_retention UPDATE');
my $version = $node->safe_psql('fresh', 'SELECT default_version FROM pg_available_extensions '
	  . "WHERE name = 'pg_retention'");
is($node->safe_psql('old', 'SELECT extversion FROM pg_extension WHERE extname = \'pg_retention\''),
	$version, "updated to the default version $version");

# --- the write triggers of a table labelled now ----------------------------
$node->safe_psql('postgres', 'CREATE DATABASE relabelled');
$node->safe_psql('relabelled', 'CREATE EXTENSION pg_retention');
$node->safe_psql('relabelled', $setup);
my $updated_triggers = $node->safe_psql('old', $triggers);
is($updated_triggers, $node->safe_psql('relabelled', $triggers),
	'every labelled table has the write triggers it would get if labelled now');
like($updated_triggers, qr/TRIGGER retention_late_rows AFTER INSERT OR UPDATE OF seen_at, email, phone ON crm\.customer/,
	'retention_late_rows replaces retention_write');
unlike($updated_triggers, qr/retention_write/, 'no table keeps retention_write');

$node->safe_psql('old', q{INSERT INTO crm.customer VALUES (101, 'late2@example.com', '+3310000001', 'Nice', now() - interval '2 years')});
is($node->safe_psql('old', q{SELECT string_agg(attnum::text, ',' ORDER BY attnum) FROM retention.late_row WHERE row_key = '{101}'}),
	'2,3', 'after the update, retention_late_rows queues a row written already due');
$node->safe_psql('old', q{DELETE FROM crm.customer WHERE id = 101; DELETE FROM retention.late_row WHERE row_key = '{101}'});

# --- the same objects as a fresh install -------------------------------------
$node->safe_psql('fresh', 'CREATE EXTENSION pg_retention');
my $objects = slurp_file('test/upgrade/objects.sql');
my @updated = split /\n/, $node->safe_psql('old', $objects);
my @installed = split /\n/, $node->safe_psql('fresh', $objects);
my %in_updated = map { $_ => 1 } @updated;
my %in_installed = map { $_ => 1 } @installed;
my @missing = grep { !$in_updated{$_} } @installed;
my @extra = grep { !$in_installed{$_} } @updated;
diag("missing after the update: $_") for @missing;
diag("not in a fresh install: $_") for @extra;
ok(@installed > 100, 'the description covers the extension (' . scalar(@installed) . ' lines)');
ok(@missing == 0 && @extra == 0,
	'the updated schema equals a fresh install: functions, tables, columns, constraints, '
	  . 'indexes, views, grants, comments, membership');

# --- everything still works ------------------------------------------------
is( $node->safe_psql(
		'old', q{SELECT row_data->>'city' FROM retention.archived_rows('crm.customer')}),
	'Lyon',
	'a row archived by 0.1.0 decrypts');
is($node->safe_psql('old', q{SELECT count(*) FROM retention.verify_forgotten('customer', '2')
                            WHERE status = 'leftover'}),
	'0', 'the subject 0.1.0 forgot stays forgotten');

$node->safe_psql('old', 'CALL retention.run()');
is( $node->safe_psql(
		'old', 'SELECT status FROM retention.run_history ORDER BY run_id DESC LIMIT 1'),
	'succeeded',
	'a run succeeds after the update');
is($node->safe_psql('old', 'SELECT count(*) FROM crm.visit'),
	'2', 'the table paused under 0.1.0 is still skipped');
is($node->safe_psql('old', 'SELECT count(*) FROM retention_archive.archived_row'),
	'1', 'the run archives nothing twice');

is($node->safe_psql('old', q{SELECT retention.restore_archived('crm.customer')}),
	'1', 'restore_archived brings back the row 0.1.0 archived');
is($node->safe_psql('old', q{SELECT city || ' ' || phone FROM crm.customer WHERE id = 1}),
	'Lyon +3*11', 'with its values (anonymized before they were archived)');

$node->safe_psql('old', q{SELECT retention.forget_subject('customer', '5', 'after the update')});
is($node->safe_psql('old', q{SELECT count(*) FROM crm.customer WHERE id = 5}),
	'0', 'forget works after the update');
is($node->safe_psql('old', q{SELECT count(*) FROM retention.erasure_log}),
	'2', 'the erasure log keeps the 0.1.0 entry and gains the new one');
$node->safe_psql('old', q{
INSERT INTO crm.customer VALUES (2, 'two@example.com', '+3322222222', 'Paris', '2100-01-01');
SELECT count(*) FROM retention.reapply_erasures();
});
is($node->safe_psql('old', q{SELECT count(*) FROM crm.customer WHERE id = 2}),
	'0', 'the erasure 0.1.0 logged re-applies to a subject restored from an old backup');

is($node->safe_psql('old', 'SELECT retention.process_erasure_requests()'),
	'1', 'the request approved under 0.1.0 is carried out');
is( $node->safe_psql(
		'old', q{SELECT string_agg(status, ',' ORDER BY id) FROM retention.erasure_request}),
	'received,done',
	'the pending request stays pending');
is($node->safe_psql('old', q{SET ROLE app; SELECT string_agg(id::text, ',' ORDER BY id) FROM crm.customer}),
	'1,3', 'the subject restricted under 0.1.0 stays hidden from the application');

# --- the worker skips a database still at 0.1.0 ----------------------------
$node->safe_psql('stale', "CREATE EXTENSION pg_retention VERSION '0.1.0'");
my $offset = -s $node->logfile;
$node->append_conf('postgresql.conf', 'retention.worker_enabled = on');
$node->reload;
$node->wait_for_log(
	qr/database "stale" is skipped: its extension is at version 0\.1\.0, the library at version \Q$version\E; run ALTER EXTENSION pg_retention UPDATE there/,
	$offset);
pass('the worker logs and skips a database at 0.1.0');
$offset = -s $node->logfile;
$node->safe_psql('stale', 'ALTER EXTENSION pg_retention UPDATE');
$node->poll_query_until('stale', 'SELECT count(*) = 1 FROM retention.worker_state')
  or die 'the worker never looked at the updated database';
pass('once updated, the worker takes the database on');
ok(!$node->log_contains(qr/terminated by signal|server process .* exited with exit code [^01]/, $offset),
	'no backend crashed');

$node->stop;
done_testing();

# Writes the SQL that loads what 0.1.0 wrote into a fresh 0.1.0 install.
sub make_state
{
	my ($out) = @_;
	$node->safe_psql('postgres', 'CREATE DATABASE state');
	$node->safe_psql('state', 'CREATE EXTENSION pg_retention');
	$node->safe_psql('state', $setup);
	$node->safe_psql('state', slurp_file('test/upgrade/fill-0.1.0.sql'));
	my $rows = '';
	my $ord = 0;
	for my $t (@state_tables)
	{
		my ($table, $has_relid) = @$t;
		$ord++;
		my $json = $has_relid
		  ? q{to_jsonb(r) || jsonb_build_object('relid', r.relid::regclass::text)}
		  : 'to_jsonb(r)';
		$rows .= $node->safe_psql('state',
			"SET search_path = pg_catalog; SELECT format('(%s, %L, %L),', $ord, '$table', $json) "
			  . "FROM $table r ORDER BY to_jsonb(r)::text") . "\n";
	}
	$rows =~ s/\n+/\n/g;
	$rows =~ s/,\n$/;\n/;
	open my $fh, '>', $out or die "cannot write $out: $!";
	print $fh <<"SQL";
-- What pg_retention 0.1.0 wrote in the database of test/upgrade/setup-0.1.0.sql
-- after test/upgrade/fill-0.1.0.sql (a run, a forget), under test/keys/test.key.
-- Generated by test/t/060_upgrade.pl (PGR_UPGRADE_STATE_OUT); do not edit.
CREATE TEMP TABLE state_row (ord int, tbl text, j jsonb);
INSERT INTO state_row VALUES
$rows
DO \$\$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT tbl, min(ord) FROM state_row GROUP BY tbl ORDER BY 2 LOOP
        EXECUTE format('INSERT INTO %s SELECT (jsonb_populate_record(NULL::%1\$s, '
                       'CASE WHEN j ? ''relid'' THEN j || jsonb_build_object(''relid'', '
                       '(j->>''relid'')::regclass::oid) ELSE j END)).* FROM state_row '
                       'WHERE tbl = %2\$L', t.tbl, t.tbl);
    END LOOP;
END
\$\$;
SELECT setval('retention.run_history_run_id_seq', max(run_id)) FROM retention.run_history;
SELECT setval('retention_archive.archived_row_id_seq', max(id)) FROM retention_archive.archived_row;
SELECT setval('retention.erasure_log_erasure_id_seq', max(erasure_id)) FROM retention.erasure_log;
SQL
	close $fh;
	pass("state written to $out");
	return;
}
