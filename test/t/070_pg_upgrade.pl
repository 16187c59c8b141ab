# pg_upgrade from PostgreSQL 15 to this server's major (18 in scripts/test)
# keeps what pg_retention holds: the rules (security labels), the encrypted
# archive (same server key: still decrypts and restores), the erasure log,
# pending erasure requests, the run history; afterwards the labels apply, a
# keyed pseudonym is the same as before, forget works and the background
# worker runs.
#
# The old server is another installation: PG_UPGRADE_FROM_BIN names its bin
# directory (scripts/test passes the assert-enabled 15 of scripts/build-pg,
# into which its pass before installed the extension; by hand:
#   PG_BIN=/var/cache/pg_retention/pg18-cassert/bin \
#   PG_UPGRADE_FROM_BIN=/var/cache/pg_retention/pg15-cassert/bin scripts/check tap=070
# after a scripts/check with that PG_BIN). The test is skipped without one.
# Debian's 15.20 cannot be the old server: it stamps every column with an
# attribute option, pg_attver, which 18.6 refuses ("unrecognized parameter"),
# so pg_upgrade fails restoring any table, with or without pg_retention.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename qw(dirname);
use lib 'test/perl';
use RetentionNode;
use RetentionWorker;

my $old_bin = $ENV{PG_UPGRADE_FROM_BIN};
plan skip_all => 'PG_UPGRADE_FROM_BIN (the bin directory of a PostgreSQL 15) is not set'
  unless $old_bin;
my $old_libdir = `$old_bin/pg_config --pkglibdir`;
chomp $old_libdir;
plan skip_all => "the extension is not installed into $old_bin/.. (build and install it there first)"
  unless -f "$old_libdir/pg_retention.so";

my $old = RetentionNode::new_node('old', install_path => dirname($old_bin));
my ($old_major) = $old->pg_version =~ /^(\d+)/;
my ($new_major) = `pg_config --version` =~ /(\d+)/;
plan skip_all => "this server ($new_major) is not newer than $old_bin ($old_major)"
  unless $new_major > $old_major;
# the new cluster is initialized like the old one: PostgreSQL 18 enables data
# checksums by default, which pg_upgrade refuses when the old one has none
my $new = RetentionNode::new_node('new',
	initdb => ($new_major >= 18 ? ['--no-data-checksums'] : []));

$old->start;
$old->safe_psql('postgres', 'CREATE DATABASE app');
$old->safe_psql('app', q{
CREATE EXTENSION pg_retention;
CREATE SCHEMA crm;
CREATE TABLE crm.customer (id int PRIMARY KEY, name text, email text, seen_at timestamptz NOT NULL);
CREATE TABLE crm.orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES crm.customer,
                         address text, ordered_at timestamptz NOT NULL);
CREATE INDEX ON crm.customer (seen_at);
CREATE INDEX ON crm.orders (ordered_at);
SECURITY LABEL FOR retention ON TABLE crm.customer IS 'subject customer(id); age from seen_at; archive after 2 years';
SECURITY LABEL FOR retention ON COLUMN crm.customer.name IS 'personal';
SECURITY LABEL FOR retention ON COLUMN crm.customer.email IS 'anonymize after 1 year using hash';
SECURITY LABEL FOR retention ON TABLE crm.orders IS 'subject customer; age from ordered_at; archive after 1 year';
SECURITY LABEL FOR retention ON COLUMN crm.orders.address IS 'personal';
INSERT INTO crm.customer VALUES
    (1, 'Ada Kept',      'ada@example.org',   now() - interval '1 month'),
    (2, 'Bo Archived',   'bo@example.org',    now() - interval '3 years'),
    (3, 'Cy Anonymized', 'cy@example.org',    now() - interval '18 months'),
    (4, 'Di Forgotten',  'di@example.org',    now() - interval '1 month'),
    (5, 'Ed Requested',  'ed@example.org',    now() - interval '1 month'),
    (6, 'Fay Erased',    'fay@example.org',   now() - interval '1 month');
INSERT INTO crm.orders VALUES
    (10, 1, '1 Old Street',   now() - interval '2 years'),
    (11, 1, '1 New Street',   now() - interval '1 day'),
    (40, 4, '4 Forget Lane',  now() - interval '1 day'),
    (60, 6, '6 Erased Road',  now() - interval '1 day');
SET client_min_messages = warning;
CALL retention.run();
SELECT retention.forget_subject('customer', '6', 'ticket 15-1');
SELECT retention.request_erasure('customer', '5', 'ticket 15-2');
});

# What must come through unchanged.
my %snapshot = (
	policies => q{SELECT table_name, column_name, stage, after, method, subject, age_column
	              FROM retention.policies ORDER BY 1, 2 NULLS FIRST, 3},
	live => 'SELECT id, name, email FROM crm.customer ORDER BY id',
	archive => q{SELECT count(*), string_agg(subject_hash::text, ',' ORDER BY id)
	             FROM retention_archive.archived_row},
	decrypted => 'SELECT row_data::text FROM retention.archived_rows() ORDER BY 1',
	erasure_log => 'SELECT erasure_id, subject, subject_hash, reason, receipt FROM retention.erasure_log',
	requests => 'SELECT id, subject, subject_id, status, due_at FROM retention.erasure_request',
	history => 'SELECT run_id, status, started_by FROM retention.run_history ORDER BY run_id',
	key => 'SELECT loaded, version, fingerprint FROM retention.key_info()',
);
my %before = map { $_ => $old->safe_psql('app', $snapshot{$_}) } keys %snapshot;
is($old->safe_psql('app', 'SELECT count(*) FROM retention_archive.archived_row'), '2',
	'before: customer 2 and order 10 are archived');
like($before{decrypted}, qr/Bo Archived/, 'before: the archive decrypts');
is($old->safe_psql('app', 'SELECT email = retention.hash(\'cy@example.org\') FROM crm.customer WHERE id = 3'),
	't', "before: customer 3's e-mail is its keyed hash");
is($old->safe_psql('app', 'SELECT count(*) FROM retention.erasure_log'), '1', 'before: one erasure');

$old->stop;

# The upgrade, from a directory the test user may write to (pg_upgrade's logs).
my $workdir = PostgreSQL::Test::Utils::tempdir;
chdir $workdir or die "chdir $workdir: $!";
my $upgraded = $new->run_log(
	[
		'pg_upgrade', '--no-sync',
		'-d', $old->data_dir, '-D', $new->data_dir,
		'-b', $old_bin, '-B', $new->config_data('--bindir'),
		'-s', $new->host, '-p', $old->port, '-P', $new->port,
		'--copy'
	]);
ok($upgraded, "pg_upgrade from $old_major to $new_major")
  or BAIL_OUT('pg_upgrade failed: see pg_upgrade_output.d in ' . $new->data_dir);

$new->start;
is($new->safe_psql('app', 'SHOW server_version_num') >= $new_major * 10000, 1,
	"the database runs on $new_major");
for my $what (sort keys %snapshot)
{
	is($new->safe_psql('app', $snapshot{$what}), $before{$what}, "after: $what unchanged");
}

# The archive decrypts and restores.
is($new->safe_psql('app', q{SELECT retention.restore_archived('crm.customer')}), '1',
	'after: the archived customer restores');
is($new->safe_psql('app', 'SELECT name FROM crm.customer WHERE id = 2'), 'Bo Archived',
	'after: decrypted, into the live table');

# The labels apply (the write trigger queues rows that arrive already due):
# a run archives and anonymizes them, with the same keyed pseudonym as
# before the upgrade.
$new->safe_psql('app', q{
INSERT INTO crm.customer VALUES (7, 'Gus Due', 'gus@example.org', now() - interval '3 years'),
                                (8, 'Hal Old', 'hal@example.org', now() - interval '13 months');
SET client_min_messages = warning;
CALL retention.run();
});
is($new->safe_psql('app', q{SELECT status FROM retention.run_history ORDER BY run_id DESC LIMIT 1}),
	'succeeded', 'after: a run succeeds');
is($new->safe_psql('app', q{SELECT count(*) FROM crm.customer WHERE id = 7}), '0',
	'after: the due customer leaves the live table');
is($new->safe_psql('app', q{SELECT count(*) FROM retention.archived_rows() WHERE row_data->>'name' = 'Gus Due'}),
	'1', 'after: into the archive, readable');
is($new->safe_psql('app', q{SELECT email = retention.hash('hal@example.org') FROM crm.customer WHERE id = 8}),
	't', "after: a due e-mail is anonymized with the keyed hash");
is($new->safe_psql('app', q{SELECT email = retention.hash('cy@example.org') FROM crm.customer WHERE id = 3}),
	't', 'after: the same key gives the same pseudonym as before the upgrade');

# Forget works.
$new->safe_psql('app', q{SELECT retention.forget_subject('customer', '4', 'ticket 18-1')});
is($new->safe_psql('app', q{SELECT (SELECT count(*) FROM crm.customer WHERE id = 4) + (SELECT count(*) FROM crm.orders WHERE customer_id = 4)}),
	'0', 'after: forget deletes the subject');
is($new->safe_psql('app', 'SELECT count(*) FROM retention.verify_forgotten(\'customer\', \'4\')'),
	'0', 'after: nothing of it is left');
is($new->safe_psql('app', 'SELECT count(*) FROM retention.erasure_log'), '2',
	'after: the erasure log has the old and the new erasure');

# The worker runs on its schedule (an injected clock) and carries out the
# request made before the upgrade, once approved.
$new->safe_psql('app', q{SELECT retention.approve_erasure(id) FROM retention.erasure_request WHERE status = 'received'});
RetentionWorker::set_conf($new,
	'retention.worker_enabled' => 'on',
	'retention.run_at' => "'03:00'",
	'retention.time_zone' => "'UTC'",
	'retention.test_clock' => "'2030-01-15 02:00:00+00'");
$new->poll_query_until('app', q{SELECT next_run_at = '2030-01-15 03:00:00+00' FROM retention.worker_state})
  or die 'the worker did not plan a run in the upgraded database';
RetentionWorker::set_clock($new, '2030-01-15 03:00:00+00');
RetentionWorker::wait_for_run_status($new, 'app', 'succeeded');
pass('after: the worker runs at its scheduled time');
$new->poll_query_until('app', q{SELECT status = 'done' FROM retention.erasure_request WHERE reason = 'ticket 15-2'})
  or die 'the approved request was not carried out';
is($new->safe_psql('app', q{SELECT count(*) FROM retention.verify_forgotten('customer', '5')}), '0',
	"after: the worker carried out the request made before the upgrade");

$new->stop;
done_testing();
