# RetentionNode: a PostgreSQL::Test::Cluster with pg_retention preloaded and
# a throwaway server key, for the TAP tests in test/t.
package RetentionNode;

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Cwd qw(abs_path);
use File::Basename qw(dirname);

# A new node, initialized, preloading pg_retention with the test key.
# Options: key => 0 to start without a key, conf => extra postgresql.conf lines,
# install_path => another PostgreSQL installation (its bin/..), initdb =>
# extra initdb arguments (array ref).
sub new_node
{
	my ($name, %opts) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name,
		$opts{install_path} ? (install_path => $opts{install_path}) : ());
	$node->init(extra => $opts{initdb} // []);
	my $key = abs_path(dirname(__FILE__) . '/../keys/test.key');
	chmod 0600, $key;
	my $conf = "shared_preload_libraries = 'pg_retention'\n";
	$conf .= "retention.key_file = '$key'\n" unless defined $opts{key} && !$opts{key};
	$conf .= "lc_messages = 'C'\n";
	# the worker's scheduled runs would race the tests; worker tests turn it on
	$conf .= "retention.worker_enabled = off\n";
	$conf .= $opts{conf} if $opts{conf};
	$node->append_conf('postgresql.conf', $conf);
	return $node;
}

1;
