# Re-applying erasures after restoring a backup taken before them.
#
# A dump is taken; a subject is then forgotten (live rows and archived rows);
# the erasure log of that database is exported.  The old dump is restored
# into a new database: the subject is back, live and archived.  The log is
# imported there and re-applied: nothing of the subject remains, the other
# subject is untouched.  Both databases use the same server key, as a
# restore on the same cluster (or one configured with the same key) does.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/perl';
use RetentionNode;

my $node = RetentionNode::new_node('rights_reapply');
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE live; CREATE DATABASE restored;');
$node->safe_psql('live', q{
CREATE EXTENSION pg_retention;
CREATE SCHEMA crm;
CREATE TABLE crm.customer (id int PRIMARY KEY, name text, seen_at timestamptz NOT NULL);
CREATE TABLE crm.orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES crm.customer,
                         address text, ordered_at timestamptz NOT NULL);
CREATE TABLE crm.invoice (id int PRIMARY KEY, customer_id int REFERENCES crm.customer ON DELETE SET NULL,
                          amount numeric);
SECURITY LABEL FOR retention ON TABLE crm.customer IS 'subject customer(id); age from seen_at; archive after 2 years';
SECURITY LABEL FOR retention ON COLUMN crm.customer.name IS 'personal';
SECURITY LABEL FOR retention ON TABLE crm.orders IS 'subject customer; age from ordered_at; archive after 1 year';
SECURITY LABEL FOR retention ON COLUMN crm.orders.address IS 'personal';
SECURITY LABEL FOR retention ON TABLE crm.invoice IS 'subject customer; on forget keep';
INSERT INTO crm.customer VALUES (1, 'Quentin Reapply', now() - interval '1 month'),
                                (2, 'Rosa Staying', now() - interval '1 month'),
                                (3, 'Sven Archived', now() - interval '3 years');
INSERT INTO crm.orders VALUES (10, 1, '1 Old Street', now() - interval '2 years'),
                              (11, 1, '1 Old Street', now() - interval '1 day'),
                              (20, 2, '2 Stay Road', now() - interval '1 day');
INSERT INTO crm.invoice VALUES (100, 1, 30), (200, 2, 40);
SET client_min_messages = warning;
CALL retention.run();
});
is($node->safe_psql('live', 'SELECT count(*) FROM retention_archive.archived_row'), '2',
	'an order of customer 1 and customer 3 are archived');

# the backup, taken before the erasures
my $dump = "$PostgreSQL::Test::Utils::tmp_check/before_erasure.dump";
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('live') ],
	'pg_dump before the erasures');

$node->safe_psql('live', q{
SELECT retention.forget_subject('customer', '1', 'ticket 9001');
SELECT retention.forget_subject('customer', '3', 'ticket 9002');
});
my $log = $node->safe_psql('live', 'SELECT retention.export_erasure_log()');
like($log, qr/ticket 9001/, 'the exported log names the erasures');
unlike($log, qr/Quentin|Old Street|Sven/, 'the exported log holds no personal data');

# restore the old backup: the subjects are back
my $rc = $node->run_log([ 'pg_restore', '-d', $node->connstr('restored'), $dump ]);
ok($rc, 'pg_restore of the old dump');
is($node->safe_psql('restored', q{SELECT string_agg(name, ', ' ORDER BY id) FROM crm.customer}),
	'Quentin Reapply, Rosa Staying', 'the restored database has the forgotten customer again');
is($node->safe_psql('restored', q{SELECT count(*) FROM retention.archived_rows()}), '2',
	'and the archived rows, readable');
is($node->safe_psql('restored', q{SELECT count(*) FROM retention.erasure_log}), '0',
	'its erasure log predates the erasures');

# carry the log over and re-apply it
my $quoted = $log;
$quoted =~ s/'/''/g;
is($node->safe_psql('restored', "SELECT retention.import_erasure_log('$quoted')"), '2',
	'both entries imported');
my $reapplied = $node->safe_psql('restored',
	q{SELECT string_agg(r.receipt->>'rows_forgotten' || '/' || (r.receipt->'archive'->>'rows_deleted'), ' ' ORDER BY e.reason)
	  FROM retention.reapply_erasures() r JOIN retention.erasure_log e USING (erasure_id)});
is($reapplied, '2/1 0/1', 're-applied: customer 1 live and archived, customer 3 archived');

for my $id (1, 3)
{
	is($node->safe_psql('restored',
		"SELECT coalesce(string_agg(table_name || ' ' || status, ', '), '') FROM retention.verify_forgotten('customer', '$id') WHERE status <> 'legal hold'"),
		'', "nothing of customer $id remains");
}
is($node->safe_psql('restored', q{SELECT string_agg(name, ', ' ORDER BY id) FROM crm.customer}),
	'Rosa Staying', 'the other customer is untouched');
is($node->safe_psql('restored', q{SELECT count(*) FROM crm.invoice WHERE id = 100}), '1',
	'the invoice under legal hold is kept');
is($node->safe_psql('restored', q{SELECT count(*) FROM retention_archive.data_key}), '0',
	'the forgotten subjects have no data key');
my ($out, $err);
IPC::Run::run([ 'pg_dump', '-d', $node->connstr('restored') ], '>', \$out, '2>', \$err)
  or die "pg_dump failed: $err";
unlike($out, qr/Quentin|Old Street|Sven/, 'a dump of the restored database holds no trace of them');

$node->stop;
done_testing();
