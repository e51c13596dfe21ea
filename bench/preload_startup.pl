# bench/preload_startup.pl: what pg_extension_base adds to server start.
#
# Run by bench/run (bench/run preload_startup [--runs N]
# [--control-files N] [--port N]), which builds the private installation
# and puts its programs first in PATH.  The extension directory of a copy of
# that installation gets N extra control files (default 1,000): a tenth of them
# carry #!shared_preload_libraries = 'pgeb_test_lib_a', the rest are plain,
# and some of both require others, so the preloader scans every file, reads
# the requirements of the marked ones (through unmarked ones) and orders
# them.  pgeb_test_lib_a (t/extensions) is one tiny library: it is loaded
# once, so what we time is the scan and the ordering, not library code.
#
# One data directory and one installation serve all sides; they differ
# only in settings on the postgres command line:
#   baseline           shared_preload_libraries = ''  (the server alone)
#   libraries only     shared_preload_libraries = 'pg_extension_base',
#                      pg_extension_base.enable_preload_libraries = off
#                      (the meta library and its components, no scan)
#   pg_extension_base  shared_preload_libraries = 'pg_extension_base'
#                      (the libraries, the scan of the control files and
#                      what they ask for)
# The goal compares pg_extension_base with the baseline; the middle side
# splits what pg_extension_base adds into the fixed cost of loading its
# libraries and the cost of the scan, so the report shows where the time
# goes.  The starts alternate (baseline, libraries only, pg_extension_base,
# baseline, ...) after one untimed warm-up start of each, so drift in the
# machine's state hits every side alike.
#
# Start-to-ready: a monotonic timestamp, then fork and exec postgres -D
# directly, then poll postmaster.pid every millisecond until its status line
# (the 8th) reads "ready", which the postmaster writes when it accepts
# connections.  pg_ctl -w would add its own 100 ms polling interval.  Each
# server is stopped (pg_ctl -m fast -w stop, not timed) and reaped before
# the next start.  Every start's log is checked: the pg_extension_base
# starts must log the load order with pgeb_test_lib_a where the
# requirements put it, the baseline starts must not mention
# pg_extension_base.
#
# Everything goes to bench/results/preload_startup/: server.log (all
# starts, each introduced by a "=== bench:" line), times.csv, summary.txt.
# The installation copy and data directory are removed after a successful
# run.  Exits 0 whether or not the goal is met; non-zero when the setup or
# a server start fails.
use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use Getopt::Long;
use POSIX qw(WNOHANG);
use Time::HiRes qw(clock_gettime CLOCK_MONOTONIC sleep);

use constant GOAL_RATIO => 1.10;
use constant MIN_RUNS => 10;
use constant MARK_EVERY => 10;    # a tenth of the control files is marked
use constant BENCH_LIBRARY => 'pgeb_test_lib_a';
use constant START_TIMEOUT => 120;    # seconds

use BenchCommon;

my $runs = 15;
my $control_files = 1000;
my $port = $ENV{PGEB_BENCH_PORT} // 54339;
my @argv = @ARGV;
GetOptions(
	'runs=i' => \$runs,
	'control-files=i' => \$control_files,
	'port=i' => \$port)
  or die "usage: bench/run preload_startup [--runs N] [--control-files N] [--port N]\n";
die "--runs must be at least 1\n" if $runs < 1;
die "--control-files must not be negative\n" if $control_files < 0;
die "unexpected arguments: @ARGV\n" if @ARGV;

my $repo = abs_path(dirname(__FILE__) . '/..');
my $results = "$repo/bench/results/preload_startup";
my $logfile = "$results/server.log";
my $datadir = "$results/data";
my $pidfile = "$datadir/postmaster.pid";
my $sockdir = tempdir('pgeb_bench_XXXX', TMPDIR => 1, CLEANUP => 1);

# the postmaster of the start in progress, to reap or end if we die
my $running_pid;

remove_tree($results);
make_path($results) or die "could not create $results: $!";

my $install = install_copy("$results/install");
my $bin = $install->{bindir};
my $version = `$bin/postgres --version`;
chomp $version;
die "could not run $bin/postgres\n" unless $version;

my %bench = write_control_files($install->{extdir}, $control_files);
my $marked = scalar grep { $bench{$_}{marked} } keys %bench;
my $first_loaded = first_marked_to_load(\%bench);

init_datadir();

# Warm-up: the first starts after initdb and after writing the control
# files pay for cold caches.  Checked like the others, not timed.
my %side = (
	baseline => { name => 'baseline', preload => '', times => [] },
	libraries => {
		name => 'libraries only',
		preload => 'pg_extension_base',
		settings => ['pg_extension_base.enable_preload_libraries=off'],
		times => []
	},
	candidate => { name => 'pg_extension_base', preload => 'pg_extension_base',
		times => [], scan_ms => [] },
);
my @sides = @side{qw(baseline libraries candidate)};
for my $side (@sides)
{
	start_and_stop($side, 'warm-up');
}

# The steady state: pg_extension_base remembers what a control file says
# only once it has not changed for two seconds (writing them just now
# changed their ctime), so warm up until a start reads none of the extra
# files.
my $settled = 0;
for my $attempt (1 .. 50)
{
	my $offset = -s $logfile // 0;
	start_and_stop($side{candidate}, 'settling');
	my ($unchanged) = log_since($offset) =~ /(\d+) of them, unchanged since they were last read, were not read again/;
	if (defined $unchanged && $unchanged >= $control_files)
	{
		$settled = 1;
		last;
	}
}
die "the control files never settled in pg_extension_base's scan cache\n"
  unless $settled;
for my $run (1 .. $runs)
{
	for my $side (@sides)
	{
		push @{ $side->{times} }, start_and_stop($side, "run $run");
	}
}

report();
remove_tree($install->{root}, $datadir);
exit 0;

# A copy of the installation whose pg_config is first in PATH (bench/run
# puts the private one there), as PgebTest::install_copy makes one: its
# program, library and share directories at the same paths below $copy,
# hard links when it is the private installation (PGEB_TMP_INSTALL).  We
# do not use PgebTest itself: PostgreSQL::Test::Utils sends STDOUT to a
# TAP log file, and this program's output is its report.
sub install_copy
{
	my ($copy) = @_;
	my $root = $ENV{PGEB_TMP_INSTALL} // '';
	my @cp = $root ? ('cp', '-al') : ('cp', '-a');
	my %dirs;

	for my $what (qw(bindir sharedir pkglibdir))
	{
		my $dir = `pg_config --$what`;
		chomp $dir;
		die "pg_config --$what failed: is the private installation in PATH?\n"
		  unless $dir;
		my $relative = $dir;
		$relative =~ s/^\Q$root\E//
		  or die "pg_config --$what ($dir) is not in $root: is PATH right?\n";
		make_path(dirname("$copy$relative"));
		system(@cp, $dir, "$copy$relative") == 0
		  or die "could not copy $dir to $copy$relative\n";
		$dirs{$what} = "$copy$relative";
	}
	die "the installation has no " . BENCH_LIBRARY
	  . " (t/extensions): was it made by bench/run?\n"
	  unless -f "$dirs{pkglibdir}/" . BENCH_LIBRARY . ".so";
	return {
		root => $copy,
		bindir => $dirs{bindir},
		extdir => "$dirs{sharedir}/extension",
	};
}

# Write pgeb_bench_0001 ... pgeb_bench_NNNN into the extension directory,
# every MARK_EVERY-th marked; returns name => { marked, requires }.
#
# Requirements (all towards higher numbers or to an earlier unmarked file,
# so there is no cycle):
#   marked  i, i % 30 == 0   requires the next marked one (i + 10), so name
#                            order and load order differ;
#   marked  i, i % 30 == 10  requires the unmarked i + 15, which requires
#                            the marked i + 20: an edge through an unmarked
#                            extension;
#   marked  i, i % 30 == 20  requires the unmarked i - 8, which requires
#                            i - 9: unmarked files read for nothing;
#   unmarked j % 10 == 2, 3  require the one or two before them.
# Hence 0010 -> 0025 -> 0030 -> 0040 -> 0055 -> 0060 -> ... is one chain
# through most of the marked ones, and the first by name that is free to
# load is 0020.
sub write_control_files
{
	my ($extdir, $count) = @_;
	my %files;
	my $name = sub { sprintf('pgeb_bench_%04d', $_[0]) };

	for my $i (1 .. $count)
	{
		my $marked = ($i % MARK_EVERY == 0);
		my @requires;

		if ($marked && $i % 30 == 0)
		{
			@requires = ($i + 10);
		}
		elsif ($marked && $i % 30 == 10)
		{
			@requires = ($i + 15);
		}
		elsif ($marked && $i % 30 == 20)
		{
			@requires = ($i - 8);
		}
		elsif ($i % 10 == 5)
		{
			@requires = ($i + 5);
		}
		elsif ($i % 10 == 2)
		{
			@requires = ($i - 1);
		}
		elsif ($i % 10 == 3)
		{
			@requires = ($i - 2, $i - 1);
		}
		@requires = map { $name->($_) } grep { $_ >= 1 && $_ <= $count } @requires;

		my $ext = $name->($i);
		my $content = "# $ext: generated by bench/preload_startup.pl\n";
		$content .= "#!shared_preload_libraries = '" . BENCH_LIBRARY . "'\n"
		  if $marked;
		$content .= "comment = 'benchmark extension $i of $count'\n"
		  . "default_version = '1.0'\n"
		  . "module_pathname = '\$libdir/$ext'\n"
		  . "relocatable = true\n";
		$content .= "requires = '" . join(', ', @requires) . "'\n"
		  if @requires;

		my $path = "$extdir/$ext.control";
		unlink $path;    # never write through a hard link into the original
		open my $fh, '>', $path or die "could not write $path: $!\n";
		print $fh $content;
		close $fh or die "could not write $path: $!\n";

		# installed an hour ago, as packages are: the steady state a server
		# starts in (pg_extension_base does not remember files changed in
		# the last seconds, so brand-new files would be read at every start)
		my $installed = time - 3600;
		utime $installed, $installed, $path or die "could not set times of $path: $!\n";

		$files{$ext} = { marked => $marked, requires => \@requires };
	}
	return %files;
}

# The marked extension the preloader loads first: the first by name that
# requires no marked extension, directly or through unmarked ones.  Its
# name in the log proves the requirements were followed.
sub first_marked_to_load
{
	my ($files) = @_;

	for my $ext (sort grep { $files->{$_}{marked} } keys %$files)
	{
		my @pending = @{ $files->{$ext}{requires} };
		my %visited;
		my $free = 1;

		while (defined(my $req = shift @pending))
		{
			next if $visited{$req}++;
			if ($files->{$req}{marked})
			{
				$free = 0;
				last;
			}
			push @pending, @{ $files->{$req}{requires} };
		}
		return $ext if $free;
	}
	return undef;
}

sub init_datadir
{
	run_logged("$results/initdb.log", "$bin/initdb", '-D', $datadir,
		'-A', 'trust', '-N', '--no-instructions');

	open my $conf, '>>', "$datadir/postgresql.conf"
	  or die "could not append to postgresql.conf: $!\n";
	print $conf <<"EOF";

# added by bench/preload_startup.pl; shared_preload_libraries is set on the
# postgres command line of each start
listen_addresses = ''
port = $port
unix_socket_directories = '$sockdir'
logging_collector = off
log_line_prefix = '%m [%p] '
EOF
	close $conf or die "could not append to postgresql.conf: $!\n";
}

# Start the server for one side, time start-to-ready, check its log, stop
# it.  Returns milliseconds.
sub start_and_stop
{
	my ($side, $what) = @_;

	die "$pidfile exists before a start: is a server running?\n" if -e $pidfile;
	my @settings = ("shared_preload_libraries=$side->{preload}",
		@{ $side->{settings} // [] });
	append_file($logfile, "=== bench: $what, $side->{name} ("
		  . join(', ', @settings) . ") ===\n");
	my $log_offset = -s $logfile;

	my $started = clock_gettime(CLOCK_MONOTONIC);
	my $pid = fork // die "could not fork: $!\n";
	if ($pid == 0)
	{
		open STDIN, '<', '/dev/null';
		open STDOUT, '>>', $logfile or POSIX::_exit(127);
		open STDERR, '>&', \*STDOUT or POSIX::_exit(127);
		exec { "$bin/postgres" } "$bin/postgres", '-D', $datadir,
		  map({ ('-c', $_) } @settings)
		  or POSIX::_exit(127);
	}
	$running_pid = $pid;

	my $ready;
	while (!defined $ready)
	{
		if (open my $fh, '<', $pidfile)
		{
			my @lines = <$fh>;
			close $fh;
			$ready = clock_gettime(CLOCK_MONOTONIC)
			  if @lines >= 8 && $lines[7] =~ /^ready/;
		}
		last if defined $ready;
		if (waitpid($pid, WNOHANG) == $pid)
		{
			$running_pid = undef;
			die "postgres exited (status $?) before it was ready ($what, "
			  . "$side->{name}):\n" . log_since($log_offset)
			  . "full log: $logfile\n";
		}
		die "postgres not ready after " . START_TIMEOUT . " s ($what, "
		  . "$side->{name}); see $logfile\n"
		  if clock_gettime(CLOCK_MONOTONIC) - $started > START_TIMEOUT;
		sleep(0.001);
	}

	run_logged($logfile, "$bin/pg_ctl", '-D', $datadir, '-m', 'fast', '-w',
		'-t', START_TIMEOUT, 'stop');
	waitpid($pid, 0);
	$running_pid = undef;
	die "$pidfile still exists after the server stopped\n" if -e $pidfile;

	check_log($side, $what, log_since($log_offset));
	return ($ready - $started) * 1000 if $what =~ /^run /;
	return;
}

sub log_since
{
	my ($offset) = @_;
	open my $fh, '<', $logfile or die "could not read $logfile: $!\n";
	seek($fh, $offset, 0);
	local $/;
	my $text = <$fh>;
	close $fh;
	return $text // '';
}

# Did this start preload what it should (pg_extension_base), or nothing
# (baseline)?  Dies loudly when not: the numbers would be meaningless.
sub check_log
{
	my ($side, $what, $log) = @_;
	my $context = "$what, $side->{name}";
	my $library = BENCH_LIBRARY;

	if ($side->{preload} eq '')
	{
		die "the baseline start loaded pg_extension_base ($context):\n$log"
		  if $log =~ /pg_extension_base|pgeb_test:/;
		return;
	}

	if ($side->{settings})
	{
		die "pg_extension_base scanned control files although "
		  . "enable_preload_libraries is off ($context):\n$log"
		  unless $log =~ /preloading libraries from extension control files is disabled/
		  && $log !~ /pgeb_test: loaded/;
		return;
	}

	# the scan's own time, as the preloader logs it
	my ($scan_ms) = $log =~ /Scanned \d+ control files in ([\d.]+) ms/;
	push @{ $side->{scan_ms} }, $scan_ms if defined $scan_ms && $what =~ /^run /;

	# preloader.c, log_load_order(): one line, whatever was found
	my ($line) = $log =~
	  /pg_extension_base: ((?:preloading \d+ librar|no extension control file asks).*)$/m;
	die "pg_extension_base did not log its load order ($context); is it "
	  . "preloaded at all?\n$log"
	  unless defined $line;
	$side->{logged} //= $line;
	return unless $first_loaded;    # --control-files 0: nothing of ours

	my ($order) = $line =~ /^preloading \d+ librar(?:y|ies)(?: in this order)?: (.*)$/;
	die "pg_extension_base preloaded nothing ($context): $line\n"
	  unless defined $order;
	die "pg_extension_base did not preload $library for $first_loaded, as the "
	  . "requirements of the generated control files say ($context); it "
	  . "logged: $line\n"
	  unless $order =~ /(?:^|, )\Q$library\E \(\Q$first_loaded\E\)(?:,|$)/;
	my $loads = () = $log =~ /pgeb_test: loaded \Q$library\E at server start/g;
	die "$library was loaded $loads times at server start ($context), "
	  . "not once:\n$log"
	  unless $loads == 1;
}

sub median
{
	my @sorted = sort { $a <=> $b } @_;
	my $n = @sorted;
	return $n % 2 ? $sorted[ $n / 2 ] : ($sorted[ $n / 2 - 1 ] + $sorted[ $n / 2 ]) / 2;
}

sub min_of { my @s = sort { $a <=> $b } @_; return $s[0]; }
sub max_of { my @s = sort { $a <=> $b } @_; return $s[-1]; }

sub report
{
	my ($baseline, $libraries, $candidate) = @sides;
	my $base_median = median(@{ $baseline->{times} });
	my $libraries_median = median(@{ $libraries->{times} });
	my $cand_median = median(@{ $candidate->{times} });
	my $ratio = $cand_median / $base_median;
	my @scan_ms = @{ $candidate->{scan_ms} };
	my $verdict = goal_verdict($ratio <= GOAL_RATIO, $runs, MIN_RUNS, 'runs');
	my $command = join(' ', 'bench/run', 'preload_startup', @argv);
	my $cpus = `nproc 2>/dev/null` || '?';
	chomp $cpus;

	open my $csv, '>', "$results/times.csv" or die "could not write times.csv: $!\n";
	print $csv "run,side,start_to_ready_ms\n";
	for my $run (1 .. $runs)
	{
		printf $csv "%d,%s,%.3f\n", $run, $_->{name}, $_->{times}[ $run - 1 ]
		  for @sides;
	}
	close $csv;

	my @out;
	push @out, 'preload_startup: postmaster start-to-ready time',
	  "server:        $version, $cpus CPUs",
	  sprintf('control files: %d extra, %d of them marked '
		  . "#!shared_preload_libraries = '%s'", $control_files, $marked,
		  BENCH_LIBRARY),
	  "logged:        $candidate->{logged}",
	  "runs:          $runs starts of each, interleaved, after one untimed warm-up start of each",
	  '',
	  sprintf('%-20s %10s %10s %10s', 'start-to-ready (ms)', 'median', 'min', 'max');
	for my $side (@sides)
	{
		push @out, sprintf('%-20s %10.1f %10.1f %10.1f', $side->{name},
			median(@{ $side->{times} }), min_of(@{ $side->{times} }),
			max_of(@{ $side->{times} }));
	}
	push @out, '',
	  sprintf('what pg_extension_base adds: %+.1f ms (the goal allows %+.1f ms)',
		  $cand_median - $base_median, $base_median * (GOAL_RATIO - 1)),
	  sprintf('  loading its libraries (libraries only - baseline):       %+.1f ms',
		  $libraries_median - $base_median),
	  sprintf('  the scan and what it loads (pg_extension_base - libraries only): %+.1f ms',
		  $cand_median - $libraries_median),
	  (@scan_ms
		? sprintf('  the scan alone, as the preloader logs it: median %.1f ms',
			median(@scan_ms))
		: ()),
	  '',
	  sprintf('ratio of medians (pg_extension_base / baseline): %.3f', $ratio),
	  sprintf('ratio of medians (libraries only / baseline):    %.3f',
		  $libraries_median / $base_median),
	  sprintf('goal: ratio <= %.2f: %s', GOAL_RATIO, $verdict),
	  '',
	  sprintf('summary: %s, %d control files (%d marked), %d runs each: '
		  . 'median start-to-ready %.1f ms without and %.1f ms with '
		  . 'pg_extension_base (%.1f ms with its libraries but no scan), '
		  . 'ratio %.2f (goal <= %.2f: %s)',
		  $version, $control_files, $marked, $runs, $base_median,
		  $cand_median, $libraries_median, $ratio, GOAL_RATIO, $verdict),
	  "command: $command",
	  "logs: $results";

	write_summary($results, @out);
}

END
{
	# never leave a server behind: end the one we started, by its pid
	if ($running_pid)
	{
		my $status = $?;
		kill 'QUIT', $running_pid;
		waitpid($running_pid, 0);
		$? = $status;
	}
}
