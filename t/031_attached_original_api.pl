# Attached workers for code written against the original pg_extension_base:
# its fields of AttachedWorker, ReadResultsFromAttachedWorker with a NULL
# descriptor that the worker's row description fills in
# (t/extensions/pgeb_test_attached.c uses the API as such code does), and
# a worker that is read-only exactly when its caller's current transaction
# is, in a server whose default is read-only, in one whose default is not,
# and on a hot standby.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

my $node = new_node(
	'original_api',
	init => { allows_streaming => 1 },
	conf => "default_transaction_read_only = on\n");
$node->start;

# The server's default is read-only: the setup says otherwise.
$node->safe_psql('postgres', q{
	SET default_transaction_read_only = off;
	CREATE EXTENSION pg_extension_base;
	CREATE EXTENSION pgeb_test_attached;
	CREATE TABLE t (x int);
	CREATE ROLE other_user LOGIN;
	GRANT ALL ON t TO other_user;
	CREATE DATABASE other_db;
	CREATE DOMAIN posint AS int CHECK (VALUE > 0);
	CREATE TYPE mood AS ENUM ('calm', 'glad');
});
$node->safe_psql('other_db', q{
	SET default_transaction_read_only = off;
	CREATE TYPE far_mood AS ENUM ('far');
	CREATE TABLE t (x int);
	GRANT ALL ON t TO PUBLIC;
});

# The stderr of a query that is to fail, or its output when it does not.
sub result_of
{
	my ($sql, $dbname) = @_;
	my ($ret, $stdout, $stderr) = $node->psql($dbname // 'postgres', $sql);
	return $ret == 0 ? $stdout : $stderr;
}

my $read_only_error = qr/cannot execute INSERT in a read-only transaction/;

# Read-only follows the caller's current transaction

like(result_of(q{SELECT * FROM extension_base.run_attached('INSERT INTO t VALUES (1)')}),
	$read_only_error, 'a default read-only caller gets a read-only worker');
is( result_of(q{
		BEGIN READ WRITE;
		SELECT command_tag FROM extension_base.run_attached('INSERT INTO t VALUES (2)');
		COMMIT}),
	'INSERT 0 1',
	'BEGIN READ WRITE in a server whose default is read-only: the worker writes');
is( result_of(q{
		BEGIN;
		SET TRANSACTION READ WRITE;
		SELECT * FROM extension_base.run_attached_returning(
			$$INSERT INTO t VALUES (3) RETURNING x$$) AS r(x int);
		COMMIT}),
	'3', 'SET TRANSACTION READ WRITE: the worker writes (run_attached_returning)');
is( result_of(q{
		SET default_transaction_read_only = off;
		SELECT command_tag FROM extension_base.run_attached('INSERT INTO t VALUES (4)')}),
	'INSERT 0 1', 'SET default_transaction_read_only = off: the worker writes');
is( result_of(q{
		BEGIN READ WRITE;
		SELECT * FROM pgeb_test_attached_parallel(ARRAY['INSERT INTO t VALUES (5)']);
		COMMIT}),
	'0: INSERT 0 1', 'from C, StartAttachedWorker in a READ WRITE transaction writes');
is( result_of(q{
		BEGIN READ WRITE;
		SELECT * FROM pgeb_test_attached_as('INSERT INTO t VALUES (6)', 'postgres', 'other_user');
		COMMIT}),
	'INSERT 0 1',
	'StartAttachedWorkerInDatabase with a user name follows the caller too');
$node->safe_psql('postgres', q{
	SET default_transaction_read_only = off;
	ALTER DATABASE other_db SET default_transaction_read_only = on});
is( result_of(q{
		BEGIN READ WRITE;
		SELECT command_tag FROM extension_base.run_attached('INSERT INTO t VALUES (7)', 'other_db');
		COMMIT}),
	'INSERT 0 1',
	'the defaults of the worker\'s database do not decide, the caller\'s transaction does');
like(
	result_of(
		q{SELECT * FROM extension_base.run_attached('INSERT INTO t VALUES (8)', 'other_db')}),
	$read_only_error,
	'and a read-only caller gets a read-only worker there');
is( $node->safe_psql('postgres', q{SELECT string_agg(x::text, ' ' ORDER BY x) FROM t}),
	'2 3 4 5 6', 'the writable workers committed');

# the other way: a server whose default is read-write
$node->append_conf('postgresql.conf', "default_transaction_read_only = off\n");
$node->reload;
ok( $node->poll_query_until(
		'postgres', q{SELECT current_setting('default_transaction_read_only') = 'off'}),
	'the server\'s default is now read-write');
like(
	result_of(q{
		BEGIN READ ONLY;
		SELECT * FROM extension_base.run_attached('INSERT INTO t VALUES (9)')}),
	$read_only_error, 'BEGIN READ ONLY: a read-only worker');
like(
	result_of(q{
		BEGIN;
		SET TRANSACTION READ ONLY;
		SELECT * FROM pgeb_test_attached_parallel(ARRAY['INSERT INTO t VALUES (10)'])}),
	$read_only_error, 'SET TRANSACTION READ ONLY: a read-only worker from C');
like(
	result_of(q{
		BEGIN READ ONLY;
		SELECT * FROM pgeb_test_attached_as('INSERT INTO t VALUES (11)', 'postgres', 'other_user')}),
	$read_only_error,
	'a read-only caller gets a read-only worker with a user name too');
like(
	result_of(q{
		SET default_transaction_read_only = on;
		SELECT * FROM extension_base.run_attached('INSERT INTO t VALUES (12)')}),
	$read_only_error, 'a session whose default is read-only: a read-only worker');
is( result_of(q{
		SELECT * FROM extension_base.run_attached_returning(
			$$SELECT current_setting('transaction_read_only')$$) AS r(ro text)}),
	'off', 'a read-write caller: a read-write worker');
is( $node->safe_psql('postgres', q{SELECT string_agg(x::text, ' ' ORDER BY x) FROM t}),
	'2 3 4 5 6', 'no read-only worker wrote');

# The descriptor from the worker's row description

is( result_of(q{
		SELECT * FROM pgeb_test_attached_described($$
			SELECT i AS a, 'xy'::varchar(3) AS b, 1.5::numeric(10,2) AS c,
				NULL::text AS "d e", ARRAY[i, 2] AS f, 5::posint AS g,
				'glad'::mood AS h, now()::timestamp(0) IS NOT NULL AS i
			FROM generate_series(1, 2) i$$)}),
	"a integer, b character varying(3), c numeric(10,2), d e text, f integer[], g integer, h mood, i boolean\n"
	  . "1 | xy | 1.50 | NULL | {1,2} | 5 | glad | t\n"
	  . "2 | xy | 1.50 | NULL | {2,2} | 5 | glad | t",
	'a NULL descriptor is made from the row description: names, types and modifiers (a domain as its base type)');
is(result_of(q{SELECT * FROM pgeb_test_attached_described($$SELECT 1 AS only WHERE false$$)}),
	'only integer', 'no rows: the descriptor all the same');
is(result_of(q{SELECT * FROM pgeb_test_attached_described('SELECT 1; SET search_path = public')}),
	'no result set', 'a last statement without a result set leaves it NULL, without an error');
is( result_of(
		q{SELECT * FROM pgeb_test_attached_described($$SELECT 1 AS a, 'x'::text AS b$$, 'other_db')}),
	"a integer, b text\n1 | x", 'built-in types from another database');
like(
	result_of(
		q{SELECT * FROM pgeb_test_attached_described($$SELECT 'far'::far_mood AS m$$, 'other_db')}),
	qr/ERROR:  column "m" of the attached worker's result is of a type of its own database\n.*HINT:  Cast the column to text in the command, or pass a descriptor of the expected rows\./s,
	'a type of another database is refused, with a hint');
# The worker sends the row description before it runs the query, and the
# query waits for a lock another session holds: so the worker cannot have
# committed its new type when the caller reads the description.
my $locker = $node->background_psql('postgres');
$locker->query_safe('SELECT pg_advisory_lock(4343)');
like(
	result_of(q{
		SET default_transaction_read_only = off;
		SELECT * FROM pgeb_test_attached_described($$
			CREATE TYPE new_mood AS ENUM ('new');
			SELECT 'new'::new_mood AS m FROM pg_advisory_lock(4343)$$)}),
	qr/ERROR:  column "m" of the attached worker's result is of a type that does not exist here/,
	'a type the caller cannot see yet is refused');
$locker->quit;
like(
	result_of(q{SELECT * FROM pgeb_test_attached_described('SELECT ROW(1, 2) AS r')}),
	qr/ERROR:  input of anonymous composite types is not implemented/,
	'an anonymous record is core\'s error, not another process\'s row type');
like(
	result_of(q{SELECT * FROM pgeb_test_attached_described('SELECT 1', NULL, true)}),
	qr/ERROR:  the result descriptor argument of ReadResultsFromAttachedWorker must not be a null pointer/,
	'a null pointer for the descriptor is an error');
ok($node->poll_query_until('postgres', attached_workers_running(0)),
	'no worker is left behind by the errors');

# The original's fields

# A new worker has a handle and no pid until it started; a warm one from
# the pool (another caller started it) has its pid at once and no handle.
foreach my $pool ('off', 'on')
{
	my $pool_size = $pool eq 'on' ? 2 : 0;
	my ($pid, $handle) =
	  $pool eq 'on' ? ('workerPid set', 'workerHandle null') : ('workerPid 0', 'workerHandle set');
	my $settings = "SET pg_extension_base.attached_pool_size = $pool_size;";
	$node->safe_psql('postgres',
		"ALTER SYSTEM SET pg_extension_base.attached_pool_size = $pool_size");
	$node->reload;
	if ($pool eq 'on')
	{
		# a first call leaves a warm worker of our key waiting
		$node->safe_psql('postgres',
			q{SELECT FROM extension_base.run_attached('SELECT 1')});
		ok( $node->poll_query_until(
				'postgres', q{
				SELECT count(*) > 0 FROM extension_base.attached_pool
				WHERE state = 'idle'}),
			'with the pool on, a warm worker waits');
	}
	else
	{
		ok( $node->poll_query_until(
				'postgres', q{SELECT count(*) = 0 FROM extension_base.attached_pool}),
			'with the pool off, no warm worker waits');
	}
	is( result_of(q{
			SELECT * FROM pgeb_test_attached_fields(
				'SELECT 1; SELECT pg_advisory_lock(4242)', false, 4242)}),
		"started: segment set, outputQueue set, tupleQueue null, $pid, $handle\n"
		  . "first tag SELECT 1: segment set, outputQueue set, tupleQueue null, workerPid a live backend, $handle\n"
		  . "read to the end: running false\n"
		  . "ended: segment null, outputQueue null, tupleQueue null, workerPid set, $handle",
		"pool $pool: the fields of a worker that returns no rows, at each step");
	is( result_of(q{
			SELECT * FROM pgeb_test_attached_fields(
				'SELECT 1; SELECT pg_advisory_lock(4242) AS locked, 7 AS n', true, 4242)}),
		"started: segment set, outputQueue set, tupleQueue outputQueue, $pid, $handle\n"
		  . "first tag SELECT 1: segment set, outputQueue set, tupleQueue outputQueue, workerPid a live backend, $handle\n"
		  . "rows of locked void, n integer: 1\n"
		  . "read to the end: running false\n"
		  . "ended: segment null, outputQueue null, tupleQueue null, workerPid set, $handle",
		"pool $pool: and of a Returning worker: its rows come through outputQueue, which tupleQueue names");
}
$node->safe_psql('postgres',
	'ALTER SYSTEM RESET pg_extension_base.attached_pool_size');
$node->reload;

# A hot standby: the worker is read-only whatever the caller says

$node->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('original_api_standby');
$standby->init_from_backup($node, 'backup', has_streaming => 1);
$standby->start;
$node->wait_for_catchup($standby);
my ($ret, $stdout, $stderr) = $standby->psql('postgres', q{
	SET default_transaction_read_only = off;
	SELECT * FROM extension_base.run_attached('INSERT INTO t VALUES (13)')});
like($stderr, $read_only_error,
	'on a hot standby the worker is read-only, whatever the caller\'s default');
is( $standby->safe_psql(
		'postgres', q{
		SELECT * FROM extension_base.run_attached_returning(
			$$SELECT pg_is_in_recovery(), current_setting('transaction_read_only')$$)
			AS r(recovery bool, ro text)}),
	't|on', 'it runs in recovery, read-only');
$standby->stop;

$node->stop;
ok(!$node->log_contains('TRAP:|PANIC:|terminated by signal'), 'no crash');
done_testing();
