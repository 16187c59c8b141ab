# After forget, a pg_dump of the database holds no trace of the subject's
# personal values: not in its tables, not in the archive (whose rows are
# deleted, and were ciphertext anyway), not in the erasure log, the
# receipts or the erasure requests.  Another subject's values are still
# there, so the check can fail.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/perl';
use RetentionNode;

my $node = RetentionNode::new_node('rights_dump');
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE shop');
$node->safe_psql('shop', q{
CREATE EXTENSION pg_retention;
CREATE SCHEMA crm;
CREATE TABLE crm.customer (id int PRIMARY KEY, name text, email text, phone text, seen_at timestamptz NOT NULL);
CREATE TABLE crm.orders (id int PRIMARY KEY, customer_id int REFERENCES crm.customer, address text,
                         ordered_at timestamptz NOT NULL);
CREATE TABLE crm.review (id int PRIMARY KEY, customer_id int REFERENCES crm.customer, body text);
SECURITY LABEL FOR retention ON TABLE crm.customer IS 'subject customer(id); age from seen_at; archive after 2 years';
SECURITY LABEL FOR retention ON COLUMN crm.customer.name IS 'personal';
SECURITY LABEL FOR retention ON COLUMN crm.customer.email IS 'anonymize after 1 year using hash';
SECURITY LABEL FOR retention ON COLUMN crm.customer.phone IS 'personal';
SECURITY LABEL FOR retention ON TABLE crm.orders IS 'subject customer; age from ordered_at; archive after 1 year';
SECURITY LABEL FOR retention ON COLUMN crm.orders.address IS 'personal';
SECURITY LABEL FOR retention ON TABLE crm.review IS 'subject customer; on forget anonymize';
SECURITY LABEL FOR retention ON COLUMN crm.review.body IS 'personal';
INSERT INTO crm.customer VALUES
  (7, 'Zelda Quuxington', 'zelda.quux@example.org', '+33 6 99 88 77 66', now() - interval '1 month'),
  (8, 'Yannick Borrowdale', 'yannick.borrow@example.org', '+33 6 11 22 33 44', now() - interval '1 month');
INSERT INTO crm.orders VALUES
  (70, 7, '12 Rue des Quux, Lyon', now() - interval '3 years'),
  (71, 7, '12 Rue des Quux, Lyon', now() - interval '2 days'),
  (80, 8, '3 Borrowdale Lane, York', now() - interval '2 days');
INSERT INTO crm.review VALUES (700, 7, 'Zelda says the lamp is great'), (800, 8, 'Yannick liked it');
});

# the old order goes to the archive, the subject asks to be forgotten
$node->safe_psql('shop', 'SET client_min_messages = warning; CALL retention.run();');
is($node->safe_psql('shop', q{SELECT count(*) FROM retention_archive.archived_row}),
	'1', 'one order is archived');
$node->safe_psql('shop', q{
SELECT retention.request_erasure('customer', '7', 'web form 2024-42');
SELECT retention.approve_erasure(id) FROM retention.erasure_request;
SELECT retention.restrict_subject('customer', '7', 'objection while the request is processed');
});
is($node->safe_psql('shop', 'SELECT retention.process_erasure_requests()'), '1',
	'the approved request is carried out');
$node->safe_psql('shop', q{SELECT retention.unrestrict_subject('customer', '7')});
is($node->safe_psql('shop',
	q{SELECT count(*) FROM retention.verify_forgotten('customer', '7') WHERE status = 'leftover'}),
	'0', 'verify_forgotten finds no leftover');

my ($stdout, $stderr);
IPC::Run::run([ 'pg_dump', '-d', $node->connstr('shop') ], '>', \$stdout, '2>', \$stderr)
  or die "pg_dump failed: $stderr";
ok(length($stdout) > 1000, 'pg_dump produced a dump');

for my $value ('Zelda', 'Quuxington', 'zelda.quux', '99 88 77 66', 'Rue des Quux',
	'the lamp is great')
{
	unlike($stdout, qr/\Q$value\E/, "the dump holds no trace of \"$value\"");
}
# the other subject is still there, in clear
like($stdout, qr/Yannick Borrowdale/, 'another subject is still in the dump');
like($stdout, qr/3 Borrowdale Lane/, 'and its orders too');
# the proof of erasure is there, without personal data
like($stdout, qr/web form 2024-42/, 'the erasure log and request are in the dump');

# the record of what forget left in place names its table, which a restore renames to its new oid
is($node->safe_psql('shop', 'SELECT relation::text, row_key::text FROM retention.forgotten_row'),
	'crm.review|{700}', 'forget recorded the review it anonymized');
$node->safe_psql('postgres', 'CREATE DATABASE shop_restored');
my $dump_file = "$PostgreSQL::Test::Utils::tmp_check/rights_dump.sql";
PostgreSQL::Test::Utils::append_to_file($dump_file, $stdout);
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', $dump_file, '-d',
	$node->connstr('shop_restored') ], 'the dump restores');
is($node->safe_psql('shop_restored',
	'SELECT relation::text, row_key::text, relation = \'crm.review\'::regclass FROM retention.forgotten_row'),
	'crm.review|{700}|t', 'the record follows the table across a dump and restore');

$node->stop;
done_testing();
