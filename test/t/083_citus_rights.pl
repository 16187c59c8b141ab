# The rights of data subjects on a Citus cluster (coordinator + 2 workers,
# test/perl/CitusCluster.pm), and the write triggers' repair:
#
# - restriction of processing on a distributed and a reference table: the
#   policy reaches the shards, restrict_subject and unrestrict_subject keep
#   every node's list of restricted subjects equal, an application role
#   querying through the coordinator no longer sees the subject's rows
#   (router and multi-shard queries) nor writes them, retention_dpo and the
#   table's owner still do; a worker that is down makes restrict_subject
#   fail without leaving the subject visible anywhere it was reported
#   restricted, and unrestrict_subject fail with the subject still
#   restricted everywhere; check() reports a worker whose list differs and
#   sync_restrictions() copies the coordinator's; a table more than one
#   foreign key away from its subject is refused (Citus allows no subquery
#   in a policy);
# - forget_subject on a distributed table whose subject is not the
#   distribution column and which has referencing child tables: children
#   first, then the parents, nothing left;
# - a table labelled before CREATE EXTENSION citus gets an internal write
#   trigger then, and is distributed;
# - an internal write trigger dropped by hand (as after pg_upgrade) is
#   reported by check() and recreated by repair_triggers(), and minimize on
#   write works again on the shards.
# Skipped without Citus, unless PGR_REQUIRE_CITUS=1 (then it fails).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes;
use lib 'test/perl';
use CitusCluster;

CitusCluster::skip_unless_citus();

my $cluster = CitusCluster->new('rights');
my $coord = $cluster->coordinator;
my ($w1, $w2) = $cluster->workers;
my $sql = sub { $cluster->sql(@_) };

# the same roles on every node (membership of retention_dpo included)
for my $node ($cluster->nodes)
{
	$sql->($node, q{
SET citus.enable_create_role_propagation TO off;
CREATE ROLE owner1 LOGIN;
CREATE ROLE app LOGIN;
CREATE ROLE dpo LOGIN;
GRANT retention_dpo TO dpo;
GRANT CREATE ON SCHEMA public TO owner1;
});
}

# ---- restriction of processing ----------------------------------------------
$sql->($coord, q{
SET ROLE owner1;
CREATE TABLE customer (id int PRIMARY KEY, email text, birthday date, seen_at timestamptz NOT NULL);
SELECT create_distributed_table('customer', 'id');
CREATE TABLE ticket (
    customer_id int NOT NULL REFERENCES customer,
    id int NOT NULL,
    body text,
    at timestamptz NOT NULL,
    PRIMARY KEY (customer_id, id)
);
SELECT create_distributed_table('ticket', 'customer_id', colocate_with => 'customer');
CREATE TABLE ticket_reply (
    customer_id int NOT NULL,
    ticket_id int NOT NULL,
    id int NOT NULL,
    at timestamptz NOT NULL,
    PRIMARY KEY (customer_id, id),
    FOREIGN KEY (customer_id, ticket_id) REFERENCES ticket
);
SELECT create_distributed_table('ticket_reply', 'customer_id', colocate_with => 'customer');
CREATE TABLE partner (id int PRIMARY KEY, name text, at timestamptz NOT NULL);
SELECT create_reference_table('partner');
INSERT INTO customer SELECT i, 'c' || i || '@example.com', date '1990-06-15', now() FROM generate_series(1, 20) i;
INSERT INTO ticket SELECT 1 + i % 20, i, 'ticket ' || i, now() FROM generate_series(1, 40) i;
INSERT INTO partner SELECT i, 'partner ' || i, now() FROM generate_series(1, 5) i;
GRANT SELECT, INSERT, UPDATE, DELETE ON customer, ticket, partner TO app, dpo;
RESET ROLE;
-- a subject table is declared by a superuser or retention_admin, not by its owner
SECURITY LABEL FOR retention ON TABLE customer IS 'subject customer(id); age from seen_at';
SECURITY LABEL FOR retention ON COLUMN customer.birthday IS 'minimize to year';
SECURITY LABEL FOR retention ON TABLE ticket IS 'subject customer via customer_id; age from at';
SECURITY LABEL FOR retention ON TABLE ticket_reply IS 'subject customer; age from at';
SECURITY LABEL FOR retention ON TABLE partner IS 'subject partner(id); age from at';
});

my ($rc, $out, $err) = $cluster->psql($coord, q{
SET ROLE owner1;
SELECT retention.enable_restriction('customer');
SELECT retention.enable_restriction('ticket');
SELECT retention.enable_restriction('partner');
});
is($rc, 0, 'enable_restriction on distributed and reference tables') or diag($err);
($rc, $out, $err) =
  $cluster->psql($coord, q{SET ROLE owner1; SELECT retention.enable_restriction('ticket_reply')});
like($err, qr/not supported on the Citus table public\.ticket_reply.*more than one foreign key/,
	'a table two foreign keys away from its subject is refused on Citus');

is( $sql->($w1,
		q{SET citus.override_table_visibility TO off;
SELECT count(*) > 0 FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
WHERE c.relname LIKE 'customer\_%' AND p.polname = 'retention_restriction'}),
	't', 'the restrictive policy is on the shards');

is( $sql->($coord,
		q{SET ROLE dpo; SELECT retention.restrict_subject('customer', '7', 'ticket 1'),
		                       retention.restrict_subject('partner', '3', 'ticket 2')}),
	't|t', 'restrict_subject on the coordinator');
is_deeply(
	$cluster->sql_all(q{SELECT string_agg(subject, ',' ORDER BY subject) FROM retention.restricted_subject}),
	{ map { $_->name => 'customer,partner' } $cluster->nodes },
	'every node lists the restricted subjects');

my $as_app = sub { $sql->($coord, "SET ROLE app; $_[0]") };
is($as_app->(q{SELECT count(*) FROM customer WHERE id = 7}), '0', 'app: router query hides the subject');
is($as_app->(q{SELECT count(*) FROM customer}), '19', 'app: multi-shard query hides the subject');
is($as_app->(q{SELECT count(*) FROM ticket WHERE customer_id = 7}), '0', 'app: child rows hidden (router)');
is($as_app->(q{SELECT count(*) FROM ticket}), '38', 'app: child rows hidden (multi-shard)');
is($as_app->(q{SELECT count(*) FROM partner}), '4', 'app: reference table hides the subject');
is($as_app->(q{SELECT count(*) FROM partner WHERE id = 3}), '0', 'app: reference table, one row');
is($as_app->(q{UPDATE customer SET email = 'x' WHERE id = 7}), '', 'app: update finds nothing to change');
($rc, $out, $err) =
  $cluster->psql($coord, q{SET ROLE app; INSERT INTO ticket VALUES (7, 100, 'new', now())});
like($err, qr/new row violates row-level security policy/, 'app: cannot add a row for the subject');
is($sql->($coord, q{SET ROLE dpo; SELECT count(*) FROM customer}), '20', 'retention_dpo sees every row');
is($sql->($coord, q{SET ROLE owner1; SELECT count(*) FROM ticket}), '40', "the table's owner sees every row");
is($sql->($coord, q{SELECT email FROM customer WHERE id = 7}), 'c7@example.com', 'nothing was changed');
is($sql->($coord, q{SELECT count(*) FROM retention.check() WHERE severity = 'error'}),
	'0', 'check() finds no error');

is($sql->($coord, q{SET ROLE dpo; SELECT retention.unrestrict_subject('customer', '7')}),
	't', 'unrestrict_subject');
is_deeply(
	$cluster->sql_all(q{SELECT string_agg(subject, ',' ORDER BY subject) FROM retention.restricted_subject}),
	{ map { $_->name => 'partner' } $cluster->nodes },
	'every node lifted the restriction');
is($as_app->(q{SELECT count(*) FROM customer}), '20', 'app sees the subject again');

# what a restriction costs on 2 workers (reported, not asserted)
{
	my $t0 = [ Time::HiRes::gettimeofday() ];
	$sql->($coord, q{SET ROLE dpo;
SELECT retention.restrict_subject('customer', i::text) FROM generate_series(101, 120) i;
SELECT retention.unrestrict_subject('customer', i::text) FROM generate_series(101, 120) i;});
	diag(sprintf('restrict_subject + unrestrict_subject: %.1f ms a pair (20 pairs, one psql call)',
		1000 * Time::HiRes::tv_interval($t0) / 20));
}

# a worker down: restrict fails and leaves nothing visible that it reported restricted
$w2->stop;
($rc, $out, $err) = $cluster->psql($coord, q{SET ROLE dpo; SELECT retention.restrict_subject('customer', '8')});
isnt($rc, 0, 'restrict_subject fails while a worker is down');
like($err, qr/could not restrict the subject on every Citus worker/, 'saying so');
is($sql->($coord, q{SELECT count(*) FROM retention.restricted_subject WHERE subject = 'customer'}),
	'0', 'the coordinator does not list it');
is($sql->($w1, q{SELECT count(*) FROM retention.restricted_subject WHERE subject = 'customer'}),
	'1', 'the worker that answered hides it (errs on hiding)');
$w2->start;
like($sql->($coord, q{SELECT string_agg(problem, ';') FROM retention.check() WHERE severity = 'error'}),
	qr/restricts other subjects than this coordinator/, 'check() reports the worker whose list differs');
is($sql->($coord, q{SET ROLE dpo; SELECT retention.sync_restrictions()}), '2', 'sync_restrictions()');
is_deeply(
	$cluster->sql_all(q{SELECT string_agg(subject, ',' ORDER BY subject) FROM retention.restricted_subject}),
	{ map { $_->name => 'partner' } $cluster->nodes },
	"every node holds the coordinator's list again");
is($sql->($coord, q{SELECT count(*) FROM retention.check() WHERE severity = 'error'}),
	'0', 'check() is content');

# unrestrict with a worker down: the subject stays restricted everywhere
$sql->($coord, q{SET ROLE dpo; SELECT retention.restrict_subject('customer', '9')});
$w2->stop;
($rc, $out, $err) = $cluster->psql($coord, q{SET ROLE dpo; SELECT retention.unrestrict_subject('customer', '9')});
like($err, qr/could not unrestrict the subject on every Citus worker/, 'unrestrict_subject fails while a worker is down');
is($sql->($w1, q{SELECT count(*) FROM retention.restricted_subject WHERE subject = 'customer'}),
	'1', 'the worker that answered restricts the subject again');
is($sql->($coord, q{SELECT count(*) FROM retention.restricted_subject WHERE subject = 'customer'}),
	'1', 'so does the coordinator');
$w2->start;
is($as_app->(q{SELECT count(*) FROM customer}), '19', 'the subject is still hidden');

# a worker whose list was lost (a node added later has none)
$sql->($w1, q{DELETE FROM retention.restricted_subject});
like($sql->($coord, q{SELECT string_agg(problem, ';') FROM retention.check() WHERE severity = 'error'}),
	qr/restricts other subjects/, 'check() reports a worker without the list');
$sql->($coord, q{SET ROLE dpo; SELECT retention.sync_restrictions()});
is($sql->($w1, q{SELECT count(*) FROM retention.restricted_subject}), '2', 'sync_restrictions() gives it the list');
is($as_app->(q{SELECT count(*) FROM customer}), '19', 'and its shards hide the subject');

# ---- forget on a table distributed on another column, with child tables -------
$sql->($coord, q{
CREATE TABLE member (id int PRIMARY KEY, name text, at timestamptz NOT NULL);
SELECT create_reference_table('member');
CREATE TABLE account (
    branch int NOT NULL,
    id int NOT NULL,
    member_id int NOT NULL REFERENCES member,
    opened_at timestamptz NOT NULL,
    PRIMARY KEY (branch, id)
);
SELECT create_distributed_table('account', 'branch');
CREATE TABLE entry (
    branch int NOT NULL,
    account_id int NOT NULL,
    id int NOT NULL,
    amount int,
    at timestamptz NOT NULL,
    PRIMARY KEY (branch, id),
    FOREIGN KEY (branch, account_id) REFERENCES account (branch, id)
);
SELECT create_distributed_table('entry', 'branch', colocate_with => 'account');
SECURITY LABEL FOR retention ON TABLE member IS 'subject member(id); age from at';
SECURITY LABEL FOR retention ON TABLE account IS 'subject member via member_id; age from opened_at';
SECURITY LABEL FOR retention ON TABLE entry IS 'subject member; age from at';
INSERT INTO member SELECT i, 'member ' || i, now() FROM generate_series(1, 10) i;
INSERT INTO account SELECT i % 7, i, 1 + i % 10, now() FROM generate_series(1, 40) i;
INSERT INTO entry SELECT a.branch, a.id, a.id * 10 + k, k, now() FROM account a, generate_series(1, 3) k;
});
my $before = $sql->($coord, q{
SELECT (SELECT count(*) FROM member WHERE id <> 4) || '/' ||
       (SELECT count(*) FROM account WHERE member_id <> 4) || '/' ||
       (SELECT count(*) FROM entry e JOIN account a ON a.branch = e.branch AND a.id = e.account_id
        WHERE a.member_id <> 4)});
($rc, $out, $err) = $cluster->psql($coord, q{
SET ROLE dpo;
SELECT string_agg(key || '=' || (value->>'deleted'), ',' ORDER BY key)
FROM retention.forget_subject('member', '4', 'case 5') r, jsonb_each(r->'tables')});
is($rc, 0, 'forget_subject on a table distributed on another column with child tables') or diag($err);
like($out, qr/^(public\.)?account=4,(public\.)?entry=12,(public\.)?member=1$/,
	'the receipt counts the children, the accounts and the subject');
is( $sql->($coord, q{
SELECT (SELECT count(*) FROM member WHERE id = 4) + (SELECT count(*) FROM account WHERE member_id = 4)
     + (SELECT count(*) FROM entry WHERE (branch, account_id) IN
          (SELECT branch, id FROM account WHERE member_id = 4))}),
	'0', 'nothing of the subject is left');
is( $sql->($coord, q{
SELECT (SELECT count(*) FROM member WHERE id <> 4) || '/' ||
       (SELECT count(*) FROM account WHERE member_id <> 4) || '/' ||
       (SELECT count(*) FROM entry e JOIN account a ON a.branch = e.branch AND a.id = e.account_id
        WHERE a.member_id <> 4)}),
	$before, 'the other subjects keep every row');
is( $sql->($coord,
		q{SET ROLE dpo; SELECT count(*) FROM retention.verify_forgotten('member', '4') WHERE status = 'leftover'}),
	'0', 'verify_forgotten finds no leftover');

# ---- a table labelled before CREATE EXTENSION citus ----------------------------
for my $node ($cluster->nodes)
{
	$node->safe_psql('postgres', 'CREATE DATABASE late');
	$node->safe_psql('late', 'CREATE EXTENSION pg_retention');
}
$coord->safe_psql('late', q{
CREATE TABLE person (id int PRIMARY KEY, birthday date, seen_at timestamptz NOT NULL);
SECURITY LABEL FOR retention ON TABLE person IS 'subject person(id); age from seen_at';
SECURITY LABEL FOR retention ON COLUMN person.birthday IS 'minimize to year';
});
is( $coord->safe_psql('late',
		q{SELECT count(*) FROM pg_trigger WHERE tgrelid = 'person'::regclass AND NOT tgisinternal}),
	'1', 'before Citus: an ordinary write trigger');
$_->safe_psql('late', 'CREATE EXTENSION citus') for $cluster->workers;
$coord->safe_psql('late', 'CREATE EXTENSION citus');
is( $coord->safe_psql('late',
		q{SELECT string_agg(tgisinternal::text, ',') FROM pg_trigger
		  WHERE tgrelid = 'person'::regclass AND tgfoid = 'retention.write_trigger()'::regprocedure}),
	'true', 'CREATE EXTENSION citus turns it into an internal trigger');
$coord->safe_psql('late', sprintf("SELECT citus_set_coordinator_host('%s', %d)", $coord->host, $coord->port));
$coord->safe_psql('late', sprintf("SELECT citus_add_node('%s', %d)", $_->host, $_->port))
  for $cluster->workers;
($rc, $out, $err) = $coord->psql('late', q{SELECT create_distributed_table('person', 'id')},
	stdout => \$out, stderr => \$err);
is($rc, 0, 'and the table is distributed') or diag($err);
$coord->safe_psql('late', q{INSERT INTO person SELECT i, date '1990-06-15', now() FROM generate_series(1, 8) i});
is($coord->safe_psql('late', q{SELECT count(*) FROM person WHERE birthday <> date '1990-01-01'}),
	'0', 'minimize on write on its shards');

# ---- a write trigger lost (pg_upgrade does not restore internal triggers) -------
for my $w ($cluster->workers)
{
	$sql->($w, q{
SET citus.override_table_visibility TO off;
DO $$
DECLARE t record;
BEGIN
    FOR t IN SELECT tgname, tgrelid::regclass AS rel FROM pg_trigger
             WHERE tgfoid = 'retention.write_trigger()'::regprocedure
               AND tgrelid::regclass::text LIKE 'customer\_%'
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', t.tgname, t.rel);
    END LOOP;
END $$;
});
}
$sql->($coord, q{INSERT INTO customer SELECT i, 'n@example.com', date '1985-07-04', now() FROM generate_series(21, 24) i});
is($sql->($coord, q{SELECT count(*) FROM customer WHERE id > 20 AND birthday <> date '1985-01-01'}),
	'4', 'without their trigger the shards do not minimize (the loss is real)');
like( $sql->($coord,
		q{SELECT string_agg(problem || ' / ' || hint, ';') FROM retention.check()
		  WHERE severity = 'error' AND table_name = 'customer'::regclass}),
	qr/write trigger missing on customer shard \d+ on .*repair_triggers/,
	'check() reports the shards without their write trigger');
$sql->($coord, q{CREATE ROLE admin1; GRANT retention_admin TO admin1});
is($sql->($coord, q{SET ROLE admin1; SELECT retention.repair_triggers()}), '4',
	'repair_triggers() recreates them on the workers (4 shards)');
is($sql->($coord, q{SELECT count(*) FROM retention.check() WHERE severity = 'error'}),
	'0', 'check() is content again');
$sql->($coord, q{INSERT INTO customer SELECT i, 'n@example.com', date '1985-07-04', now() FROM generate_series(25, 28) i});
is($sql->($coord, q{SELECT count(*) FROM customer WHERE id > 24 AND birthday <> date '1985-01-01'}),
	'0', 'minimize on write works again on the shards');
is($sql->($coord, q{SELECT retention.repair_triggers()}), '0', 'a second repair has nothing to do');

$cluster->stop;
done_testing();
