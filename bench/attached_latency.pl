# bench/attached_latency.pl: what an attached worker costs a caller, warm
# (from the pool of idle attached workers) and cold (a new worker, as every
# call was before the pool), beside dblink on a new and on a reused
# connection.
#
# Run by bench/run (bench/run attached_latency [--calls N] [--round N]
# [--seconds N] [--clients N] [--fsync on|off] [--max-worker-processes N]
# [--min-dynamic-shared-memory MB] [--pool-size N] [--port N]), which
# builds the private installation and puts its programs first in PATH.
#
# One throwaway cluster of that installation (shared_preload_libraries =
# 'pg_extension_base', max_worker_processes = 16 unless
# --max-worker-processes says otherwise, min_dynamic_shared_memory left to
# pg_extension_base's default unless --min-dynamic-shared-memory sets it (0
# measures segments made the default way), the pool's settings at their
# defaults unless --pool-size sets pg_extension_base.attached_pool_size,
# Unix socket only, trust authentication, fsync as --fsync says, on by
# default) with the extensions pg_extension_base and dblink and a table
# bench_t (id serial, v text).
#
# Two modes, switched by ALTER SYSTEM and a reload (then new sessions are
# polled until they see the setting, and the pool until it is empty):
#   pool     the pool on, as configured
#   no pool  pg_extension_base.attached_pool_size = 0: every call starts a
#            worker, as before the pool ("today" in issue 16)
#
# Latency, measured inside the server so that no client round trip counts:
# a PL/pgSQL function runs a number of calls of one method and records
# clock_timestamp() before and after each call.  The methods (pool mode
# unless named otherwise):
#   attached select 1         run_attached('select 1'): a warm worker
#   attached INSERT           run_attached of a one-row INSERT into bench_t
#   attached select 1, cold   run_attached('select 1') with the pool emptied
#                             before each call (untimed): a new worker
#   dblink select 1           dblink('<conninfo>', 'select 1'): a new
#                             connection for the call, closed afterwards
#   dblink INSERT             dblink_exec('<conninfo>', the same INSERT)
#   dblink select 1, reused   dblink('bench', 'select 1') on a connection
#                             opened once per session (dblink_connect)
#   dblink INSERT, reused     dblink_exec('bench', the same INSERT)
#   attached select 1, no pool  and  attached INSERT, no pool
#                             the same calls in the no-pool mode
# Each method starts every round with 2 untimed calls (warm-up: the pool
# fills, dblink and libpq are loaded, the reused connection is opened).
# Rounds of --round calls per method (default 50) until each has made
# --calls calls (default 1,000); per round, the two modes in turn, each in
# a session of its own, its methods in an order that rotates from round to
# round.  Reported: median, p90, min and max per method (percentile_cont)
# and the ratios of medians the goals of issue 16 name: warm / dblink new
# <= 0.1 and warm / dblink reused <= 2.0, for select 1 and for the INSERT;
# cold / no pool <= 1.05.
#
# Throughput: pgbench -n -c 4 -j 2 -T --seconds (default 10) with a
# one-line script each: run_attached('select 1') in the pool mode and in
# the no-pool mode, dblink(..., 'select 1') on a new and on a reused
# connection.  run_attached runs in a PL/pgSQL loop that pauses 1 ms and
# tries again when no worker slot is free (a worker's slot is free again
# only once the postmaster has reaped the exited worker, which on a busy
# machine may lag), and says how often that happened.  Calls per second
# (pgbench's tps without connection time); goal: pool / no pool >= 5.
#
# Checked while measuring: bench_t holds exactly one row per INSERT call of
# each method; after a reload to the no-pool mode at the end no attached
# worker is left in pg_stat_activity; the server log has no PANIC, TRAP or
# "terminated by signal"; pgbench callers fail with nothing.
#
# Everything goes to bench/results/attached_latency/: server.log,
# initdb.log, pg_ctl.log, psql.log, pgbench_*.log and .sql, times.csv
# (every timed call) and summary.txt.  The data directory is removed after
# a successful run; the server is stopped in any case.  Exits 0 whether or
# not the goals are met; non-zero when the setup fails or a check fails.
use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use Getopt::Long;
use IPC::Run ();
use Time::HiRes ();

use BenchCommon;

# the goals of issue 16
use constant WARM_VS_NEW_GOAL => 0.1;
use constant WARM_VS_REUSED_GOAL => 2.0;
use constant COLD_VS_NO_POOL_GOAL => 1.05;
use constant THROUGHPUT_GOAL => 5.0;
use constant MIN_CALLS => 1000;    # below this, the goals are not judged
use constant WARMUP_CALLS => 2;    # per method and round, untimed
use constant START_TIMEOUT => 120;    # seconds
use constant MODE_TIMEOUT => 60;    # seconds for a reload to take effect
use constant WORKER_TYPE => 'pg_extension_base attached worker';
use constant POOL_SETTING => 'pg_extension_base.attached_pool_size';

my $calls = 1000;
my $round = 50;
my $seconds = 10;
my $clients = 4;
my $fsync = 'on';
my $max_workers = 16;
my $min_dsm;    # MB; unset: pg_extension_base's default
my $pool_size;    # unset: pg_extension_base's default
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
	'pool-size=i' => \$pool_size,
	'port=i' => \$port)
  or die "usage: bench/run attached_latency [--calls N] [--round N] "
  . "[--seconds N] [--clients N] [--fsync on|off] [--max-worker-processes N] "
  . "[--min-dynamic-shared-memory MB] [--pool-size N] [--port N]\n";
die "--calls must be at least 1\n" if $calls < 1;
die "--round must be at least 1\n" if $round < 1;
die "--seconds must be at least 1\n" if $seconds < 1;
die "--clients must be at least 1\n" if $clients < 1;
die "--fsync must be on or off\n" unless $fsync =~ /^(on|off)$/;
die "--max-worker-processes must be at least 2\n" if $max_workers < 2;
die "--min-dynamic-shared-memory must not be negative\n"
  if defined $min_dsm && $min_dsm < 0;
die "--pool-size must be at least 1 (the no-pool mode is measured anyway)\n"
  if defined $pool_size && $pool_size < 1;
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
print $conf POOL_SETTING . " = $pool_size\n" if defined $pool_size;
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
	   'min_dynamic_shared_memory', 'pg_extension_base.attached_pool_size',
	   'pg_extension_base.attached_pool_max_workers',
	   'pg_extension_base.attached_pool_idle_timeout')});
die "the server does not preload pg_extension_base\n"
  unless $settings{shared_preload_libraries} eq 'pg_extension_base';
my $pool_setting = $settings{+POOL_SETTING};
die "the pool is off in this server's configuration\n" unless $pool_setting > 0;

psql(<<"EOF");
CREATE EXTENSION pg_extension_base;
CREATE EXTENSION dblink;
CREATE TABLE bench_t (id serial, v text);
CREATE UNLOGGED TABLE bench_times (method text, round int, call int, ms float8);

-- the pool emptied: its workers told to go, and gone from the pool and
-- from the server (their worker slots free again)
CREATE FUNCTION bench_empty_pool() RETURNS void
LANGUAGE plpgsql AS \$fn\$
BEGIN
	FOR i IN 1 .. 10000 LOOP
		PERFORM pg_terminate_backend(pid) FROM extension_base.attached_pool();
		PERFORM pg_stat_clear_snapshot();
		IF NOT EXISTS (SELECT FROM extension_base.attached_pool())
		   AND NOT EXISTS (SELECT FROM pg_stat_activity
				WHERE backend_type = '@{[WORKER_TYPE]}') THEN
			RETURN;
		END IF;
		PERFORM pg_sleep(0.001);
	END LOOP;
	RAISE EXCEPTION 'the pool of attached workers did not empty';
END
\$fn\$;

-- one call of a method
CREATE FUNCTION bench_call(method text) RETURNS void
LANGUAGE plpgsql AS \$fn\$
DECLARE
	conn text := '$conninfo';
BEGIN
	CASE method
	WHEN 'attached select 1', 'attached select 1, cold',
		'attached select 1, no pool' THEN
		PERFORM * FROM extension_base.run_attached('select 1');
	WHEN 'attached INSERT', 'attached INSERT, no pool' THEN
		PERFORM * FROM extension_base.run_attached(\$\$INSERT INTO bench_t (v) VALUES ('attached')\$\$);
	WHEN 'dblink select 1' THEN
		PERFORM * FROM dblink(conn, 'select 1') AS t(x int);
	WHEN 'dblink INSERT' THEN
		PERFORM dblink_exec(conn, \$\$INSERT INTO bench_t (v) VALUES ('dblink')\$\$);
	WHEN 'dblink select 1, reused' THEN
		PERFORM * FROM dblink('bench', 'select 1') AS t(x int);
	WHEN 'dblink INSERT, reused' THEN
		PERFORM dblink_exec('bench', \$\$INSERT INTO bench_t (v) VALUES ('dblink reused')\$\$);
	END CASE;
END
\$fn\$;

-- warmup untimed calls, then n calls of one method, each timed with
-- clock_timestamp() around it (the cold method empties the pool before
-- each, untimed); the times are kept in an array and stored at the end
CREATE FUNCTION bench_calls(method text, round int, n int, warmup int)
RETURNS void
LANGUAGE plpgsql AS \$fn\$
DECLARE
	t0 timestamptz;
	t1 timestamptz;
	ms float8[] := '{}';
BEGIN
	IF method LIKE '%, reused'
	   AND NOT 'bench' = ANY (coalesce(dblink_get_connections(), '{}')) THEN
		PERFORM dblink_connect('bench', '$conninfo');
	END IF;
	FOR i IN 1 .. warmup LOOP
		PERFORM bench_call(method);
	END LOOP;
	FOR i IN 1 .. n LOOP
		IF method LIKE '%, cold' THEN
			PERFORM bench_empty_pool();
		END IF;
		t0 := clock_timestamp();
		PERFORM bench_call(method);
		t1 := clock_timestamp();
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

-- dblink on the session's one connection, opened by its first call
CREATE FUNCTION bench_dblink_reused(command text) RETURNS void
LANGUAGE plpgsql AS \$fn\$
BEGIN
	IF NOT 'bench' = ANY (coalesce(dblink_get_connections(), '{}')) THEN
		PERFORM dblink_connect('bench', '$conninfo');
	END IF;
	PERFORM * FROM dblink('bench', command) AS t(x int);
END
\$fn\$;
EOF

# --- latency ---

my %modes = (
	'pool' => [
		'attached select 1', 'attached INSERT', 'attached select 1, cold',
		'dblink select 1', 'dblink INSERT', 'dblink select 1, reused',
		'dblink INSERT, reused'
	],
	'no pool' => [ 'attached select 1, no pool', 'attached INSERT, no pool' ],
);
my @methods = map { @{ $modes{$_} } } ('pool', 'no pool');
my $mode_switches = 0;
my $rounds = 0;
for (my $done = 0; $done < $calls; $done += $round)
{
	my $n = $calls - $done < $round ? $calls - $done : $round;
	$rounds++;
	my @mode_order = $rounds % 2 ? ('pool', 'no pool') : ('no pool', 'pool');
	foreach my $mode (@mode_order)
	{
		set_mode($mode);
		# rotate the order, so no method always follows the same one
		my @m = @{ $modes{$mode} };
		my $shift = ($rounds - 1) % @m;
		my @order = (@m[ $shift .. $#m ], @m[ 0 .. $shift - 1 ]);
		psql(join('', map { "SELECT bench_calls('$_', $rounds, $n, "
				  . WARMUP_CALLS . ");\n" } @order));
	}
}

my %latency;
for my $row (split /\n/, psql(<<'EOF'))
SELECT method, count(*),
	percentile_cont(0.5) WITHIN GROUP (ORDER BY ms),
	percentile_cont(0.9) WITHIN GROUP (ORDER BY ms),
	min(ms), max(ms)
FROM bench_times GROUP BY method
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

# every INSERT call inserted exactly one row: attached ones from both modes
my %rows = map { split /\|/ } split /\n/,
  psql(q{SELECT v || '|' || count(*) FROM bench_t GROUP BY v});
my %want = (
	'attached' => 2 * $rounds * WARMUP_CALLS + 2 * $calls,
	'dblink' => $rounds * WARMUP_CALLS + $calls,
	'dblink reused' => $rounds * WARMUP_CALLS + $calls);
for my $v (sort keys %want)
{
	my $have = $rows{$v} // 0;
	die "bench_t has $have rows from '$v', not $want{$v} (one per call)\n"
	  unless $have == $want{$v};
}
die "bench_t has rows nobody inserted: " . join(', ', sort keys %rows) . "\n"
  if keys %rows != keys %want;

# --- throughput ---

my %throughput;
my @pool_memory;    # after the pool's run: workers, least and most memory
my @runs = (
	[ 'attached' => 'pool', "SELECT bench_attached_retrying('select 1');" ],
	[ 'attached, no pool' => 'no pool', "SELECT bench_attached_retrying('select 1');" ],
	[ 'dblink' => 'pool', "SELECT * FROM dblink('$conninfo', 'select 1') AS t(x int);" ],
	[ 'dblink, reused' => 'pool', "SELECT bench_dblink_reused('select 1');" ],
);
for my $run (@runs)
{
	my ($side, $mode, $line) = @$run;
	(my $name = $side) =~ s/\W+/_/g;
	set_mode($mode);
	my $slots_before = psql('SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM bench_no_slot');
	my $file = "$results/pgbench_$name.sql";
	open my $fh, '>', $file or die "could not write $file: $!\n";
	print $fh "$line\n";
	close $fh;

	my $log = "$results/pgbench_$name.log";
	my $status = run_logged($log, { may_fail => 1 }, "$bin/pgbench", '-n',
		'-c', $clients, '-j', $threads, '-T', $seconds, '-f', $file,
		'-h', $sockdir, '-p', $port, 'postgres');
	my $output = slurp($log);
	my ($tps) = $output =~
	  /^tps = ([\d.]+) \((?:without initial connection time|excluding connections establishing)\)/m;
	my ($processed) = $output =~ /^number of transactions actually processed: (\d+)/m;
	my ($failed) = $output =~ /^number of failed transactions: (\d+)/m;
	die "pgbench failed or printed no tps for $side (status $status); see $log\n"
	  unless $status == 0 && defined $tps && defined $processed;
	die "pgbench had $failed failed transactions for $side; see $log\n"
	  if $failed;
	# what the warm workers hold, right after they served the callers
	@pool_memory = split /\|/, psql(q{SELECT count(*), coalesce(min(memory_bytes), 0),
		coalesce(max(memory_bytes), 0) FROM extension_base.attached_pool()})
	  if $side eq 'attached';
	$throughput{$side} = {
		tps => $tps,
		processed => $processed,
		no_slot => psql('SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM bench_no_slot')
		  - $slots_before,
	};
}

# --- checks at the end ---

# the no-pool mode: the reload retires the idle workers, and the last
# workers of calls may still be on their way out: give them a moment
set_mode('no pool');
my $left;
for my $attempt (1 .. 100)
{
	$left = psql("SELECT count(*) FROM pg_stat_activity WHERE backend_type = '"
		  . WORKER_TYPE . "'");
	last if $left == 0;
	Time::HiRes::sleep(0.1);
}
die "$left attached workers are still in pg_stat_activity\n" if $left != 0;

stop_server();
my @bad = grep { /PANIC|TRAP|terminated by signal/ } split /\n/, slurp($logfile);
die "the server log has:\n" . join("\n", @bad) . "\nsee $logfile\n" if @bad;

report();
remove_tree($datadir);
exit 0;

# Switch between the pool (its configured size) and no pool (size 0):
# ALTER SYSTEM, reload, then wait until a new session sees the size and,
# for no pool, until the reload has emptied the pool.
sub set_mode
{
	my ($mode) = @_;
	my $size = $mode eq 'pool' ? $pool_setting : 0;
	psql("ALTER SYSTEM SET " . POOL_SETTING . " = $size; SELECT pg_reload_conf();");
	$mode_switches++;
	my $deadline = Time::HiRes::time() + MODE_TIMEOUT;
	while (1)
	{
		my $ready = psql("SELECT current_setting('" . POOL_SETTING . "')::int = $size"
			  . ($size == 0 ? ' AND NOT EXISTS (SELECT FROM extension_base.attached_pool())' : ''));
		return if $ready eq 't';
		die "the server did not switch to the $mode mode in " . MODE_TIMEOUT . " s\n"
		  if Time::HiRes::time() > $deadline;
		Time::HiRes::sleep(0.05);
	}
}

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
	my %median = map { $_ => $latency{$_}{median} } @methods;
	my %ratio = (
		select_new => $median{'attached select 1'} / $median{'dblink select 1'},
		select_reused => $median{'attached select 1'} / $median{'dblink select 1, reused'},
		insert_new => $median{'attached INSERT'} / $median{'dblink INSERT'},
		insert_reused => $median{'attached INSERT'} / $median{'dblink INSERT, reused'},
		cold => $median{'attached select 1, cold'} / $median{'attached select 1, no pool'},
		no_pool_select => $median{'attached select 1, no pool'} / $median{'dblink select 1'},
		no_pool_insert => $median{'attached INSERT, no pool'} / $median{'dblink INSERT'},
		throughput => $throughput{attached}{tps} / $throughput{'attached, no pool'}{tps},
	);
	my %verdict = (
		new => goal_verdict($ratio{select_new} <= WARM_VS_NEW_GOAL
			  && $ratio{insert_new} <= WARM_VS_NEW_GOAL, $calls, MIN_CALLS, 'calls'),
		reused => goal_verdict($ratio{select_reused} <= WARM_VS_REUSED_GOAL
			  && $ratio{insert_reused} <= WARM_VS_REUSED_GOAL, $calls, MIN_CALLS, 'calls'),
		cold => goal_verdict($ratio{cold} <= COLD_VS_NO_POOL_GOAL, $calls, MIN_CALLS, 'calls'),
		throughput => goal_verdict($ratio{throughput} >= THROUGHPUT_GOAL, $seconds, 10, 'seconds'),
	);
	my $command = join(' ', 'bench/run', 'attached_latency', @argv);
	my $cpus = `nproc 2>/dev/null` || '?';
	chomp $cpus;

	my @out;
	push @out,
	  'attached_latency: run_attached() warm (pool) and cold, against dblink on a new and a reused connection',
	  "server:     $version, $cpus CPUs",
	  "settings:   fsync = $settings{fsync}, synchronous_commit = "
	  . "$settings{synchronous_commit}, max_worker_processes = "
	  . "$settings{max_worker_processes}, dynamic_shared_memory_type = "
	  . "$settings{dynamic_shared_memory_type}, min_dynamic_shared_memory = "
	  . "$settings{min_dynamic_shared_memory} MB ("
	  . (defined $min_dsm ? 'set by --min-dynamic-shared-memory' : "pg_extension_base's default")
	  . "), Unix socket, trust",
	  "pool:       attached_pool_size = $pool_setting ("
	  . (defined $pool_size ? 'set by --pool-size' : 'default')
	  . "), attached_pool_max_workers = $settings{'pg_extension_base.attached_pool_max_workers'}, "
	  . "attached_pool_idle_timeout = $settings{'pg_extension_base.attached_pool_idle_timeout'} ms; "
	  . "no pool: attached_pool_size = 0 (ALTER SYSTEM, reload; $mode_switches switches)",
	  "dblink:     new: '$conninfo' given to each call; reused: one named connection per session",
	  "latency:    $calls timed calls of each method, in the server "
	  . '(clock_timestamp() around each call in PL/pgSQL),',
	  "            $rounds rounds of up to $round calls per method, the two modes in turn, "
	  . 'rotating order, ' . WARMUP_CALLS . ' untimed calls of each method first',
	  '',
	  sprintf('%-28s %9s %9s %9s %9s', 'latency (ms)', 'median', 'p90', 'min', 'max');
	for my $method (@methods)
	{
		my $l = $latency{$method};
		push @out, sprintf('%-28s %9.3f %9.3f %9.3f %9.3f', $method,
			$l->{median}, $l->{p90}, $l->{min}, $l->{max});
	}
	push @out, '',
	  'ratios of medians:',
	  sprintf('  warm / dblink new:     select 1 %.3f, INSERT %.3f (goal <= %.1f: %s)',
		$ratio{select_new}, $ratio{insert_new}, WARM_VS_NEW_GOAL, $verdict{new}),
	  sprintf('  warm / dblink reused:  select 1 %.3f, INSERT %.3f (goal <= %.1f: %s)',
		$ratio{select_reused}, $ratio{insert_reused}, WARM_VS_REUSED_GOAL, $verdict{reused}),
	  sprintf('  cold / no pool:        select 1 %.3f (goal <= %.2f: %s)',
		$ratio{cold}, COLD_VS_NO_POOL_GOAL, $verdict{cold}),
	  sprintf('  no pool / dblink new:  select 1 %.3f, INSERT %.3f (before the pool)',
		$ratio{no_pool_select}, $ratio{no_pool_insert}),
	  '',
	  "throughput: $clients concurrent callers for $seconds s, pgbench -n -c $clients "
	  . "-j $threads -T $seconds, one call per transaction; run_attached retries",
	  '            after 1 ms when no worker slot is free',
	  sprintf('%-28s %9s %9s %9s', 'select 1', 'calls/s', 'calls', 'no slot');
	for my $side ('attached', 'attached, no pool', 'dblink', 'dblink, reused')
	{
		my $t = $throughput{$side};
		push @out, sprintf('%-28s %9.1f %9d %9s', $side, $t->{tps},
			$t->{processed}, $side =~ /^attached/ ? $t->{no_slot} : '');
	}
	push @out,
	  sprintf('  pool / no pool: %.2f (goal >= %.0f: %s)', $ratio{throughput},
		THROUGHPUT_GOAL, $verdict{throughput}),
	  sprintf('  after it, %d warm workers, %.1f to %.1f MB each (memory_bytes: '
		  . 'their TopMemoryContext and below)', $pool_memory[0],
		$pool_memory[1] / 1048576, $pool_memory[2] / 1048576),
	  '',
	  'checks: bench_t has one row per INSERT call of each method; no attached worker '
	  . 'left after the reload to no pool; no PANIC, TRAP or "terminated by signal" '
	  . 'in the server log',
	  '',
	  sprintf('summary: %s, %s CPUs, fsync %s, %d calls each, median ms: warm select 1 '
		  . '%.3f, INSERT %.3f; dblink new %.3f, %.3f; dblink reused %.3f, %.3f; '
		  . 'ratios warm/new %.3f, %.3f (<= %.1f: %s), warm/reused %.2f, %.2f '
		  . '(<= %.1f: %s); cold %.3f vs no pool %.3f, ratio %.3f (<= %.2f: %s); '
		  . '%d callers: %.0f calls/s pool vs %.0f no pool, ratio %.1f (>= %.0f: %s)',
		  $version, $cpus, $settings{fsync}, $calls,
		  $median{'attached select 1'}, $median{'attached INSERT'},
		  $median{'dblink select 1'}, $median{'dblink INSERT'},
		  $median{'dblink select 1, reused'}, $median{'dblink INSERT, reused'},
		  $ratio{select_new}, $ratio{insert_new}, WARM_VS_NEW_GOAL, $verdict{new},
		  $ratio{select_reused}, $ratio{insert_reused}, WARM_VS_REUSED_GOAL, $verdict{reused},
		  $median{'attached select 1, cold'}, $median{'attached select 1, no pool'},
		  $ratio{cold}, COLD_VS_NO_POOL_GOAL, $verdict{cold},
		  $clients, $throughput{attached}{tps}, $throughput{'attached, no pool'}{tps},
		  $ratio{throughput}, THROUGHPUT_GOAL, $verdict{throughput}),
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
