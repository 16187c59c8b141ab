# The late-row queue on Citus tables (issue 12).
#
# A coordinator and two workers (CitusCluster).  A distributed table `member`
# and a reference table `contact`, each with a column anonymized after 60
# days (mask_email, IMMUTABLE; hash, keyed: computed on the coordinator) and
# a column purged after 90 days.  A first run moves the watermarks past the
# due rows; then rows are written behind them (a backdated INSERT, a new
# clear value in an anonymized row, a new value in a purged one).  The
# shards' triggers queue them on their nodes, with the digest of the value
# written; the next coordinator run processes each exactly once (checked
# against copies of the written values) and empties every node's queue.
# Then: an entry put back by hand on a worker after processing is a no-op;
# a run killed after its processing committed and before it deleted the
# entries (a trigger on the nodes' queues holds the DELETE) is resumed and
# processes nothing twice; an application role cannot read a worker's queue.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use lib 'test/perl';
use CitusCluster;

CitusCluster::skip_unless_citus();
my $cluster = CitusCluster->new('late', conf => "retention.worker_enabled = off\n");
my $c = $cluster->coordinator;
my @workers = $cluster->workers;
my $sql = sub { return $cluster->sql($c, $_[0]); };

$sql->(q{
CREATE ROLE app LOGIN;
CREATE TABLE member (id int PRIMARY KEY, email text, note text, seen_at timestamptz NOT NULL);
CREATE TABLE contact (code text PRIMARY KEY, phone text, note text, updated_at timestamptz NOT NULL);
SELECT create_distributed_table('member', 'id');
SELECT create_reference_table('contact');
GRANT ALL ON member, contact TO app;
INSERT INTO member
SELECT i, 'member' || i || '@example.com', 'note ' || i, now() - make_interval(days => 61 + i, hours => 12)
FROM generate_series(1, 60) AS i;
INSERT INTO contact
SELECT 'c' || i, '+33 6 ' || lpad(i::text, 8, '0'), 'note ' || i,
       now() - make_interval(days => 61 + i, hours => 12)
FROM generate_series(1, 60) AS i;
SECURITY LABEL FOR retention ON TABLE member IS 'age from seen_at';
SECURITY LABEL FOR retention ON COLUMN member.email IS 'anonymize after 60 days using mask_email';
SECURITY LABEL FOR retention ON COLUMN member.note IS 'purge after 90 days';
SECURITY LABEL FOR retention ON TABLE contact IS 'age from updated_at';
SECURITY LABEL FOR retention ON COLUMN contact.phone IS 'anonymize after 60 days using hash';
SECURITY LABEL FOR retention ON COLUMN contact.note IS 'purge after 90 days';
});

my $run = sub {
	$sql->("SET client_min_messages = warning; SET retention.batch_max_rows = 7; CALL retention.run();");
	return $sql->('SELECT status FROM retention.run_history ORDER BY run_id DESC LIMIT 1');
};
my $queued = sub {    # entries on every node
	my $all = $cluster->sql_all('SELECT count(*) FROM retention.late_row');
	my $n = 0;
	$n += $_ for values %$all;
	return $n;
};
# every row against what is due: a late row's value is method(value written), once
my $wrong = q{
SELECT count(*) FILTER (WHERE m.email IS DISTINCT FROM
           CASE WHEN o.seen_at < now() - interval '60 days' THEN retention.mask_email(o.email) ELSE o.email END)
       || ' ' ||
       count(*) FILTER (WHERE m.note IS DISTINCT FROM
           CASE WHEN o.seen_at < now() - interval '90 days' THEN NULL ELSE o.note END)
FROM member m JOIN orig_member o USING (id)
UNION ALL
SELECT count(*) FILTER (WHERE c.phone IS DISTINCT FROM
           CASE WHEN o.updated_at < now() - interval '60 days' THEN retention.hash(o.phone) ELSE o.phone END)
       || ' ' ||
       count(*) FILTER (WHERE c.note IS DISTINCT FROM
           CASE WHEN o.updated_at < now() - interval '90 days' THEN NULL ELSE o.note END)
FROM contact c JOIN orig_contact o USING (code)};

my $show_wrong = sub {
	diag $sql->(q{SELECT 'contact', o.*, c.phone, c.note, retention.hash(o.phone) FROM contact c JOIN orig_contact o USING (code)
	  WHERE c.phone IS DISTINCT FROM CASE WHEN o.updated_at < now() - interval '60 days' THEN retention.hash(o.phone) ELSE o.phone END
	     OR c.note IS DISTINCT FROM CASE WHEN o.updated_at < now() - interval '90 days' THEN NULL ELSE o.note END});
	diag $sql->(q{SELECT 'member', o.*, m.email, m.note FROM member m JOIN orig_member o USING (id)
	  WHERE m.email IS DISTINCT FROM CASE WHEN o.seen_at < now() - interval '60 days' THEN retention.mask_email(o.email) ELSE o.email END
	     OR m.note IS DISTINCT FROM CASE WHEN o.seen_at < now() - interval '90 days' THEN NULL ELSE o.note END});
};
$sql->('CREATE TABLE orig_member AS SELECT * FROM member; CREATE TABLE orig_contact AS SELECT * FROM contact');
is($run->(), 'succeeded', 'first run');
is($sql->($wrong), "0 0\n0 0", 'the first run processed the due rows');

# ---- rows written behind the watermarks ------------------------------------
# (as the application role, through the coordinator)
my $late_writes = sub {
	my ($base) = @_;
	$cluster->sql($c, qq{
SET ROLE app;
INSERT INTO member VALUES ($base + 1, 'late$base\@example.com', 'late note', now() - interval '200 days 12 hours'),
                          ($base + 2, 'young$base\@example.com', 'young note', now() - interval '10 days');
UPDATE member SET email = 'again$base\@example.com' WHERE id = 5;
UPDATE member SET note = 'new note $base' WHERE id = 40;
INSERT INTO contact VALUES ('late$base', '+1 555 $base', 'late note', now() - interval '150 days 12 hours');
UPDATE contact SET phone = '+44 20 $base' WHERE code = 'c7';
UPDATE contact SET note = 'new note $base' WHERE code = 'c45';
RESET ROLE;
UPDATE orig_member SET email = 'again$base\@example.com' WHERE id = 5;
UPDATE orig_member SET note = 'new note $base' WHERE id = 40;
INSERT INTO orig_member SELECT * FROM member WHERE id IN ($base + 1, $base + 2);
UPDATE orig_contact SET phone = '+44 20 $base' WHERE code = 'c7';
UPDATE orig_contact SET note = 'new note $base' WHERE code = 'c45';
INSERT INTO orig_contact SELECT * FROM contact WHERE code = 'late$base';
});
};
$late_writes->(1000);
my $on_workers = 0;
$on_workers += $cluster->sql($_, 'SELECT count(*) FROM retention.late_row WHERE value_digest IS NOT NULL')
  for @workers;
cmp_ok($on_workers, '>=', 6 + 2, 'the shards queued the late rows on the workers, with digests');
is($cluster->sql($c, q{SELECT count(*) FROM member WHERE email = 'again1000@example.com'}),
	'1', 'the late value is in clear before the run');

# ---- an application role cannot read a worker's queue ----------------------
my ($rc, $out, $err) =
  $cluster->psql($workers[0], 'SET ROLE app; SELECT count(*) FROM retention.late_row');
isnt($rc, 0, 'an application role cannot read a worker node\'s queue');
like($err, qr/permission denied/, '... permission denied');

# an entry as queued, to put back by hand after processing
my $entry = $cluster->sql($workers[0], q{SELECT relid::text || '|' || attnum || '|' || row_key::text
  || '|' || value_digest FROM retention.late_row WHERE value_digest IS NOT NULL ORDER BY queued_at LIMIT 1});
isnt($entry, '', 'an entry to replay');

is($run->(), 'succeeded', 'the run after the late writes');
is($sql->($wrong), "0 0\n0 0", 'every late row processed once, from the value written') or $show_wrong->();
is($queued->(), 0, 'every node\'s queue is empty');
is($run->(), 'succeeded', 'another run');
is($sql->($wrong), "0 0\n0 0", 'nothing processed twice');

# ---- an entry of a processed row, put back on its worker: a no-op -------------
my ($relid, $attnum, $key, $digest) = split /\|/, $entry;
$cluster->sql($workers[0], "INSERT INTO retention.late_row (relid, attnum, row_key, value_digest) "
	  . "VALUES (${relid}::oid, $attnum, '$key', '$digest')");
is($queued->(), 1, 'the entry is back');
is($run->(), 'succeeded', 'a run with the replayed entry');
is($sql->($wrong), "0 0\n0 0", 'the replayed entry changed nothing');
is($queued->(), 0, 'and left the queue');

# ---- a run killed after processing, before deleting the entries -------------
# On every node a trigger holds the DELETE of queue entries (pg_sleep).
$cluster->sql($_, q{
SET citus.enable_ddl_propagation = off;
CREATE FUNCTION public.hold_delete() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN PERFORM pg_sleep(3600); RETURN NULL; END $$;
CREATE TRIGGER hold BEFORE DELETE ON retention.late_row FOR EACH STATEMENT EXECUTE FUNCTION public.hold_delete();
}) for $cluster->nodes;
$late_writes->(2000);
my $before = $queued->();
cmp_ok($before, '>=', 8, 'late rows queued again');
my $last_run = $sql->('SELECT max(run_id) FROM retention.run_history');
my ($rout, $rerr) = ('', '');
my $h = IPC::Run::start(
	[ 'psql', '-XAtq', '-d', $c->connstr('postgres'),
	  '-c', 'SET client_min_messages = warning',
	  '-c', 'SET retention.batch_max_rows = 7',
	  '-c', 'CALL retention.run()' ],
	'>', \$rout, '2>', \$rerr);
# wait until a node holds the run's DELETE: its processing has committed
my $held = 0;
for (1 .. 1800)
{
	$held += $cluster->sql($_, q{SELECT count(*) FROM pg_stat_activity
	  WHERE query LIKE '%DELETE FROM retention.late_row%' AND wait_event = 'PgSleep'})
	  for $cluster->nodes;
	last if $held;
	usleep(100_000);
}
ok($held, 'a node holds the run\'s DELETE of queue entries');
is($sql->(q{SELECT (SELECT count(*) FROM member WHERE email = 'again2000@example.com' OR note = 'new note 2000')
                 + (SELECT count(*) FROM contact WHERE phone = '+44 20 2000' OR note = 'new note 2000') < 4}),
	't', 'late rows were processed and committed before the DELETE');
my $pid = $sql->("SELECT backend_pid FROM retention.run_history WHERE run_id > $last_run ORDER BY run_id LIMIT 1");
$sql->("SELECT pg_terminate_backend($pid)");
$h->finish;
$c->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid");
for my $node ($cluster->nodes)
{
	$cluster->sql($node, q{
SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE query LIKE '%DELETE FROM retention.late_row%' AND pid <> pg_backend_pid();
});
	$node->poll_query_until('postgres', q{SELECT count(*) = 0 FROM pg_stat_activity
		WHERE query LIKE '%DELETE FROM retention.late_row%' AND pid <> pg_backend_pid()});
	$cluster->sql($node, 'SET citus.enable_ddl_propagation = off; '
		  . 'DROP TRIGGER hold ON retention.late_row; DROP FUNCTION public.hold_delete()');
}
cmp_ok($queued->(), '>', 0, 'the killed run left its entries in the queues');
is($run->(), 'succeeded', 'the resumed run completes');
is($sql->($wrong), "0 0\n0 0", 'after the kill and the resumed run: every late row processed exactly once');
is($queued->(), 0, 'the queues are empty');

$cluster->stop;
done_testing();
