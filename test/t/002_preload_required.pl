# pg_retention must be preloaded: loading it any other way gives a clear
# error with a hint, and the server still works.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('nopreload');
$node->init;
$node->append_conf('postgresql.conf', "lc_messages = 'C'\n");
$node->start;

my ($rc, $stdout, $stderr) = $node->psql('postgres', 'CREATE EXTENSION pg_retention');
isnt($rc, 0, 'CREATE EXTENSION fails without shared_preload_libraries');
like($stderr, qr/pg_retention must be loaded via shared_preload_libraries/, 'the error says why');
like($stderr, qr/HINT:\s+Add pg_retention to shared_preload_libraries/, 'and how to fix it');

($rc, $stdout, $stderr) = $node->psql('postgres', q{LOAD 'pg_retention'});
isnt($rc, 0, 'LOAD fails too');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server is unaffected');

$node->stop;
done_testing();
