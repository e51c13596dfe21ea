# Database DDL with base workers connected: CREATE DATABASE ... TEMPLATE of
# a live database, DROP DATABASE (plain, WITH (FORCE), failing), ALTER
# DATABASE RENAME / SET TABLESPACE succeed, and the workers resume
# afterwards; ALLOW_CONNECTIONS false and the per-database pause stop the
# workers without a restart loop, and reverting brings them back.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

my $node = new_node('database_ddl');
start_with_extension($node);

sub create_database_with_worker
{
	my ($db) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db,
		'SET client_min_messages = warning; CREATE EXTENSION pgeb_test_worker');
}

# Slots and starters of a database left in the registry.
sub registry_of
{
	my ($db) = @_;
	return $node->safe_psql(
		'postgres', qq{
		SELECT (SELECT count(*) FROM extension_base.list_base_workers() w
				JOIN pg_database d ON d.oid = w.database_id WHERE d.datname = '$db')
			+ (SELECT count(*) FROM extension_base.list_database_starters() s
				JOIN pg_database d ON d.oid = s.database_id WHERE d.datname = '$db')});
}

create_database_with_worker('live');
wait_for_base_workers($node, 'live/test_worker', 'the worker of live runs');

# CREATE DATABASE from a live database with a running worker
my $pid = base_worker_pid($node, 'live', 'test_worker');
$node->safe_psql('postgres', 'CREATE DATABASE copy TEMPLATE live');
pass('CREATE DATABASE ... TEMPLATE of a database with a running worker succeeds');
wait_for_base_workers($node, 'copy/test_worker live/test_worker',
	'the copy runs its worker and the source\'s worker resumes');
isnt(base_worker_pid($node, 'live', 'test_worker'),
	$pid, 'the source\'s worker was stopped for the copy');

# CREATE DATABASE from the database the session is connected to
$node->safe_psql('live', 'CREATE DATABASE copy2 TEMPLATE live');
pass('CREATE DATABASE ... TEMPLATE of the current database, with its worker running, succeeds');
wait_for_base_workers($node, 'copy/test_worker copy2/test_worker live/test_worker',
	'both copies and the source run their workers');
$node->safe_psql('postgres', 'DROP DATABASE copy2');

# DROP DATABASE with the worker connected
$node->safe_psql('postgres', 'DROP DATABASE copy');
pass('DROP DATABASE succeeds with a worker connected');
wait_for_base_workers($node, 'live/test_worker', 'only live runs a worker');
is(registry_of('copy'), '0', 'the dropped database left no slot');

# DROP DATABASE WITH (FORCE), a client connected as well
create_database_with_worker('forced');
wait_for_base_workers($node, 'forced/test_worker live/test_worker',
	'the worker of forced runs');
my $client = $node->background_psql('forced', on_error_stop => 0);
$node->safe_psql('postgres', 'DROP DATABASE forced WITH (FORCE)');
pass('DROP DATABASE WITH (FORCE) succeeds');
wait_for_base_workers($node, 'live/test_worker', 'forced\'s worker is gone');
eval { $client->quit };

# DROP DATABASE that fails because another client is connected: the workers
# resume at once
$client = $node->background_psql('live', on_error_stop => 0);
$pid = base_worker_pid($node, 'live', 'test_worker');
my ($ret, $stdout, $stderr) =
  $node->psql('postgres', 'DROP DATABASE live');
like($stderr, qr/is being accessed by other users/,
	'DROP DATABASE fails while a client is connected');
wait_for_base_workers($node, 'live/test_worker',
	'after the failed DROP DATABASE the worker runs again');
is( $node->safe_psql(
		'live', q{
		SELECT failure_count || ' ' || last_exit_reason
		FROM extension_base.base_workers}),
	'0 stopped: database DDL',
	'it was stopped for the DDL, not failed');
$client->quit;

# a user who may not drop the database does not disturb its workers
$node->safe_psql('postgres', 'CREATE ROLE mallory LOGIN CREATEDB');
$pid = base_worker_pid($node, 'live', 'test_worker');
($ret, $stdout, $stderr) =
  $node->psql('postgres', 'DROP DATABASE live', extra_params => [ '-U', 'mallory' ]);
like($stderr, qr/must be owner of database live/,
	'a non-owner cannot drop the database');
is(base_worker_pid($node, 'live', 'test_worker'),
	$pid, 'and its worker was never stopped');

# RENAME with the worker connected
$pid = base_worker_pid($node, 'live', 'test_worker');
$node->safe_psql('postgres', 'ALTER DATABASE live RENAME TO renamed');
pass('ALTER DATABASE RENAME succeeds with a worker connected');
wait_for_base_workers($node, 'renamed/test_worker',
	'the worker resumes in the renamed database');
$node->safe_psql('postgres', 'ALTER DATABASE renamed RENAME TO live');
wait_for_base_workers($node, 'live/test_worker', 'and after renaming back');

# SET TABLESPACE with the worker connected
my $location = PostgreSQL::Test::Utils::tempdir();
$node->safe_psql('postgres', "CREATE TABLESPACE space LOCATION '$location'");
$pid = base_worker_pid($node, 'live', 'test_worker');
$node->safe_psql('postgres', 'ALTER DATABASE live SET TABLESPACE space');
pass('ALTER DATABASE SET TABLESPACE succeeds with a worker connected');
wait_for_base_workers($node, 'live/test_worker', 'the worker resumes');
isnt(base_worker_pid($node, 'live', 'test_worker'), $pid, 'in a new process');
is( $node->safe_psql(
		'postgres', q{
		SELECT t.spcname FROM pg_database d JOIN pg_tablespace t
		ON t.oid = d.dattablespace WHERE d.datname = 'live'}),
	'space',
	'the database moved');

# ALLOW_CONNECTIONS false: the worker stops and nothing tries to start it
$node->safe_psql('postgres', 'ALTER DATABASE live ALLOW_CONNECTIONS false');
wait_for_base_workers($node, '', 'ALLOW_CONNECTIONS false stops the worker');
ok($node->poll_query_until('postgres', "SELECT (" . registry_of('live') . ") = 0"),
	'and it holds no slot');
# a scan of another database passes; a restart loop in live would have
# logged failed connections or failed workers by then
create_database_with_worker('other');
wait_for_base_workers($node, 'other/test_worker', 'another database starts its worker');
is( log_count($node, qr/is not currently accepting connections|base worker .* failed/),
	0,
	'no attempt to run anything in the database that does not allow connections');
is(registry_of('live'), '0', 'still no slot for it');
$node->safe_psql('postgres', 'ALTER DATABASE live ALLOW_CONNECTIONS true');
wait_for_base_workers($node, 'live/test_worker other/test_worker',
	'ALLOW_CONNECTIONS true brings it back');

# per-database pause
$node->safe_psql('postgres',
	'ALTER DATABASE live SET pg_extension_base.base_workers_enabled = off');
wait_for_base_workers($node, 'other/test_worker',
	'base_workers_enabled = off pauses the workers of live only');
$node->safe_psql('postgres',
	'ALTER DATABASE live RESET pg_extension_base.base_workers_enabled');
wait_for_base_workers($node, 'live/test_worker other/test_worker',
	'RESET resumes them');

$node->stop;
ok(!$node->log_contains('TRAP:|PANIC:|terminated by signal'),
	'no crash, assertion failure or PANIC');
done_testing();
