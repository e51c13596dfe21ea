# The SQL surface of the original pg_extension_base (pg_lake), which
# extensions written against it rely on (issue 14):
#   a. extension_base.workers has the original's columns and constraints;
#   b. an update script written the original's way, which moves its entry
#      point to another schema and says so with UPDATE ... SET
#      entry_point_schema, leaves the worker running, and it restarts from
#      the new place;
#   c. get_worker_pid of an id that does not exist is 0;
#   d. a database made by our SQL 1.0 keeps its registrations (ids, names)
#      and its running workers (same processes, no restart) through ALTER
#      EXTENSION pg_extension_base_supervisor UPDATE, and the id counter
#      goes on where it was;
#   e. the server starter's application_name is its process name;
#   f. START_TRANSACTION gives each transaction of a long-lived worker its
#      own statement and transaction time, and END_TRANSACTION aborts the
#      failed transaction before the error reaches the worker.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

# pgeb_t030_mover: a base worker (pgeb_test_worker's entry point, which
# records its starts in pgeb_test_worker.runs) whose 1.1 moves the entry
# point from schema pgeb_t030_old to pgeb_t030_new as the original's
# extensions do: a new function there, the old one dropped, the
# registration updated with plain SQL.
my $install = install_copy('original_sql');
write_extension_file($install, 'pgeb_t030_mover.control', q{
comment = 'a base worker whose update moves its entry point'
default_version = '1.1'
relocatable = false
requires = 'pgeb_test_worker'
});
write_extension_file($install, 'pgeb_t030_mover--1.0.sql', q{
CREATE SCHEMA pgeb_t030_old;
CREATE FUNCTION pgeb_t030_old.mover_main(internal) RETURNS internal
LANGUAGE C AS '$libdir/pgeb_test_worker', 'pgeb_test_worker_main';
SELECT extension_base.register_worker('mover', 'pgeb_t030_old.mover_main');
});
write_extension_file($install, 'pgeb_t030_mover--1.0--1.1.sql', q{
CREATE SCHEMA pgeb_t030_new;
CREATE FUNCTION pgeb_t030_new.mover_main(internal) RETURNS internal
LANGUAGE C AS '$libdir/pgeb_test_worker', 'pgeb_test_worker_main';
DROP FUNCTION pgeb_t030_old.mover_main(internal);
DROP SCHEMA pgeb_t030_old;
UPDATE extension_base.workers SET entry_point_schema = 'pgeb_t030_new'
WHERE worker_name = 'mover';
});

# a failed worker restarts soon
my $node = new_node(
	'original_sql',
	install => $install,
	conf => "pg_extension_base.worker_restart_backoff_initial = '100ms'\n");
$node->start;

sub query
{
	my ($dbname, $sql) = @_;
	return $node->safe_psql($dbname, $sql);
}

# --- e. the server starter's application_name ---------------------------

ok( $node->poll_query_until(
		'postgres', q{
		SELECT count(*) = 1 FROM pg_stat_activity
		WHERE backend_type = 'pg_extension_base server starter'}),
	'the server starter runs');
is( query(
		'postgres', q{
		SELECT application_name FROM pg_stat_activity
		WHERE backend_type = 'pg_extension_base server starter'}),
	'pg_extension_base server starter',
	'e. its application_name is its process name');

# --- a. the columns and constraints of extension_base.workers ----------

query('postgres', 'CREATE EXTENSION pg_extension_base');
is( query(
		'postgres', q{
		SELECT extversion FROM pg_extension
		WHERE extname = 'pg_extension_base_supervisor'}),
	'1.1',
	'CREATE EXTENSION installs the supervisor\'s SQL at 1.1');

is( query(
		'postgres', q{
		SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod)
			|| CASE WHEN attnotnull THEN ' not null' ELSE '' END, ', '
			ORDER BY attnum)
		FROM pg_attribute
		WHERE attrelid = 'extension_base.workers'::regclass
		AND attnum > 0 AND NOT attisdropped}),
	'worker_id integer not null, worker_name text not null, '
	  . 'extension_name name not null, entry_point_schema name not null, '
	  . 'entry_point_function name not null',
	'a. the columns of extension_base.workers are the original\'s, in its order');
# (not-null constraints, which PostgreSQL 18 keeps in pg_constraint, are
# checked above)
is( query(
		'postgres', q{
		SELECT string_agg(conname || ' ' || pg_get_constraintdef(oid), ', '
			ORDER BY conname)
		FROM pg_constraint
		WHERE conrelid = 'extension_base.workers'::regclass
		AND contype IN ('p', 'u', 'c', 'f', 'x')}),
	'name_length CHECK ((char_length(worker_name) <= 255)), '
	  . 'worker_id_unique UNIQUE (worker_id), '
	  . 'workers_pk PRIMARY KEY (worker_name)',
	'a. and so are its constraints');
is( query(
		'postgres', q{
		SELECT a.attidentity = '' AND pg_get_expr(d.adbin, d.adrelid)
			= 'nextval(''extension_base.workers_worker_id_seq''::regclass)'
			AND pg_get_serial_sequence('extension_base.workers', 'worker_id')
			= 'extension_base.workers_worker_id_seq'
		FROM pg_attribute a
		JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		WHERE a.attrelid = 'extension_base.workers'::regclass
		AND a.attname = 'worker_id'}),
	't',
	'a. worker_id is a serial, as the original\'s');
is( query(
		'postgres', q{
		SELECT status FROM extension_base.modules()
		WHERE module_name = 'pg_extension_base_supervisor'}),
	'ok',
	'modules() finds the supervisor\'s SQL version matching its library');

# --- f. the transaction macros -------------------------------------------

query('postgres', q{
	BEGIN;
	CREATE EXTENSION pgeb_test_worker;
	INSERT INTO pgeb_test_worker.behaviour VALUES ('test_worker', 'transactions');
	COMMIT});
my $test_worker_id = query('postgres',
	q{SELECT worker_id FROM extension_base.workers WHERE worker_name = 'test_worker'});
ok( $node->poll_query_until(
		'postgres', q{
		SELECT count(*) = 1 FROM pgeb_test_worker.transactions
		WHERE step = 'after_error'}),
	'the worker ran its transactions');
is( query(
		'postgres', q{
		SELECT string_agg(step, ' ' ORDER BY clock_time)
		FROM pgeb_test_worker.transactions}),
	'first second after_error',
	'the blocks that ended with END_TRANSACTION committed; the failed one left nothing');
is( query(
		'postgres', q{
		SELECT s.statement_time > f.clock_time AND s.transaction_time > f.clock_time
		FROM pgeb_test_worker.transactions f, pgeb_test_worker.transactions s
		WHERE f.step = 'first' AND s.step = 'second'}),
	't',
	'f. START_TRANSACTION: statement_timestamp() and now() of the second '
	  . 'transaction are later than anything the first one saw');
is( query(
		'postgres', q{
		SELECT open_after_error FROM pgeb_test_worker.transactions
		WHERE step = 'after_error'}),
	'f',
	'f. END_TRANSACTION aborted the failed transaction before it re-threw');
is( query(
		'postgres', qq{
		SELECT count(DISTINCT pid) = 1 AND min(pid) = extension_base.get_worker_pid($test_worker_id)
		FROM pgeb_test_worker.transactions}),
	't',
	'and the worker that caught the error runs on, in the same process');

# --- c. get_worker_pid of an id that does not exist ----------------------

is(query('postgres', 'SELECT extension_base.get_worker_pid(99999)'),
	'0', 'c. get_worker_pid(99999) is 0: no such worker');
is(query('postgres', "SELECT extension_base.get_worker_pid($test_worker_id) > 0"),
	't', 'and get_worker_pid of a running worker is its pid');

# --- b. an update script that moves its entry point ----------------------

query('postgres', q{CREATE EXTENSION pgeb_t030_mover VERSION '1.0'});
wait_for_base_workers($node, 'postgres/mover postgres/test_worker',
	'the worker of pgeb_t030_mover 1.0 runs');
my $mover_id = query('postgres',
	q{SELECT worker_id FROM extension_base.workers WHERE worker_name = 'mover'});
is( query(
		'postgres', q{
		SELECT entry_point_schema || '.' || entry_point_function
		FROM extension_base.workers WHERE worker_name = 'mover'}),
	'pgeb_t030_old.mover_main',
	'register_worker records the entry point as schema and function name');
my $mover_pid = base_worker_pid($node, 'postgres', 'mover');

query('postgres', q{ALTER EXTENSION pgeb_t030_mover UPDATE TO '1.1'});
is( query(
		'postgres', q{
		SELECT worker_id || ' ' || entry_point_schema || '.' || entry_point_function
		FROM extension_base.workers WHERE worker_name = 'mover'}),
	"$mover_id pgeb_t030_new.mover_main",
	'b. the update script moved the registration to the new schema');
is(base_worker_pid($node, 'postgres', 'mover'),
	$mover_pid, 'b. the worker runs on through the update');

# Its next start must find the entry point in the new schema: the old
# function is gone, and the new one has another oid.  Terminated from
# outside, it fails and restarts after a backoff; a start that still
# looked for the old function would fail again and again (nothing else
# here asks for a new look at the registrations than the update itself).
query('postgres', "SELECT pg_terminate_backend($mover_pid)");
ok( $node->poll_query_until(
		'postgres', qq{
		SELECT count(*) = 1 FROM pgeb_test_worker.runs r
		JOIN extension_base.base_workers b ON b.pid = r.pid
		WHERE r.worker_id = $mover_id AND r.pid <> $mover_pid
		AND b.worker_name = 'mover' AND b.state = 'running'}),
	'b. restarted, the worker runs from the new place');

# --- d. a database at our SQL 1.0, updated -------------------------------

query('postgres', 'CREATE DATABASE olddb');
# the dependency hook would bring the supervisor to its default version
query('olddb', q{
	SET pg_extension_base.enable_extension_dependency_update = off;
	CREATE EXTENSION pg_extension_base_supervisor VERSION '1.0';
	CREATE EXTENSION pg_extension_base;
	CREATE EXTENSION pgeb_test_worker VERSION '1.0';
	ALTER EXTENSION pgeb_test_worker UPDATE TO '1.1'});
is( query(
		'olddb', q{
		SELECT extversion FROM pg_extension
		WHERE extname = 'pg_extension_base_supervisor'}),
	'1.0',
	'olddb has the supervisor\'s SQL at 1.0');
is( query(
		'olddb', q{
		SELECT status FROM extension_base.modules()
		WHERE module_name = 'pg_extension_base_supervisor'}),
	'installed SQL version 1.0 does not match library version 1.1: '
	  . 'run ALTER EXTENSION pg_extension_base_supervisor UPDATE',
	'modules() asks for the update');
my $all_old = 'olddb/test_worker olddb/test_worker_b '
  . 'postgres/mover postgres/test_worker';
wait_for_base_workers($node, $all_old,
	'the workers registered at 1.0 (in 1.0\'s columns) run');
# an id taken by a registration that rolled back: the counter is past it
query('olddb', q{
	BEGIN;
	CREATE EXTENSION pgeb_t030_mover VERSION '1.0';
	ROLLBACK});

my $registrations_before = query('olddb', q{
	SELECT string_agg(id || ' ' || worker_name, ', ' ORDER BY id)
	FROM extension_base.workers});
my $max_id = query('olddb', 'SELECT max(id) FROM extension_base.workers');
my %pid_before =
  map { $_ => base_worker_pid($node, 'olddb', $_) } qw(test_worker test_worker_b);
my $runs_before = query('olddb', 'SELECT count(*) FROM pgeb_test_worker.runs');

query('olddb', 'ALTER EXTENSION pg_extension_base_supervisor UPDATE');
is( query(
		'olddb', q{
		SELECT extversion FROM pg_extension
		WHERE extname = 'pg_extension_base_supervisor'}),
	'1.1',
	'd. ALTER EXTENSION UPDATE brings olddb to 1.1');
is( query(
		'olddb', q{
		SELECT string_agg(worker_id || ' ' || worker_name, ', ' ORDER BY worker_id)
		FROM extension_base.workers}),
	$registrations_before,
	'd. the registrations keep their ids and names');
is( query(
		'olddb', q{
		SELECT string_agg(DISTINCT entry_point_schema || '.' || entry_point_function, ' ')
		FROM extension_base.workers}),
	'pgeb_test_worker.worker_main',
	'd. and their entry points, now as schema and function name');
is( query(
		'olddb', q{
		SELECT status FROM extension_base.modules()
		WHERE module_name = 'pg_extension_base_supervisor'}),
	'ok', 'd. modules() is content');

# A registration after the update needs a scan of olddb, which reads every
# registration there: once its worker runs, that scan has seen the others.
query('olddb', q{CREATE EXTENSION pgeb_t030_mover VERSION '1.0'});
wait_for_base_workers($node, "olddb/mover $all_old",
	'd. a worker registered after the update starts');
is( query(
		'olddb', q{
		SELECT worker_id FROM extension_base.workers WHERE worker_name = 'mover'}),
	$max_id + 2,
	'd. with the next id of the counter (the rolled-back one is not reused)');
is( join(' ',
		map { base_worker_pid($node, 'olddb', $_) } qw(test_worker test_worker_b)),
	join(' ', map { $pid_before{$_} } qw(test_worker test_worker_b)),
	'd. the workers registered at 1.0 run on in the same processes');
is( query(
		'olddb', q{
		SELECT count(*) FROM pgeb_test_worker.runs r
		JOIN extension_base.workers w USING (worker_id)
		WHERE w.worker_name <> 'mover'}),
	$runs_before,
	'd. and did not start again');
is( query(
		'olddb', q{
		SELECT string_agg(worker_name || ' ' || state || ' ' || failure_count
			|| ' ' || (pid = extension_base.get_worker_pid(worker_id)), ', '
			ORDER BY worker_id)
		FROM extension_base.base_workers}),
	'test_worker running 0 true, test_worker_b running 0 true, mover running 0 true',
	'd. the base_workers view follows the renamed column');

$node->stop;
ok(!$node->log_contains('TRAP:|PANIC:'), 'no assertion failure or PANIC');
done_testing();
