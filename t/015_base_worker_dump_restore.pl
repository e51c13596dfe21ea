# Dump and restore: registrations are rows that name their worker, entry
# point and extension, and the table is not a configuration table, so
# pg_dump leaves its rows out and the restored CREATE EXTENSION registers
# the workers again, once.  A database with a running base worker, dumped
# with pg_dump -Fc and restored with pg_restore into a new database (also
# in a single transaction, and with --clean over a database whose worker
# runs), runs the worker there too, with exactly one registration.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

my $node = new_node('dump_restore');
start_with_extension($node);
$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src',
	'SET client_min_messages = warning; CREATE EXTENSION pgeb_test_worker CASCADE');
wait_for_base_workers($node, 'src/test_worker', 'the worker runs in src');

my $dump = "$PostgreSQL::Test::Utils::tmp_check/dump_restore.dump";
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('src') ],
	'pg_dump -Fc of the database with the running worker');

# the rows of extension_base.workers are not in the dump: only the restored
# extension scripts register workers
my ($stdout, $stderr) = run_command([ 'pg_restore', '-f', '-', $dump ]);
like($stdout, qr/CREATE EXTENSION IF NOT EXISTS pgeb_test_worker/,
	'the dump creates the extension');
unlike($stdout, qr/COPY extension_base\.workers|INSERT INTO extension_base\.workers/,
	'the dump holds no registration rows');

# The registrations of a database, one "name extension entry_point_ok"
# each, sorted, joined by commas; entry_point_ok says that the stored entry
# point names the extension's function in this database.
sub registrations
{
	my ($dbname) = @_;
	return $node->safe_psql($dbname, q{
		SELECT string_agg(worker_name || ' ' || extension_name || ' '
			|| (format('%I.%I(internal)', entry_point_schema,
					entry_point_function)::regprocedure
				= 'pgeb_test_worker.worker_main(internal)'::regprocedure),
			',' ORDER BY worker_name)
		FROM extension_base.workers});
}

# The restored worker runs, under one registration, and its entry point ran
# in the restored database, in the process pg_stat_activity shows.
sub restored_worker_runs
{
	my ($dbname, $expected, $how) = @_;
	wait_for_base_workers($node, $expected, "$how: the worker runs in $dbname");
	is(registrations($dbname),
		'test_worker pgeb_test_worker true',
		"$how: $dbname has exactly one registration");
	my $pid = base_worker_pid($node, $dbname, 'test_worker');
	is( $node->safe_psql(
			$dbname, q{
			SELECT extension_base.get_worker_pid(worker_id)
			FROM extension_base.workers WHERE worker_name = 'test_worker'}),
		$pid,
		"$how: get_worker_pid in $dbname returns it");
	ok( $node->poll_query_until(
			$dbname, qq{
			SELECT count(*) = 1 FROM pgeb_test_worker.runs r
			JOIN extension_base.workers w ON w.worker_id = r.worker_id
			WHERE r.pid = $pid}),
		"$how: its entry point ran in $dbname");
}

$node->command_ok([ 'createdb', 'dst' ], 'createdb dst');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('dst'), $dump ],
	'pg_restore into dst succeeds');
restored_worker_runs('dst', 'dst/test_worker src/test_worker', 'pg_restore');
is(registrations('src'),
	'test_worker pgeb_test_worker true',
	'src keeps its one registration');

# in one transaction: the worker starts after the COMMIT
$node->command_ok([ 'createdb', 'dst1' ], 'createdb dst1');
$node->command_ok(
	[ 'pg_restore', '--single-transaction', '-d', $node->connstr('dst1'), $dump ],
	'pg_restore --single-transaction into dst1 succeeds');
restored_worker_runs('dst1', 'dst/test_worker dst1/test_worker src/test_worker',
	'pg_restore --single-transaction');

# --clean over dst while its worker runs: the extensions are dropped (the
# worker stops) and created again (it starts again), with one registration
my $old_pid = base_worker_pid($node, 'dst', 'test_worker');
$node->command_ok(
	[ 'pg_restore', '--clean', '--if-exists', '-d', $node->connstr('dst'), $dump ],
	'pg_restore --clean over dst succeeds while its worker runs');
restored_worker_runs('dst', 'dst/test_worker dst1/test_worker src/test_worker',
	'pg_restore --clean');
isnt(base_worker_pid($node, 'dst', 'test_worker'),
	$old_pid, 'pg_restore --clean: the worker runs in a new process');

$node->stop;
ok(!$node->log_contains('TRAP:|PANIC:|terminated by signal'),
	'no crash, assertion failure or PANIC');
done_testing();
