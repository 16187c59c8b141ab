# The server key is visible neither to SQL (superuser or not) nor in the
# server log, including when an error happens inside a method; a key from a
# key command works the same; a bad key leaves the server up with a clear
# warning and functions that need it fail with a hint.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/perl';
use RetentionNode;
use File::Basename qw(dirname);
use Cwd qw(abs_path);

my $keyfile = abs_path(dirname(__FILE__) . '/../keys/test.key');
open(my $fh, '<', $keyfile) or die "cannot read $keyfile";
my $key = <$fh>;
close $fh;
chomp $key;
my $key_head = substr($key, 0, 16);

my $node = RetentionNode::new_node('secrecy', conf => "log_min_messages = debug1\nlog_statement = 'all'\n");
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_retention;
CREATE ROLE app LOGIN;
GRANT USAGE ON SCHEMA retention TO app;
});

my @probes = (
	q{SHOW retention.key_file},
	q{SELECT current_setting('retention.key_file')},
	q{SELECT string_agg(name || '=' || coalesce(setting, ''), ',') FROM pg_settings WHERE name LIKE 'retention.%'},
	q{SELECT * FROM retention.key_info()},
	q{SELECT retention.hash('x', 'hex', 1000)},
	q{SELECT retention.hash('x', 'nope')},
	q{SELECT retention.fake_city('x', 'xx')},
	q{SELECT retention.partial('x', -5, '*', 1)},
);
my $everything = '';
for my $role ('postgres', 'app')
{
	for my $sql (@probes)
	{
		my ($rc, $out, $err) = $node->psql('postgres', "SET ROLE $role; $sql");
		$everything .= "$out\n$err\n";
		unlike("$out$err", qr/\Q$key_head\E/i, "$role: $sql does not show the key");
	}
}
# an application role cannot read the key file either (a superuser can read any
# file the server can: see the README on key commands)
my ($rc, $out, $err) = $node->psql('postgres', "SET ROLE app; SELECT pg_read_file('$keyfile')");
unlike("$out$err", qr/\Q$key_head\E/i, 'app cannot read the key file');
($rc, $out, $err) = $node->psql('postgres', 'SET ROLE app; SHOW retention.key_file');
like($err, qr/permission denied|must be superuser|pg_read_all_settings/i, 'the key file path is for superusers only');

my $log = slurp_file($node->logfile);
unlike($log, qr/\Q$key_head\E/i, 'the server log never contains the key');

# the same key from a key command gives the same pseudonyms
my $hash_file = $node->safe_psql('postgres', q{SELECT retention.hash('alice')});
$node->stop;
my $node2 = RetentionNode::new_node('command', key => 0,
	conf => "retention.key_command = 'cat $keyfile'\n");
$node2->start;
$node2->safe_psql('postgres', 'CREATE EXTENSION pg_retention');
is($node2->safe_psql('postgres', q{SELECT retention.hash('alice')}), $hash_file,
	'a key from retention.key_command works like the key file');
$node2->stop;

# a different key gives different pseudonyms
my $other = PostgreSQL::Test::Utils::tempdir() . '/other.key';
open(my $oh, '>', $other) or die;
print $oh ('ab' x 32) . "\n";
close $oh;
chmod 0600, $other;
my $node3 = RetentionNode::new_node('otherkey', key => 0, conf => "retention.key_file = '$other'\n");
$node3->start;
$node3->safe_psql('postgres', 'CREATE EXTENSION pg_retention');
isnt($node3->safe_psql('postgres', q{SELECT retention.hash('alice')}), $hash_file,
	'another key gives other pseudonyms');
isnt($node3->safe_psql('postgres', q{SELECT retention.fake_last_name('alice')}),
	$node3->safe_psql('postgres', q{SELECT retention.fake_last_name('bob')}), 'fakes differ per input');
$node3->stop;

# an invalid key: the server starts, says why (without echoing it), functions fail with a hint
open($oh, '>', $other) or die;
print $oh "not-a-key-SECRETSECRET\n";
close $oh;
my $node4 = RetentionNode::new_node('badkey', key => 0, conf => "retention.key_file = '$other'\n");
$node4->start;
$node4->safe_psql('postgres', 'CREATE EXTENSION pg_retention');
($rc, $out, $err) = $node4->psql('postgres', q{SELECT retention.hash('alice')});
like($err, qr/no retention server key is loaded/, 'functions needing the key fail');
like($err, qr/HINT:.*retention.key_file/, 'with a hint');
is($node4->safe_psql('postgres', q{SELECT loaded FROM retention.key_info()}), 'f', 'key_info says so');
$log = slurp_file($node4->logfile);
like($log, qr/invalid server key/, 'the log says the key is invalid');
unlike($log, qr/SECRETSECRET/, 'without echoing it');
$node4->stop;

# a key file readable by others is refused
chmod 0644, $other;
my $node5 = RetentionNode::new_node('openkey', key => 0, conf => "retention.key_file = '$other'\n");
$node5->start;
like(slurp_file($node5->logfile), qr/accessible to other users/, 'a world-readable key file is refused');
$node5->stop;

done_testing();
