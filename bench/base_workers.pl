# bench/base_workers.pl: what base workers cost: how soon one starts, what
# it adds to DROP EXTENSION and DROP DATABASE, what the idle server starter
# burns, and how soon 200 databases' workers run after a restart.
#
# Run by bench/run (bench/run base_workers [--rounds N] [--idle-seconds N]
# [--databases N] [--restarts N] [--quick]), which builds the private
# installation and puts its programs first in PATH.
#
# Nodes are PostgreSQL::Test::Cluster nodes (so fsync = off, Unix socket
# only, trust) of a copy of that installation (PgebTest::install_copy) with
# shared_preload_libraries = 'pg_extension_base' and log_statement = none.
# The copy gets two small extensions (PgebTest::write_extension_file):
#   pgeb_bench_noworker      pgeb_test_worker's 1.0 script without its
#                            register_worker call: the same two tables and
#                            C function, no worker
#   pgeb_bench_third_worker  requires pgeb_test_worker and registers one
#                            more worker, bench_third_worker, running the
#                            same C function (pgeb_test_worker_main)
#
# Node "main" (max_worker_processes = 32, track_commit_timestamp = on):
#  1. start latency: each round, CREATE EXTENSION pgeb_test_worker in
#     postgres (autocommit, pg_extension_base already there), then in the
#     same session clock_timestamp() and the commit timestamp of the new
#     pg_extension row; poll pgeb_test_worker.runs until the worker's entry
#     point has inserted its row; latency = started_at - clock_timestamp()
#     (the goal's figure; a round trip late, so a little short) and
#     started_at - commit timestamp (for comparison).  Goal: median <= 50 ms.
#  2. DROP EXTENSION pgeb_test_worker, its worker running (the round's
#     worker of 1.), against DROP EXTENSION pgeb_bench_noworker, the two
#     taking turns in alternating order; each timed by psql's \timing in a
#     background psql session (client side, one statement).  Right after
#     the worker's DROP, the same session checks that no base worker is left
#     in the database.  Goal: ratio of the medians <= 2.
#  3. DROP DATABASE of a database with 3 running workers (CREATE DATABASE
#     TEMPLATE a template with pg_extension_base, pgeb_test_worker 1.1 and
#     pgeb_bench_third_worker; timed once the 3 workers are connected)
#     against DROP DATABASE of one without (a template with
#     pg_extension_base and pgeb_bench_noworker), timed like 2. once the
#     database starter that the server starter runs in a new database is
#     gone (list_database_starters() and pg_stat_activity); and, for
#     comparison, DROP DATABASE of one without workers right after its
#     CREATE DATABASE, not waiting for the database starter.  The three
#     sides rotate.  A failing DROP DATABASE is counted, and the database
#     then dropped WITH (FORCE).  Goal: ratio of the medians (3 workers /
#     none) <= 2 and no failure.
#  4. idle cost: 3 databases from the worker template (9 workers), no
#     client; utime + stime of the server starter from /proc/PID/stat over
#     --idle-seconds (default 60), in clock ticks (sysconf(_SC_CLK_TCK));
#     also its run time from /proc/PID/schedstat (nanoseconds) when there,
#     and the base workers' CPU for comparison.  Goal: <= 10 ms.
# Node "scale" (max_worker_processes = --databases + 20, the main node
# stopped meanwhile):
#  5. --databases (default 200) databases made with CREATE DATABASE ...
#     TEMPLATE of one with pgeb_test_worker (IS_TEMPLATE, so it runs none),
#     all their workers checked running; then --restarts (default 3) times:
#     stop (fast), start, poll pg_stat_activity (one session, every 10 ms)
#     until all workers run; time = clock_timestamp() -
#     pg_postmaster_start_time() at the poll that saw them all, and the time
#     since pg_ctl start returned.  Goal: median <= 10 s.  The server log
#     may not have "could not register background process"; the lines "out
#     of background worker slots" are counted.
#
# Checked (a failed check is reported and makes the exit status 1, after
# the summary): no base worker left after DROP EXTENSION returns, no
# failing DROP DATABASE, all workers run after each restart, no "could not
# register background process", no PANIC, TRAP or "terminated by signal"
# in the server logs.
#
# Everything goes to bench/results/base_workers/: summary.txt, times.csv
# (every measurement), and tmp_check/log/ (base_workers_main.log and
# base_workers_scale.log: the server logs; regress_log_base_workers: what
# the test modules did).  The data directories and the installation copy
# are removed after a successful run; the servers are stopped in any case.
# Exits 0 whether or not the goals are met; non-zero when the setup fails,
# a server does not start, or a check fails.
use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use Getopt::Long;
use IO::Handle;
use POSIX ();
use Time::HiRes qw(sleep clock_gettime CLOCK_MONOTONIC);

# PostgreSQL::Test::Utils sends STDOUT and STDERR to its log file when it
# is initialised (and the Test::More output to the terminal): keep the
# terminal for the report, and let TESTDIR put tmp_check under our results.
my ($repo, $results, $report_out, $report_err);

BEGIN
{
	$repo = abs_path(dirname(__FILE__) . '/..');
	$results = "$repo/bench/results/base_workers";
	remove_tree($results);
	make_path($results) or die "could not create $results: $!\n";
	$ENV{TESTDIR} = $results;
	# nothing from the caller's environment may redirect our clients
	delete $ENV{$_} for grep { /^PG/ && !/^PGEB_/ && !/^PG_TEST_/ } keys %ENV;
	open $report_out, '>&', \*STDOUT or die "could not dup STDOUT: $!\n";
	open $report_err, '>&', \*STDERR or die "could not dup STDERR: $!\n";
	$report_out->autoflush(1);
	$report_err->autoflush(1);
	# a fatal error goes to the terminal too, not only to the log
	$SIG{__DIE__} = sub {
		print $report_err "base_workers: $_[0]" unless $^S;
	};
}

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;
use BenchCommon;

use constant GOAL_START_MS => 50;
use constant GOAL_DROP_RATIO => 2;
use constant GOAL_IDLE_MS => 10;
use constant GOAL_SCALE_S => 10;
use constant MIN_ROUNDS => 20;    # start latency, DROP EXTENSION
use constant MIN_DROPDB_ROUNDS => 10;
use constant MIN_IDLE_SECONDS => 60;
use constant MIN_DATABASES => 200;
use constant POLL_TIMEOUT => 60;    # seconds, for a worker to show up
use constant SLOW_START => 1;       # seconds: a start this late is described
use constant SCALE_TIMEOUT => 120;  # seconds, for all workers after a restart
use constant WORKER_TYPE => 'pg_extension_base base worker';
use constant STARTER_TYPE => 'pg_extension_base server starter';

my $rounds = 20;
my $idle_seconds = 60;
my $databases = 200;
my $restarts = 3;
my $quick = 0;
my @argv = @ARGV;
GetOptions(
	'rounds=i' => \$rounds,
	'idle-seconds=i' => \$idle_seconds,
	'databases=i' => \$databases,
	'restarts=i' => \$restarts,
	'quick' => \$quick)
  or die "usage: bench/run base_workers [--rounds N] [--idle-seconds N] "
  . "[--databases N] [--restarts N] [--quick]\n";
die "unexpected arguments: @ARGV\n" if @ARGV;
if ($quick)
{
	# a smoke run; explicit options still win
	my %given = map { /^--?([\w-]+)/ ? ($1 => 1) : () } @argv;
	$rounds = 3 unless $given{rounds};
	$idle_seconds = 5 unless $given{'idle-seconds'};
	$databases = 10 unless $given{databases};
	$restarts = 1 unless $given{restarts};
}
die "--rounds must be at least 1\n" if $rounds < 1;
die "--idle-seconds must be at least 1\n" if $idle_seconds < 1;
die "--databases must be at least 1\n" if $databases < 1;
die "--restarts must be at least 1\n" if $restarts < 1;

# PostgreSQL::Test::Cluster::init runs pg_regress --config-auth, which
# PGXS's prove_check names in PG_REGRESS: the one of our installation.
{
	my $pgxs = `pg_config --pgxs`;
	chomp $pgxs;
	die "pg_config --pgxs failed: is the private installation in PATH?\n"
	  unless $pgxs;
	$ENV{PG_REGRESS} = dirname($pgxs) . '/../../src/test/regress/pg_regress';
	die "no pg_regress in the installation: $ENV{PG_REGRESS}\n"
	  unless -x $ENV{PG_REGRESS};
}

# The test modules' chatter (note, diag) goes to their log, not to us.
{
	my $builder = Test::More->builder;
	$builder->output(\*STDOUT);
	$builder->failure_output(\*STDERR);
	$builder->todo_output(\*STDOUT);
	$builder->no_ending(1);
}

my @checks_failed;
my @csv = ('measure,round,ms');

progress('making the installation copy');
my $install = install_copy('bench');
my $bindir = "$install->{install_path}/bin";
my $version = `$bindir/postgres --version`;
chomp $version;
die "could not run $bindir/postgres\n" unless $version;
write_bench_extensions($install);

# --- node main: start latency, DROP EXTENSION, DROP DATABASE, idle ---

my $main = new_node('main', install => $install, conf => <<'EOF');
max_worker_processes = 32
track_commit_timestamp = on
log_statement = none
EOF
$main->start;
my %settings = map { split /\|/ } split /\n/, $main->safe_psql('postgres', q{
	SELECT name || '|' || setting FROM pg_settings WHERE name IN
	('fsync', 'max_worker_processes', 'shared_preload_libraries',
	 'pg_extension_base.max_database_starters',
	 'pg_extension_base.worker_starter_sleep_time')});
die "the server does not preload pg_extension_base\n"
  unless $settings{shared_preload_libraries} eq 'pg_extension_base';
$main->safe_psql('postgres', 'CREATE EXTENSION pg_extension_base');

my $session = $main->background_psql('postgres', on_error_stop => 0);
$session->set_query_timer_restart();
$session->query_safe('SET client_min_messages = warning');

# 1. and 2.: round 0 is a warm-up
progress("start latency and DROP EXTENSION: $rounds rounds");
my (@start_ms, @start_commit_ms, @drop_worker_ms, @drop_plain_ms,
	@slow_starts);
my $left_after_drop = 0;
for my $round (0 .. $rounds)
{
	my @order = ($round % 2) ? qw(plain worker) : qw(worker plain);
	for my $side (@order)
	{
		if ($side eq 'worker')
		{
			my ($ms, $commit_ms, $slow) = start_latency();
			push @slow_starts, sprintf('round %d: %.0f ms; after %d s: %s',
				$round, $ms, SLOW_START, $slow)
			  if defined $slow;
			my ($drop_ms, $left) = timed($session,
				'DROP EXTENSION pgeb_test_worker',
				"SELECT count(*) FROM pg_stat_activity WHERE backend_type = '"
				  . WORKER_TYPE . "' AND datname = current_database()");
			$left_after_drop++ if $left != 0;
			next if $round == 0;
			push @start_ms, $ms;
			push @start_commit_ms, $commit_ms;
			push @drop_worker_ms, $drop_ms;
			push @csv, "start latency,$round,$ms",
			  "start latency from commit timestamp,$round,$commit_ms",
			  "DROP EXTENSION with worker,$round,$drop_ms";
		}
		else
		{
			$session->query_safe('CREATE EXTENSION pgeb_bench_noworker');
			my ($drop_ms) =
			  timed($session, 'DROP EXTENSION pgeb_bench_noworker');
			next if $round == 0;
			push @drop_plain_ms, $drop_ms;
			push @csv, "DROP EXTENSION without worker,$round,$drop_ms";
		}
	}
}
push @checks_failed,
  "$left_after_drop times a base worker was left when DROP EXTENSION returned"
  if $left_after_drop;

# 3. DROP DATABASE
progress("DROP DATABASE: $rounds rounds");
make_template($main, 'bench_tmpl_workers', 3, 'pg_extension_base',
	"pgeb_test_worker VERSION '1.1'", 'pgeb_bench_third_worker');
make_template($main, 'bench_tmpl_plain', 0, 'pg_extension_base',
	'pgeb_bench_noworker');
my %dropdb_ms = (worker => [], plain => [], fresh => []);
my %dropdb_label = (
	worker => 'DROP DATABASE with 3 workers',
	plain => 'DROP DATABASE without workers',
	fresh => 'DROP DATABASE right after CREATE DATABASE');
my (@dropdb_errors, $starter_unseen);
for my $round (0 .. $rounds)
{
	# rotate the order, so no side always follows the same one
	my @sides = qw(worker plain fresh);
	my $shift = $round % @sides;
	for my $side (@sides[ $shift .. $#sides ], @sides[ 0 .. $shift - 1 ])
	{
		my $db = "bench_drop_$side";
		my $template =
		  $side eq 'worker' ? 'bench_tmpl_workers' : 'bench_tmpl_plain';
		$session->query_safe("CREATE DATABASE $db TEMPLATE $template");
		wait_for_workers($session, $db, 3) if $side eq 'worker';
		# the workers ran, so a database starter did: only wait for it to go
		$starter_unseen++
		  if $side ne 'fresh'
		  && !wait_for_database_starter($session, $db, $side eq 'worker');
		my ($ms, undef, $error) =
		  timed($session, "DROP DATABASE $db", undef, 1);
		if (defined $error)
		{
			push @dropdb_errors, "$side, round $round: $error";
			drop_database_force($session, $db);
			next;
		}
		next if $round == 0;
		push @{ $dropdb_ms{$side} }, $ms;
		push @csv, "$dropdb_label{$side},$round,$ms";
	}
}
my @dropdb_worker_ms = @{ $dropdb_ms{worker} };
my @dropdb_plain_ms = @{ $dropdb_ms{plain} };
my @dropdb_fresh_ms = @{ $dropdb_ms{fresh} };
push @checks_failed, scalar(@dropdb_errors) . " DROP DATABASE failed: "
  . join('; ', @dropdb_errors)
  if @dropdb_errors;

# 4. idle cost
progress("idle cost: $idle_seconds s");
for my $i (1 .. 3)
{
	$session->query_safe("CREATE DATABASE bench_idle_$i TEMPLATE bench_tmpl_workers");
	wait_for_workers($session, "bench_idle_$i", 3);
}
my $starter_pid = $session->query_safe(
	"SELECT pid FROM pg_stat_activity WHERE backend_type = '" . STARTER_TYPE . "'");
die "no server starter in pg_stat_activity\n" unless $starter_pid =~ /^\d+$/;
my @idle_worker_pids = split /\n/, $session->query_safe(
	"SELECT pid FROM pg_stat_activity WHERE backend_type = '" . WORKER_TYPE
	  . "' ORDER BY pid");
die scalar(@idle_worker_pids) . " base workers run, not 9\n"
  unless @idle_worker_pids == 9;
$session->quit;
sleep 2;    # let the starters of the last database exit
my $ticks_per_s = POSIX::sysconf(POSIX::_SC_CLK_TCK()) || 100;
my %before = (
	starter => cpu_ticks($starter_pid),
	starter_ns => run_ns($starter_pid),
	workers => sum(map { cpu_ticks($_) } @idle_worker_pids));
my $idle_t0 = clock_gettime(CLOCK_MONOTONIC);
sleep $idle_seconds;
my $idle_elapsed = clock_gettime(CLOCK_MONOTONIC) - $idle_t0;
my %after = (
	starter => cpu_ticks($starter_pid),
	starter_ns => run_ns($starter_pid),
	workers => sum(map { cpu_ticks($_) } @idle_worker_pids));
die "the server starter (pid $starter_pid) exited during the idle window\n"
  unless defined $after{starter};
my $idle_ticks = $after{starter} - $before{starter};
my $idle_ms = $idle_ticks * 1000 / $ticks_per_s;
my $idle_sched_ms = defined $before{starter_ns} && defined $after{starter_ns}
  ? ($after{starter_ns} - $before{starter_ns}) / 1e6 : undef;
my $idle_workers_ms = ($after{workers} - $before{workers}) * 1000 / $ticks_per_s;
my $still = $main->safe_psql('postgres',
	"SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity "
	  . "WHERE backend_type = '" . WORKER_TYPE . "'");
push @checks_failed, "the base workers changed during the idle window: "
  . join(',', @idle_worker_pids) . " before, $still after"
  if $still ne join(',', @idle_worker_pids);
push @csv, "idle server starter cpu,1,$idle_ms";
push @csv, "idle server starter schedstat,1,$idle_sched_ms" if defined $idle_sched_ms;
$main->stop('fast');

# --- node scale: 5. all workers of many databases after a restart ---

progress("scale: making $databases databases");
my $scale = new_node('scale', install => $install,
	conf => 'max_worker_processes = ' . ($databases + 20) . "\n"
	  . "log_statement = none\n");
$scale->start;
my %scale_settings = map { split /\|/ } split /\n/, $scale->safe_psql('postgres', q{
	SELECT name || '|' || setting FROM pg_settings WHERE name IN
	('max_worker_processes', 'pg_extension_base.max_database_starters')});
make_template($scale, 'bench_scale_tmpl', 1, 'pg_extension_base',
	'pgeb_test_worker');
my @scale_dbs = map { sprintf('bench_scale_%04d', $_) } 1 .. $databases;
for (my $i = 0; $i < @scale_dbs; $i += 25)
{
	my $last = $i + 24 < $#scale_dbs ? $i + 24 : $#scale_dbs;
	$scale->safe_psql('postgres', join('',
		map { "CREATE DATABASE $_ TEMPLATE bench_scale_tmpl STRATEGY FILE_COPY;\n" }
		  @scale_dbs[ $i .. $last ]));
}
{
	my $s = $scale->background_psql('postgres');
	$s->set_query_timer_restart();
	my $t0 = clock_gettime(CLOCK_MONOTONIC);
	while (1)
	{
		my $n = $s->query_safe("SELECT count(*) FROM pg_stat_activity "
			  . "WHERE backend_type = '" . WORKER_TYPE . "'");
		last if $n == $databases;
		die "$n base workers run in $databases databases after "
		  . SCALE_TIMEOUT * 5 . " s\n"
		  if clock_gettime(CLOCK_MONOTONIC) - $t0 > SCALE_TIMEOUT * 5;
		sleep 0.1;
	}
	$s->quit;
}
my (@scale_s, @scale_from_pg_ctl_s, @scale_not_all);
my $scale_max_seen = 0;
for my $restart (1 .. $restarts)
{
	progress("scale: restart $restart of $restarts");
	$scale->stop('fast');
	$scale->start;
	my $returned = clock_gettime(CLOCK_MONOTONIC);
	my $s = $scale->background_psql('postgres');
	$s->set_query_timer_restart();
	my ($n, $since_start, $max) = (0, undef, 0);
	while (1)
	{
		($n, $since_start) = split /\|/, $s->query_safe(
			"SELECT count(*), extract(epoch FROM clock_timestamp() "
			  . "- pg_postmaster_start_time()) FROM pg_stat_activity "
			  . "WHERE backend_type = '" . WORKER_TYPE . "'");
		$max = $n if $n > $max;
		last if $n >= $databases;
		last if clock_gettime(CLOCK_MONOTONIC) - $returned > SCALE_TIMEOUT;
		sleep 0.01;
	}
	my $from_pg_ctl = clock_gettime(CLOCK_MONOTONIC) - $returned;
	$s->quit;
	$scale_max_seen = $max if $max > $scale_max_seen;
	if ($n < $databases)
	{
		push @scale_not_all, "restart $restart: $n of $databases after "
		  . SCALE_TIMEOUT . ' s';
		next;
	}
	push @scale_s, $since_start;
	push @scale_from_pg_ctl_s, $from_pg_ctl;
	push @csv, sprintf('all workers after restart (from postmaster start),%d,%.3f',
		$restart, $since_start * 1000),
	  sprintf('all workers after restart (from pg_ctl start returning),%d,%.3f',
		$restart, $from_pg_ctl * 1000);
}
push @checks_failed, 'not all workers ran: ' . join('; ', @scale_not_all)
  if @scale_not_all;
push @checks_failed,
  "$scale_max_seen base workers ran at once in $databases databases"
  if $scale_max_seen > $databases;
$scale->stop('fast');

my $scale_log = slurp_file($scale->logfile);
my $no_register = () = $scale_log =~ /could not register background process/g;
my $out_of_slots = () = $scale_log =~ /out of background worker slots/g;
push @checks_failed,
  "$no_register \"could not register background process\" in the scale server's log"
  if $no_register;
for my $node ($main, $scale)
{
	my @bad = grep { /PANIC|TRAP|terminated by signal/ }
	  split /\n/, slurp_file($node->logfile);
	push @checks_failed, 'the server log ' . $node->logfile . " has:\n"
	  . join("\n", @bad)
	  if @bad;
}

open my $csv, '>', "$results/times.csv" or die "could not write times.csv: $!\n";
print $csv "$_\n" for @csv;
close $csv;

report();
if (@checks_failed)
{
	print $report_err "base_workers: checks failed; see the logs in "
	  . "$results/tmp_check/log\n";
	exit 1;
}
remove_tree($install->{root});
exit 0;

sub progress
{
	print $report_err "base_workers: $_[0]\n";
	note("=== bench: $_[0]");
}

# pgeb_bench_noworker (pgeb_test_worker 1.0 without its register_worker
# call) and pgeb_bench_third_worker (one more worker on pgeb_test_worker's
# C function) in the extension directory of the copy.
sub write_bench_extensions
{
	my ($install) = @_;
	my $script = slurp_file("$install->{extdir}/pgeb_test_worker--1.0.sql");
	my $registrations = () = $script =~ /^SELECT extension_base\.register_worker\(.*\n/mg;
	die "pgeb_test_worker--1.0.sql has $registrations register_worker calls, not 1\n"
	  unless $registrations == 1;
	$script =~ s/^SELECT extension_base\.register_worker\(.*\n//m;
	$script =~ s/CREATE EXTENSION pgeb_test_worker/CREATE EXTENSION pgeb_bench_noworker/;
	write_extension_file($install, 'pgeb_bench_noworker.control', <<'EOF');
# bench/base_workers.pl: pgeb_test_worker 1.0 without its worker
default_version = '1.0'
module_pathname = '$libdir/pgeb_test_worker'
relocatable = false
schema = pgeb_bench_noworker
requires = 'pg_extension_base'
EOF
	write_extension_file($install, 'pgeb_bench_noworker--1.0.sql',
		"/* pgeb_bench_noworker--1.0.sql: pgeb_test_worker--1.0.sql "
		  . "without register_worker */\n" . $script);

	write_extension_file($install, 'pgeb_bench_third_worker.control', <<'EOF');
# bench/base_workers.pl: one more worker beside pgeb_test_worker's
default_version = '1.0'
module_pathname = '$libdir/pgeb_test_worker'
relocatable = false
schema = pgeb_bench_third_worker
requires = 'pg_extension_base, pgeb_test_worker'
EOF
	write_extension_file($install, 'pgeb_bench_third_worker--1.0.sql', <<'EOF');
/* pgeb_bench_third_worker--1.0.sql */

\echo Use "CREATE EXTENSION pgeb_bench_third_worker" to load this file. \quit

CREATE FUNCTION worker_main(internal) RETURNS internal
LANGUAGE C AS 'MODULE_PATHNAME', 'pgeb_test_worker_main';

SELECT extension_base.register_worker('bench_third_worker',
	'pgeb_bench_third_worker.worker_main');
EOF
}

# CREATE EXTENSION pgeb_test_worker, then clock_timestamp() and the commit
# timestamp in the same session; poll until the worker's row is in runs.
# Returns started_at minus each, in ms, and, when the worker had not
# started after SLOW_START seconds, what base_workers said then.
sub start_latency
{
	my $slow;
	my ($now, $committed) = split /\|/, $session->query_safe(
		"CREATE EXTENSION pgeb_test_worker;\n"
		  . 'SELECT clock_timestamp(), pg_xact_commit_timestamp(xmin) '
		  . "FROM pg_extension WHERE extname = 'pgeb_test_worker'");
	die "no commit timestamp for pgeb_test_worker\n" unless $committed;
	my $t0 = clock_gettime(CLOCK_MONOTONIC);
	while (1)
	{
		my $row = $session->query_safe(qq{
			SELECT round(extract(epoch FROM min(started_at) - '$now') * 1000, 3),
				round(extract(epoch FROM min(started_at) - '$committed') * 1000, 3)
			FROM pgeb_test_worker.runs HAVING count(*) > 0});
		return ((split /\|/, $row), $slow) if $row ne '';
		my $waited = clock_gettime(CLOCK_MONOTONIC) - $t0;
		die "the worker did not start within " . POLL_TIMEOUT . " s of "
		  . "CREATE EXTENSION pgeb_test_worker\n"
		  if $waited > POLL_TIMEOUT;
		$slow //= $session->query_safe(q{
			SELECT string_agg(format('%s: pid %s, state %s, failure_count %s, '
				|| 'last exit %s at %s, next start in %s s', worker_name, pid,
				state, failure_count, coalesce(last_exit_reason, '-'),
				coalesce(last_exit_time::text, '-'),
				coalesce(round(extract(epoch FROM next_start_time
					- clock_timestamp())::numeric, 3)::text, '-')), '; ')
				|| format('; %s database starters running',
					(SELECT count(*) FROM extension_base.list_database_starters()))
			FROM extension_base.base_workers})
		  if $waited > SLOW_START;
		sleep 0.005;
	}
}

# One statement timed by psql's \timing (client side: from sending it to
# its result), then optionally a query whose output is returned too.
# Returns (ms, the query's output, undef) or, with $may_fail, (undef,
# undef, the error) when the statement fails.
sub timed
{
	my ($s, $statement, $then, $may_fail) = @_;
	my $out = $s->query("\\timing on\n$statement;\n\\timing off"
		  . (defined $then ? "\n$then" : ''));
	if ($s->{stderr} ne '')
	{
		my $error = $s->{stderr};
		$s->{stderr} = '';
		chomp $error;
		die "$statement failed: $error\n" unless $may_fail;
		return (undef, undef, $error);
	}
	my @times = $out =~ /^Time: ([\d.]+) ms/mg;
	die "psql printed " . scalar(@times) . " times for $statement:\n$out\n"
	  unless @times == 1;
	$out =~ s/^Time: .*\n?//m;
	return ($times[0], $out, undef);
}

# Poll until $n base workers run in a database.
sub wait_for_workers
{
	my ($s, $db, $n) = @_;
	my $t0 = clock_gettime(CLOCK_MONOTONIC);
	while (1)
	{
		my $have = $s->query_safe("SELECT count(*) FROM pg_stat_activity "
			  . "WHERE backend_type = '" . WORKER_TYPE . "' AND datname = '$db'");
		return if $have == $n;
		die "$have base workers run in $db after " . POLL_TIMEOUT
		  . " s, not $n\n"
		  if clock_gettime(CLOCK_MONOTONIC) - $t0 > POLL_TIMEOUT;
		sleep 0.005;
	}
}

# The server starter runs a database starter in a new database (which
# connects to it, reads the registrations and exits).  Poll until one has
# been seen (or $seen says it ran) and is gone; false when none showed up
# within 2 s.
sub wait_for_database_starter
{
	my ($s, $db, $seen) = @_;
	my $t0 = clock_gettime(CLOCK_MONOTONIC);
	while (1)
	{
		my $n = $s->query_safe(qq{
			SELECT (SELECT count(*) FROM extension_base.list_database_starters()
				WHERE database_id = (SELECT oid FROM pg_database WHERE datname = '$db'))
			+ (SELECT count(*) FROM pg_stat_activity WHERE datname = '$db'
				AND backend_type <> '} . WORKER_TYPE . q{')});
		$seen = 1 if $n > 0;
		return 1 if $seen && $n == 0;
		my $waited = clock_gettime(CLOCK_MONOTONIC) - $t0;
		return 0 if !$seen && $waited > 2;
		die "a database starter is still in $db after " . POLL_TIMEOUT . " s\n"
		  if $waited > POLL_TIMEOUT;
		sleep 0.001;
	}
}

# A template database with these extensions: checks that its workers ran,
# then makes it a template (which stops them).
sub make_template
{
	my ($node, $db, $workers, @extensions) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db,
		join('', map { "CREATE EXTENSION $_;\n" } @extensions));
	my $s = $node->background_psql('postgres');
	wait_for_workers($s, $db, $workers);
	$s->query_safe("ALTER DATABASE $db IS_TEMPLATE true");
	wait_for_workers($s, $db, 0);
	$s->quit;
}

# After a failed DROP DATABASE: drop it anyway.
sub drop_database_force
{
	my ($s, $db) = @_;
	for my $attempt (1 .. 100)
	{
		$s->query("DROP DATABASE IF EXISTS $db WITH (FORCE)");
		return if $s->{stderr} eq '';
		$s->{stderr} = '';
		sleep 0.1;
	}
	die "could not drop $db even WITH (FORCE)\n";
}

# utime + stime of a process, in clock ticks; undef when it is gone.
sub cpu_ticks
{
	my ($pid) = @_;
	open my $fh, '<', "/proc/$pid/stat" or return undef;
	my $line = <$fh>;
	close $fh;
	$line =~ s/^.*\)\s+//s;    # the command may have spaces and parentheses
	my @fields = split ' ', $line;    # $fields[0] is field 3, state
	return $fields[11] + $fields[12];
}

# Time on the CPU from /proc/PID/schedstat, in ns; undef when unavailable.
sub run_ns
{
	my ($pid) = @_;
	open my $fh, '<', "/proc/$pid/schedstat" or return undef;
	my $line = <$fh>;
	close $fh;
	return defined $line && $line =~ /^(\d+)/ ? $1 : undef;
}

sub sum
{
	my $total = 0;
	for (@_)
	{
		return undef unless defined $_;
		$total += $_;
	}
	return $total;
}

# percentile_cont of a list
sub percentile
{
	my ($fraction, @values) = @_;
	return undef unless @values;
	my @sorted = sort { $a <=> $b } @values;
	my $pos = $fraction * $#sorted;
	my $low = int($pos);
	return $sorted[$low] if $low == $#sorted;
	return $sorted[$low] + ($pos - $low) * ($sorted[ $low + 1 ] - $sorted[$low]);
}

sub median { return percentile(0.5, @_); }

sub stats_line
{
	my ($label, @values) = @_;
	return sprintf('%-36s %9s', $label, 'none') unless @values;
	return sprintf('%-36s %9.3f %9.3f %9.3f %9.3f %5d', $label, median(@values),
		percentile(0.9, @values), percentile(0, @values),
		percentile(1, @values), scalar @values);
}

sub report
{
	my $cpus = `nproc 2>/dev/null` || '?';
	chomp $cpus;
	my $command = join(' ', 'bench/run', 'base_workers', @argv);

	my $start_median = median(@start_ms);
	my $start_verdict = goal_verdict($start_median <= GOAL_START_MS,
		scalar @start_ms, MIN_ROUNDS, 'rounds');

	my $drop_ratio = median(@drop_worker_ms) / median(@drop_plain_ms);
	my $drop_verdict = goal_verdict($drop_ratio <= GOAL_DROP_RATIO,
		scalar @drop_plain_ms, MIN_ROUNDS, 'rounds');

	my ($dropdb_ratio, $dropdb_verdict);
	if (@dropdb_worker_ms && @dropdb_plain_ms)
	{
		$dropdb_ratio = median(@dropdb_worker_ms) / median(@dropdb_plain_ms);
		my $n = @dropdb_worker_ms < @dropdb_plain_ms
		  ? @dropdb_worker_ms : @dropdb_plain_ms;
		$dropdb_verdict = goal_verdict(
			$dropdb_ratio <= GOAL_DROP_RATIO && !@dropdb_errors,
			$n, MIN_DROPDB_ROUNDS, 'rounds');
	}
	else
	{
		$dropdb_verdict = 'NOT met: no DROP DATABASE succeeded';
	}

	my $idle_verdict = goal_verdict($idle_ms <= GOAL_IDLE_MS, $idle_seconds,
		MIN_IDLE_SECONDS, 'idle seconds');

	my $scale_median = median(@scale_s);
	my $scale_verdict = @scale_not_all
	  ? 'NOT met: not all workers ran'
	  : goal_verdict($scale_median <= GOAL_SCALE_S, $databases,
		MIN_DATABASES, 'databases');

	my $idle_sched = defined $idle_sched_ms
	  ? sprintf('%.3f ms', $idle_sched_ms) : 'unavailable';

	my @out;
	push @out,
	  'base_workers: start latency, DROP EXTENSION, DROP DATABASE, idle cost, '
	  . 'scale of base workers',
	  "server:   $version, $cpus CPUs",
	  "settings: fsync = $settings{fsync} (PostgreSQL::Test::Cluster), "
	  . "pg_extension_base.max_database_starters = "
	  . "$settings{'pg_extension_base.max_database_starters'}, "
	  . "worker_starter_sleep_time = "
	  . "$settings{'pg_extension_base.worker_starter_sleep_time'} s; "
	  . "max_worker_processes = $settings{max_worker_processes} (main), "
	  . "$scale_settings{max_worker_processes} (scale)",
	  '',
	  sprintf('%-36s %9s %9s %9s %9s %5s', '(ms)', 'median', 'p90', 'min', 'max', 'n'),
	  stats_line('start: from clock_timestamp()', @start_ms),
	  stats_line('start: from commit timestamp', @start_commit_ms),
	  stats_line('DROP EXTENSION, worker running', @drop_worker_ms),
	  stats_line('DROP EXTENSION, no worker', @drop_plain_ms),
	  stats_line('DROP DATABASE, 3 workers running', @dropdb_worker_ms),
	  stats_line('DROP DATABASE, no worker', @dropdb_plain_ms),
	  stats_line('DROP DATABASE, right after CREATE', @dropdb_fresh_ms),
	  '',
	  '1. start latency: COMMIT of CREATE EXTENSION pgeb_test_worker to its '
	  . 'entry point running (started_at of its runs row), from clock_timestamp() '
	  . 'taken right after the COMMIT in the same session',
	  sprintf('   median %.3f ms; goal: <= %d ms: %s', $start_median // 'NaN',
		GOAL_START_MS, $start_verdict),
	  (map { "   slower than " . SLOW_START . " s: $_" } @slow_starts),
	  '2. DROP EXTENSION pgeb_test_worker with its worker running / '
	  . 'DROP EXTENSION pgeb_bench_noworker, psql \\timing',
	  sprintf('   ratio of medians %.2f; goal: <= %d: %s; a worker left after '
		  . 'DROP EXTENSION returned: %d times', $drop_ratio, GOAL_DROP_RATIO,
		$drop_verdict, $left_after_drop),
	  '3. DROP DATABASE with 3 workers running / without workers, psql \\timing, '
	  . 'once the database starter has gone',
	  sprintf('   ratio of medians %s; %d failed; goal: <= %d and no failure: %s',
		defined $dropdb_ratio ? sprintf('%.2f', $dropdb_ratio) : 'none',
		scalar @dropdb_errors, GOAL_DROP_RATIO, $dropdb_verdict),
	  (map { "   failed: $_" } @dropdb_errors),
	  sprintf('   for comparison, without workers right after CREATE DATABASE '
		  . '(database starter not waited for): median %s ms%s',
		fmt_ms(median(@dropdb_fresh_ms)),
		$starter_unseen
		? "; $starter_unseen times no database starter was seen before the DROP"
		: ''),
	  sprintf('4. idle cost: server starter over %.1f s, 3 databases with 9 '
		  . 'base workers, no client', $idle_elapsed),
	  sprintf('   utime+stime %d ticks = %.1f ms (%d ticks/s); schedstat run '
		  . 'time %s; the 9 base workers: %s ms', $idle_ticks, $idle_ms,
		$ticks_per_s, $idle_sched,
		defined $idle_workers_ms ? sprintf('%.1f', $idle_workers_ms) : '?'),
	  sprintf('   goal: <= %d ms: %s', GOAL_IDLE_MS, $idle_verdict),
	  sprintf('5. scale: %d databases with pgeb_test_worker, %d restarts: time '
		  . 'until all %d workers are in pg_stat_activity', $databases,
		$restarts, $databases),
	  sprintf('   from pg_postmaster_start_time(): median %s s (%s); from '
		  . 'pg_ctl start returning: median %s s',
		fmt_s(median(@scale_s)), join(', ', map { fmt_s($_) } @scale_s),
		fmt_s(median(@scale_from_pg_ctl_s))),
	  sprintf('   server log: %d "could not register background process", '
		  . '%d "out of background worker slots"', $no_register, $out_of_slots),
	  (map { "   $_" } @scale_not_all),
	  sprintf('   goal: <= %d s: %s', GOAL_SCALE_S, $scale_verdict),
	  '',
	  @checks_failed
	  ? ('checks FAILED:', map { "  $_" } @checks_failed)
	  : ('checks: no base worker left after DROP EXTENSION, no failing DROP '
		  . 'DATABASE, all workers after each restart, no "could not register '
		  . 'background process", no PANIC, TRAP or "terminated by signal"'),
	  '',
	  sprintf('summary: %s, %s CPUs: start latency median %.1f ms (goal <= %d '
		  . 'ms: %s); DROP EXTENSION with its worker %.2f ms vs %.2f ms without, '
		  . 'ratio %.2f (goal <= %d: %s); DROP DATABASE with 3 workers %s ms vs '
		  . '%s ms without, ratio %s, %d failed (goal <= %d: %s); idle server '
		  . 'starter %.0f ms CPU in %d s (goal <= %d ms: %s); %d databases: all '
		  . 'workers %s s after postmaster start (goal <= %d s: %s), %d out of '
		  . 'slots lines',
		$version, $cpus, $start_median, GOAL_START_MS, $start_verdict,
		median(@drop_worker_ms), median(@drop_plain_ms), $drop_ratio,
		GOAL_DROP_RATIO, $drop_verdict, fmt_ms(median(@dropdb_worker_ms)),
		fmt_ms(median(@dropdb_plain_ms)),
		defined $dropdb_ratio ? sprintf('%.2f', $dropdb_ratio) : 'none',
		scalar @dropdb_errors, GOAL_DROP_RATIO, $dropdb_verdict, $idle_ms,
		$idle_seconds, GOAL_IDLE_MS, $idle_verdict, $databases,
		fmt_s($scale_median), GOAL_SCALE_S, $scale_verdict, $out_of_slots),
	  "command: $command",
	  "logs: $results (server logs in tmp_check/log)";

	# write_summary prints to STDOUT, which the test modules took
	my $previous = select($report_out);
	write_summary($results, @out);
	select($previous);
}

sub fmt_s { return defined $_[0] ? sprintf('%.2f', $_[0]) : 'none'; }
sub fmt_ms { return defined $_[0] ? sprintf('%.2f', $_[0]) : 'none'; }

END
{
	# BAIL_OUT of the test modules exits without dying: say where to look
	print $report_err "base_workers: failed (exit status $?); see "
	  . "$results/tmp_check/log\n"
	  if $? && $report_err;
}
