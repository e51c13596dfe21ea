# A seeded fault campaign: rounds of random DDL in two or three concurrent
# sessions, each round with one fault injected at a random moment, and after
# every round the invariants of the supervisor checked.
#
#   PGEB_FAULT_SEED    the seed (printed; default: from the clock)
#   PGEB_FAULT_ROUNDS  how many rounds (default 10: a minute or two)
#
# DDL: CREATE / DROP / ALTER EXTENSION ... UPDATE of extensions with base
# workers, committed or rolled back, in savepoints; deregister_worker;
# CREATE DATABASE ... TEMPLATE (both strategies); DROP DATABASE [FORCE];
# ALTER DATABASE RENAME, ALLOW_CONNECTIONS and the per-database pause;
# run_attached.  Faults: SIGKILL, SIGSEGV (both make the postmaster restart
# everything), SIGTERM or SIGSTOP (continued at the end of the round) of a
# base worker, a database starter, the server starter, an attached worker
# or a backend running DDL.
#
# After each round, with every database allowed to connect and unpaused
# again: the server accepts connections; exactly the registered workers of
# every database run, each slot "running", no database starter is left, no
# slot belongs to a database or worker that is gone; the example's
# heartbeat advances; the log has no PANIC or TRAP and no flood.  At the end
# every scratch database can be dropped.  A violation the campaign finds
# becomes a deterministic test of its own (t/023 is the first).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

my $seed = $ENV{PGEB_FAULT_SEED} // (time() % 1000000);
my $rounds = $ENV{PGEB_FAULT_ROUNDS} // 10;
srand($seed);
note("fault campaign: seed $seed, $rounds rounds (PGEB_FAULT_SEED=$seed reproduces the choices)");

my $node = new_node(
	'campaign', conf => q{
max_worker_processes = 48
max_connections = 40
pg_extension_base.worker_restart_backoff_initial = 100ms
pg_extension_base.worker_restart_backoff_max = 1s
pg_extension_base.worker_starter_sleep_time = 1s
restart_after_crash = on
});
start_with_extension($node);

my @extensions = ('pgeb_test_worker', 'pg_extension_base_example');
my $copy_number = 0;

sub pick { return $_[ int(rand(scalar @_)) ]; }

# The databases of the campaign ("camp_" prefix), connectable or not.
sub campaign_databases
{
	return split /\n/,
	  $node->safe_psql('postgres',
		q{SELECT datname FROM pg_database WHERE datname LIKE 'camp\_%' ORDER BY 1});
}

for my $db (qw(camp_a camp_b))
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql(
		$db, q{
		SET client_min_messages = warning;
		CREATE EXTENSION pgeb_test_worker VERSION '1.1';
		CREATE EXTENSION pg_extension_base_example;
		CREATE TABLE camp_log (at timestamptz DEFAULT now())});
}

# One random action: [database to connect to, SQL].
sub random_action
{
	my @dbs = campaign_databases();
	my $db = pick(@dbs);
	my $end = pick('COMMIT', 'ROLLBACK');
	my $ext = pick(@extensions);
	my $kind = int(rand(12));

	return [ $db, "BEGIN; CREATE EXTENSION IF NOT EXISTS $ext; $end;" ]
	  if $kind == 0;
	return [ $db, "BEGIN; DROP EXTENSION IF EXISTS $ext; $end;" ]
	  if $kind == 1;
	return [ $db,
		"BEGIN; SAVEPOINT s; DROP EXTENSION IF EXISTS $ext; "
		  . pick('ROLLBACK TO s', 'RELEASE s')
		  . "; $end;" ]
	  if $kind == 2;
	return [ $db,
		"BEGIN; SELECT extension_base.deregister_worker('test_worker_b', true); $end;" ]
	  if $kind == 3;
	return [ $db,
		"ALTER EXTENSION pgeb_test_worker UPDATE TO '1.1';" ]
	  if $kind == 4;
	if ($kind == 5)
	{
		$copy_number++;
		my $strategy = pick('wal_log', 'file_copy');
		return [ 'postgres',
			"CREATE DATABASE camp_copy_$copy_number TEMPLATE $db STRATEGY $strategy;" ];
	}
	my @copies = grep { /^camp_copy_/ } @dbs;
	if ($kind == 6 && @copies)
	{
		return [ 'postgres',
			'DROP DATABASE IF EXISTS ' . pick(@copies)
			  . pick('', ' WITH (FORCE)') . ';' ];
	}
	if ($kind == 7 && @copies)
	{
		$copy_number++;
		return [ 'postgres',
			'ALTER DATABASE ' . pick(@copies) . " RENAME TO camp_copy_$copy_number;" ];
	}
	return [ 'postgres',
		"ALTER DATABASE $db ALLOW_CONNECTIONS false; ALTER DATABASE $db ALLOW_CONNECTIONS true;" ]
	  if $kind == 8;
	return [ 'postgres',
		"ALTER DATABASE $db SET pg_extension_base.base_workers_enabled = off;" ]
	  if $kind == 9;
	return [ 'postgres',
		"ALTER DATABASE $db RESET pg_extension_base.base_workers_enabled;" ]
	  if $kind == 10;
	return [ $db,
		q{SELECT * FROM extension_base.run_attached('INSERT INTO camp_log DEFAULT VALUES');} ];
}

# The pid of a process to hit, of a random kind that exists now.
sub fault_target
{
	my (@session_pids) = @_;
	my @kinds = (
		'pg_extension_base base worker', 'pg_extension_base database starter',
		'pg_extension_base server starter', 'pg_extension_base attached worker',
		'backend');
	for my $k (reverse 1 .. $#kinds)    # shuffled with the seeded rand
	{
		my $j = int(rand($k + 1));
		@kinds[ $k, $j ] = @kinds[ $j, $k ];
	}
	for my $kind (@kinds)
	{
		my @pids;
		if ($kind eq 'backend')
		{
			@pids = @session_pids;
		}
		else
		{
			@pids = split /\n/,
			  $node->safe_psql('postgres',
				"SELECT pid FROM pg_stat_activity WHERE backend_type = '$kind'");
		}
		return ($kind, pick(@pids)) if @pids;
	}
	return;
}

my %faults;
my $violations = 0;

sub check
{
	my ($ok, $name) = @_;
	$violations++ unless $ok;
	return ok($ok, $name);
}

for my $round (1 .. $rounds)
{
	my $log_offset = -s $node->logfile;
	my $nsessions = 2 + int(rand(2));
	my @actions = map { random_action() } 1 .. (2 * $nsessions);
	my $fault_at = int(rand(scalar @actions + 1));
	my $signal = pick('KILL', 'SEGV', 'TERM', 'TERM', 'STOP', 'STOP');
	my (@sessions, @session_pids, $stopped, $fault);

	note("round $round: "
		  . join(' | ', map { "[$_->[0]] $_->[1]" } @actions)
		  . "; fault $signal after action $fault_at");
	for my $i (0 .. $#actions + 1)
	{
		if ($i == $fault_at)
		{
			my ($kind, $pid) = fault_target(@session_pids);
			if (defined $pid)
			{
				$fault = "SIG$signal $kind";
				note("round $round: $fault (pid $pid)");
				kill $signal, $pid;
				$stopped = $pid if $signal eq 'STOP';
				$faults{$fault}++;
			}
		}
		last if $i > $#actions;
		my ($db, $sql) = @{ $actions[$i] };
		my $session = eval {
			my $s = $node->background_psql($db, on_error_stop => 0);
			push @session_pids, $s->query_safe('SELECT pg_backend_pid()');
			$s->query_until(qr/action sent/, "\\echo action sent\n$sql\n");
			$s;
		};
		push @sessions, $session if $session;
	}

	# end the round: continue what was stopped, let every session finish
	kill 'CONT', $stopped if $stopped;
	for my $s (@sessions)
	{
		eval { $s->query('SELECT 1'); };
		eval { $s->quit; };
	}

	check($node->poll_query_until('postgres', 'SELECT true'),
		"round $round: the server accepts connections");

	# every database allowed to connect and unpaused again; a database left
	# invalid by an interrupted DROP DATABASE is dropped
	for my $db (campaign_databases())
	{
		$node->psql('postgres',
			"ALTER DATABASE $db ALLOW_CONNECTIONS true; "
			  . "ALTER DATABASE $db RESET pg_extension_base.base_workers_enabled");
	}
	for my $db (split /\n/,
		$node->safe_psql('postgres',
			q{SELECT datname FROM pg_database WHERE datconnlimit = -2}))
	{
		$node->psql('postgres', "DROP DATABASE $db");
	}

	# what must run: the registrations whose extension and entry point exist
	my @expected;
	for my $db (campaign_databases())
	{
		my $names = $node->safe_psql(
			$db, q{
			SELECT string_agg(w.worker_name, ' ' ORDER BY w.worker_name)
			FROM extension_base.workers w
			JOIN pg_extension e ON e.extname = w.extension_name
			WHERE to_regprocedure(format('%I.%I(internal)', w.entry_point_schema,
				w.entry_point_function)) IS NOT NULL});
		push @expected, map { "$db/$_" } split / /, $names;
	}
	my $expected = join(' ', sort @expected);
	my $count = scalar @expected;

	my $converged = $node->poll_query_until(
		'postgres', qq{
		SELECT (SELECT coalesce(string_agg(datname || '/' || application_name, ' '
					ORDER BY datname || '/' || application_name), '')
				FROM pg_stat_activity
				WHERE backend_type = 'pg_extension_base base worker') = '$expected'
			AND NOT EXISTS (SELECT FROM extension_base.list_database_starters())
			AND (SELECT count(*) FILTER (WHERE state = 'running') = $count
					AND count(*) = $count
				FROM extension_base.list_base_workers())});
	check($converged,
		"round $round: exactly the registered workers run, every slot running, no starter left")
	  or diag(
		"expected: $expected\nslots:\n"
		  . $node->safe_psql(
			'postgres', q{
			SELECT coalesce(d.datname, '(gone) ' || l.database_id), l.worker_name,
				l.state, l.pid, l.failure_count, l.last_exit_reason
			FROM extension_base.list_base_workers() l
			LEFT JOIN pg_database d ON d.oid = l.database_id ORDER BY 1, 2}));

	# the heartbeat of one database with the example advances
	my ($beating) = grep {
		$node->safe_psql($_,
			q{SELECT count(*) FROM pg_extension WHERE extname = 'pg_extension_base_example'}
		) eq '1'
	} campaign_databases();
	if ($beating)
	{
		my $beats = $node->safe_psql($beating,
			'SELECT beats FROM extension_base_example.heartbeat');
		check(
			$node->poll_query_until(
				$beating,
				"SELECT beats > $beats FROM extension_base_example.heartbeat"),
			"round $round: the heartbeat of $beating advances");
	}

	my $log = slurp_file($node->logfile, $log_offset);
	my $lines = () = $log =~ /\n/g;
	check($log !~ /PANIC|TRAP/, "round $round: no PANIC or TRAP in the log");
	check($lines < 5000, "round $round: the log did not flood ($lines lines)");
}

# every scratch database can be dropped
for my $db (campaign_databases())
{
	my ($ret, $stdout, $stderr) =
	  $node->psql('postgres', "DROP DATABASE $db WITH (FORCE)");
	check($ret == 0, "the campaign's database $db can be dropped") or diag($stderr);
}

my $nfaults = 0;
$nfaults += $_ for values %faults;
note("fault campaign: seed $seed, $rounds rounds, $nfaults faults ("
	  . join(', ', map { "$faults{$_} $_" } sort keys %faults)
	  . "), $violations violations");
$node->stop;
done_testing();
