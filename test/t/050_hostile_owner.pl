# A hostile table owner never gets more rights than it has (issue 9).
#
# Any role that owns a table may label it, and pg_retention then runs
# statements on that table: the worker, CALL retention.run(), preview(),
# minimize_existing(), and the rights functions of retention_dpo and
# retention_admin.  Whatever code the owner hangs on the table -- triggers,
# CHECK constraints, index expressions, domains, generated columns, casts to
# json, rules -- must run as the owner (SECURITY_RESTRICTED_OPERATION,
# search_path = pg_catalog, pg_temp), never as whoever called the engine.
#
# mallory (LOGIN, no special rights, a schema of her own) owns one table per
# VECTOR, each the subject table of its own subject, with a child table
# ('on forget delete'); vector xowner is the usual shape instead: a trigger
# on mallory's table under a subject table the DBA owns.  Each vector calls
# mallory.probe(vector), SECURITY INVOKER (through an IMMUTABLE wrapper
# where PostgreSQL requires one), which
# records the path it was reached by, current_user, search_path, and tries
# to escalate, each attempt in its own BEGIN ... EXCEPTION block: ALTER ROLE
# mallory SUPERUSER, GRANT retention_admin TO mallory, write and read a
# `secret` table she has no rights on, read the archive's keys and the
# erasure log, SET ROLE to the bootstrap superuser, CREATE TEMP TABLE.  An
# attempt that changes roles is undone at once (its subtransaction is rolled
# back) so that each (vector, path) pair is judged on its own; the INSERT
# into `secret` is kept, so the tables show what got through.
#
# The probe tries its escalations before it reads any table (a statement
# guard is no privilege boundary: ALTER ROLE reaches no relation), takes
# the path from the database setting pgr.path, and writes its record to
# mallory.probe_log and, because preview() and failed statements roll that
# back, as a WARNING 'pgr_probe {json}' to the server log, which is what the
# assertions read.  Every PATH runs in
# its own copy of a template database, so each starts from the same rows:
# ids 1 and 5 fresh (the forget/export and erasure targets, each with a
# child row), 2 due for anonymizing, 3 for archiving, 4 for purging, all
# with birthdays written before their 'minimize to' rule.  The worker also
# carries out approved erasure requests; reapply_erasures() forgets again a
# subject that came back.
#
# For every (vector, path) pair that fired: the probe ran as mallory, every
# escalation attempt failed, search_path was pg_catalog, pg_temp.  Each pair
# a path can reach must have fired at least once (no vacuous pass).  After
# each path: mallory is not superuser nor retention_admin, `secret` is
# unchanged, and the legitimate work was done -- or the table failed cleanly
# (an error recorded, every row in exactly one of live and archive).  Last, a
# role with no grants can use none of the archive, keyed methods, internals
# or rights functions.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use lib 'test/perl';
use RetentionNode;

# ---- vectors and paths ------------------------------------------------------

my @vectors =
  qw(trg_bu trg_au trg_bd trg_ad trg_ins deferred check index domain age_domain key_domain generated cast rule
  xowner);
my %vector_name = (
	trg_bu => 'BEFORE UPDATE trigger',
	trg_au => 'AFTER UPDATE trigger',
	trg_bd => 'BEFORE DELETE trigger',
	trg_ad => 'AFTER DELETE trigger',
	trg_ins => 'INSERT trigger',
	deferred => 'deferred constraint trigger',
	check => 'CHECK constraint',
	index => 'index expression',
	domain => 'domain CHECK',
	age_domain => 'domain CHECK on the age column',
	key_domain => 'domain CHECK on the key column',
	generated => 'generated column',
	cast => 'cast to json',
	rule => 'rule',
	xowner => 'trigger on a child of a superuser-owned subject table');

# What each path must reach: lifecycle runs update (minimize, anonymize),
# delete (purge) and serialize (archive) rows; forget and erasure delete;
# export serializes; restore inserts; minimize_existing updates.
# (Not required to fire, as the table may fail cleanly first: a deferred
# constraint trigger, which PostgreSQL refuses to queue inside a
# security-restricted operation, and in lifecycle runs a rule, which
# PostgreSQL refuses for the data-modifying WITH the run uses.  When they
# fire, they must run as mallory all the same.)
my @lifecycle = qw(trg_bu trg_au trg_bd trg_ad check index domain generated cast xowner);
my @paths = (
	{ key => 'worker', name => 'worker run', db => 'p_worker', reach => [@lifecycle] },
	{ key => 'run', name => 'CALL run() as superuser', db => 'p_run', reach => [@lifecycle] },
	{ key => 'preview', name => 'preview() as superuser', db => 'p_preview', reach => [@lifecycle] },
	{ key => 'forget', name => 'forget_subject as dpo', db => 'p_forget',
	  reach => [qw(trg_bd trg_ad rule xowner)] },
	{ key => 'export', name => 'export_subject as dpo', db => 'p_export', reach => [qw(cast)] },
	{ key => 'erasure', name => 'process_erasure_requests as admin', db => 'p_erasure',
	  reach => [qw(trg_bd trg_ad rule xowner)] },
	{ key => 'request', name => 'request_erasure as dpo', db => 'p_erasure', reach => [] },
	{ key => 'restore_setup', name => 'CALL run() before restore', db => 'p_restore', reach => [] },
	{ key => 'restore', name => 'restore_archived as admin', db => 'p_restore',
	  reach => [qw(trg_ins check index domain age_domain key_domain generated xowner)] },
	{ key => 'minimize', name => 'minimize_existing as superuser', db => 'p_minimize',
	  reach => [qw(trg_bu trg_au check index domain generated rule xowner)] },
	{ key => 'reapply_setup', name => 'forget_subject before reapply', db => 'p_reapply', reach => [] },
	{ key => 'reapply', name => 'reapply_erasures as dpo', db => 'p_reapply',
	  reach => [qw(trg_bd trg_ad rule xowner)] });

# ---- the cluster, the roles -------------------------------------------------

my $node = RetentionNode::new_node('hostile',
	conf => "timezone = 'UTC'\nlog_line_prefix = '%m [%p] %d '\n"
	  # autoanalyze would evaluate index expressions on its own
	  . "autovacuum = off\n");
$node->start;
my $superuser = $node->safe_psql('postgres', 'SELECT rolname FROM pg_roles WHERE oid = 10');

$node->safe_psql('postgres', q{
CREATE DATABASE fixture;
CREATE ROLE mallory LOGIN;
CREATE ROLE dpo LOGIN;
CREATE ROLE admin LOGIN;
CREATE ROLE app LOGIN;
});
$node->safe_psql('fixture', q{
CREATE EXTENSION pg_retention;
GRANT retention_dpo TO dpo;
GRANT retention_admin TO admin;
CREATE SCHEMA mallory AUTHORIZATION mallory;
CREATE TABLE public.secret (note text);
INSERT INTO public.secret VALUES ('the crown jewels');
REVOKE ALL ON public.secret FROM PUBLIC;
-- the usual case: the DBA owns the subject table, and lets application
-- roles reference it (mallory hangs her table under it, vector xowner)
CREATE TABLE public.cust_xowner (id int PRIMARY KEY, seen timestamptz NOT NULL DEFAULT now());
INSERT INTO public.cust_xowner (id) SELECT generate_series(1, 5);
SECURITY LABEL FOR retention ON TABLE public.cust_xowner IS 'subject s_xowner(id)';
GRANT SELECT, REFERENCES ON public.cust_xowner TO mallory;
});

# Runs $sql in $db as $user; returns (exit code, stdout, stderr).
sub psql_as
{
	my ($db, $user, $sql) = @_;
	my ($rc, $out, $err) =
	  $node->psql($db, $sql, connstr => $node->connstr($db) . " user=$user");
	return ($rc, $out, $err);
}

sub safe_psql_as
{
	my ($db, $user, $sql) = @_;
	my ($rc, $out, $err) = psql_as($db, $user, $sql);
	die "psql as $user in $db failed: $err" if $rc != 0;
	return $out;
}

# ---- mallory's traps ----------------------------------------------------------

my $probe = q{
CREATE TABLE mallory.probe_log (
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    path text, vector text, usr text, record jsonb);
CREATE TABLE mallory.rule_sink (op text, id int);

CREATE FUNCTION mallory.probe(vector text) RETURNS void
LANGUAGE plpgsql SECURITY INVOKER AS $probe$
DECLARE
    rec jsonb;
    attempts jsonb := '{}';
    name text;
    stmt text;
    undo boolean;
BEGIN
    rec := jsonb_build_object(
        'vector', vector,
        -- the path under test, a database setting: reading a table first
        -- would let a statement guard stop the probe before its attempts
        'path', coalesce(current_setting('pgr.path', true), 'setup'),
        'current_user', current_user::text,
        'session_user', session_user::text,
        'search_path', current_setting('search_path'));
    FOR name, stmt, undo IN
        SELECT * FROM (VALUES
            ('ALTER ROLE mallory SUPERUSER', 'ALTER ROLE mallory SUPERUSER', true),
            ('GRANT retention_admin TO mallory', 'GRANT retention_admin TO mallory', true),
            ('INSERT INTO secret', format('INSERT INTO public.secret VALUES (%L)',
                                          'mallory: ' || vector || ' / ' || (rec->>'path')), false),
            ('SELECT FROM secret', 'SELECT count(*) FROM public.secret', false),
            ('SELECT FROM retention_archive.data_key',
             'SELECT count(*) FROM retention_archive.data_key', false),
            ('SELECT FROM retention.erasure_log', 'SELECT count(*) FROM retention.erasure_log', false),
            ('SET ROLE superuser', 'SET ROLE @SUPERUSER@', true),
            ('CREATE TEMP TABLE', 'CREATE TEMP TABLE mallory_probe_temp (x int)', true)) AS a
    LOOP
        BEGIN
            EXECUTE stmt;
            attempts := attempts || jsonb_build_object(name, 'succeeded');
            IF undo THEN
                RAISE EXCEPTION 'pgr_probe: undo';
            END IF;
        EXCEPTION WHEN others THEN
            IF NOT attempts ? name THEN
                attempts := attempts || jsonb_build_object(name, SQLSTATE || ' ' || SQLERRM);
            END IF;
        END;
    END LOOP;
    rec := rec || jsonb_build_object('attempts', attempts);
    BEGIN
        INSERT INTO mallory.probe_log (path, vector, usr, record)
        VALUES (rec->>'path', vector, current_user, rec);
    EXCEPTION WHEN others THEN
        rec := rec || jsonb_build_object('log_error', SQLERRM);
    END;
    RAISE WARNING 'pgr_probe %', rec::text;
END
$probe$;

-- index expressions and generated columns need IMMUTABLE functions: a
-- wrapper calls the probe (an IMMUTABLE function may call a VOLATILE one)
CREATE FUNCTION mallory.hook(vector text, v anyelement) RETURNS anyelement
LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN PERFORM mallory.probe(vector); RETURN v; END $$;

CREATE FUNCTION mallory.trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mallory.probe(TG_ARGV[0]);
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$;

CREATE DOMAIN mallory.d_text AS text CHECK (mallory.hook('domain', VALUE) IS NOT DISTINCT FROM VALUE);
CREATE DOMAIN mallory.d_date AS date CHECK (mallory.hook('domain', VALUE) IS NOT DISTINCT FROM VALUE);
-- the engine casts ages and keys to their column's type, e.g. cutoffs and subject ids
CREATE DOMAIN mallory.d_ts AS timestamptz
    CHECK (mallory.hook('age_domain', VALUE) IS NOT DISTINCT FROM VALUE);
CREATE DOMAIN mallory.d_int AS int CHECK (mallory.hook('key_domain', VALUE) IS NOT DISTINCT FROM VALUE);

-- archive and export serialize rows with row_to_json/to_jsonb, which call a
-- type's cast to json
CREATE TYPE mallory.mood AS ENUM ('happy', 'sad');
CREATE FUNCTION mallory.mood_json(m mallory.mood) RETURNS json LANGUAGE plpgsql AS $$
BEGIN PERFORM mallory.probe('cast'); RETURN to_json(m::text); END $$;
CREATE CAST (mallory.mood AS json) WITH FUNCTION mallory.mood_json(mallory.mood);
};
$probe =~ s/\@SUPERUSER\@/$superuser/;

# One table per vector, and its child.
my $tables = '';
for my $v (@vectors)
{
	my $text = $v eq 'domain' ? 'mallory.d_text' : 'text';
	my $date = $v eq 'domain' ? 'mallory.d_date' : 'date';
	my $age = $v eq 'age_domain' ? 'mallory.d_ts' : 'timestamptz';
	my $id = $v eq 'key_domain' ? 'mallory.d_int' : 'int';
	my $extra = '';
	my $cust = $v eq 'xowner' ? ', cust_id' : '';
	$extra .= ", cust_id int NOT NULL REFERENCES public.cust_xowner" if $v eq 'xowner';
	$extra .= ", mood mallory.mood NOT NULL DEFAULT 'happy'" if $v eq 'cast';
	$extra .= ", CHECK (mallory.hook('check', id) = id)" if $v eq 'check';
	$extra .= ", g_email text GENERATED ALWAYS AS (mallory.hook('generated', email)) STORED"
	  . ", g_birthday date GENERATED ALWAYS AS (mallory.hook('generated', birthday)) STORED"
	  if $v eq 'generated';
	$tables .= qq{
CREATE TABLE mallory.t_$v (id $id PRIMARY KEY, seen $age NOT NULL, email $text, birthday $date$extra);
CREATE INDEX ON mallory.t_$v (seen);
CREATE TABLE mallory.c_$v (id int PRIMARY KEY, t_id int NOT NULL REFERENCES mallory.t_$v, note text);
CREATE INDEX ON mallory.c_$v (t_id);
${\ ($cust ? "CREATE INDEX ON mallory.t_$v (cust_id);" : '')}
INSERT INTO mallory.t_$v (id, seen, email, birthday$cust)
SELECT i, now() - CASE i WHEN 2 THEN interval '40 days 12 hours' WHEN 3 THEN interval '2 years 12 hours'
                         WHEN 4 THEN interval '6 years 12 hours' ELSE interval '10 days 12 hours' END,
       'user' || i || '\@example.com', date '1980-05-10' + i${\ ($cust ? ', i' : '')}
FROM generate_series(1, 5) AS i;
INSERT INTO mallory.c_$v VALUES (1, 1, 'child of 1'), (5, 5, 'child of 5');
};
}
$tables .= q{
CREATE TRIGGER hook BEFORE UPDATE ON mallory.t_trg_bu FOR EACH ROW EXECUTE FUNCTION mallory.trg('trg_bu');
CREATE TRIGGER hook AFTER UPDATE ON mallory.t_trg_au FOR EACH ROW EXECUTE FUNCTION mallory.trg('trg_au');
CREATE TRIGGER hook BEFORE DELETE ON mallory.t_trg_bd FOR EACH ROW EXECUTE FUNCTION mallory.trg('trg_bd');
CREATE TRIGGER hook AFTER DELETE ON mallory.t_trg_ad FOR EACH ROW EXECUTE FUNCTION mallory.trg('trg_ad');
CREATE TRIGGER hook BEFORE INSERT ON mallory.t_trg_ins FOR EACH ROW EXECUTE FUNCTION mallory.trg('trg_ins');
-- fires at commit, when whoever committed is current_user again
CREATE CONSTRAINT TRIGGER hook AFTER INSERT OR UPDATE OR DELETE ON mallory.t_deferred
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION mallory.trg('deferred');
CREATE TRIGGER hook BEFORE INSERT OR UPDATE OR DELETE ON mallory.t_xowner
    FOR EACH ROW EXECUTE FUNCTION mallory.trg('xowner');
CREATE INDEX hook ON mallory.t_index (mallory.hook('index', email), mallory.hook('index', birthday));
CREATE RULE hook_update AS ON UPDATE TO mallory.t_rule
    DO ALSO INSERT INTO mallory.rule_sink VALUES ('update', mallory.hook('rule', old.id));
CREATE RULE hook_delete AS ON DELETE TO mallory.t_rule
    DO ALSO INSERT INTO mallory.rule_sink VALUES ('delete', mallory.hook('rule', old.id));
-- the bait: today the rights functions reach the tables with the caller's
-- privileges, so mallory lets everyone in
GRANT USAGE ON SCHEMA mallory TO PUBLIC;
GRANT ALL ON ALL TABLES IN SCHEMA mallory TO PUBLIC;
};
# A subject table names the subject for the whole database: the DBA declares
# mallory's (superusers may label any table); mallory declares the rest.
my ($subject_labels, $labels) = ('', '');
for my $v (@vectors)
{
	my $stages = 'age from seen; archive after 1 year; purge after 5 years';
	my $label = qq{
SECURITY LABEL FOR retention ON TABLE mallory.t_$v IS
  'subject ${\ ($v eq 'xowner' ? 's_xowner' : "s_$v(id)")}; $stages';};
	if ($v eq 'xowner') { $labels .= $label; } else { $subject_labels .= $label; }
	$labels .= qq{
SECURITY LABEL FOR retention ON COLUMN mallory.t_$v.email IS 'anonymize after 30 days using hash';
SECURITY LABEL FOR retention ON COLUMN mallory.t_$v.birthday IS 'minimize to month_day';
SECURITY LABEL FOR retention ON TABLE mallory.c_$v IS 'subject s_$v; on forget delete';
};
}
safe_psql_as('fixture', 'mallory', $probe . $tables);
$node->safe_psql('fixture', $subject_labels);
safe_psql_as('fixture', 'mallory', $labels);
is(safe_psql_as('fixture', 'mallory', q{
SELECT count(DISTINCT p.table_name) FROM retention.policies p JOIN pg_class c ON c.oid = p.table_name
WHERE c.relnamespace = 'mallory'::regnamespace}),
	2 * @vectors, 'all of mallory\'s tables are declared');

# One database per path, copies of the fixture.
my %seen_db;
for my $p (@paths)
{
	next if $seen_db{ $p->{db} }++;
	$node->safe_psql('postgres', "CREATE DATABASE $p->{db} TEMPLATE fixture");
}

sub set_path
{
	my ($db, $path) = @_;
	# every new session of $db (psql, the worker) sees it
	$node->safe_psql('postgres', "ALTER DATABASE $db SET pgr.path = '$path'");
	return;
}

# ---- what the tables hold -------------------------------------------------------

# Each of ids 1..5 of mallory.t_$v: where it is (live, archive, both, gone),
# whether its email is hashed (or otherwise changed) and its birthday
# minimized.  No to_jsonb of live rows here: that would call the cast.
sub table_state_sql
{
	my ($v) = @_;
	return qq{(
WITH o AS (SELECT i AS id, 'user' || i || '\@example.com' AS email FROM generate_series(1, 5) AS i),
l AS (SELECT id, email::text AS email, birthday::date AS birthday FROM mallory.t_$v),
a AS (SELECT (row_data->>'id')::int AS id, row_data->>'email' AS email,
             (row_data->>'birthday')::date AS birthday
      FROM retention.archived_rows('mallory.t_$v'))
SELECT string_agg(o.id || ':' ||
    CASE WHEN l.id IS NOT NULL AND a.id IS NOT NULL THEN 'both'
         WHEN l.id IS NOT NULL THEN 'live' WHEN a.id IS NOT NULL THEN 'archive' ELSE 'gone' END ||
    CASE WHEN coalesce(l.id, a.id) IS NULL THEN ''
         WHEN coalesce(l.email, a.email) = retention.hash(o.email) THEN ',hashed'
         WHEN coalesce(l.email, a.email) = o.email THEN '' ELSE ',changed' END ||
    CASE WHEN extract(year FROM coalesce(l.birthday, a.birthday)) = 4 THEN ',minimized' ELSE '' END,
    ' ' ORDER BY o.id)
FROM o LEFT JOIN l USING (id) LEFT JOIN a USING (id))};
}

# The states of every vector's tables in $db, in one query: two hash refs by
# vector, the table's state (above) and its child rows' ids.
sub states
{
	my ($db) = @_;
	my $sql = join("\nUNION ALL\n", map {
		"SELECT '$_', " . table_state_sql($_)
		  . ", (SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM mallory.c_$_)"
	} @vectors);
	my (%table, %child);
	for my $line (split /\n/, $node->safe_psql($db, $sql))
	{
		my ($v, $t, $c) = split /\|/, $line, -1;
		($table{$v}, $child{$v}) = ($t, $c);
	}
	return (\%table, \%child);
}

my $fresh = '1:live 2:live 3:live 4:live 5:live';
my $after_run = '1:live,minimized 2:live,hashed,minimized 3:archive,hashed,minimized 4:gone 5:live,minimized';

# Requests the erasure of subject 5 of each vector table (as dpo) and
# approves it; returns the request ids by vector.
sub request_erasures
{
	my ($db) = @_;
	my %request;
	set_path($db, 'request');
	for my $v (@vectors)
	{
		$request{$v} = safe_psql_as($db, 'dpo',
			"SELECT retention.request_erasure('s_$v', '5', 'request $v')");
		safe_psql_as($db, 'dpo', "SELECT retention.approve_erasure($request{$v})");
	}
	set_path($db, 'checks');
	return %request;
}

# Whether erasure request $id is done; when it is not, it must say why.
sub erasure_done
{
	my ($db, $id, $what) = @_;
	my ($status, $error) = split /\|/, $node->safe_psql($db,
		"SELECT status, coalesce(last_error, '') FROM retention.erasure_request WHERE id = $id"), -1;
	ok($status eq 'done' || $error ne '', "$what: the erasure request is done, or says why not");
	note("$what: erasure request $status: $error") if $status ne 'done';
	return $status eq 'done';
}

# A lifecycle run's outcome for each table: the work done, or the table
# failed cleanly (its error in run_detail, the run partial, no row in two
# places, no row lost that was not due for purging).  %request: erasure
# requests of subject 5 the run carried out first (the worker's).
sub check_run
{
	my ($p, %request) = @_;
	my $db = $p->{db};
	my ($run, $status) = split /\|/, $node->safe_psql($db,
		'SELECT run_id, status FROM retention.run_history ORDER BY run_id DESC LIMIT 1');
	my ($tables, $children) = states($db);
	for my $v (@vectors)
	{
		my $what = "$p->{name} / $vector_name{$v}";
		my $error = $node->safe_psql($db, qq{
SELECT coalesce(string_agg(DISTINCT error, '; '), '') FROM retention.run_detail
WHERE run_id = $run AND table_text = 'mallory.t_$v' AND (error IS NOT NULL OR status = 'failed')});
		my $state = $tables->{$v};
		my $erased = $request{$v} && erasure_done($db, $request{$v}, $what);
		$state .= " / $children->{$v}" if $request{$v};
		if ($error eq '')
		{
			my $expected = $after_run;
			$expected =~ s/5:live,minimized/5:gone/ if $erased;
			$expected .= $erased ? ' / 1' : ' / 1,5' if $request{$v};
			is($state, $expected, "$what: the work is done");
		}
		else
		{
			note("$what: the table failed: $error");
			is($status, 'partial', "$what: the table failed and the run is partial");
			my $kept = $erased ? '123' : '1235';
			unlike($state, qr/both|[$kept]:gone/, "$what: failed cleanly, every row in one place ($state)");
		}
	}
	return;
}

# After each path: nothing escalated for good.
sub check_no_escalation
{
	my ($p) = @_;
	is($node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'}),
		'f', "$p->{name}: mallory is not superuser afterwards");
	is($node->safe_psql('postgres', q{SELECT pg_has_role('mallory', 'retention_admin', 'MEMBER')}),
		'f', "$p->{name}: mallory is not a member of retention_admin afterwards");
	is($node->safe_psql($p->{db}, q{SELECT string_agg(note, ' | ' ORDER BY note) FROM public.secret}),
		'the crown jewels', "$p->{name}: secret is unchanged");
	return;
}

my %path = map { $_->{key} => $_ } @paths;

# ---- path: the background worker's run ----------------------------------------------

{
	my $p = $path{worker};
	# the worker carries out approved erasure requests before its run
	my %request = request_erasures($p->{db});
	set_path($p->{db}, $p->{key});
	# a schedule far from now: only run_now() starts a run
	my @t = gmtime(time() + 12 * 3600);
	my $run_at = sprintf('%02d:%02d', $t[2], $t[1]);
	$node->safe_psql('postgres', qq{
ALTER SYSTEM SET retention.worker_enabled = on;
ALTER SYSTEM SET retention.run_at = '$run_at';
ALTER SYSTEM SET retention.time_zone = 'UTC';
});
	$node->reload;
	$node->poll_query_until($p->{db}, q{SELECT enabled FROM retention.worker_status})
	  or die 'the worker is not enabled';
	$node->safe_psql($p->{db}, 'SELECT retention.run_now()');
	$node->poll_query_until($p->{db}, q{
SELECT count(*) = 1 FROM retention.run_history WHERE started_by = 'worker' AND status <> 'running'})
	  or die 'the worker did not run';
	# and is done (it vacuums after its run)
	$node->poll_query_until($p->{db}, q{
SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pg_retention worker' AND datname = current_database()});
	$node->safe_psql('postgres', 'ALTER SYSTEM SET retention.worker_enabled = off');
	$node->reload;
	set_path($p->{db}, 'checks');
	check_run($p, %request);
	check_no_escalation($p);
}

# ---- path: CALL retention.run() as superuser ----------------------------------------

{
	my $p = $path{run};
	set_path($p->{db}, $p->{key});
	$node->safe_psql($p->{db}, 'SET client_min_messages = error; CALL retention.run()');
	set_path($p->{db}, 'checks');
	check_run($p);
	check_no_escalation($p);
}

# ---- path: retention.preview() as superuser -----------------------------------------

{
	my $p = $path{preview};
	set_path($p->{db}, $p->{key});
	my $preview = $node->safe_psql($p->{db},
		q{SET client_min_messages = error;
		  SELECT table_name::text || '|' || action || '|' || coalesce(rows, 0) || '|' || coalesce(error, '')
		  FROM retention.preview()});
	set_path($p->{db}, 'checks');
	my ($tables) = states($p->{db});
	for my $v (@vectors)
	{
		my $what = "$p->{name} / $vector_name{$v}";
		like($preview, qr/^mallory\.t_$v\|/m, "$what: the table is in the preview");
		is($tables->{$v}, $fresh, "$what: nothing changed");
	}
	is($node->safe_psql($p->{db}, 'SELECT count(*) FROM retention_archive.archived_row'),
		'0', "$p->{name}: nothing archived");
	check_no_escalation($p);
}

# Calls $sql ('%v' standing for the vector) as $user once per vector table of
# path $p, then $check->($v, $what, $exit_code, $stdout, $stderr, $table_state,
# $child_state) for each.  Returns the [exit code, stdout, stderr] by vector.
sub each_table
{
	my ($p, $user, $sql, $check) = @_;
	set_path($p->{db}, $p->{key});
	my %result;
	for my $v (@vectors)
	{
		(my $statement = $sql) =~ s/%v/$v/g;
		$result{$v} = [ psql_as($p->{db}, $user, $statement) ];
	}
	set_path($p->{db}, 'checks');
	my ($tables, $children) = states($p->{db});
	$check->($_, "$p->{name} / $vector_name{$_}", @{ $result{$_} }, $tables->{$_}, $children->{$_})
	  for @vectors;
	check_no_escalation($p);
	return \%result;
}

# The work was done ($state is $done), or the call failed and changed nothing.
sub done_or_unchanged
{
	my ($what, $rc, $err, $state, $done, $unchanged, $work) = @_;
	if ($rc == 0)
	{
		is($state, $done, "$what: $work");
		return;
	}
	note("$what: failed: $err");
	is($state, $unchanged, "$what: failed cleanly, nothing changed");
	return;
}

# ---- path: forget_subject as dpo ------------------------------------------------------

each_table($path{forget}, 'dpo', q{SELECT retention.forget_subject('s_%v', '1', 'ticket 1')}, sub {
	my ($v, $what, $rc, $out, $err, $table, $child) = @_;
	done_or_unchanged($what, $rc, $err, "$table / $child",
		'1:gone 2:live 3:live 4:live 5:live / 5', "$fresh / 1,5", 'the subject is forgotten');
});

# ---- path: export_subject as dpo ------------------------------------------------------

each_table($path{export}, 'dpo', q{SELECT retention.export_subject('s_%v', '1')}, sub {
	my ($v, $what, $rc, $out, $err) = @_;
	if ($rc != 0)
	{
		fail("$what: export failed: $err");
		return;
	}
	my $doc = decode_json($out);
	my %ids = map {
		my $rows = $doc->{tables}{"mallory.${_}_$v"}{rows} // [];
		($_ => join(',', map { $_->{id} } @$rows))
	} qw(t c);
	is("$ids{t} / $ids{c}", '1 / 1', "$what: the subject's rows are exported");
});

# ---- path: process_erasure_requests as admin -------------------------------------------

{
	my $p = $path{erasure};
	my %request = request_erasures($p->{db});
	set_path($p->{db}, $p->{key});
	my ($rc, $out, $err) = psql_as($p->{db}, 'admin', 'SELECT retention.process_erasure_requests()');
	is($rc, 0, "$p->{name}: runs") or diag($err);
	set_path($p->{db}, 'checks');
	my ($tables, $children) = states($p->{db});
	for my $v (@vectors)
	{
		my $what = "$p->{name} / $vector_name{$v}";
		my $done = erasure_done($p->{db}, $request{$v}, $what);
		done_or_unchanged($what, $done ? 0 : 1, 'see the request', "$tables->{$v} / $children->{$v}",
			'1:live 2:live 3:live 4:live 5:gone / 1', "$fresh / 1,5", 'the subject is erased');
	}
	check_no_escalation($p);
}

# ---- path: restore_archived as admin -----------------------------------------------------

# archive id 3 of every table first (a superuser's run, a path of its own)
set_path($path{restore_setup}{db}, $path{restore_setup}{key});
$node->safe_psql($path{restore_setup}{db}, 'SET client_min_messages = error; CALL retention.run()');
my ($before_restore) = states($path{restore}{db});
each_table($path{restore}, 'admin', q{SELECT retention.restore_archived('mallory.t_%v')}, sub {
	my ($v, $what, $rc, $out, $err, $table) = @_;
	(my $restored = $before_restore->{$v}) =~ s/\b3:archive/3:live/;
	done_or_unchanged($what, $rc, $err, $table, $restored, $before_restore->{$v},
		'the archived rows are live again');
});

# ---- path: minimize_existing as superuser --------------------------------------------------

each_table($path{minimize}, $superuser,
	q{SET client_min_messages = error; SELECT retention.minimize_existing('mallory.t_%v')}, sub {
	my ($v, $what, $rc, $out, $err, $table) = @_;
	done_or_unchanged($what, $rc, $err, $table,
		join(' ', map { "$_:live,minimized" } 1 .. 5), $fresh, 'every row is minimized');
});

# ---- path: reapply_erasures as dpo -------------------------------------------------------

# subject 1 is forgotten, then comes back (as from an older backup): the
# erasure log forgets it again
my $forgotten = each_table($path{reapply_setup}, 'dpo',
	q{SELECT retention.forget_subject('s_%v', '1', 'ticket 1')}, sub { });
$node->safe_psql($path{reapply}{db}, 'INSERT INTO public.cust_xowner (id) VALUES (1) ON CONFLICT DO NOTHING');
safe_psql_as($path{reapply}{db}, 'mallory', join('', map { my $cust = $_ eq 'xowner' ? ', cust_id' : ''; qq{
INSERT INTO mallory.t_$_ (id, seen, email, birthday$cust)
SELECT 1, now() - interval '10 days 12 hours', 'user1\@example.com', date '1980-05-11'${\ ($cust ? ', 1' : '')}
WHERE NOT EXISTS (SELECT FROM mallory.t_$_ WHERE id = 1);
INSERT INTO mallory.c_$_ SELECT 1, 1, 'child of 1' WHERE NOT EXISTS (SELECT FROM mallory.c_$_ WHERE id = 1);
} } @vectors));
{
	my $p = $path{reapply};
	set_path($p->{db}, $p->{key});
	my ($rc, $out, $err) = psql_as($p->{db}, 'dpo', 'SELECT count(*) FROM retention.reapply_erasures()');
	set_path($p->{db}, 'checks');
	my ($tables, $children) = states($p->{db});
	for my $v (@vectors)
	{
		# a subject whose first forget failed (cleanly) is not in the erasure log
		my $logged = $forgotten->{$v}[0] == 0;
		done_or_unchanged("$p->{name} / $vector_name{$v}", $logged ? $rc : 1, $err,
			"$tables->{$v} / $children->{$v}",
			'1:gone 2:live 3:live 4:live 5:live / 5',
			($logged ? '1:live,minimized' : '1:live') . ' 2:live 3:live 4:live 5:live / 1,5',
			'the subject is forgotten again');
	}
	check_no_escalation($p);
}

# ---- what mallory's code saw -----------------------------------------------------------------

my @records;
{
	my $log = slurp_file($node->logfile);
	while ($log =~ /WARNING:\s+pgr_probe (\{.*\})\s*$/mg)
	{
		push @records, decode_json($1);
	}
}
note(scalar(@records) . ' probe records in the server log');

sub uniq_join
{
	my %seen;
	return join(', ', sort grep { !$seen{$_}++ } @_);
}

for my $p (@paths)
{
	my %reach = map { $_ => 1 } @{ $p->{reach} };
	for my $v (@vectors)
	{
		my $what = "$p->{name} / $vector_name{$v}";
		my @r = grep { $_->{path} eq $p->{key} && $_->{vector} eq $v } @records;
		ok(scalar(@r) > 0, "$what: fired") if $reach{$v};
		next unless @r;
		is(uniq_join(map { $_->{current_user} } @r), 'mallory', "$what: runs as mallory");
		my @escalated;
		for my $r (@r)
		{
			push @escalated, grep { $r->{attempts}{$_} eq 'succeeded' } keys %{ $r->{attempts} };
		}
		is(uniq_join(@escalated), '', "$what: every escalation attempt fails");
		is(uniq_join(map { $_->{search_path} } @r), 'pg_catalog, pg_temp',
			"$what: search_path is pg_catalog, pg_temp");
	}
}

# A table with DO ALSO rules fails cleanly in the run: recorded, nothing half-done.
is($node->safe_psql('p_run', q{
	SELECT count(*) > 0 FROM retention.run_detail
	WHERE table_text = 'mallory.t_rule' AND status = 'failed'
	  AND error LIKE '%DO ALSO rules are not supported for data-modifying statements in WITH%'}),
	't', 'CALL run() / rule: the table fails cleanly, with PostgreSQL\'s reason');

# ---- and no legitimate schema is refused on the way -------------------------------------------

# A DEFERRABLE INITIALLY DEFERRED foreign key (Django's default) queues a
# deferred check when its parent row is deleted: the parent is purged and
# forgotten all the same.
$node->safe_psql('postgres', q{
CREATE DATABASE shop;
CREATE ROLE shop LOGIN;
});
safe_psql_as('shop', $superuser, q{
CREATE EXTENSION pg_retention;
CREATE SCHEMA shop AUTHORIZATION shop;
});
safe_psql_as('shop', 'shop', q{
CREATE TABLE shop.customer (id int PRIMARY KEY, seen timestamptz NOT NULL);
CREATE TABLE shop.orders (id int PRIMARY KEY, at timestamptz NOT NULL,
    customer_id int NOT NULL REFERENCES shop.customer DEFERRABLE INITIALLY DEFERRED);
INSERT INTO shop.customer VALUES (1, now()), (2, now() - interval '10 years');
INSERT INTO shop.orders VALUES (10, now() - interval '3 years', 1), (11, now(), 1),
                               (20, now() - interval '10 years', 2);
});
$node->safe_psql('shop', q{
SECURITY LABEL FOR retention ON TABLE shop.customer IS 'subject customer(id); age from seen; purge after 5 years';
});
safe_psql_as('shop', 'shop', q{
SECURITY LABEL FOR retention ON TABLE shop.orders IS 'subject customer; age from at; purge after 2 years';
});
$node->safe_psql('shop', 'SET client_min_messages = error; CALL retention.run()');
is($node->safe_psql('shop', q{
SELECT status || ' ' || (SELECT string_agg(id::text, ',' ORDER BY id) FROM shop.customer) || ' '
       || (SELECT string_agg(id::text, ',' ORDER BY id) FROM shop.orders)
FROM retention.run_history ORDER BY run_id DESC LIMIT 1}),
	'succeeded 1 11', 'a deferred foreign key: the run purges the parent rows');
my ($rc, $out, $err) = psql_as('shop', 'dpo', q{SELECT retention.forget_subject('customer', '1', 'ticket')});
is($rc . ' ' . $node->safe_psql('shop',
	'SELECT (SELECT count(*) FROM shop.customer) + (SELECT count(*) FROM shop.orders)'),
	'0 0', 'a deferred foreign key: forget_subject forgets the subject') or diag($err);

# ---- a role with no grants ---------------------------------------------------------------------

# [what, statement, the error expected]: entry points PUBLIC may execute
# refuse by themselves (a capability, the caller's rights on the table)
my $denied = qr/permission denied/;
my $refused = qr/ERROR/;
my @closed = (
	[ 'read the archive', 'SELECT count(*) FROM retention_archive.archived_row', $denied ],
	[ 'read the archive keys', 'SELECT count(*) FROM retention_archive.data_key', $denied ],
	[ 'decrypt the archive', 'SELECT count(*) FROM retention.archived_rows()', $denied ],
	[ 'call retention.hash', q{SELECT retention.hash('alice@example.com')}, $denied ],
	[ 'call retention.hash with an encoding',
	  q{SELECT retention.hash('alice@example.com', 'base64', 16)}, $denied ],
	(map { [ "call retention.$_", "SELECT retention.$_('alice')", $denied ] }
		qw(fake_first_name fake_last_name fake_email fake_phone fake_city fake_address fake_company)),
	[ 'call retention._rule_hash with a guessed capability',
	  q{SELECT retention._rule_hash('alice@example.com', 'hex', 0, 42)}, $refused ],
	[ 'call retention._rule_fake_city with a guessed capability',
	  q{SELECT retention._rule_fake_city('alice', 'en', 42)}, $refused ],
	[ 'ask retention._visible about a table it cannot read',
	  q{SELECT retention._visible('public.secret', 's_trg_bu', '1')}, $refused ],
	[ 'call retention._k_anonymity on a table it cannot read',
	  q{SELECT retention._k_anonymity('public.secret', ARRAY['note']::name[])}, $refused ],
	[ 'call retention.k_anonymity on a table it cannot read',
	  q{SELECT retention.k_anonymity('public.secret', ARRAY['note']::name[])}, $refused ],
	[ 'call retention._subject_hash', q{SELECT retention._subject_hash('s_trg_bu', '1')}, $denied ],
	[ 'read retention.erasure_log', 'SELECT count(*) FROM retention.erasure_log', $denied ],
	[ 'call forget_subject', q{SELECT retention.forget_subject('s_trg_bu', '1', 'x')}, $denied ],
	[ 'call export_subject', q{SELECT retention.export_subject('s_trg_bu', '1')}, $denied ],
	[ 'call process_erasure_requests', 'SELECT retention.process_erasure_requests()', $denied ],
	[ 'call restore_archived', q{SELECT retention.restore_archived('mallory.t_trg_bu')}, $denied ],
	[ 'CALL retention.run()', 'CALL retention.run()', $denied ],
	[ 'call preview()', 'SELECT count(*) FROM retention.preview()', $denied ]);
for my $c (@closed)
{
	my ($rc, $out, $err) = psql_as('p_run', 'app', $c->[1]);
	ok($rc != 0 && $err =~ $c->[2], "a role with no grants cannot $c->[0]")
	  or diag("exit code $rc: $out $err");
}
# the underscore functions PUBLIC may execute are the ones that refuse by
# themselves (tried above), _policies, behind the PUBLIC view retention.policies, and
# _late_rows_queued, the WHEN of the late-row trigger (evaluated as the writing role; it
# tells only whether this backend's own engine is writing), _due_bound, the bound in that WHEN
# (now() less an interval, in the type of its first argument), and _engine_write, the run's
# marker in its UPDATEs of Citus tables (evaluated on the shards as the table's owner; a
# session calling it keeps rows out of no plain table's queue: sql/lifecycle.sql), and
# _untouched_since, the guard in the WHERE of a value stage's UPDATEs in heap order (run as
# the table's owner; it compares a transaction id with a snapshot, both given by the caller),
# and _key_unkept, the key test of that pass's sweep (run as the table's owner; it compares a
# text or an integer with an array, both given by the caller)
is($node->safe_psql('p_run', q{
SELECT coalesce(string_agg(p.oid::regprocedure::text, ', ' ORDER BY p.oid::regprocedure::text), '')
FROM pg_proc p
WHERE p.pronamespace = 'retention'::regnamespace AND p.proname LIKE '\_%'
  AND p.proname NOT IN ('_policies', '_visible', '_k_anonymity', '_rule_hash', '_late_rows_queued',
                         '_engine_write', '_untouched_since', '_key_unkept', '_due_bound')
  AND p.proname NOT LIKE '\_rule\_fake\_%'
  AND has_function_privilege('app', p.oid, 'EXECUTE')}),
	'', 'a role with no grants can call no other underscore internal of retention');

$node->stop;
done_testing();
