# Warm attached workers: nothing leaks from one call to the next.
#
# (LISTEN is not among them: core refuses it in any background worker.)
#
# Each case runs call A, which leaves some state behind in its worker, then
# call B, which looks for that state.  For the state a reset clears, B must
# run in the same worker (the pool reused it) and see nothing of A; for the
# state no reset can clear, B must run in another worker (A's was
# discarded).  Callers differ in role, SET ROLE, SECURITY DEFINER context
# and custom settings, as the cases say.
#
# Then the same cases on a variant of pg_extension_base_attached built with
# -DPGEB_INJECT_RESET_FAULTS, where pg_extension_base.attached_pool_skip_
# reset_step leaves out one step of the reset (attached/reset.c): every
# case of that step must then fail, which shows that the case checks what
# the step does.
#
# A warm worker whose call makes a custom setting leaves the pool.
#
# Last, 10,000 calls in one worker: its memory stays bounded.
use strict;
use warnings;

use File::Copy qw(copy);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

# step: the reset step that clears the state ("per call": every call sets
# it; undef: the worker must be discarded instead); caller: SQL run in the caller's session first; a: the
# command of call A; b_caller: SQL run in B's session first; check: an
# expression B evaluates; want: what it must give
my @cases = (
	{
		name => 'SET',
		step => 'discard',
		a => q{SET work_mem = '7MB'},
		check => q{current_setting('work_mem')},
		want => '4MB',
	},
	{
		name => 'set_config, search_path',
		step => 'discard',
		a => q{SELECT set_config('search_path', 'pg_catalog', false)},
		check => q{current_setting('search_path')},
		want => '"$user", public',
	},
	{
		name => 'the caller\'s SET is not B\'s',
		step => 'discard',
		caller => q{SET statement_timeout = '123s';},
		a => q{SELECT 1},
		check => q{current_setting('statement_timeout')},
		want => '0',
	},
	{
		name => 'read-only',
		step => 'per call',
		caller => q{SET default_transaction_read_only = on;},
		a => q{SELECT 1},
		check => q{current_setting('transaction_read_only')},
		want => 'off',
	},
	{
		name => 'SET ROLE in the command',
		step => 'discard',
		a => q{SET ROLE pool_alice},
		check => q{current_user || ' ' || current_setting('role')},
		want => 'postgres none',
	},
	{
		name => 'the caller\'s SET ROLE',
		step => 'discard',
		caller => q{SET ROLE pool_alice;},
		a => q{SELECT 1},
		check => q{current_user || ' ' || current_setting('role')},
		want => 'postgres none',
	},
	{
		name => 'SET SESSION AUTHORIZATION',
		step => 'discard',
		a => q{SET SESSION AUTHORIZATION pool_alice},
		check => q{session_user || ' ' || current_user},
		want => 'postgres postgres',
	},
	{
		name => 'a SECURITY DEFINER caller',
		step => 'identity',
		a_query => q{SELECT pool_definer_call()},
		check => q{current_user},
		want => 'postgres',
	},
	{
		name => 'prepared statements',
		step => 'discard',
		a => q{PREPARE pool_p AS SELECT 1},
		check => q{(SELECT count(*) FROM pg_prepared_statements)},
		want => '0',
	},
	{
		name => 'cursors WITH HOLD',
		step => 'discard',
		a => q{DECLARE pool_c CURSOR WITH HOLD FOR SELECT 1},
		check => q{(SELECT count(*) FROM pg_cursors)},
		want => '0',
	},
	{
		name => 'session advisory locks',
		step => 'discard',
		a => q{SELECT pg_advisory_lock(4711)},
		check => q{(SELECT count(*) FROM pg_locks
			WHERE locktype = 'advisory' AND pid = pg_backend_pid())},
		want => '0',
	},
	{
		name => 'currval and lastval',
		step => 'discard',
		a => q{SELECT nextval('pool_seq')},
		check => q{pool_currval_or_null('pool_seq') IS NULL},
		want => 'true',
	},
	{
		name => 'cached plans follow search_path',
		step => 'discard',
		a => q{SET search_path = pool_s1, public; SELECT pool_which()},
		check => q{pool_which()},
		want => 'public',
	},
	{
		name => 'the seed of random()',
		step => 'random',
		a => q{SELECT setseed(0.5)},
		check => q{random()::text <> (SELECT seeded FROM pool_seeded)},
		want => 'true',
	},
	{
		name => 'temporary replication slots',
		step => 'slots',
		a => q{SELECT pg_create_physical_replication_slot('pool_tmp_slot', true, true)},
		check => q{(SELECT count(*) FROM pg_replication_slots
			WHERE slot_name = 'pool_tmp_slot')},
		want => '0',
	},
	{
		name => 'statistics are flushed',
		step => 'statistics',
		a => q{SELECT count(*) FROM pool_stats},
		poll => q{SELECT seq_scan > 0 FROM pg_stat_user_tables
			WHERE relname = 'pool_stats'},
	},

	# what no reset clears: the worker is discarded
	{
		name => 'temporary tables',
		a => q{CREATE TEMP TABLE pool_temp AS SELECT 1 AS x},
		check => q{to_regclass('pg_temp.pool_temp') IS NULL},
		want => 'true',
	},
	{
		name => 'a library loaded',
		a => q{LOAD 'dblink'},
		check => q{true},
		want => 'true',
	},
	{
		name => 'a failed call',
		a_query => q{SELECT * FROM extension_base.run_attached($$
			SET work_mem = '9MB';
			DO 'BEGIN RAISE EXCEPTION ''worker %'', pg_backend_pid(); END'$$)},
		check => q{current_setting('work_mem')},
		want => '4MB',
	},
	{
		name => 'a custom setting only a SET made',
		caller => q{SET pool.tenant = 'a';},
		a => q{SELECT 1},
		check => q{current_setting('pool.tenant', true) IS NULL},
		want => 'true',
	},
	{
		name => 'another role',
		a => q{SELECT 1},
		a_user => 'pool_alice',
		check => q{current_user},
		want => 'postgres',
	},);

# (wal_level replica: the case of temporary replication slots)
my $node = new_node('pool_leaks',
	init => { allows_streaming => 1 },
	conf => "pg_extension_base.attached_pool_size = 2\n"
	  . "pg_extension_base.attached_pool_max_workers = 4\n");
$node->start;
set_up($node);

# the bootstrap superuser, whom the tests connect as: "postgres" in the
# cases' wanted values
my $superuser = $node->safe_psql('postgres', 'SELECT current_user');
$_->{want} =~ s/\bpostgres\b/$superuser/g foreach grep { defined $_->{want} } @cases;

run_cases($node, undef);

# A warm worker whose call makes a custom setting: the pool knew it by the
# placeholders it had before the call, so it leaves after it, and the next
# call runs elsewhere and sees no such setting.
{
	call_pid($node, '', 'SELECT 1');
	my %warm = map { $_ => 1 } split /\n/, $node->safe_psql('postgres',
		q{SELECT pid FROM extension_base.attached_pool WHERE state = 'idle'});
	my $a = call_pid($node, '', q{SET pool.made_in_call = 'x'});
	ok($warm{$a}, 'a warm worker serves a call that makes a custom setting');
	ok( $node->poll_query_until('postgres',
			"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $a"),
		'that worker leaves the pool after the call');
	my ($b, $value) = call_check($node, '',
		q{current_setting('pool.made_in_call', true) IS NULL});
	is("$value", 'true', 'the next call sees no such setting')
	  or diag("A in $a, B in $b");
}

# the same calls, different custom settings: the same worker for the same
# names, with each caller's values
{
	my $a = call_pid($node, q{SET pool.tenant = 'a';}, 'SELECT 1');
	my ($pid, $value) = call_check($node, q{SET pool.tenant = 'b';},
		q{current_setting('pool.tenant')});
	is("$pid $value", "$a b",
		'a caller with the same custom setting gets the same worker, with its own value');
}

# memory over 10,000 calls
{
	my $pid = call_pid($node, '', 'SELECT 1');
	$node->safe_psql('postgres', q{
		SELECT count(*) FROM generate_series(1, 100) g,
		LATERAL extension_base.run_attached('SELECT ' || g)});
	my $before = $node->safe_psql('postgres',
		"SELECT memory_bytes FROM extension_base.attached_pool WHERE pid = $pid");
	$node->safe_psql('postgres', q{
		SELECT count(*) FROM generate_series(1, 10000) g,
		LATERAL extension_base.run_attached(
			format($$SELECT set_config('work_mem', '%skB', false)$$, 64 + g))});
	my ($calls, $after) = split /\|/, $node->safe_psql('postgres',
		"SELECT calls, memory_bytes FROM extension_base.attached_pool WHERE pid = $pid");
	cmp_ok($calls, '>=', 10100, 'one worker served the 10,000 calls')
	  or diag("calls $calls");
	cmp_ok($after - $before, '<', 1024 * 1024,
		'its memory grew by less than 1 MB over 10,000 calls')
	  or diag("before $before, after $after");
}
$node->stop;

# Each step left out: its cases fail.
my ($so, $stderr) = build_variant('attached', 'reset_fault_src',
	'COPT=-DPGEB_INJECT_RESET_FAULTS');
ok(defined $so, 'the variant with a skippable reset builds') or diag($stderr);
my $install = install_copy('reset_faults');
copy($so, "$install->{pkglibdir}/pg_extension_base_attached.so")
  or die "could not install the variant: $!";
my $variant = new_node('pool_leaks_variant', install => $install,
	init => { allows_streaming => 1 },
	conf => "pg_extension_base.attached_pool_size = 2\n");
$variant->start;
set_up($variant);
# ("per call": set by every call, whatever the reset does)
my %steps = map { $_->{step} ? ($_->{step} => 1) : () } @cases;
delete $steps{'per call'};
foreach my $step (sort keys %steps)
{
	$variant->safe_psql('postgres',
		"ALTER SYSTEM SET pg_extension_base.attached_pool_skip_reset_step = '$step'");
	$variant->reload;
	$variant->poll_query_until('postgres',
		"SELECT current_setting('pg_extension_base.attached_pool_skip_reset_step') = '$step'"
	) or die;
	run_cases($variant, $step);
}
$variant->stop;

done_testing();

sub set_up
{
	my ($node) = @_;
	$node->safe_psql('postgres', q{
		CREATE EXTENSION pg_extension_base;
		CREATE ROLE pool_alice LOGIN;
		GRANT EXECUTE ON FUNCTION extension_base.run_attached(text, text),
			extension_base.run_attached_returning(text, text) TO pool_alice;
		GRANT USAGE ON SCHEMA extension_base TO pool_alice;
		CREATE SEQUENCE pool_seq;
		CREATE FUNCTION pool_currval_or_null(regclass) RETURNS bigint
		LANGUAGE plpgsql AS $$
		BEGIN
			RETURN currval($1);
		EXCEPTION WHEN object_not_in_prerequisite_state THEN
			RETURN NULL;
		END $$;
		CREATE SCHEMA pool_s1;
		CREATE TABLE public.pool_t (v text);
		INSERT INTO public.pool_t VALUES ('public');
		CREATE TABLE pool_s1.pool_t (v text);
		INSERT INTO pool_s1.pool_t VALUES ('pool_s1');
		GRANT USAGE ON SCHEMA pool_s1 TO PUBLIC;
		GRANT SELECT ON public.pool_t, pool_s1.pool_t TO PUBLIC;
		CREATE FUNCTION pool_which() RETURNS text LANGUAGE plpgsql AS $$
		DECLARE r text;
		BEGIN
			SELECT v INTO r FROM pool_t;
			RETURN r;
		END $$;
		CREATE TABLE pool_seeded AS
			SELECT random()::text AS seeded FROM (SELECT setseed(0.5)) s;
		CREATE TABLE pool_stats (x int);
		CREATE FUNCTION pool_definer_call() RETURNS int
		LANGUAGE sql SECURITY DEFINER AS
		$$ SELECT pid FROM extension_base.run_attached_returning(
			'SELECT pg_backend_pid()') AS r(pid int) $$;
		ALTER FUNCTION pool_definer_call() OWNER TO pool_alice;
		GRANT SELECT ON pool_seeded TO PUBLIC;
	});
	# after setseed(0.5), random() gives the same first value everywhere
	$node->safe_psql('postgres', q{
		UPDATE pool_seeded SET seeded = (SELECT random()::text FROM (SELECT setseed(0.5)) s)});
}

# Call A: its worker's pid.  The command runs in the caller's session
# after the caller's SQL, as the given user; a_query instead is a query of
# the caller that gives the pid (or fails with "worker <pid>").
sub call_pid
{
	my ($node, $caller, $command, $user, $a_query) = @_;
	my $sql = ($caller // '');
	if (defined $a_query)
	{
		$sql .= $a_query;
	}
	else
	{
		$command =~ s/'/''/g;
		$sql .= "SELECT pid FROM extension_base.run_attached_returning("
		  . "'$command; SELECT pg_backend_pid()') AS r(pid int)";
	}
	my ($ret, $stdout, $stderr) = $node->psql('postgres', $sql,
		$user ? (extra_params => [ '-U', $user ]) : ());
	return $stdout if $ret == 0;
	return $1 if $stderr =~ /ERROR:  worker (\d+)/;
	die "call A failed: $stderr";
}

# Call B: its worker's pid and the check's value.
sub call_check
{
	my ($node, $caller, $check) = @_;
	my $command = "SELECT pg_backend_pid(), ($check)::text";
	$command =~ s/'/''/g;
	my $out = $node->safe_psql('postgres', ($caller // '')
		  . "SELECT pid || '|' || v FROM extension_base.run_attached_returning("
		  . "'$command') AS r(pid int, v text)");
	return split /\|/, $out, 2;
}

sub run_cases
{
	my ($node, $skipped) = @_;
	foreach my $case (@cases)
	{
		next if defined $skipped && ($case->{step} // '') ne $skipped;
		my $label = ($skipped ? "without the $skipped step: " : '') . $case->{name};

		my $a_pid = call_pid($node, $case->{caller}, $case->{a},
			$case->{a_user}, $case->{a_query});
		# A's worker is done with it: reset and waiting, or gone
		$node->poll_query_until('postgres', q{
			SELECT count(*) = 0 FROM extension_base.attached_pool
			WHERE state IN ('busy', 'exiting', 'resetting')}) or die;

		if ($case->{poll})
		{
			my $seen = poll_briefly($node, $case->{poll}, $skipped ? 10 : 60);
			if ($skipped)
			{
				ok(!$seen, "$label: fails");
			}
			else
			{
				ok($seen, "$label: the worker's statistics reach the server while it waits");
			}
			next;
		}

		my ($b_pid, $value) = call_check($node, $case->{b_caller}, $case->{check});
		if ($skipped)
		{
			ok(!($b_pid eq $a_pid && $value eq $case->{want}),
				"$label: fails (B in worker $b_pid, A in $a_pid, saw '$value')");
		}
		elsif ($case->{step})
		{
			is("$b_pid $value", "$a_pid $case->{want}",
				"$label: B runs in A's worker and sees none of A's state");
		}
		else
		{
			isnt($b_pid, $a_pid, "$label: A's worker is not reused");
			is($value, $case->{want}, "$label: B sees none of A's state");
		}
	}
}

# Whether the query becomes true within $seconds (core's polling, with a
# shorter limit where the answer is expected to be no).
sub poll_briefly
{
	my ($node, $query, $seconds) = @_;
	local $PostgreSQL::Test::Utils::timeout_default = $seconds;
	return $node->poll_query_until('postgres', $query);
}
