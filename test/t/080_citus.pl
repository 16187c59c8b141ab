# pg_retention on a Citus cluster (coordinator + 2 workers on loopback,
# test/perl/CitusCluster.pm): the coordinator is in charge.
#
# - labels set before and after create_distributed_table /
#   create_reference_table are accepted (the copies Citus replays on shards
#   and shell tables silently) and read on the coordinator from the Citus
#   table: retention.policies shows each table once, never a shard;
# - a run on the coordinator processes the distributed table once and the
#   reference table once (not its placement on the coordinator again);
# - on a worker node, policies and runs ignore the Citus tables (shell
#   tables) and shards: rows on the shards are unchanged and nothing is
#   recorded there, while a plain local table of that worker node is still
#   processed;
# - minimize on write applies the current rules on the shards, whichever
#   order labelling and distributing came in, and a removed rule no longer
#   applies.
# Skipped without Citus, unless PGR_REQUIRE_CITUS=1 (then it fails).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/perl';
use CitusCluster;

CitusCluster::skip_unless_citus();

my $cluster = CitusCluster->new('citus');
my $coord = $cluster->coordinator;
my ($w1, $w2) = $cluster->workers;
my $sql = sub { $cluster->sql(@_) };

# ---- labels before distribution ---------------------------------------------
$sql->($coord, q{
CREATE TABLE customer (
    id int PRIMARY KEY,
    email text NOT NULL,
    birthday date,
    seen_at timestamptz NOT NULL
);
SECURITY LABEL FOR retention ON TABLE customer IS 'subject customer(id); age from seen_at';
SECURITY LABEL FOR retention ON COLUMN customer.email IS 'anonymize after 30 days using mask_email';
SECURITY LABEL FOR retention ON COLUMN customer.birthday IS 'minimize to year';
INSERT INTO customer
SELECT i, 'user' || i || '@example.com', date '1990-06-15', now() - make_interval(days => i, hours => 12)
FROM generate_series(1, 100) AS i;
});
my ($rc, $out, $err) = $cluster->psql($coord, q{SELECT create_distributed_table('customer', 'id')});
is($rc, 0, 'create_distributed_table on a labelled table succeeds') or diag($err);

# ---- labels after distribution ------------------------------------------------
$sql->($coord, q{
CREATE TABLE visit (
    customer_id int NOT NULL,
    id bigint NOT NULL,
    ip inet,
    note text,
    at timestamptz NOT NULL,
    PRIMARY KEY (customer_id, id)
);
SELECT create_distributed_table('visit', 'customer_id', colocate_with => 'customer');
});
($rc, $out, $err) = $cluster->psql($coord, q{
SECURITY LABEL FOR retention ON TABLE visit IS 'subject customer via customer_id; age from at';
SECURITY LABEL FOR retention ON COLUMN visit.note IS 'anonymize after 30 days using redact';
SECURITY LABEL FOR retention ON COLUMN visit.ip IS 'minimize to ip_prefix(24)';
});
is($rc, 0, 'labels on an already distributed table are accepted') or diag($err);
$sql->($coord, q{
INSERT INTO visit
SELECT 1 + i % 100, i, '10.1.2.3', 'note ' || i, now() - make_interval(days => i % 60, hours => 12)
FROM generate_series(1, 200) AS i;
});

# ---- a reference table, labelled before create_reference_table --------------
$sql->($coord, q{
CREATE TABLE country_note (code text PRIMARY KEY, note text, at timestamptz NOT NULL);
SECURITY LABEL FOR retention ON TABLE country_note IS 'age from at';
SECURITY LABEL FOR retention ON COLUMN country_note.note IS 'anonymize after 30 days using redact';
INSERT INTO country_note
SELECT 'c' || i, 'about ' || i, now() - make_interval(days => i * 10, hours => 12)
FROM generate_series(1, 10) AS i;
SELECT create_reference_table('country_note');
});

# ---- the coordinator's view ----------------------------------------------------
is( $sql->($coord,
		q{SELECT string_agg(DISTINCT table_name::text, ',' ORDER BY table_name::text) FROM retention.policies}),
	'country_note,customer,visit',
	'policies on the coordinator: each Citus table once, no shard or placement');
is($sql->($coord, q{SELECT count(*) FROM retention.check() WHERE severity = 'error'}),
	'0', 'check() on the coordinator finds no error');

# ---- minimize on write ----------------------------------------------------------
is($sql->($coord, q{SELECT count(*) FROM visit WHERE ip <> '10.1.2.0/24'::inet}),
	'0', 'minimize on write: a rule set after distribution applies on the shards');
is($sql->($coord, q{SELECT count(*) FROM customer WHERE birthday <> date '1990-01-01'}),
	'0', 'minimize on write: a rule set before distribution was applied to the rows it moved');
$sql->($coord, q{INSERT INTO customer VALUES (101, 'late@example.com', date '1985-07-04', now())});
is($sql->($coord, q{SELECT birthday FROM customer WHERE id = 101}),
	'1985-01-01', 'minimize on write: a rule set before distribution applies on the shards');
$sql->($coord, q{SECURITY LABEL FOR retention ON COLUMN customer.birthday IS NULL});
$sql->($coord, q{INSERT INTO customer VALUES (102, 'new@example.com', date '1985-07-04', now())});
is($sql->($coord, q{SELECT birthday FROM customer WHERE id = 102}),
	'1985-07-04', 'a removed rule no longer applies on the shards');
$sql->($coord, q{SECURITY LABEL FOR retention ON COLUMN customer.birthday IS 'minimize to decade'});
$sql->($coord, q{INSERT INTO customer VALUES (103, 'new3@example.com', date '1985-07-04', now())});
is($sql->($coord, q{SELECT birthday FROM customer WHERE id = 103}),
	'1980-01-01', 'a rule set again after distribution applies on the shards');

# ---- a worker node: local tables only -----------------------------------------
$sql->($w1, q{
CREATE TABLE local_note (id int PRIMARY KEY, note text, at timestamptz NOT NULL);
SECURITY LABEL FOR retention ON TABLE local_note IS 'age from at';
SECURITY LABEL FOR retention ON COLUMN local_note.note IS 'anonymize after 30 days using redact';
INSERT INTO local_note SELECT i, 'local ' || i, now() - make_interval(days => i * 10, hours => 12)
FROM generate_series(1, 10) AS i;
});
is($sql->($w1, q{SELECT string_agg(DISTINCT table_name::text, ',') FROM retention.policies}),
	'local_note', 'policies on a worker node: its local table only, no shell table or shard');
my $shards_before = $cluster->sql_all(q{
SELECT coalesce(string_agg(format('%s:%s', c.relname, md5(x::text)), ',' ORDER BY c.relname), '')
FROM pg_class c, LATERAL (SELECT 1) l, LATERAL (SELECT c.relname AS x) y
WHERE c.relname ~ '^(customer|visit|country_note)_[0-9]+$'});
my $content = q{
SELECT md5(coalesce(string_agg(q.v, ',' ORDER BY q.v), '')) FROM (
  SELECT (xpath('/row/v/text()', query_to_xml(
           format('SELECT md5(string_agg(t::text, '','' ORDER BY t::text)) AS v FROM %s t', c.oid::regclass),
           false, true, '')))[1]::text AS v
  FROM pg_class c WHERE c.relkind = 'r' AND c.relname ~ '^(customer|visit|country_note)_[0-9]+$') q};
my %before = map { $_->name => $sql->($_, $content) } $w1, $w2;
$sql->($w1, q{CALL retention.run()});
is($sql->($w1, q{SELECT count(*) FROM local_note WHERE note <> '[REDACTED]'}),
	'2', 'a run on a worker node processes its local table (rows of 10 and 20 days stay)');
is($sql->($w1, $content), $before{ $w1->name }, 'a run on a worker node leaves the shards it holds unchanged');
is($sql->($w2, $content), $before{ $w2->name }, 'and the shards of the other worker node');
is( $sql->($w1,
		q{SELECT string_agg(DISTINCT table_text, ',') FROM retention.run_detail}),
	'local_note', 'the worker node recorded its local table only');

# ---- a run on the coordinator ---------------------------------------------------
$sql->($coord, q{CALL retention.run()});
is($sql->($coord, q{SELECT count(*) FROM customer WHERE email NOT LIKE 'user%@example.com' AND id <= 100}),
	'70', 'the run anonymized the customers past 30 days');
is($sql->($coord, q{SELECT count(*) FROM visit WHERE note <> '[REDACTED]'}),
	'100', 'the run anonymized the visits past 30 days');
is($sql->($coord, q{SELECT count(*) FROM country_note WHERE note <> '[REDACTED]'}),
	'2', 'the run anonymized the reference table');
is( $sql->($coord,
		q{SELECT string_agg(format('%s:%s', table_text, done), ',' ORDER BY table_text)
		  FROM retention.run_detail WHERE action = 'anonymize'}),
	'country_note:8,customer:70,visit:100',
	'each Citus table processed once, never a shard or placement');

$cluster->stop;
done_testing();
