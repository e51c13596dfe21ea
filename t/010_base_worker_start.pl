# Base workers start: after the COMMIT of CREATE EXTENSION (never before,
# never after a ROLLBACK), after ALTER EXTENSION UPDATE registers another
# worker, in every database that has the extension (never in a template),
# and again after a restart and a crash restart.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

# PostgreSQL::Test::Cluster turns crash restarts off; this test needs them
my $node = new_node('start', conf => "restart_after_crash = on\n");
start_with_extension($node);

is( $node->safe_psql(
		'postgres', q{
		SELECT count(*) FROM pg_stat_activity
		WHERE backend_type = 'pg_extension_base server starter'}),
	'1',
	'the server starter runs, under its documented process name');

for my $db ('db1', 'db2')
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'SET client_min_messages = warning; CREATE EXTENSION pg_extension_base');
}

# CREATE EXTENSION: a database starter that looks at db1 meanwhile waits for
# the transaction, and the worker does not start before COMMIT
my $session = $node->background_psql('db1', on_error_stop => 0);
$session->query_safe('SET client_min_messages = warning');
$session->query_safe('BEGIN');
$session->query_safe('CREATE EXTENSION pgeb_test_worker CASCADE');
# any change to a database's settings makes the server starter scan it
$node->safe_psql('postgres', 'ALTER DATABASE db1 RESET work_mem');
ok($node->poll_query_until('postgres', database_starter_waits('db1')),
	'the database starter waits for the transaction that registers');
is(base_workers($node), '', 'no worker runs before COMMIT');
$session->query_safe('COMMIT');
wait_for_base_workers($node, 'db1/test_worker',
	'the worker starts after COMMIT');
is( $node->safe_psql(
		'db1', q{
		SELECT pid = extension_base.get_worker_pid(worker_id) AND state = 'running'
		FROM extension_base.base_workers}
	),
	't',
	'base_workers and get_worker_pid report it');

# ROLLBACK starts nothing: after the starter has looked, still no worker
$session = $node->background_psql('db2', on_error_stop => 0);
$session->query_safe('SET client_min_messages = warning');
$session->query_safe('BEGIN');
$session->query_safe('CREATE EXTENSION pgeb_test_worker CASCADE');
$node->safe_psql('postgres', 'ALTER DATABASE db2 RESET work_mem');
ok($node->poll_query_until('postgres', database_starter_waits('db2')),
	'the database starter of db2 waits');
$session->query_safe('ROLLBACK');
ok( $node->poll_query_until(
		'postgres', q{
		SELECT count(*) = 0 FROM pg_stat_activity
		WHERE backend_type = 'pg_extension_base database starter'}),
	'after ROLLBACK the starter has looked and exited');
is(base_workers($node), 'db1/test_worker', 'and started nothing');
is($node->safe_psql('postgres', q{
		SELECT count(*) FROM extension_base.list_base_workers()
		WHERE database_id = (SELECT oid FROM pg_database WHERE datname = 'db2')}),
	'0', 'nor kept a slot for db2');

$session->query_safe('CREATE EXTENSION pgeb_test_worker CASCADE');
wait_for_base_workers($node, 'db1/test_worker db2/test_worker',
	'CREATE EXTENSION in autocommit starts the worker in db2');
$session->quit;

# the worker's entry point ran with its id, under the documented names
is( $node->safe_psql(
		'db1', q{
		SELECT r.worker_id = w.worker_id AND a.application_name = 'test_worker'
		FROM pgeb_test_worker.runs r
		JOIN extension_base.workers w ON w.worker_name = 'test_worker'
		JOIN pg_stat_activity a ON a.pid = r.pid}),
	't',
	'the entry point got its worker id; application_name is the worker name');

# ALTER EXTENSION UPDATE registers a second worker; it starts after COMMIT
$node->safe_psql('db1', 'ALTER EXTENSION pgeb_test_worker UPDATE TO \'1.1\'');
wait_for_base_workers($node,
	'db1/test_worker db1/test_worker_b db2/test_worker',
	'a worker registered by ALTER EXTENSION UPDATE starts');

# a template never runs workers; a database made from it does
$node->safe_psql('postgres', 'CREATE DATABASE tmpl');
$node->safe_psql('tmpl', 'CREATE EXTENSION pgeb_test_worker CASCADE');
wait_for_base_workers($node,
	'db1/test_worker db1/test_worker_b db2/test_worker tmpl/test_worker',
	'tmpl runs its worker while it is a plain database');
$node->safe_psql('postgres',
	'ALTER DATABASE tmpl WITH IS_TEMPLATE true');
wait_for_base_workers($node,
	'db1/test_worker db1/test_worker_b db2/test_worker',
	'IS_TEMPLATE true stops its worker');
$node->safe_psql('postgres', 'CREATE DATABASE fromtmpl TEMPLATE tmpl');
wait_for_base_workers($node,
	'db1/test_worker db1/test_worker_b db2/test_worker fromtmpl/test_worker',
	'a database created from the template runs the worker, the template not');
$node->safe_psql('postgres',
	'ALTER DATABASE tmpl WITH IS_TEMPLATE false');
my $all =
  'db1/test_worker db1/test_worker_b db2/test_worker fromtmpl/test_worker tmpl/test_worker';
wait_for_base_workers($node, $all, 'IS_TEMPLATE false brings it back');

# restart: everything runs again
$node->restart;
wait_for_base_workers($node, $all, 'after a restart every worker runs again');

# crash restart: SIGKILL of a worker makes the postmaster reinitialise
my $pid = base_worker_pid($node, 'db1', 'test_worker');
my $log_offset = -s $node->logfile;
kill 'KILL', $pid;
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = "
		  . "'pg_extension_base server starter'"),
	'the server comes back after the crash');
ok($node->log_contains('terminating any other active server processes',
		$log_offset), 'SIGKILL of a worker made the postmaster crash-restart');
wait_for_base_workers($node, $all,
	'after a crash restart every worker runs again');
isnt(base_worker_pid($node, 'db1', 'test_worker'), $pid, 'in a new process');

$node->stop;
ok(!$node->log_contains('TRAP:|PANIC:'), 'no assertion failure or PANIC');
done_testing();
