# bench/attached_latency.pl: what an attached worker costs a caller, beside
# a fresh local connection.
#
# Run by bench/run (bench/run attached_latency [--calls N] [--round N]
# [--seconds N] [--clients N] [--fsync on|off] [--max-worker-processes N]
# [--min-dynamic-shared-memory MB] [--port N]), which builds the private
# installation and puts its programs first in PATH.
#
# One throwaway cluster of that installation (shared_preload_libraries =
# 'pg_extension_base', max_worker_processes = 16 unless
# --max-worker-processes says otherwise, min_dynamic_shared_memory left to
# pg_extension_base's default unless --min-dynamic-shared-memory sets it (0
# measures segments made the default way), Unix socket only, trust
# authentication, fsync as --fsync says, on by default) with the extensions
# pg_extension_base and dblink and a table bench_t (id serial, v text).
#
# Latency, measured inside the server so that no client round trip counts:
# a PL/pgSQL function runs a number of calls of one method and records
# clock_timestamp() before and after each call.  The methods:
#   attached select 1   PERFORM * FROM extension_base.run_attached('select 1')
#   dblink select 1     PERFORM * FROM dblink('<conninfo>', 'select 1')
#                       AS t(x int)
#   attached INSERT     run_attached of a one-row INSERT into bench_t
#   dblink INSERT       dblink_exec('<conninfo>', the same INSERT)
# dblink and dblink_exec with a connection string (not a named connection)
# open a new connection over the Unix socket for the call and close it
# afterwards: a fresh local connection per call.  (dblink_exec itself
# refuses 'select 1': "statement returning results not allowed".)  After 5
# untimed warm-up calls of each method (the first dblink call loads dblink
# and libpq into the backend), the methods take turns in rounds of --round
# calls (default 50), the order rotating from round to round, until each
# has made --calls calls (default 500), all in one session; each round is
# one statement, so one transaction.  Reported: median, p90, min and max
# per method (percentile_cont), and the ratio of the medians run_attached /
# dblink for select 1 and for the INSERT.  The goal is ratio <= 1.0 for
# both.
#
# Throughput: pgbench -n -c 4 -j 2 -T --seconds (default 10) with a
# one-line script each: run_attached('select 1'), dblink(..., 'select 1'),
# and run_attached('select 1') in a PL/pgSQL loop that pauses 1 ms and
# tries again when no worker slot is free.  pgbench aborts a caller whose
# call fails, and a worker's slot is free again only once the postmaster
# has reaped the exited worker, which on a busy machine may lag: then the
# plain run goes on with fewer callers, and the retrying run shows the
# figure of all of them (and how often a slot was missing).  Calls per
# second (pgbench's tps without connection time) and the ratio to dblink.
#
# Checked while measuring: bench_t holds exactly one row per INSERT call of
# each method; no attached worker is left in pg_stat_activity at the end;
# the server log has no PANIC, TRAP or "terminated by signal"; pgbench
# callers fail with nothing but "could not register background process".
#
# Everything goes to bench/results/attached_latency/: server.log,
# initdb.log, pg_ctl.log, psql.log, pgbench_*.log and .sql, times.csv
# (every timed call) and summary.txt.  The data directory is removed after
# a successful run; the server is stopped in any case.  Exits 0 whether or
# not the goal is met; non-zero when the setup fails or a check fails.
use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use Getopt::Long;
use IPC::Run ();

use BenchCommon;

use constant GOAL_RATIO => 1.0;
use constant MIN_CALLS => 500;    # below this, the goal is not judged
use constant WARMUP_CALLS => 5;
use constant START_TIMEOUT => 120;    # seconds
use constant WORKER_TYPE => 'pg_extension_base attached worker';

my $calls = 500;
my $round = 50;
my $seconds = 10;
my $clients = 4;
my $fsync = 'on';
my $max_workers = 16;
my $min_dsm;    # MB; unset: pg_extension_base's default
my $port = $ENV{PGEB_BENCH_PORT} // 54341;
my @argv = @ARGV;
GetOptions(
	'calls=i' => \$calls,
	'round=i' => \$round,
	'seconds=i' => \$seconds,
	'clients=i' => \$clients,
	'fsync=s' => \$fsync,
	'max-worker-processes=i' => \$max_workers,
	'min-dynamic-shared-memory=i' => \$min_dsm,
	'port=i' => \$port)
  or die "usage: bench/run attached_latency [--calls N] [--round N] "
  . "[--seconds N] [--clients N] [--fsync on|off] [--max-worker-processes N] "
  . "[--min-dynamic-shared-memory MB] [--port N]\n";
die "--calls must be at least 1\n" if $calls < 1;
die "--round must be at least 1\n" if $round < 1;
die "--seconds must be at least 1\n" if $seconds < 1;
die "--clients must be at least 1\n" if $clients < 1;
die "--fsync must be on or off\n" unless $fsync =~ /^(on|off)$/;
die "--max-worker-processes must be at least 2\n" if $max_workers < 2;
die "--min-dynamic-shared-memory must not be negative\n"
  if defined $min_dsm && $min_dsm < 0;
die "unexpected arguments: @ARGV\n" if @ARGV;
my $threads = $clients >= 2 ? 2 : 1;

my $repo = abs_path(dirname(__FILE__) . '/..');
my $results = "$repo/bench/results/attached_latency";
my $logfile = "$results/server.log";
my $datadir = "$results/data";
my $sockdir = tempdir('pgeb_bench_XXXX', TMPDIR => 1, CLEANUP => 1);

# Nothing from the caller's environment may redirect our clients (or the
# server's dblink connections, which inherit the postmaster's environment).
delete $ENV{$_} for grep { /^PG/ && !/^PGEB_/ } keys %ENV;

# set once pg_ctl started the server: the END block stops it
my $server_started;

remove_tree($results);
make_path($results) or die "could not create $results: $!";

my $bin = private_bindir();
my $version = `$bin/postgres --version`;
chomp $version;
die "could not run $bin/postgres\n" unless $version;
my $sharedir = `$bin/pg_config --sharedir`;
chomp $sharedir;
die "the installation has no dblink (contrib): $sharedir/extension/dblink.control is missing\n"
  unless -f "$sharedir/extension/dblink.control";

# --- the cluster ---

run_logged("$results/initdb.log", "$bin/initdb", '-D', $datadir,
	'-A', 'trust', '-N', '--no-instructions');
open my $conf, '>>', "$datadir/postgresql.conf"
  or die "could not append to postgresql.conf: $!\n";
print $conf <<"EOF";

# added by bench/attached_latency.pl
shared_preload_libraries = 'pg_extension_base'
max_worker_processes = $max_workers
listen_addresses = ''
port = $port
unix_socket_directories = '$sockdir'
fsync = $fsync
logging_collector = off
log_line_prefix = '%m [%p] '
EOF
print $conf "min_dynamic_shared_memory = ${min_dsm}MB\n" if defined $min_dsm;
close $conf or die "could not append to postgresql.conf: $!\n";

$server_started = 1;
run_logged("$results/pg_ctl.log", "$bin/pg_ctl", '-D', $datadir, '-l', $logfile,
	'-w', '-t', START_TIMEOUT, 'start');

my $user = psql('SELECT current_user');
my $conninfo = "dbname=postgres host=$sockdir port=$port user=$user";
my %settings = map { split /\|/ } split /\n/, psql(
	q{SELECT name || '|' || setting FROM pg_settings WHERE name IN
	  ('fsync', 'synchronous_commit', 'max_worker_processes',
	   'shared_preload_libraries', 'dynamic_shared_memory_type',
	   'min_dynamic_shared_memory')});
die "the server does not preload pg_extension_base\n"
  unless $settings{shared_preload_libraries} eq 'pg_extension_base';

psql(<<"EOF");
CREATE EXTENSION pg_extension_base;
CREATE EXTENSION dblink;
CREATE TABLE bench_t (id serial, v text);
CREATE UNLOGGED TABLE bench_times (method text, round int, call int, ms float8);

-- n calls of one method, each timed with clock_timestamp() around it;
-- the times are kept in an array and stored after the last call
CREATE FUNCTION bench_calls(method text, round int, n int) RETURNS void
LANGUAGE plpgsql AS \$fn\$
DECLARE
	conn text := '$conninfo';
	t0 timestamptz;
	t1 timestamptz;
	ms float8[] := '{}';
BEGIN
	FOR i IN 1 .. n LOOP
		IF method = 'attached select 1' THEN
			t0 := clock_timestamp();
			PERFORM * FROM extension_base.run_attached('select 1');
			t1 := clock_timestamp();
		ELSIF method = 'dblink select 1' THEN
			t0 := clock_timestamp();
			PERFORM * FROM dblink(conn, 'select 1') AS t(x int);
			t1 := clock_timestamp();
		ELSIF method = 'attached INSERT' THEN
			t0 := clock_timestamp();
			PERFORM * FROM extension_base.run_attached(\$\$INSERT INTO bench_t (v) VALUES ('attached')\$\$);
			t1 := clock_timestamp();
		ELSIF method = 'dblink INSERT' THEN
			t0 := clock_timestamp();
			PERFORM dblink_exec(conn, \$\$INSERT INTO bench_t (v) VALUES ('dblink')\$\$);
			t1 := clock_timestamp();
		ELSE
			RAISE EXCEPTION 'unknown method %', method;
		END IF;
		ms := ms || (extract(epoch FROM t1 - t0) * 1000)::float8;
	END LOOP;
	INSERT INTO bench_times
	SELECT method, round, i, ms[i] FROM generate_subscripts(ms, 1) AS i;
END
\$fn\$;

-- run_attached as a caller that waits for a free worker slot would: when
-- none is free, count it, pause a millisecond and try again
CREATE SEQUENCE bench_no_slot;
CREATE FUNCTION bench_attached_retrying(command text) RETURNS void
LANGUAGE plpgsql AS \$fn\$
BEGIN
	LOOP
		BEGIN
			PERFORM * FROM extension_base.run_attached(command);
			RETURN;
		EXCEPTION WHEN insufficient_resources THEN
			IF SQLERRM <> 'could not register background process' THEN
				RAISE;
			END IF;
		END;
		PERFORM nextval('bench_no_slot');
		PERFORM pg_sleep(0.001);
	END LOOP;
END
\$fn\$;
EOF

# --- latency ---

my @methods = ('attached select 1', 'dblink select 1', 'attached INSERT',
	'dblink INSERT');
my $script = '';
$script .= "SELECT bench_calls('$_', 0, " . WARMUP_CALLS . ");\n" for @methods;
my $rounds = 0;
for (my $done = 0; $done < $calls; $done += $round)
{
	my $n = $calls - $done < $round ? $calls - $done : $round;
	$rounds++;
	# rotate the order, so no method always follows the same one
	my $shift = ($rounds - 1) % @methods;
	my @order = (@methods[ $shift .. $#methods ], @methods[ 0 .. $shift - 1 ]);
	$script .= "SELECT bench_calls('$_', $rounds, $n);\n" for @order;
}
psql($script);

my %latency;
for my $row (split /\n/, psql(<<'EOF'))
SELECT method, count(*),
	percentile_cont(0.5) WITHIN GROUP (ORDER BY ms),
	percentile_cont(0.9) WITHIN GROUP (ORDER BY ms),
	min(ms), max(ms)
FROM bench_times WHERE round > 0 GROUP BY method
EOF
{
	my ($method, $n, $median, $p90, $min, $max) = split /\|/, $row;
	$latency{$method} =
	  { n => $n, median => $median, p90 => $p90, min => $min, max => $max };
}
for my $method (@methods)
{
	die "no latency measured for $method\n" unless $latency{$method};
	die "$latency{$method}{n} timed calls of $method, not $calls\n"
	  unless $latency{$method}{n} == $calls;
}

open my $csv, '>', "$results/times.csv" or die "could not write times.csv: $!\n";
print $csv psql(<<'EOF', csv => 1);
COPY (SELECT method, round, call, round(ms::numeric, 4) AS ms FROM bench_times
	ORDER BY round, method, call) TO STDOUT WITH (FORMAT csv, HEADER)
EOF
close $csv;

# every INSERT call inserted exactly one row
my %rows = map { split /\|/ } split /\n/,
  psql(q{SELECT v || '|' || count(*) FROM bench_t GROUP BY v});
my %insert_calls = map { split /\|/ } split /\n/,
  psql(q{SELECT method || '|' || count(*) FROM bench_times
	WHERE method LIKE '% INSERT' GROUP BY method});
for my $side (qw(attached dblink))
{
	my $want = $insert_calls{"$side INSERT"} // 0;
	my $have = $rows{$side} // 0;
	die "bench_t has $have rows from $side, but $side INSERT was called $want times\n"
	  unless $want == $calls + WARMUP_CALLS && $have == $want;
}
die "bench_t has rows nobody inserted: " . join(', ', sort keys %rows) . "\n"
  if keys %rows != 2;

# --- throughput ---

my %throughput;
my @scripts = (
	[ attached => "SELECT * FROM extension_base.run_attached('select 1');" ],
	[ dblink => "SELECT * FROM dblink('$conninfo', 'select 1') AS t(x int);" ],
	[ attached_retrying => "SELECT bench_attached_retrying('select 1');" ],
);
for my $script (@scripts)
{
	my ($side, $line) = @$script;
	my $file = "$results/pgbench_$side.sql";
	open my $fh, '>', $file or die "could not write $file: $!\n";
	print $fh "$line\n";
	close $fh;

	my $log = "$results/pgbench_$side.log";
	my $status = run_logged($log, { may_fail => 1 }, "$bin/pgbench", '-n',
		'-c', $clients, '-j', $threads, '-T', $seconds, '-f', $file,
		'-h', $sockdir, '-p', $port, 'postgres');
	my $output = slurp($log);
	my ($tps) = $output =~
	  /^tps = ([\d.]+) \((?:without initial connection time|excluding connections establishing)\)/m;
	my ($processed) = $output =~ /^number of transactions actually processed: (\d+)/m;
	my ($failed) = $output =~ /^number of failed transactions: (\d+)/m;
	die "pgbench printed no tps for $side (status $status); see $log\n"
	  unless defined $tps && defined $processed;
	die "pgbench had $failed failed transactions for $side; see $log\n"
	  if $failed;

	# A caller whose call fails is aborted by pgbench (status 2), the others
	# go on.  No free worker slot is a capacity limit we report (see
	# README); any other error is a failure of the benchmark.
	my @aborted = $output =~
	  /^pgbench: error: client \d+ script \d+ aborted in command \d+ query \d+: (?:ERROR|FATAL):\s+(.*)$/mg;
	die "pgbench failed (status $status) for $side; see $log\n"
	  if $status != 0 && !@aborted;
	my @unexpected = grep { $_ ne 'could not register background process' } @aborted;
	die "pgbench callers of $side aborted: " . join('; ', @unexpected) . "\nsee $log\n"
	  if @unexpected;
	$throughput{$side} = {
		tps => $tps,
		processed => $processed,
		# how long the callers ran: shorter than --seconds if all aborted
		seconds => $tps > 0 ? $processed / $tps : 0,
		aborted => scalar @aborted,
	};
}
$throughput{attached_retrying}{no_slot} =
  psql('SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM bench_no_slot');

# --- checks at the end ---

# A worker sends ReadyForQuery before it exits, so the last ones may still
# be on their way out: give them a moment.
my $left;
for my $attempt (1 .. 100)
{
	$left = psql("SELECT count(*) FROM pg_stat_activity WHERE backend_type = '"
		  . WORKER_TYPE . "'");
	last if $left == 0;
	select(undef, undef, undef, 0.1);
}
die "$left attached workers are still in pg_stat_activity\n" if $left != 0;

stop_server();
my @bad = grep { /PANIC|TRAP|terminated by signal/ } split /\n/, slurp($logfile);
die "the server log has:\n" . join("\n", @bad) . "\nsee $logfile\n" if @bad;

report();
remove_tree($datadir);
exit 0;

# The private installation's programs: bench/run puts them first in PATH.
sub private_bindir
{
	my $root = $ENV{PGEB_TMP_INSTALL} // '';
	my $dir = `pg_config --bindir`;
	chomp $dir;
	die "pg_config --bindir failed: is the private installation in PATH?\n"
	  unless $dir;
	die "pg_config --bindir ($dir) is not in the private installation $root: "
	  . "run this through bench/run\n"
	  unless $root && index($dir, $root) == 0;
	return $dir;
}

# Run SQL through psql in one session (stops at the first error); returns
# the output, unaligned and tuples only, without the last newline.
sub psql
{
	my ($sql, %opts) = @_;
	my @command = ("$bin/psql", '-X', '-q', '-v', 'ON_ERROR_STOP=1',
		'-h', $sockdir, '-p', $port, '-d', 'postgres', '-f', '-');
	push @command, '-A', '-t' unless $opts{csv};
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run(\@command, '<', \$sql, '>', \$out, '2>', \$err);
	append_file("$results/psql.log", $err) if $err ne '';
	die "psql failed:\n$err\nsee $results/psql.log and $logfile\n" unless $ok;
	chomp $out unless $opts{csv};
	return $out;
}

sub stop_server
{
	return unless $server_started;
	run_logged("$results/pg_ctl.log", "$bin/pg_ctl", '-D', $datadir, '-m',
		'fast', '-w', '-t', START_TIMEOUT, 'stop');
	$server_started = 0;
}

sub report
{
	my $ratio_select = $latency{'attached select 1'}{median}
	  / $latency{'dblink select 1'}{median};
	my $ratio_insert = $latency{'attached INSERT'}{median}
	  / $latency{'dblink INSERT'}{median};
	my $verdict = goal_verdict(
		$ratio_select <= GOAL_RATIO && $ratio_insert <= GOAL_RATIO,
		$calls, MIN_CALLS, 'calls');
	my $command = join(' ', 'bench/run', 'attached_latency', @argv);
	my $cpus = `nproc 2>/dev/null` || '?';
	chomp $cpus;

	# One line per pgbench run.  Callers that pgbench aborted make the
	# figure one of fewer callers (or of a shorter time), which the line says.
	my @throughput_lines;
	my %label = (
		attached => 'attached',
		dblink => 'dblink',
		attached_retrying => 'attached, retrying',
	);
	for my $side (qw(attached dblink attached_retrying))
	{
		my $t = $throughput{$side};
		my @notes;
		push @notes, sprintf('%d of %d callers aborted: could not register '
			  . 'background process', $t->{aborted}, $clients)
		  if $t->{aborted};
		push @notes, sprintf('callers ran %.2f s', $t->{seconds})
		  if $t->{seconds} < $seconds - 0.5;
		push @notes, sprintf('%d times no free worker slot', $t->{no_slot})
		  if defined $t->{no_slot};
		$t->{ratio} = $t->{tps} / $throughput{dblink}{tps};
		push @throughput_lines, sprintf('%-22s %9.1f %9d %9s%s', $label{$side},
			$t->{tps}, $t->{processed},
			$side eq 'dblink' ? '' : sprintf('%.3f', $t->{ratio}),
			@notes ? '  (' . join('; ', @notes) . ')' : '');
	}
	my $ta = $throughput{attached};
	my $tr = $throughput{attached_retrying};
	my $td = $throughput{dblink};

	my @out;
	push @out,
	  'attached_latency: run_attached() against dblink on a new connection per call',
	  "server:     $version, $cpus CPUs",
	  "settings:   fsync = $settings{fsync}, synchronous_commit = "
	  . "$settings{synchronous_commit}, max_worker_processes = "
	  . "$settings{max_worker_processes}, dynamic_shared_memory_type = "
	  . "$settings{dynamic_shared_memory_type}, min_dynamic_shared_memory = "
	  . "$settings{min_dynamic_shared_memory} MB ("
	  . (defined $min_dsm ? 'set by --min-dynamic-shared-memory' : "pg_extension_base's default")
	  . "), Unix socket, trust",
	  "dblink:     '$conninfo', not a named connection: a new connection per call",
	  "            select 1: dblink(conninfo, 'select 1') AS t(x int) (dblink_exec refuses a query returning rows)",
	  "            INSERT:   dblink_exec(conninfo, 'INSERT INTO bench_t (v) VALUES (''dblink'')')",
	  "latency:    $calls timed calls of each method, in the server "
	  . '(clock_timestamp() around each call in PL/pgSQL),',
	  "            $rounds rounds of up to $round calls per method in rotating order, "
	  . 'after ' . WARMUP_CALLS . ' untimed calls of each',
	  '',
	  sprintf('%-22s %9s %9s %9s %9s', 'latency (ms)', 'median', 'p90', 'min', 'max');
	for my $method (@methods)
	{
		my $l = $latency{$method};
		push @out, sprintf('%-22s %9.3f %9.3f %9.3f %9.3f', $method,
			$l->{median}, $l->{p90}, $l->{min}, $l->{max});
	}
	push @out, '',
	  sprintf('ratio of medians (run_attached / dblink): select 1 %.3f, INSERT %.3f',
		$ratio_select, $ratio_insert),
	  sprintf('goal: ratio <= %.1f for both: %s', GOAL_RATIO, $verdict),
	  '',
	  "throughput: $clients concurrent callers for $seconds s, pgbench -n -c $clients "
	  . "-j $threads -T $seconds, one call per transaction",
	  "            attached, retrying: run_attached in a PL/pgSQL loop that pauses 1 ms and",
	  "            tries again when no worker slot is free (could not register background process)",
	  sprintf('%-22s %9s %9s %9s', 'select 1', 'calls/s', 'calls', 'ratio'),
	  @throughput_lines,
	  '',
	  sprintf('checks: bench_t has %d rows from each INSERT method, one per call; '
		  . 'no attached worker left; no PANIC, TRAP or "terminated by signal" '
		  . 'in the server log', $calls + WARMUP_CALLS),
	  '',
	  sprintf('summary: %s, %s CPUs, fsync %s, %d calls each: median latency '
		  . 'run_attached %.3f ms vs dblink on a new connection %.3f ms '
		  . '(select 1, ratio %.2f), %.3f ms vs %.3f ms (one-row INSERT, ratio '
		  . '%.2f), goal <= %.1f: %s; %d callers: %.0f calls/s attached%s, '
		  . '%.0f retrying when no worker slot is free (%d times), %.0f dblink',
		  $version, $cpus, $settings{fsync}, $calls,
		  $latency{'attached select 1'}{median}, $latency{'dblink select 1'}{median},
		  $ratio_select, $latency{'attached INSERT'}{median},
		  $latency{'dblink INSERT'}{median}, $ratio_insert, GOAL_RATIO, $verdict,
		  $clients, $ta->{tps},
		  $ta->{aborted} ? " ($ta->{aborted} of $clients callers aborted: no free worker slot)" : '',
		  $tr->{tps}, $tr->{no_slot}, $td->{tps}),
	  "command: $command",
	  "logs: $results";

	write_summary($results, @out);
}

END
{
	# never leave a server behind: stop the one we started
	if ($server_started)
	{
		my $status = $?;
		system("$bin/pg_ctl", '-D', $datadir, '-m', 'fast', '-w', '-t', '60',
			'stop');
		if (-e "$datadir/postmaster.pid"
			&& open my $fh, '<', "$datadir/postmaster.pid")
		{
			my $pid = <$fh>;
			chomp $pid if defined $pid;
			kill 'QUIT', $pid if $pid && $pid =~ /^\d+$/;
		}
		$? = $status;
	}
}
