# CitusCluster: a Citus cluster on loopback for the TAP tests in test/t --
# a coordinator and two workers, each a RetentionNode preloading
# 'citus,pg_retention' with the same test key, the coordinator registered
# (citus_set_coordinator_host) and the workers added (citus_add_node), both
# extensions created in the database "postgres" of every node.
#
#   use CitusCluster;
#   CitusCluster::skip_unless_citus();       # plan skip_all without Citus
#   my $c = CitusCluster->new('citus');
#   $c->coordinator, $c->workers, $c->nodes  # PostgreSQL::Test::Cluster objects
#   $c->sql($node, $sql)                     # safe_psql in the database
#   $c->sql_all($sql)                        # the same on every node, results by name
package CitusCluster;

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RetentionNode;

our $DB = 'postgres';

# Is Citus installed into the PostgreSQL the tests run against?
sub citus_installed
{
	my $sharedir = `pg_config --sharedir`;
	chomp $sharedir;
	return -f "$sharedir/extension/citus.control";
}

# Without Citus the suite is skipped -- unless PGR_REQUIRE_CITUS=1 (CI's
# Debian-15 pass, which builds Citus first): then it fails.
sub skip_unless_citus
{
	return if citus_installed();
	if ($ENV{PGR_REQUIRE_CITUS})
	{
		BAIL_OUT('PGR_REQUIRE_CITUS=1 but Citus is not installed (run scripts/build-citus)');
	}
	plan skip_all => 'Citus is not installed (scripts/build-citus installs it)';
}

# Starts the cluster.  Options: conf => extra postgresql.conf lines for
# every node, shards => citus.shard_count (4 by default: few shards keep
# the suite short).
sub new
{
	my ($class, $name, %opts) = @_;
	my $shards = $opts{shards} // 4;
	my $conf = "shared_preload_libraries = 'citus,pg_retention'\n"
	  . "max_prepared_transactions = 20\n"
	  . "citus.shard_count = $shards\n"
	  . "citus.shard_replication_factor = 1\n"
	  . "citus.log_distributed_deadlock_detection = off\n"
	  . ($opts{conf} // '');
	my $self = bless { nodes => [] }, $class;
	for my $role ('coordinator', 'worker1', 'worker2')
	{
		my $node = RetentionNode::new_node("${name}_$role", conf => $conf);
		$node->start;
		$node->safe_psql($DB, 'CREATE EXTENSION citus; CREATE EXTENSION pg_retention;');
		push @{ $self->{nodes} }, $node;
	}
	my $c = $self->coordinator;
	# the nodes reach each other through their Unix-socket directories
	$c->safe_psql($DB, sprintf("SELECT citus_set_coordinator_host('%s', %d)", $c->host, $c->port));
	$c->safe_psql($DB, sprintf("SELECT citus_add_node('%s', %d)", $_->host, $_->port))
	  for $self->workers;
	return $self;
}

sub coordinator { return $_[0]{nodes}[0]; }
sub workers { my @n = @{ $_[0]{nodes} }; return @n[ 1 .. $#n ]; }
sub nodes { return @{ $_[0]{nodes} }; }

# safe_psql in the cluster's database on one node.
sub sql
{
	my ($self, $node, $sql) = @_;
	return $node->safe_psql($DB, $sql);
}

# The same statement on every node: { node name => output }.
sub sql_all
{
	my ($self, $sql) = @_;
	return { map { $_->name => $_->safe_psql($DB, $sql) } $self->nodes };
}

# psql on one node, for statements expected to fail: (exit code, stdout, stderr).
sub psql
{
	my ($self, $node, $sql) = @_;
	my ($out, $err);
	my $rc = $node->psql($DB, $sql, stdout => \$out, stderr => \$err);
	return ($rc, $out, $err);
}

# The rows of a Citus table's shards held by one node, as a count.
sub rows_on_node
{
	my ($self, $node, $table) = @_;
	return $self->sql(
		$node, qq{
		SELECT coalesce(sum(n), 0) FROM (
		  SELECT (xpath('/row/n/text()',
		          query_to_xml(format('SELECT count(*) AS n FROM %s', c.oid::regclass), false, true, '')))[1]::text::bigint AS n
		  FROM pg_dist_shard s
		  JOIN pg_class c ON c.relname = s.logicalrelid::regclass::text || '_' || s.shardid
		  WHERE s.logicalrelid = '$table'::regclass) x});
}

sub stop
{
	my ($self) = @_;
	$_->stop for reverse $self->nodes;
}

1;
