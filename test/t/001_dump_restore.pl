# Retention rules survive pg_dump / pg_restore into another database,
# including labels whose subject path is resolved only once the foreign keys
# are restored.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/perl';
use RetentionNode;

my $node = RetentionNode::new_node('dump');
$node->start;

$node->safe_psql('postgres', q{
CREATE DATABASE source;
CREATE DATABASE target;
});
$node->safe_psql('source', q{
CREATE EXTENSION pg_retention;
CREATE SCHEMA crm;
CREATE TABLE crm.customer (id int PRIMARY KEY, email text, phone text, birthday date, seen_at timestamptz);
CREATE TABLE crm.orders (id int PRIMARY KEY, customer_id int REFERENCES crm.customer(id), city text, at date);
CREATE TABLE crm.event (id int, note text, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE crm.event_2024 PARTITION OF crm.event FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
SECURITY LABEL FOR retention ON TABLE crm.customer IS 'subject customer(id); age from seen_at; archive after 2 years; purge after 6 years; purpose ''crm''; basis contract';
SECURITY LABEL FOR retention ON TABLE crm.orders IS 'subject customer via customer_id; age from at; purge after 10 years; on forget anonymize';
SECURITY LABEL FOR retention ON TABLE crm.event IS 'age from at; purge after 1 year';
SECURITY LABEL FOR retention ON COLUMN crm.customer.email IS 'anonymize after 1 year using hash';
SECURITY LABEL FOR retention ON COLUMN crm.customer.phone IS 'anonymize after 6 months using partial(2, ''*'', 2); purge after 18 months';
SECURITY LABEL FOR retention ON COLUMN crm.customer.birthday IS 'minimize to month_day';
SECURITY LABEL FOR retention ON COLUMN crm.orders.city IS 'personal';
SECURITY LABEL FOR retention ON COLUMN crm.event.note IS 'anonymize after 3 months using redact';
});

my $policies = q{SELECT table_name, column_name, stage, after, method, subject, age_column, purpose, basis
                 FROM retention.policies ORDER BY table_name::text, column_name NULLS FIRST, stage};
my $before = $node->safe_psql('source', $policies);
ok(length($before) > 0, 'source has policies');

my $file = "$PostgreSQL::Test::Utils::tmp_check/source.dump";
$node->command_ok([ 'pg_dump', '-Fc', '-f', $file, '-d', $node->connstr('source') ], 'pg_dump');
my $rc = $node->run_log([ 'pg_restore', '-d', $node->connstr('target'), $file ]);
ok($rc, 'pg_restore succeeds');

my $after = $node->safe_psql('target', $policies);
is($after, $before, 'every rule survives dump and restore');

my $triggers = q{SELECT string_agg(tgrelid::regclass || ' ' || pg_get_triggerdef(oid), E'\n'
                                   ORDER BY tgrelid::regclass::text, tgname)
                 FROM pg_trigger WHERE NOT tgisinternal};
my $source_triggers = $node->safe_psql('source', $triggers);
like($source_triggers, qr/retention_late_rows AFTER INSERT OR UPDATE OF .* WHEN/,
	'the source has the late-row trigger');
is($node->safe_psql('target', $triggers), $source_triggers,
	'the write triggers are restored once each, as the labels make them');

my $problems = $node->safe_psql('target',
	q{SELECT count(*) FROM retention.check() WHERE severity = 'error'});
is($problems, '0', 'subject paths resolve once the foreign keys are restored');

my $rules = $node->safe_psql('target',
	q{SELECT count(*) FROM retention.rules_for('crm.event_2024')});
is($rules, '2', 'the restored partition follows its parent');

$node->stop;
done_testing();
