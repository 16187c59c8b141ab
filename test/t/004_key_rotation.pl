# Rotating the server key: archived rows stay readable while the retired key
# is loaded as the previous key, rewrap_archive_keys() moves every data key
# to the new server key, and the retired key can then be removed.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/perl';
use RetentionNode;

my $dir = PostgreSQL::Test::Utils::tempdir();
sub write_key
{
	my ($name, $hex) = @_;
	my $path = "$dir/$name";
	open(my $fh, '>', $path) or die;
	print $fh "$hex\n";
	close $fh;
	chmod 0600, $path;
	return $path;
}
my $old_key = write_key('old.key', '11' x 32);
my $new_key = write_key('new.key', '22' x 32);

my $node = RetentionNode::new_node('rotation', key => 0,
	conf => "retention.key_file = '$old_key'\nretention.key_version = 1\n");
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_retention;
CREATE TABLE person (id int PRIMARY KEY, email text, seen date);
INSERT INTO person SELECT i, 'p' || i || '@example.com', current_date - 800 FROM generate_series(1, 20) i;
SECURITY LABEL FOR retention ON TABLE person IS 'subject person(id); age from seen; archive after 1 year';
CALL retention.run();
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM retention_archive.data_key WHERE key_version = 1'),
	'20', 'one data key per subject, wrapped under key version 1');
my $before = $node->safe_psql('postgres',
	q{SELECT string_agg(row_data::text, ',' ORDER BY id) FROM retention.archived_rows()});
$node->stop;

# the new key is current, the old one is loaded as the previous key
$node->append_conf('postgresql.conf',
	"retention.key_file = '$new_key'\nretention.key_version = 2\n"
	  . "retention.previous_key_file = '$old_key'\nretention.previous_key_version = 1\n");
$node->start;
is($node->safe_psql('postgres',
	q{SELECT string_agg(row_data::text, ',' ORDER BY id) FROM retention.archived_rows()}),
	$before, 'archived rows open with the previous key during the rotation');
is($node->safe_psql('postgres', 'SELECT retention.rewrap_archive_keys()'), '20', 'every data key rewrapped');
is($node->safe_psql('postgres', 'SELECT count(*) FROM retention_archive.data_key WHERE key_version = 2'),
	'20', 'all data keys are now under key version 2');
is($node->safe_psql('postgres', 'SELECT retention.rewrap_archive_keys()'), '0', 'a second rewrap has nothing to do');
$node->stop;

# the retired key can go
$node->append_conf('postgresql.conf', "retention.previous_key_file = ''\nretention.previous_key_version = 0\n");
$node->start;
is($node->safe_psql('postgres',
	q{SELECT string_agg(row_data::text, ',' ORDER BY id) FROM retention.archived_rows()}),
	$before, 'archived rows open with the new key alone');
my ($rc, $out, $err) = $node->psql('postgres', q{SELECT fingerprint FROM retention.key_info()});
$node->stop;

# without the previous key, a key of an unknown version is refused with a hint
$node->append_conf('postgresql.conf', "retention.key_file = '$old_key'\nretention.key_version = 1\n");
$node->start;
($rc, $out, $err) = $node->psql('postgres', q{SELECT count(*) FROM retention.archived_rows()});
like($err, qr/archive key of version 2 cannot be opened/, 'a key version that is not loaded is refused');
like($err, qr/HINT:.*previous_key_file/, 'with a hint');
$node->stop;
done_testing();
