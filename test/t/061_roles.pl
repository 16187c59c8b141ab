# The cluster-wide roles retention_admin and retention_dpo across databases:
# the first CREATE EXTENSION creates them, a second database's uses them,
# DROP EXTENSION leaves them with their members, a re-created extension
# grants to them again, and they can be dropped once no database uses them.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/perl';
use RetentionNode;

my $node = RetentionNode::new_node('roles');
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE one; CREATE DATABASE two; CREATE ROLE alice LOGIN');

my $roles = q{SELECT string_agg(rolname || ':' || rolcanlogin, ',' ORDER BY rolname)
              FROM pg_roles WHERE rolname LIKE 'retention\_%'};
# What retention_dpo and retention_admin may do in a database.
my $grants = q{SELECT has_function_privilege('retention_dpo',
                          'retention.forget_subject(text, text, text)', 'EXECUTE')
                      AND has_table_privilege('retention_admin', 'retention_archive.archived_row', 'SELECT')
                      AND NOT has_function_privilege('public', 'retention.hash(text)', 'EXECUTE')};

is($node->safe_psql('one', $roles), '', 'no role before the extension');
$node->safe_psql('one', 'CREATE EXTENSION pg_retention');
is($node->safe_psql('one', $roles), 'retention_admin:false,retention_dpo:false',
	'the first CREATE EXTENSION creates both roles, NOLOGIN');
$node->safe_psql('one', 'GRANT retention_dpo TO alice');

$node->safe_psql('two', 'CREATE EXTENSION pg_retention');
is($node->safe_psql('two', $grants), 't', "a second database's CREATE EXTENSION grants to the existing roles");

$node->safe_psql('one', 'DROP EXTENSION pg_retention');
is($node->safe_psql('one', $roles), 'retention_admin:false,retention_dpo:false', 'DROP EXTENSION leaves the roles');
is($node->safe_psql('one', q{SELECT pg_has_role('alice', 'retention_dpo', 'MEMBER')}),
	't', 'and their members');
is($node->safe_psql('two', $grants), 't', 'the other database keeps its grants');

$node->safe_psql('one', 'CREATE EXTENSION pg_retention');
is($node->safe_psql('one', $grants), 't', 'the extension re-created in the first database grants again');

my ($rc, $out, $err) = $node->psql('postgres', 'DROP ROLE retention_dpo');
like($err, qr/role "retention_dpo" cannot be dropped because some objects depend on it/,
	'a role cannot be dropped while a database has the extension');

$node->safe_psql('one', 'DROP EXTENSION pg_retention');
$node->safe_psql('two', 'DROP EXTENSION pg_retention');
$node->safe_psql('postgres', 'DROP ROLE retention_admin; DROP ROLE retention_dpo');
is($node->safe_psql('one', $roles), '', 'dropped once no database has the extension');

$node->safe_psql('two', 'CREATE EXTENSION pg_retention');
is($node->safe_psql('two', $roles), 'retention_admin:false,retention_dpo:false', 'and created again by the next CREATE EXTENSION');
is($node->safe_psql('two', $grants), 't', 'with their grants');

# Labels outlive DROP EXTENSION (CASCADE takes the write triggers): the table's
# ALTER COLUMN TYPE and DROP COLUMN, which re-create the triggers where the
# extension is installed, leave such a database alone.
$node->safe_psql('two', q{
CREATE TABLE note (id int PRIMARY KEY, body text, at timestamptz);
SECURITY LABEL FOR retention ON TABLE note IS 'age from at';
SECURITY LABEL FOR retention ON COLUMN note.body IS 'anonymize after 1 year using hash';
DROP EXTENSION pg_retention CASCADE;
});
my ($alter_rc, $alter_out, $alter_err) = $node->psql('two',
	'ALTER TABLE note ALTER COLUMN body TYPE varchar(100); ALTER TABLE note DROP COLUMN at');
is($alter_rc . $alter_err, '0', 'ALTER TABLE works on a labelled table once the extension is dropped');
is($node->safe_psql('two', q{SELECT count(*) FROM pg_seclabel WHERE objoid = 'note'::regclass}),
	'2', 'its labels are still there');

$node->stop;
done_testing();
