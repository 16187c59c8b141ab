# Forget property test: forgotten stays forgotten.
#
# From a seed: random customers with orders (a plain table, or partitioned
# by year with the foreign key declared on each partition), reviews and
# invoices ("on forget" drawn at random among delete / anonymize for orders
# and reviews; invoices are a legal hold), some archived by a first run.  A
# random subset of customers is forgotten; then the lifecycle runs at
# several later clock values, archived rows are restored and the erasures
# re-applied.  After every step, plain SQL checks that:
#   - no original personal value of a forgotten customer is in a live table
#     (except invoices, kept on purpose) nor in retention.archived_rows();
#   - verify_forgotten reports no leftover for any of them;
#   - a value a forget anonymized never changes again (nothing anonymized twice);
#   - every row of the other customers is live or archived, unless its purge
#     delay has passed.
# DIFF_SEED=n reruns one seed; DIFF_SEEDS=n runs n seeds (default 3).  A
# failure prints its seed.  A seed takes some 10 seconds.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/perl';
use RetentionNode;

my @seeds =
  defined $ENV{DIFF_SEED} ? ($ENV{DIFF_SEED})
  : map { int(rand(1_000_000)) } 1 .. ($ENV{DIFF_SEEDS} // 3);

my $node = RetentionNode::new_node('forget_differential');
$node->start;

my $years = 365.25 * 86400;

# The clock of each step, and what else the step does.
my @steps = (
	[ '2031-01-01', '' ],
	[ '2031-07-01', 'restore' ],
	[ '2032-07-01', 'reapply' ],
	[ '2034-01-01', 'restore' ],
	[ '2037-01-01', 'reapply' ]);

sub epoch_of
{
	my ($date) = @_;
	my ($y, $m, $d) = split /-/, $date;
	# days since 1970 (proleptic Gregorian), good enough for comparisons
	my $days = 0;
	$days += (($_ % 4 == 0 && $_ % 100 != 0) || $_ % 400 == 0) ? 366 : 365 for 1970 .. $y - 1;
	my @month = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31);
	$month[1] = 29 if ($y % 4 == 0 && $y % 100 != 0) || $y % 400 == 0;
	$days += $month[$_] for 0 .. $m - 2;
	return ($days + $d - 1) * 86400;
}

sub random_date
{
	my ($from, $to) = @_;
	my $t = epoch_of($from) + int(rand((epoch_of($to) - epoch_of($from)) / 86400)) * 86400;
	my @g = gmtime($t);
	return sprintf('%04d-%02d-%02d', $g[5] + 1900, $g[4] + 1, $g[3]);
}

sub run_seed
{
	my ($seed) = @_;
	srand($seed);
	my $db = "forget_$seed";
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	my $orders_forget = rand() < 0.5 ? 'delete' : 'anonymize';
	my $reviews_forget = rand() < 0.5 ? 'delete' : 'anonymize';
	# orders: a plain table, or partitioned by year with the foreign key on each partition
	my $partitioned = rand() < 0.5;
	my $orders = $partitioned
	  ? q{CREATE TABLE crm.orders (id int NOT NULL, customer_id int NOT NULL, address text,
                         ordered_at date NOT NULL, PRIMARY KEY (id, ordered_at))
  PARTITION BY RANGE (ordered_at);}
	  . join('', map { qq{
CREATE TABLE crm.orders_$_ PARTITION OF crm.orders FOR VALUES FROM ('$_-01-01') TO ('@{[$_ + 1]}-01-01');
ALTER TABLE crm.orders_$_ ADD FOREIGN KEY (customer_id) REFERENCES crm.customer;
CREATE INDEX ON crm.orders_$_ (customer_id);} } 2028 .. 2030)
	  : q{CREATE TABLE crm.orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES crm.customer,
                         address text, ordered_at date NOT NULL);
CREATE INDEX ON crm.orders (customer_id);};
	$node->safe_psql($db, qq{
CREATE EXTENSION pg_retention;
CREATE SCHEMA crm;
CREATE TABLE crm.customer (id int PRIMARY KEY, name text, email text, seen_at date NOT NULL);
$orders
CREATE TABLE crm.review (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES crm.customer,
                         body text, written_at date NOT NULL);
CREATE TABLE crm.invoice (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES crm.customer,
                          billed_to text, issued_on date NOT NULL);
CREATE INDEX ON crm.review (customer_id);
CREATE INDEX ON crm.invoice (customer_id);
SECURITY LABEL FOR retention ON TABLE crm.customer IS
  'subject customer(id); age from seen_at; archive after 2 years; purge after 8 years';
SECURITY LABEL FOR retention ON COLUMN crm.customer.name IS 'personal';
SECURITY LABEL FOR retention ON COLUMN crm.customer.email IS 'anonymize after 1 year using hash';
SECURITY LABEL FOR retention ON TABLE crm.orders IS
  'subject customer; age from ordered_at; archive after 1 year; purge after 5 years; on forget $orders_forget';
SECURITY LABEL FOR retention ON COLUMN crm.orders.address IS 'anonymize after 6 months using hash';
SECURITY LABEL FOR retention ON TABLE crm.review IS
  'subject customer; age from written_at; archive after 2 years; purge after 4 years; on forget $reviews_forget';
SECURITY LABEL FOR retention ON COLUMN crm.review.body IS 'personal';
SECURITY LABEL FOR retention ON TABLE crm.invoice IS
  'subject customer; age from issued_on; purge after 3 years; on forget keep';
SECURITY LABEL FOR retention ON COLUMN crm.invoice.billed_to IS 'personal';
});

	# the data, and every personal value of each customer
	my (%rows, %values, @sql);
	my $next = 1000;
	my $customers = 25;
	for my $c (1 .. $customers)
	{
		my $r = int(rand(1e9));
		my $seen = random_date('2028-06-01', '2030-06-01');
		push @sql, "INSERT INTO crm.customer VALUES ($c, 'name-$c-$r', 'c$c.$r\@example.com', '$seen');";
		push @{ $rows{customer} }, [ $c, $c, $seen ];
		push @{ $values{$c} }, "name-$c-$r", "c$c.$r\@example.com";
		for my $t ([ 'orders', 'address', 4 ], [ 'review', 'body', 3 ], [ 'invoice', 'billed_to', 2 ])
		{
			my ($table, $column, $max) = @$t;
			for (1 .. int(rand($max)))
			{
				my $id = $next++;
				my $v = "$table-$c-" . int(rand(1e9));
				my $age = random_date($seen, '2030-06-30');
				push @sql, "INSERT INTO crm.$table VALUES ($id, $c, '$v', '$age');";
				push @{ $rows{$table} }, [ $id, $c, $age ];
				push @{ $values{$c} }, $v unless $table eq 'invoice';
			}
		}
	}
	$node->safe_psql($db, join("\n", @sql));
	my $purge = { customer => 8, orders => 5, review => 4, invoice => 3 };

	my $run = sub {
		my ($clock) = @_;
		$node->safe_psql($db, qq{
SET client_min_messages = warning;
SET retention.test_clock = '$clock 03:00:00+00';
CALL retention.run();
});
	};
	$run->('2030-07-01');

	my @forgotten = grep { rand() < 0.35 } 1 .. $customers;
	$node->safe_psql($db,
		join("\n", map { "SELECT retention.forget_subject('customer', '$_', 'seed $seed');" } @forgotten));
	my %forgotten = map { $_ => 1 } @forgotten;
	# the rows a forget left in place, as "table id values"
	my $in_place_sql = q{
SELECT 'kept ' || x FROM (
  SELECT format('customer %s %s %s', id, name, email) AS x FROM crm.customer c
  WHERE EXISTS (SELECT 1 FROM retention.forgotten_row f
    WHERE f.relation = 'crm.customer'::regclass AND f.row_key[1] = c.id::text)
  UNION ALL
  SELECT format('orders %s %s', id, address) FROM crm.orders o
  WHERE EXISTS (SELECT 1 FROM retention.forgotten_row f
    WHERE f.relation = 'crm.orders'::regclass AND f.row_key[1] = o.id::text)
  UNION ALL
  SELECT format('review %s %s', id, body) FROM crm.review r
  WHERE EXISTS (SELECT 1 FROM retention.forgotten_row f
    WHERE f.relation = 'crm.review'::regclass AND f.row_key[1] = r.id::text)) k;
};
	my $gone = join(',', "'-'", map { "'$_'" } map { @{ $values{$_} } } @forgotten);
	my $ids = join(',', 0, @forgotten);
	# one query for every check of a step: tagged lines
	my $state_sql = $in_place_sql . qq{
SELECT 'live ' || v FROM (
  SELECT name AS v FROM crm.customer UNION ALL SELECT email FROM crm.customer
  UNION ALL SELECT address FROM crm.orders UNION ALL SELECT body FROM crm.review) x
WHERE v IN ($gone);
SELECT 'archived ' || a.table_name || ' ' || (a.row_data->>'id')
FROM retention.archived_rows() a, jsonb_each_text(a.row_data) f WHERE f.value IN ($gone);
SELECT 'leftover ' || i || ' ' || v.table_name || coalesce('.' || v.column_name, '') || ': ' || v.rows
FROM unnest(ARRAY[$ids]) i, retention.verify_forgotten('customer', i::text) v
WHERE i > 0 AND v.status = 'leftover';
SELECT 'present ' || t || ' ' || id FROM (
  SELECT 'customer' AS t, id FROM crm.customer UNION ALL SELECT 'orders', id FROM crm.orders
  UNION ALL SELECT 'review', id FROM crm.review UNION ALL SELECT 'invoice', id FROM crm.invoice
  UNION ALL SELECT split_part(table_name, '.', 2), (row_data->>'id')::int
  FROM retention.archived_rows()) p;
};
	my %anonymized =
	  map { /^kept (\S+ \S+)/ ? ($1 => $_) : () } split /\n/, $node->safe_psql($db, $in_place_sql);

	my $ok = 1;
	my $check = sub {
		my ($step, $clock) = @_;
		my (@bad, %present);
		for my $line (split /\n/, $node->safe_psql($db, $state_sql))
		{
			if ($line =~ /^kept (\S+ \S+)/)
			{
				# what a forget anonymized never changes again
				push @bad, "changed after the forget: '$anonymized{$1}' -> '$line'"
				  if defined $anonymized{$1} && $anonymized{$1} ne $line;
			}
			elsif ($line =~ /^present (\S+ \S+)/) { $present{$1} = 1; }
			elsif ($line =~ /^(live|archived|leftover) /)
			{
				# a value of a forgotten customer, or a verify_forgotten leftover
				push @bad, $line;
			}
		}
		# every row of the other customers is live or archived, unless due for purge
		for my $table (sort keys %rows)
		{
			for my $r (@{ $rows{$table} })
			{
				my ($id, $c, $age) = @$r;
				next if $forgotten{$c} || $present{"$table $id"};
				# (a day's slack for calendar years; runs are at 03:00)
				next if epoch_of($age) + $purge->{$table} * $years - 86400 < epoch_of($clock);
				push @bad, "$table $id of customer $c is lost";
			}
		}
		if (@bad)
		{
			$ok = 0;
			diag("seed $seed, $orders_forget/$reviews_forget"
				  . ($partitioned ? ', partitioned orders' : '') . ", forgotten (@forgotten), $step at $clock:\n  "
				  . join("\n  ", @bad));
		}
	};

	$check->('forget', '2030-07-01');
	for my $s (@steps)
	{
		my ($clock, $also) = @$s;
		$run->($clock);
		$check->('run', $clock);
		if ($also eq 'restore')
		{
			$node->safe_psql($db, join("\n",
				map { "SELECT retention.restore_archived('crm.$_');" } qw(customer orders review)));
			$check->('restore', $clock);
		}
		elsif ($also eq 'reapply')
		{
			$node->safe_psql($db, 'SELECT count(*) FROM retention.reapply_erasures()');
			$check->('reapply_erasures', $clock);
		}
	}
	ok($ok, "seed $seed: forgotten customers stay forgotten, the others are accounted for");
	$node->safe_psql('postgres', "DROP DATABASE $db");
}

run_seed($_) for @seeds;
$node->stop;
done_testing();
