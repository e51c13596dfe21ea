# t/PgebTest.pm: helpers shared by the TAP tests.
#
# The tests run against the installation whose pg_config is first in PATH:
# under "make test", the private installation (PGEB_TMP_INSTALL).  A test
# that needs its own control files takes a copy of it with install_copy()
# (hard links, a few milliseconds), and write_extension_file() replaces a
# file in the copy without touching the original.
package PgebTest;

use strict;
use warnings;

use Exporter 'import';
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

our @EXPORT = qw(install_copy build_variant write_extension_file new_node
  start_with_extension preloaded create_load_log_function log_count
  base_workers wait_for_base_workers base_worker_pid database_starter_waits
  attached_workers_running fuzz_seed fuzz_count);

# A copy of the installation under test (the pg_config first in PATH) that
# a test may change freely: its program, library and share directories at
# the same paths below a new root, so the copied server finds the copied
# files.  Under "make test" the installation is the private one
# (PGEB_TMP_INSTALL) and the copy is made of hard links; against another
# installation ("make installcheck") the directories are copied.
# Returns a hash with install_path (for PostgreSQL::Test::Cluster->new),
# extdir (the extension directory) and pkglibdir.
# Build a variant of one of our libraries ($module: its directory, such as
# supervisor) from a copy of the sources in tmp_check/$name (the build
# needs the shared makefiles and the meta library's headers too), with
# extra make arguments (PGEB_ASSERT=1, COPT=-D...).  Returns the path of the
# built library, or undef and the build's stderr.
sub build_variant
{
	my ($module, $name, @make_args) = @_;
	my $top = abs_path(dirname(abs_path(__FILE__)) . '/..');
	my $src = "$PostgreSQL::Test::Utils::tmp_check/$name";
	system('rm', '-rf', $src) == 0 or die;
	mkdir $src or die "could not create $src: $!";
	opendir my $dh, $top or die;
	my @entries = grep {
		!/^\.\.?$/ && !/^(?:\.git|tmp_check|tmp_install|tmp_isolation|tmp_regress|results|log)$/
	} readdir $dh;
	closedir $dh;
	system('cp', '-a', (map { "$top/$_" } @entries), $src) == 0
	  or die 'could not copy the sources';
	my @make = ('make', '-s', '-C', "$src/$module", 'PG_CONFIG=pg_config');
	run_command([ @make, 'clean' ]);
	my ($stdout, $stderr) =
	  run_command([ @make, 'PGEB_WERROR=1', @make_args ]);
	my ($so) = glob("$src/$module/*.so");
	return (defined $so && -f $so ? $so : undef, $stderr);
}

sub install_copy
{
	my ($name) = @_;
	my $root = $ENV{PGEB_TMP_INSTALL} // '';
	my $copy = "$PostgreSQL::Test::Utils::tmp_check/install_$name";
	my @cp = $root ? ('cp', '-al') : ('cp', '-a');

	system('rm', '-rf', $copy) == 0 or die "could not remove $copy";

	my %dirs;
	for my $what (qw(bindir sharedir pkglibdir))
	{
		my $dir = `pg_config --$what`;
		chomp $dir;
		die "pg_config --$what failed" unless $dir;
		my $relative = $dir;
		$relative =~ s/^\Q$root\E//
		  or die "pg_config --$what ($dir) is not in $root: is PATH right?";
		system('mkdir', '-p', dirname("$copy$relative")) == 0 or die;
		system(@cp, $dir, "$copy$relative") == 0
		  or die "could not copy $dir";
		$dirs{$what} = "$copy$relative";
	}
	return {
		root => $copy,
		install_path => dirname($dirs{bindir}),
		extdir => "$dirs{sharedir}/extension",
		pkglibdir => $dirs{pkglibdir},
	};
}

# Write (or replace) a file in the extension directory of a copy.
sub write_extension_file
{
	my ($install, $filename, $content) = @_;
	my $path = "$install->{extdir}/$filename";

	unlink $path;    # never write through a hard link into the original
	open my $fh, '>', $path or die "could not write $path: $!";
	print $fh $content;
	close $fh;
	return $path;
}

# A new, initialised node; unless preload => 0, with
# shared_preload_libraries = 'pg_extension_base'.
#   install => a copy from install_copy (default: the private installation)
#   conf    => more postgresql.conf lines
#   init    => options for PostgreSQL::Test::Cluster::init (a hash ref)
sub new_node
{
	my ($name, %opts) = @_;
	my @install =
	  $opts{install} ? (install_path => $opts{install}{install_path}) : ();
	my $node = PostgreSQL::Test::Cluster->new($name, @install);

	$node->init(%{ $opts{init} // {} });
	$node->append_conf('postgresql.conf',
		"shared_preload_libraries = 'pg_extension_base'\n")
	  unless defined $opts{preload} && !$opts{preload};
	$node->append_conf('postgresql.conf', $opts{conf}) if $opts{conf};
	return $node;
}

# Start a node and create pg_extension_base in its postgres database.
sub start_with_extension
{
	my ($node) = @_;
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION pg_extension_base');
}

# What list_preload_libraries() reports, in load order: one expression per
# library, joined by spaces; optionally only the rows matching a condition.
sub preloaded
{
	my ($node, $expression, $where) = @_;
	return $node->safe_psql('postgres',
		"SELECT string_agg($expression, ' ' ORDER BY load_position) "
		  . 'FROM extension_base.list_preload_libraries()'
		  . ($where ? " WHERE $where" : ''));
}

# Define pgeb_test_load_log() (t/extensions/pgeb_test_preload.c) in a
# database without creating its extension, whose control file a test may
# have replaced.
sub create_load_log_function
{
	my ($node, $dbname) = @_;
	$node->safe_psql($dbname // 'postgres', q{
		CREATE FUNCTION pgeb_test_load_log(OUT load_order int,
			OUT library text, OUT at_server_start bool)
		RETURNS SETOF record LANGUAGE C STRICT
		AS 'pgeb_test_preload', 'pgeb_test_load_log'});
}

# How many lines of the node's log match a pattern.
sub log_count
{
	my ($node, $pattern) = @_;
	my $log = slurp_file($node->logfile);
	my @matches = ($log =~ /$pattern/gm);
	return scalar @matches;
}

# The base workers that run on a node, from pg_stat_activity (the
# processes, not our registry): "database/worker_name" sorted and joined by
# spaces; "" when none runs.
my $base_workers_query = q{
	SELECT coalesce(string_agg(datname || '/' || application_name, ' '
		ORDER BY datname, application_name), '')
	FROM pg_stat_activity
	WHERE backend_type = 'pg_extension_base base worker'};

sub base_workers
{
	my ($node) = @_;
	return $node->safe_psql('postgres', $base_workers_query);
}

# Poll until exactly the expected base workers run; one test.
sub wait_for_base_workers
{
	my ($node, $expected, $name) = @_;
	my $ok = $node->poll_query_until('postgres',
		"SELECT ($base_workers_query) = '$expected'");
	ok($ok, $name) or diag('running: "' . base_workers($node) . '"');
	return $ok;
}

# A query that is true when a database starter of a database waits for
# the lock on extension_base.workers, that is, for a transaction changing
# registrations there.  It polls for the lock instead of queueing
# (supervisor/database_starter.c), in its only wait of type Extension:
# PgExtensionBaseRegistrations on 17+, core's Extension before.
sub database_starter_waits
{
	my ($dbname) = @_;
	return qq{
		SELECT count(*) = 1 FROM pg_stat_activity
		WHERE backend_type = 'pg_extension_base database starter'
		AND datname = '$dbname' AND wait_event_type = 'Extension'
		AND wait_event IN ('PgExtensionBaseRegistrations', 'Extension')};
}

# The pid of a running base worker, from pg_stat_activity ("" when none).
sub base_worker_pid
{
	my ($node, $dbname, $worker_name) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT pid FROM pg_stat_activity
		WHERE backend_type = 'pg_extension_base base worker'
		AND datname = '$dbname' AND application_name = '$worker_name'});
}

# A query that is true when n attached workers run (and, with a condition
# on pg_stat_activity, when n of them meet it).  A warm worker waiting in
# the pool for its next call (extension_base.attached_pool, state idle)
# runs nothing: it does not count.  Needs pg_extension_base_attached in the
# database the query runs in.
sub attached_workers_running
{
	my ($n, $condition) = @_;
	return "SELECT count(*) = $n FROM pg_stat_activity a "
	  . "WHERE backend_type = 'pg_extension_base attached worker' "
	  . "AND NOT EXISTS (SELECT FROM extension_base.attached_pool p "
	  . "WHERE p.pid = a.pid AND p.state = 'idle')"
	  . ($condition ? " AND $condition" : '');
}

# The seed of a fuzz test: PGEB_FUZZ_SEED when set, else a new one.  It
# seeds rand(), is noted at the start and, if a test failed, repeated at
# the end (scripts/test shows the end of a failed test's log), so that a
# failure can be reproduced with PGEB_FUZZ_SEED=seed.
my $fuzz_seed;

sub fuzz_seed
{
	my $seed = $ENV{PGEB_FUZZ_SEED};

	if (defined $seed && $seed ne '')
	{
		die "PGEB_FUZZ_SEED must be a number from 0 to 4294967295, not \"$seed\""
		  unless $seed =~ /^\d{1,10}$/ && $seed <= 4294967295;
	}
	else
	{
		$seed = int(rand(4294967296));
	}
	$fuzz_seed = $seed + 0;
	srand($fuzz_seed);
	note("fuzz seed $fuzz_seed (repeat with PGEB_FUZZ_SEED=$fuzz_seed)");
	return $fuzz_seed;
}

END
{
	diag("fuzz seed $fuzz_seed: repeat with PGEB_FUZZ_SEED=$fuzz_seed")
	  if defined $fuzz_seed && !Test::More->builder->is_passing;
}

# A count from the environment variable $name (a positive integer), else
# $default.
sub fuzz_count
{
	my ($name, $default) = @_;
	my $count = $ENV{$name};

	return $default if !defined $count || $count eq '';
	die "$name must be a positive integer, not \"$count\""
	  unless $count =~ /^\d+$/ && $count > 0;
	return $count + 0;
}

1;
