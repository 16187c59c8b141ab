# The lifecycle against a plain-SQL model of it (differential test).
#
# For each seed: random tables (key types int, bigint, numeric, text in a
# non-C collation, uuid, date, composite, a key including the age column; age
# types date, timestamp, timestamptz), one group of 150+ rows sharing one age
# value with keys of different lengths, NULL ages, a partitioned table (range
# on the age column, key on the parent), child tables whose foreign keys are
# ON DELETE CASCADE / NO ACTION / SET NULL, a legacy BEFORE UPDATE trigger
# that does not touch the age, most ages shared by many rows; random labels (anonymize with hash or
# mask_email, purge values, archive, purge rows; delays in days, months and
# years).  A copy of every table ("the model", schema m<seed>, with the same
# foreign keys) is taken before the first run.  The lifecycle then runs at a
# few clock values (retention.test_clock); after each run the model applies
# the same rules in plain SQL (batches are small, so that their boundaries
# fall inside groups of rows sharing an age) -- stage by stage, children first -- and every
# live row and every archived row (decrypted) must equal the model's, and the
# run must be 'succeeded' (nothing here is locked or failing).
#
# Every stage has three access paths (retention.access_path; anonymize and
# value purges take the heap path only on tables without the legacy trigger):
# DIFF_SEEDS seeds (default 6) run with the path DIFF_ACCESS_PATH (default
# index), then DIFF_HEAP_SEEDS more seeds (default 3) with the heap-order
# path forced, then DIFF_KEY_SEEDS (default 2) with the key path (every
# stage's batches by primary key, as on Citus: no ctid, no FOR UPDATE);
# DIFF_SEED=n replays one seed with DIFF_ACCESS_PATH.  Every failure
# message names its seed and path.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use List::Util qw(shuffle);
use lib 'test/perl';
use RetentionNode;

my @seeds;
my %path_of;
my $first_path = $ENV{DIFF_ACCESS_PATH} // 'index';
if (defined $ENV{DIFF_SEED})
{
	@seeds = ($ENV{DIFF_SEED});
	$path_of{ $seeds[0] } = $first_path;
}
else
{
	my $base = time() % 100000;
	my $n = $ENV{DIFF_SEEDS} // 6;
	my $heap = $ENV{DIFF_HEAP_SEEDS} // 3;
	my $key = $ENV{DIFF_KEY_SEEDS} // 2;
	@seeds = map { $base + $_ } 0 .. ($n + $heap + $key - 1);
	$path_of{$_} = $first_path for @seeds[0 .. $n - 1];
	$path_of{$_} = 'heap' for @seeds[$n .. $n + $heap - 1];
	$path_of{$_} = 'key' for @seeds[$n + $heap .. $#seeds];
}
note('seeds: ' . join(' ', map { "$_ ($path_of{$_})" } @seeds)
	  . ' (DIFF_SEED=n DIFF_ACCESS_PATH=index|heap|key replays one)');

my $value_heap_stages = 0;    # runs whose anonymize or value purge went in heap order
my $node = RetentionNode::new_node('diff');
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE diff');
$node->safe_psql('diff', 'CREATE EXTENSION pg_retention');

# Delays, in increasing order whatever the start date (so any increasing
# choice satisfies anonymize <= archive <= purge).
my @delays = ('100 days', '6 months', '1 year', '500 days', '2 years', '30 months',
	'3 years', '4 years', '5 years', '6 years');
my @key_kinds = qw(int bigint numeric text uuid date composite with_age);
my @age_types = ('date', 'timestamp', 'timestamptz');

sub pick { return $_[ int(rand(scalar @_)) ]; }

sub quote_literal
{
	my ($v) = @_;
	return 'NULL' unless defined $v;
	$v =~ s/'/''/g;
	return "'$v'";
}

# Distinct random key values of a kind, as SQL literals (one list per key column).
sub key_values
{
	my ($kind, $n, $ages) = @_;
	my (%seen, @cols);
	my $one = sub {
		my ($k) = @_;
		my $digits = 1 + int(rand(6));
		return int(rand(10**$digits)) if $k eq 'int';
		return int(rand(10**$digits)) * 1000000007 if $k eq 'bigint';
		return sprintf('%d.%02d', int(rand(10**$digits)), int(rand(100))) if $k eq 'numeric';
		return join('', map { pick(split //, 'aAbBzZ09 -_~') } 1 .. (1 + int(rand(8))))
		  if $k eq 'text';
		return join('', map { sprintf('%x', int(rand(16))) } 1 .. 32) if $k eq 'uuid';
		return "2000-01-01|" . int(rand(9000)) if $k eq 'date';
		die "kind $k";
	};
	my @rows;
	while (@rows < $n)
	{
		my @parts;
		if ($kind eq 'composite') { @parts = ($one->('int'), $one->('text')); }
		elsif ($kind eq 'with_age') { @parts = ($ages->[ scalar @rows ], $one->('int')); }
		else { @parts = ($one->($kind)); }
		# a key with the age: the int part alone is unique (two ages may cast to one date)
		my $id = $kind eq 'with_age' ? $parts[1] : join("\x01", @parts);
		next if $seen{$id}++;
		push @rows, \@parts;
	}
	return \@rows;
}

# The SQL literal of one key part of a kind.
sub key_literal
{
	my ($kind, $v, $age_type) = @_;
	return $v if $kind =~ /^(int|bigint)$/;
	return "$v" if $kind eq 'numeric';
	return quote_literal($v) . '::uuid' if $kind eq 'uuid';
	if ($kind eq 'date') { my ($d, $n) = split /\|/, $v; return "date '$d' + $n"; }
	return $v if $kind eq 'age';    # already an expression
	return quote_literal($v);
}

# key column definitions: [name, type]
sub key_columns
{
	my ($kind, $age_type) = @_;
	return ([ 'k', 'text COLLATE "en-x-icu"' ]) if $kind eq 'text';
	return ([ 'k', 'int' ], [ 'k2', 'text COLLATE "en-x-icu"' ]) if $kind eq 'composite';
	return ([ 'seen', $age_type ], [ 'k', 'int' ]) if $kind eq 'with_age';
	return ([ 'k', $kind ]);
}

sub key_part_kinds
{
	my ($kind) = @_;
	return ('int', 'text') if $kind eq 'composite';
	return ('age', 'int') if $kind eq 'with_age';
	return ($kind);
}

# An age expression `days` (fractional) before the real now, in the age type.
sub age_sql
{
	my ($days, $age_type) = @_;
	return 'NULL' unless defined $days;
	return "(now() - interval '$days days')::$age_type";
}

# ---- one seed ------------------------------------------------------------------

sub build_schema
{
	my ($seed) = @_;
	srand($seed);
	my $s = "d$seed";
	# the server's random() too, for the child and partition rows
	my @sql = ("CREATE SCHEMA $s", 'SELECT setseed(' . (($seed % 1999) / 1999) . ')');
	my @tables;    # { name, kind, age_type, keys => [[col,type]], labels => [...], children }
	my $ntables = 2 + int(rand(3));
	for my $ti (1 .. $ntables)
	{
		my $kind = pick(@key_kinds);
		my $age_type = pick(@age_types);
		my $t = { name => "$s.t$ti", kind => $kind, age_type => $age_type };
		my @keys = key_columns($kind, $age_type);
		$t->{keys} = \@keys;
		my $has_age_key = $kind eq 'with_age';
		my @cols = map { "$_->[0] $_->[1]" } @keys;
		push @cols, "seen $age_type" unless $has_age_key;
		push @cols, 'email text', 'note text', 'nupd int NOT NULL DEFAULT 0';
		push @sql, "CREATE TABLE $t->{name} (" . join(', ', @cols) .
		  ', PRIMARY KEY (' . join(', ', map { $_->[0] } @keys) . '))';
		push @sql, "CREATE INDEX ON $t->{name} (seen)";
		# rows: one big group sharing an age, then spread ages, some NULL
		my $shared = 100 + int(rand(2400)) + 0.5;
		my $n_shared = 150 + int(rand(60));
		my $n_spread = 60 + int(rand(100));
		# the other rows mostly share one of a few ages too (ties at every batch's end)
		my @pool = map { sprintf('%.3f', rand(3000)) } 1 .. 4;
		my @ages = ((map { $shared } 1 .. $n_shared),
			map {
				my $r = rand();
				$r < 0.1 && !$has_age_key ? undef
				  : $r < 0.15 ? sprintf('%.3f', rand(3000))
				  : pick(@pool)
			} 1 .. $n_spread);
		my @age_exprs = map { age_sql($_, $age_type) } @ages;
		my $keys = key_values($kind, scalar @ages, \@age_exprs);
		my @parts = key_part_kinds($kind);
		my @values;
		for my $i (0 .. $#ages)
		{
			my @k = map { key_literal($parts[$_], $keys->[$i][$_], $age_type) } 0 .. $#parts;
			my @row = @k;
			push @row, $age_exprs[$i] unless $has_age_key;
			push @row, quote_literal("user$i.$seed\@example.com"), quote_literal("note $i");
			push @values, '(' . join(', ', @row) . ')';
		}
		my @names = map { $_->[0] } @keys;
		push @names, 'seen' unless $has_age_key;
		push @sql, "INSERT INTO $t->{name} (" . join(', ', @names, 'email', 'note') .
		  ') VALUES ' . join(', ', @values);
		if (rand() < 0.5)
		{
			push @sql, "CREATE FUNCTION $s.legacy$ti() RETURNS trigger LANGUAGE plpgsql AS "
			  . "\$\$ BEGIN NEW.nupd := OLD.nupd + 1; RETURN NEW; END \$\$";
			push @sql, "CREATE TRIGGER legacy BEFORE UPDATE ON $t->{name} FOR EACH ROW "
			  . "EXECUTE FUNCTION $s.legacy$ti()";
		}
		# labels: increasing delays among anonymize, purge note, archive, purge
		my @stages = grep { rand() < 0.7 } qw(anonymize purge_note archive purge);
		@stages = ('anonymize') unless @stages;
		my @chosen = sort { $a <=> $b } (shuffle(0 .. $#delays))[ 0 .. $#stages ];
		$t->{delay} = { map { $stages[$_] => $delays[ $chosen[$_] ] } 0 .. $#stages };
		$t->{method} = pick('hash', 'mask_email');
		push @tables, $t;
	}
	# a child of a random table, per foreign key action
	my @children;
	my $ci = 0;
	for my $action ('CASCADE', 'NO ACTION', 'SET NULL')
	{
		next if rand() < 0.3;
		$ci++;
		my $parent = pick(@tables);
		my $c = { name => "$s.c$ci", parent => $parent, action => $action,
			age_type => 'date' };
		my @fk = map { [ "p_$_->[0]", $_->[1] ] } @{ $parent->{keys} };
		push @sql, "CREATE TABLE $c->{name} (id int PRIMARY KEY, "
		  . join(', ', map { "$_->[0] $_->[1]" } @fk)
		  . ', seen date, FOREIGN KEY (' . join(', ', map { $_->[0] } @fk) . ") REFERENCES "
		  . "$parent->{name} (" . join(', ', map { $_->[0] } @{ $parent->{keys} })
		  . ") ON DELETE $action)";
		# each child row references a random parent row (or none)
		push @sql, "INSERT INTO $c->{name} SELECT row_number() OVER (), "
		  . join(', ', map { "p.$_->[0]" } @{ $parent->{keys} })
		  . ", current_date - (random() * 3000)::int FROM $parent->{name} p "
		  . "WHERE random() < 0.3";
		$c->{delay} = { purge => pick(@delays) } if rand() < 0.7;
		push @children, $c;
	}
	# a partitioned table, range on its age column, its key on the parent
	my $part;
	if (rand() < 0.7)
	{
		$part = { name => "$s.p", age_type => 'date', kind => 'partitioned (id, seen)' };
		push @sql, "CREATE TABLE $part->{name} (id int, seen date, email text, note text, "
		  . "nupd int NOT NULL DEFAULT 0, PRIMARY KEY (id, seen)) PARTITION BY RANGE (seen)";
		for my $y (0 .. 9)
		{
			push @sql, "CREATE TABLE $s.p_$y PARTITION OF $part->{name} FOR VALUES FROM "
			  . "((date_trunc('year', now()) - make_interval(years => $y))::date) TO "
			  . "((date_trunc('year', now()) - make_interval(years => $y - 1))::date)";
		}
		push @sql, "CREATE TABLE $s.p_old PARTITION OF $part->{name} DEFAULT";
		push @sql, "INSERT INTO $part->{name} (id, seen, email, note) SELECT i, "
		  . "current_date - CASE WHEN i <= 160 THEN 1500 ELSE (random() * 3300)::int END, "
		  . "'p' || i || '\@example.com', 'pnote ' || i FROM generate_series(1, 260) i";
		push @sql, "CREATE INDEX ON $part->{name} (seen)";
		$part->{delay} = { anonymize => pick(@delays[ 0 .. 3 ]), purge => pick(@delays[ 6 .. 9 ]) };
		$part->{method} = 'hash';
	}
	return ($s, \@sql, \@tables, \@children, $part);
}

sub labels
{
	my ($t) = @_;
	my $d = $t->{delay};
	my @table = ('age from seen');
	push @table, "archive after $d->{archive}" if $d->{archive};
	push @table, "purge after $d->{purge}" if $d->{purge};
	my @sql = ("SECURITY LABEL FOR retention ON TABLE $t->{name} IS "
		  . quote_literal(join('; ', @table)));
	push @sql, "SECURITY LABEL FOR retention ON COLUMN $t->{name}.email IS "
	  . quote_literal("anonymize after $d->{anonymize} using $t->{method}")
	  if $d->{anonymize};
	push @sql, "SECURITY LABEL FOR retention ON COLUMN $t->{name}.note IS "
	  . quote_literal("purge after $d->{purge_note}")
	  if $d->{purge_note};
	return @sql;
}

# The model: a copy of each table in schema m<seed> (same keys and foreign
# keys, no trigger), flags for the stages applied once, and an archive table.
sub model_setup
{
	my ($s, $tables, $children, $part) = @_;
	my $m = $s;
	$m =~ s/^d/m/;
	my @sql = ("CREATE SCHEMA $m");
	for my $t (@$tables, ($part ? ($part) : ()))
	{
		my $name = model_name($t, $m);
		my @keys = $t->{keys} ? map { $_->[0] } @{ $t->{keys} } : ('id', 'seen');
		push @sql, "CREATE TABLE $name (LIKE $t->{name})",
		  "ALTER TABLE $name ADD PRIMARY KEY (" . join(', ', @keys) . ')',
		  "ALTER TABLE $name ADD anon_done boolean NOT NULL DEFAULT false",
		  "INSERT INTO $name SELECT * FROM $t->{name}",
		  "CREATE TABLE ${name}_archive (payload jsonb, purge_after timestamptz)";
	}
	for my $c (@$children)
	{
		my $name = model_name($c, $m);
		my @fk = map { "p_$_->[0]" } @{ $c->{parent}{keys} };
		push @sql, "CREATE TABLE $name (LIKE $c->{name})",
		  "ALTER TABLE $name ADD PRIMARY KEY (id)",
		  "ALTER TABLE $name ADD FOREIGN KEY (" . join(', ', @fk) . ') REFERENCES '
		  . model_name($c->{parent}, $m) . ' (' . join(', ', map { $_->[0] } @{ $c->{parent}{keys} })
		  . ") ON DELETE $c->{action}",
		  "INSERT INTO $name SELECT * FROM $c->{name}";
	}
	return @sql;
}

sub model_name
{
	my ($t, $m) = @_;
	my ($schema, $table) = split /\./, $t->{name};
	return "$m.$table";
}

# The model's run at clock $clock: the rules of docs/lifecycle.md in plain SQL.
sub model_run
{
	my ($m, $clock, $tables, $children, $part) = @_;
	my @sql;
	my $cut = sub { my ($t, $delay) = @_;
		return "(timestamptz '$clock' - interval '$delay')::$t->{age_type}"; };
	# children first (they are never parents here), then the tables
	for my $c (@$children)
	{
		next unless $c->{delay}{purge};
		push @sql, 'DELETE FROM ' . model_name($c, $m) . ' WHERE seen < ' . $cut->($c, $c->{delay}{purge});
	}
	for my $t (($part ? ($part) : ()), @$tables)
	{
		my $name = model_name($t, $m);
		my $d = $t->{delay};
		my $method = $t->{method} eq 'hash' ? 'retention.hash' : 'retention.mask_email';
		push @sql, "UPDATE $name SET email = $method(email), anon_done = true WHERE NOT anon_done "
		  . 'AND seen < ' . $cut->($t, $d->{anonymize})
		  if $d->{anonymize};
		push @sql, "UPDATE $name SET note = NULL WHERE seen < " . $cut->($t, $d->{purge_note})
		  if $d->{purge_note};
		my @keys = map { $_->[0] } @{ $t->{keys} // [] };
		my $blocked = '';
		for my $c (grep { $_->{parent} == $t && $_->{action} eq 'NO ACTION' } @$children)
		{
			$blocked .= ' AND NOT EXISTS (SELECT 1 FROM ' . model_name($c, $m) . ' x WHERE '
			  . join(' AND ', map { "x.p_$_ = r.$_" } @keys) . ')';
		}
		push @sql, "DELETE FROM $name r WHERE seen < " . $cut->($t, $d->{purge}) . $blocked
		  if $d->{purge};
		if ($d->{archive})
		{
			my $not_purge = $d->{purge} ? ' AND NOT seen < ' . $cut->($t, $d->{purge}) : '';
			my $purge_after = $d->{purge}
			  ? "m.seen::timestamptz + interval '$d->{purge}'" : 'NULL::timestamptz';
			push @sql, "WITH m AS (DELETE FROM $name r WHERE seen < " . $cut->($t, $d->{archive})
			  . "$not_purge$blocked RETURNING *) INSERT INTO ${name}_archive "
			  . "SELECT to_jsonb(m.*) - 'anon_done', $purge_after FROM m";
		}
		push @sql, "DELETE FROM ${name}_archive WHERE purge_after < timestamptz '$clock'";
	}
	return @sql;
}

# Rows of the real table and of the model that differ (as jsonb, key text first).
sub differences
{
	my ($t, $m) = @_;
	my $model = model_name($t, $m);
	my @keys = $t->{keys} ? map { $_->[0] } @{ $t->{keys} } : ('id');
	@keys = ('id') if $t->{action};
	my $key = 'ROW(' . join(', ', map { "r.$_" } @keys) . ')::text';
	my $live = "SELECT count(*) || ' ' || coalesce(string_agg(coalesce(a.k, b.k) || ': live '
		|| coalesce(a.j::text, 'none') || ' model ' || coalesce(b.j::text, 'none'), '; '), '')
		FROM (SELECT $key AS k, to_jsonb(r.*) - 'nupd' AS j FROM $t->{name} r) a
		FULL JOIN (SELECT $key AS k, to_jsonb(r.*) - 'nupd' - 'anon_done' AS j FROM $model r) b
		USING (k) WHERE a.j IS DISTINCT FROM b.j";
	return ($live) if $t->{action};
	my $archived = "SELECT count(*) || ' ' || coalesce(string_agg(coalesce(a.j, b.j)::text, '; '), '')
		FROM (SELECT row_data - 'nupd' AS j FROM retention.archived_rows('$t->{name}')) a
		FULL JOIN (SELECT payload - 'nupd' AS j FROM ${model}_archive) b ON a.j = b.j
		WHERE a.j IS NULL OR b.j IS NULL";
	return ($live, $archived);
}

my $clocks_sql = q{SET TimeZone = 'UTC'; SELECT string_agg((now() + d)::text, ',') FROM
	unnest(ARRAY[interval '0 days', interval '400 days', interval '1300 days']) d};

for my $seed (@seeds)
{
	my ($s, $schema, $tables, $children, $part) = build_schema($seed);
	my $m = $s;
	$m =~ s/^d/m/;
	$node->safe_psql('diff', join(";\n", @$schema,
		(map { labels($_) } @$tables, @$children, ($part ? ($part) : ()))) . ';');
	$node->safe_psql('diff', join(";\n", model_setup($s, $tables, $children, $part)) . ';');
	note("seed $seed: $_->{name} key $_->{kind}, age " . ($_->{age_type} // 'date') . ', '
		  . join(', ', map { "$_ $_[0]" } ())
		  . join(', ', map { my $t = $_; map { "$_ $t->{delay}{$_}" } sort keys %{ $t->{delay} // {} } } ($_))
		  . ($_->{method} ? " using $_->{method}" : '') . ($_->{action} ? " ON DELETE $_->{action} -> $_->{parent}{name}" : ''))
	  for @$tables, @$children, ($part ? ($part) : ());
	my @clocks = split /,/, $node->safe_psql('diff', $clocks_sql);
	# small batches: their boundaries fall inside the groups of rows sharing an age
	my $batch = 20 + int(rand(300));
	for my $clock (@clocks)
	{
		my ($rc, $out, $err) = $node->psql('diff', "SET client_min_messages = warning;
			SET retention.batch_max_rows = $batch;
			SET retention.access_path = $path_of{$seed};
			SET retention.test_clock = '$clock'; CALL retention.run();");
		is($rc, 0, "seed $seed clock $clock: the run completes") or diag($err);
		my $status = $node->safe_psql('diff',
			'SELECT status || coalesce(\' \' || message, \'\') FROM retention.run_history '
			  . 'ORDER BY run_id DESC LIMIT 1');
		my $failed = $node->safe_psql('diff',
			"SELECT string_agg(table_text || ' ' || action || ': ' || coalesce(error, status), '; ') "
			  . 'FROM retention.run_detail WHERE run_id = (SELECT max(run_id) FROM '
			  . "retention.run_history) AND status NOT IN ('done')");
		my $paths = $node->safe_psql('diff',
			"SELECT coalesce(string_agg(DISTINCT access_path, ','), 'none') FROM retention.run_detail "
			  . 'WHERE run_id = (SELECT max(run_id) FROM retention.run_history) AND done > 0 '
			  . "AND action IN ('purge', 'archive')");
		ok($paths eq 'none' || $paths eq $path_of{$seed},
			"seed $seed clock $clock: rows moved by the $path_of{$seed} path ($paths)");
		# value stages: heap order only when forced and no legacy trigger can alter the UPDATE,
		# the key path only when forced, else the age index
		my $value_paths = $node->safe_psql('diff',
			"SELECT coalesce(string_agg(DISTINCT access_path, ',' ORDER BY access_path), 'none') "
			  . 'FROM retention.run_detail '
			  . 'WHERE run_id = (SELECT max(run_id) FROM retention.run_history) AND done > 0 '
			  . "AND action IN ('anonymize', 'purge_value')");
		ok($value_paths eq 'none'
			  || !grep({ $_ ne 'index' && $_ ne $path_of{$seed} } split(/,/, $value_paths)),
			"seed $seed clock $clock: values changed by the paths it allows ($value_paths)");
		$value_heap_stages++ if grep { $_ eq 'heap' } split(/,/, $value_paths);
		is($status, 'succeeded',
			"seed $seed clock $clock (batches of $batch, $path_of{$seed} path): the run succeeded")
		  or diag("seed $seed: $failed");
		note("seed $seed clock $clock: " . $node->safe_psql('diff',
			'SELECT format(\'%s anonymized, %s values purged, %s archived, %s purged, %s blocked, '
			  . '%s archived rows purged\', rows_anonymized, values_purged, rows_archived, '
			  . 'rows_purged, rows_blocked, archive_purged) FROM retention.run_history '
			  . 'ORDER BY run_id DESC LIMIT 1'));
		$node->safe_psql('diff', "SET TimeZone = 'UTC';\n"
			  . join(";\n", model_run($m, $clock, $tables, $children, $part)) . ';');
		for my $t (@$tables, @$children, ($part ? ($part) : ()))
		{
			for my $q (differences($t, $m))
			{
				my $diff = $node->safe_psql('diff', "SET TimeZone = 'UTC'; $q");
				my ($count, $rows) = split / /, $diff, 2;
				is($count, '0', "seed $seed clock $clock: $t->{name} equals the model")
				  or diag("seed $seed ($t->{name}, key $t->{kind}, age "
					  . ($t->{age_type} // 'date') . ', labels '
					  . join(', ', map { "$_ $t->{delay}{$_}" } sort keys %{ $t->{delay} // {} })
					  . '): ' . substr($rows // '', 0, 1500));
			}
		}
	}
}

# with heap seeds, some value stage must have gone in heap order (else the path is untested)
ok($value_heap_stages > 0, "$value_heap_stages runs changed values in heap order")
  if grep { $path_of{$_} eq 'heap' } @seeds;

$node->stop;
done_testing();
