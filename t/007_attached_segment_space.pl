# Attached workers' shared segments come from room reserved in the main
# shared memory: pg_extension_base raises min_dynamic_shared_memory's
# default (256 kB per max_worker_processes, whole MB, 1 to 64 MB), an
# administrator's own setting (even 0) wins, and a segment larger than the
# room is still made the usual way.
#
# Where a segment lives is seen in /proc/PID/maps: a segment made the usual
# way is a mapping of /dev/shm/PostgreSQL.N that both the caller and its
# worker have and an idle backend does not; one carved out of the main
# shared memory is no file of its own.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

use constant WORKER_TYPE => 'pg_extension_base attached worker';

# the /proc/PID/maps check needs POSIX segments, whatever TEMP_CONFIG says
my $posix = "dynamic_shared_memory_type = posix\n";

# The dynamic shared memory files a process has mapped, with their sizes.
sub shm_mappings
{
	my ($pid) = @_;
	my %files;
	open my $maps, '<', "/proc/$pid/maps"
	  or die "could not read /proc/$pid/maps: $!";
	no warnings 'portable';    # 64-bit addresses
	while (my $line = <$maps>)
	{
		next
		  unless $line =~ m{^([0-9a-f]+)-([0-9a-f]+) .*(/dev/shm/PostgreSQL\.\d+)};
		$files{$3} += hex($2) - hex($1);
	}
	close $maps;
	return \%files;
}

# Run a command that sleeps in an attached worker; return the sizes of the
# segments the worker and its caller share and an idle backend does not
# (the attached worker's own segment, when it was made the usual way),
# then cancel the caller.
sub own_segments
{
	my ($node, $command) = @_;
	my $caller = $node->background_psql('postgres', on_error_stop => 0);
	my $caller_pid = $caller->query_safe('SELECT pg_backend_pid()');
	$caller->query_until(qr/started/, qq{
		\\echo started
		SELECT * FROM extension_base.run_attached(\$\$$command\$\$);
	});
	ok( $node->poll_query_until('postgres',
			attached_workers_running(1, "state = 'active'")),
		$node->name . ': the attached worker runs');
	my $worker_pid = $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = '"
		  . WORKER_TYPE . "'");
	my $idle = $node->background_psql('postgres');
	my $idle_pid = $idle->query_safe('SELECT pg_backend_pid()');

	my ($worker, $by_caller, $by_idle) =
	  map { shm_mappings($_) } ($worker_pid, $caller_pid, $idle_pid);
	my @sizes = sort { $a <=> $b }
	  map { $worker->{$_} }
	  grep { $by_caller->{$_} && !$by_idle->{$_} } keys %$worker;

	$idle->quit;
	$node->safe_psql('postgres', "SELECT pg_cancel_backend($caller_pid)");
	ok($node->poll_query_until('postgres', attached_workers_running(0)),
		$node->name . ': cancelling the caller ends the worker');
	$caller->quit;
	return @sizes;
}

my $sleep = 'SELECT pg_sleep(300)';
my $mb = 1024 * 1024;

# --- not set: pg_extension_base's default ---

my $node = new_node('reserved', conf => $posix . "max_worker_processes = 12\n");
start_with_extension($node);

is( $node->safe_psql('postgres',
		"SELECT setting || ' ' || unit || ' ' || source FROM pg_settings "
		  . "WHERE name = 'min_dynamic_shared_memory'"),
	'3 MB default',
	'min_dynamic_shared_memory: 256 kB per worker process (12: 3 MB), as a default');
is(scalar(my @none = own_segments($node, $sleep)), 0,
	'the attached worker and its caller share no segment file');

# The segment carries the command: one larger than the room is made the
# usual way, and the command runs.
my $big = 'x' x (4 * $mb);
my @sizes = own_segments($node, "SELECT length('$big'), pg_sleep(300)");
ok(@sizes == 1 && $sizes[0] > 4 * $mb,
	'a command larger than the room gets a segment file of its own')
  or diag("segment sizes: @sizes");
is( $node->safe_psql('postgres',
		"SELECT x FROM extension_base.run_attached_returning("
		  . "\$\$SELECT length('$big')\$\$) AS t(x int)"),
	4 * $mb,
	'and its command runs and returns its result');

# the seed example, on a server that reserves room
$node->safe_psql('postgres', 'CREATE TABLE records (v text)');
$node->safe_psql('postgres', q{
	BEGIN;
	SELECT * FROM extension_base.run_attached($$insert into records values ('commits immediately')$$);
	ROLLBACK;
});
is($node->safe_psql('postgres', 'SELECT v FROM records'),
	'commits immediately', 'an attached INSERT survives the caller\'s rollback');
$node->stop;

# the bounds
my $small = new_node('small', conf => "max_worker_processes = 2\n");
$small->start;
is($small->safe_psql('postgres', 'SHOW min_dynamic_shared_memory'),
	'1MB', 'max_worker_processes = 2 reserves 1 MB, the least');
$small->stop;

my $many = new_node('many', conf => "max_worker_processes = 300\n");
$many->start;
is($many->safe_psql('postgres', 'SHOW min_dynamic_shared_memory'),
	'64MB', 'max_worker_processes = 300 reserves 64 MB, the most');
$many->stop;

# --- the administrator's setting wins, even 0 ---

my $zero = new_node('zero',
	conf => $posix . "max_worker_processes = 12\nmin_dynamic_shared_memory = 0\n");
start_with_extension($zero);
is( $zero->safe_psql('postgres',
		"SELECT setting || ' ' || source FROM pg_settings "
		  . "WHERE name = 'min_dynamic_shared_memory'"),
	'0 configuration file', 'an explicit min_dynamic_shared_memory = 0 stays');

# and the check above can tell: here the worker's segment is a file
@sizes = own_segments($zero, $sleep);
ok(@sizes == 1 && $sizes[0] < $mb,
	'without room the attached worker and its caller share one small segment file')
  or diag("segment sizes: @sizes");
$zero->stop;

# a smaller setting than ours wins too: it is not a default
my $altered = new_node('altered', conf => "max_worker_processes = 12\n");
$altered->start;
$altered->safe_psql('postgres',
	"ALTER SYSTEM SET min_dynamic_shared_memory = '2MB'");
$altered->restart;
is($altered->safe_psql('postgres', 'SHOW min_dynamic_shared_memory'),
	'2MB', 'ALTER SYSTEM SET min_dynamic_shared_memory wins');
$altered->stop;

# --- without pg_extension_base, core's default ---

my $plain = new_node('plain', preload => 0);
$plain->start;
is($plain->safe_psql('postgres', 'SHOW min_dynamic_shared_memory'),
	'0', 'a server without pg_extension_base keeps core\'s default');
$plain->stop;

done_testing();
