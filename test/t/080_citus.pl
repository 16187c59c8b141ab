# pg_retention on a Citus cluster (coordinator + 2 workers on loopback,
# test/perl/CitusCluster.pm): the coordinator is in charge.
#
# - labels set before and after create_distributed_table /
#   create_reference_table are accepted (the copies Citus replays on shards
#   and shell tables silently) and read on the coordinator from the Citus
#   table: retention.policies shows each table once, never a shard;
# - a run on the coordinator sees the distributed table once and processes the
#   reference table once (not its placement on the coordinator again);
# - on a worker node, policies, check(), runs and the background worker
#   ignore the Citus tables (shell tables) and shards: rows on the shards are
#   unchanged and nothing is recorded there, while a plain local table of
#   that worker node is still processed;
# - minimize on write applies the current rules on the shards, whichever
#   order labelling and distributing came in, and a removed rule no longer
#   applies; partitions created or attached later get the trigger too.
# Skipped without Citus, unless PGR_REQUIRE_CITUS=1 (then it fails).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/perl';
use CitusCluster;
use RetentionWorker;

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
    PRIMARY KEY (customer_id, id),
    FOREIGN KEY (customer_id) REFERENCES customer
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

# a reference table labelled after create_reference_table: its placements on
# every node, the coordinator's included, minimize the rows written
$sql->($coord, q{
ALTER TABLE country_note ADD COLUMN contact text;
SECURITY LABEL FOR retention ON COLUMN country_note.contact IS 'minimize to mask_email';
INSERT INTO country_note VALUES ('zz', 'new', now(), 'someone@example.com');
});
is($sql->($coord, q{SELECT contact <> 'someone@example.com' AND contact LIKE '%@example.com' FROM country_note WHERE code = 'zz'}),
	't', 'minimize on write on a reference table labelled after create_reference_table');
my $copies = $cluster->sql_all(q{
SET citus.override_table_visibility TO off;
SELECT string_agg(c.contact, ',') FROM pg_class r, LATERAL (
  SELECT (xpath('/row/contact/text()', query_to_xml(
    format('SELECT contact FROM %s WHERE code = %L', r.oid::regclass, 'zz'), false, true, '')))[1]::text AS contact) c
WHERE r.relname ~ '^country_note_[0-9]+$'});
is(scalar(grep { $_ ne '' && $_ eq $copies->{ $coord->name } } values %$copies), 3,
	'every placement of the reference table holds the same minimized value');
$sql->($coord, q{DELETE FROM country_note WHERE code = 'zz'});

# a partitioned table in a database with Citus: its internal write trigger
# reaches partitions created or attached after the label (PostgreSQL clones
# only ordinary triggers)
$sql->($coord, q{
CREATE TABLE reading (id int, value text, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE reading_2025 PARTITION OF reading FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
SECURITY LABEL FOR retention ON COLUMN reading.value IS 'minimize to redact';
CREATE TABLE reading_2026 PARTITION OF reading FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE reading_2027 (LIKE reading);
ALTER TABLE reading ATTACH PARTITION reading_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
INSERT INTO reading VALUES (1, 'abc', '2025-05-05'), (2, 'abc', '2026-05-05'), (3, 'abc', '2027-05-05');
});
is($sql->($coord, q{SELECT count(*) FROM reading WHERE value = 'abc'}),
	'0', 'minimize on write in partitions created or attached after the label');
($rc, $out, $err) = $cluster->psql($coord, q{SELECT create_distributed_table('reading', 'id')});
is($rc, 0, 'and the partitioned table can be distributed') or diag($err);
$sql->($coord, q{INSERT INTO reading VALUES (4, 'abc', '2026-06-06')});
is($sql->($coord, q{SELECT count(*) FROM reading WHERE value = 'abc'}),
	'0', 'minimize on write in the shards of a distributed partitioned table');

# one write trigger per table and shard, on every shard of the labelled tables
my $triggers = $cluster->sql_all(q{
SET citus.override_table_visibility TO off;
SELECT format('%s/%s',
  (SELECT count(*) FROM (SELECT tgrelid FROM pg_trigger
     WHERE tgfoid = 'retention.write_trigger()'::regprocedure AND tgparentid = 0
     GROUP BY tgrelid HAVING count(*) > 1) d),
  (SELECT count(*) FROM pg_class c WHERE c.relname ~ '^(customer|visit|country_note|reading|reading_202[5-7])_[0-9]{6,}$'
     AND NOT EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = c.oid
       AND t.tgfoid = 'retention.write_trigger()'::regprocedure)))});
is_deeply([ map { $triggers->{ $_->name } } $cluster->nodes ], [ '0/0', '0/0', '0/0' ],
	'every shard and placement has one write trigger, no table two');

# a label set on a worker node's shell table: its syntax is checked there,
# and Citus sends it to the coordinator, which validates it and reads it
($rc, $out, $err) = $cluster->psql($w1,
	q{SECURITY LABEL FOR retention ON COLUMN visit.note IS 'anonymize after 30 days using no_such_method'});
isnt($rc, 0, 'a label that does not parse is refused on a shell table');
like($err, qr/unknown method "no_such_method"/, 'with the syntax error');
($rc, $out, $err) = $cluster->psql($w1,
	q{SECURITY LABEL FOR retention ON COLUMN visit.note IS 'anonymize after 40 days using redact'});
is($rc, 0, 'a valid label set on a shell table is accepted') or diag($err);
is($sql->($coord, q{SELECT after FROM retention.policies WHERE table_name = 'visit'::regclass AND column_name = 'note' AND stage = 'anonymize'}),
	'40 days', 'and is read on the coordinator');
$sql->($coord, q{SECURITY LABEL FOR retention ON COLUMN visit.note IS 'anonymize after 30 days using redact'});

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
is($sql->($w2, q{SELECT count(*) FROM retention.policies}),
	'0', 'policies on the other worker node: nothing (shell tables and shards ignored)');
is($sql->($w1, q{SELECT count(*) FROM retention.check() WHERE table_name::text <> 'local_note'}),
	'0', 'check() on a worker node reports nothing about shell tables or shards');
# (Citus hides shards from pg_class outside its own connections)
my $content = q{
SET citus.override_table_visibility TO off;
SELECT md5(coalesce(string_agg(q.v, ',' ORDER BY q.v), '')) FROM (
  SELECT (xpath('/row/v/text()', query_to_xml(
           format('SELECT md5(string_agg(t::text, '','' ORDER BY t::text)) AS v FROM %s t', c.oid::regclass),
           false, true, '')))[1]::text AS v
  FROM pg_class c WHERE c.relkind = 'r' AND c.relname ~ '^(customer|visit|country_note)_[0-9]+$') q};
my %before = map { $_->name => $sql->($_, $content) } $w1, $w2;
ok($before{ $_->name } ne 'd41d8cd98f00b204e9800998ecf8427e', $_->name . ' holds shards')
  for $w1, $w2;
$sql->($w1, q{CALL retention.run()});
is($sql->($w1, q{SELECT count(*) FROM local_note WHERE note LIKE 'local %'}),
	'2', 'a run on a worker node processes its local table (rows of 10 and 20 days stay)');
is($sql->($w1, $content), $before{ $w1->name }, 'a run on a worker node leaves the shards it holds unchanged');
# the background worker of a worker node: a run of its own, nothing done there
RetentionWorker::set_conf($w2, 'retention.worker_enabled' => 'on');
$sql->($w2, q{SELECT retention.run_now()});
$w2->poll_query_until('postgres', q{
SELECT count(*) > 0 AND count(*) FILTER (WHERE status = 'running') = 0
FROM retention.run_history WHERE started_by = 'worker'})
  or die 'the worker of worker node 2 did not run';
is($sql->($w2, q{SELECT string_agg(DISTINCT status, ',') FROM retention.run_history WHERE started_by = 'worker'}),
	'succeeded', 'the background worker of a worker node ran');
is($sql->($w2, q{SELECT count(*) FROM retention.run_detail}),
	'0', 'and did nothing: no Citus table or shard in its run');
is($sql->($w2, $content), $before{ $w2->name }, 'the shards of the other worker node are unchanged');
is( $sql->($w1,
		q{SELECT string_agg(DISTINCT table_text, ',') FROM retention.run_detail}),
	'public.local_note', 'the worker node recorded its local table only');

# ---- a run on the coordinator ---------------------------------------------------
# (the stages on distributed tables are 081_citus_stages's: here, that the
# run sees each Citus table once and never a shard or placement)
$sql->($coord, q{CALL retention.run()});
is($sql->($coord, q{SELECT count(*) FROM country_note WHERE note LIKE 'about %'}),
	'2', 'the run anonymized the reference table');
is( $sql->($coord,
		q{SELECT string_agg(DISTINCT table_text, ',' ORDER BY table_text) FROM retention.run_detail
		  WHERE table_text !~ '^public[.]reading'}),
	'public.country_note,public.customer,public.visit',
	'the run on the coordinator saw each Citus table');
is( $sql->($coord,
		q{SELECT count(*) FROM retention.run_detail d JOIN pg_dist_shard s
		  ON d.table_text ~ ('_' || s.shardid || '$')}),
	'0', 'and never a shard or placement');
is( $sql->($coord,
		q{SELECT string_agg(format('%s:%s', table_text, done), ',' ORDER BY table_text)
		  FROM retention.run_detail WHERE action = 'anonymize' AND status = 'done'
		    AND table_text ~ '^public[.]country_note'}),
	'public.country_note:8',
	'the reference table processed once (not its placement on the coordinator again)');

$cluster->stop;
done_testing();
