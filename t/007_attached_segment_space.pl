# Attached workers' shared segments come from room reserved in the main
# shared memory: pg_extension_base raises min_dynamic_shared_memory's
# default (256 kB per max_worker_processes, whole MB, 1 to 64 MB), an
# administrator's own setting (even 0) wins, and a segment larger than the
# room is still made the usual way.
#
# Where a segment lives is seen in the worker's /proc/PID/maps: a segment
# of its own is a mapping of /dev/shm/PostgreSQL.N that an idle backend
# does not have; one carved out of the main shared memory is not.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

use constant WORKER_TYPE => 'pg_extension_base attached worker';

# What pg_extension_base sets for a given max_worker_processes.
sub expected_megabytes
{
	my ($max_worker_processes) = @_;
	my $mb = int(($max_worker_processes * 256 + 1023) / 1024);
	return $mb < 1 ? 1 : $mb > 64 ? 64 : $mb;
}

# The dynamic shared memory files a process has mapped.
sub shm_mappings
{
	my ($pid) = @_;
	open my $maps, '<', "/proc/$pid/maps"
	  or die "could not read /proc/$pid/maps: $!";
	my %files = map { m{(/dev/shm/PostgreSQL\.\d+)} ? ($1 => 1) : () } <$maps>;
	close $maps;
	return join(' ', sort keys %files);
}

# Run a long attached command; return the segments its worker has mapped
# that an idle backend has not, then end it.
sub worker_segments
{
	my ($node) = @_;
	my $caller = $node->background_psql('postgres', on_error_stop => 0);
	$caller->query_until(qr/started/, q{
		\echo started
		SELECT * FROM extension_base.run_attached('SELECT pg_sleep(300)');
	});
	ok( $node->poll_query_until('postgres',
			"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = '"
			  . WORKER_TYPE . "'"),
		$node->name . ': the attached worker runs');
	my $worker = $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = '"
		  . WORKER_TYPE . "'");
	my $idle = $node->background_psql('postgres');
	my $idle_pid = $idle->query_safe('SELECT pg_backend_pid()');

	my %idle_files = map { $_ => 1 } split / /, shm_mappings($idle_pid);
	my @own = grep { !$idle_files{$_} } split / /, shm_mappings($worker);

	$idle->quit;
	$node->safe_psql('postgres', "SELECT pg_cancel_backend(pid) "
		  . "FROM pg_stat_activity WHERE backend_type = 'client backend' "
		  . "AND query LIKE '%run_attached%pg_sleep%' AND pid <> pg_backend_pid()");
	ok( $node->poll_query_until('postgres',
			"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = '"
			  . WORKER_TYPE . "'"),
		$node->name . ': cancelling the caller ends the worker');
	$caller->quit;
	return scalar @own;
}

# --- not set: pg_extension_base's default ---

my $node = new_node('reserved', conf => "max_worker_processes = 12\n");
start_with_extension($node);

is( $node->safe_psql('postgres',
		"SELECT setting || ' ' || unit || ' ' || source FROM pg_settings "
		  . "WHERE name = 'min_dynamic_shared_memory'"),
	expected_megabytes(12) . ' MB default',
	'min_dynamic_shared_memory: 256 kB per worker process, as a default');
is(worker_segments($node), 0,
	'the attached worker maps no segment of its own');

# The segment carries the command: one larger than the room is made the
# usual way, and the command runs.
my $big = 'x' x (3 * 1024 * 1024);
is( $node->safe_psql('postgres',
		"SELECT command_tag FROM extension_base.run_attached("
		  . "\$\$SELECT length('$big')\$\$)"),
	'SELECT 1',
	'a command larger than the reserved room still runs');
is( $node->safe_psql('postgres',
		"SELECT x FROM extension_base.run_attached_returning("
		  . "\$\$SELECT length('$big')\$\$) AS t(x int)"),
	3 * 1024 * 1024,
	'and returns its result');

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

# the formula's bounds
is(expected_megabytes(2), 1, 'at least 1 MB');
is(expected_megabytes(1000), 64, 'at most 64 MB');
my $small = new_node('small', conf => "max_worker_processes = 2\n");
$small->start;
is($small->safe_psql('postgres', 'SHOW min_dynamic_shared_memory'),
	'1MB', 'max_worker_processes = 2 reserves 1 MB');
$small->stop;

# --- the administrator's setting wins, even 0 ---

my $zero = new_node('zero',
	conf => "max_worker_processes = 12\nmin_dynamic_shared_memory = 0\n");
start_with_extension($zero);
is( $zero->safe_psql('postgres',
		"SELECT setting || ' ' || source FROM pg_settings "
		  . "WHERE name = 'min_dynamic_shared_memory'"),
	'0 configuration file', 'an explicit min_dynamic_shared_memory = 0 stays');

# and the check above can tell: here the worker maps a segment of its own
is(worker_segments($zero), 1,
	'without reserved room the attached worker maps its own segment');
$zero->stop;

my $altered = new_node('altered', conf => "max_worker_processes = 12\n");
$altered->start;
$altered->safe_psql('postgres', "ALTER SYSTEM SET min_dynamic_shared_memory = '5MB'");
$altered->restart;
is($altered->safe_psql('postgres', 'SHOW min_dynamic_shared_memory'),
	'5MB', 'ALTER SYSTEM SET min_dynamic_shared_memory wins');
$altered->stop;

# --- without pg_extension_base, core's default ---

my $plain = new_node('plain', preload => 0);
$plain->start;
is($plain->safe_psql('postgres', 'SHOW min_dynamic_shared_memory'),
	'0', 'a server without pg_extension_base keeps core\'s default');
$plain->stop;

done_testing();
