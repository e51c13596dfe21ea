# Warm attached workers: how a pooled worker's life ends, and what the pool
# does when the catalogs, the settings or database DDL change under it.
#
# - A call that the caller ends early (cancel, statement_timeout, exit)
#   ends its warm worker; a call that fails ends it too; neither is reused.
# - A warm worker whose role or database changed since it connected
#   (CONNECT revoked, ALTER ROLE / DATABASE SET) gives the call back, and a
#   new worker, with every check of a new connection, serves it.
# - DROP DATABASE, ALTER DATABASE RENAME and CREATE DATABASE ... TEMPLATE
#   succeed at once with warm workers idle in that database (core alone
#   would wait 5 s for them and fail); the workers are gone after.
# - A reload that changes the pool's settings empties it; an idle worker
#   exits after the idle timeout; the limits per database and in all hold.
# - A call that finds no free worker slot makes the longest idle warm
#   worker give its slot up.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

my $node = new_node('pool_lifecycle',
	conf => "pg_extension_base.attached_pool_size = 2\n"
	  . "pg_extension_base.attached_pool_max_workers = 4\n"
	  . "pg_extension_base.attached_pool_idle_timeout = '10min'\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_extension_base;
	CREATE ROLE pool_bob LOGIN;
	GRANT EXECUTE ON FUNCTION extension_base.run_attached(text, text),
		extension_base.run_attached_returning(text, text) TO pool_bob;
	GRANT USAGE ON SCHEMA extension_base TO pool_bob;
	CREATE DATABASE pool_db;
	CREATE DATABASE pool_template;
});
$node->safe_psql('pool_db', q{
	CREATE EXTENSION pg_extension_base;
	GRANT EXECUTE ON FUNCTION extension_base.run_attached(text, text),
		extension_base.run_attached_returning(text, text) TO pool_bob;
	GRANT USAGE ON SCHEMA extension_base TO pool_bob;
});

# The pid of the worker that serves a call from a new session (as user).
sub worker_pid
{
	my ($dbname, $user, $target) = @_;
	my $sql = "SELECT pid FROM extension_base.run_attached_returning("
	  . "'SELECT pg_backend_pid()'"
	  . ($target ? ", '$target'" : '')
	  . ") AS r(pid int)";
	return $node->safe_psql($dbname, $sql,
		$user ? (extra_params => [ '-U', $user ]) : ());
}

sub gone
{
	my ($pid) = @_;
	return $node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid");
}

sub idle_in_pool
{
	my ($pid) = @_;
	return $node->poll_query_until('postgres',
		"SELECT state = 'idle' FROM extension_base.attached_pool WHERE pid = $pid");
}

# Ending a call early

my $warm = worker_pid('postgres');
ok(idle_in_pool($warm), 'a worker waits in the pool after its call');
is(worker_pid('postgres'), $warm, 'the next call of the same user gets it');

# cancel
my $caller = $node->background_psql('postgres', on_error_stop => 0);
$caller->query_until(qr/started/, q{
	\echo started
	SELECT * FROM extension_base.run_attached('SELECT pg_sleep(600)');
});
ok( $node->poll_query_until('postgres',
		"SELECT state = 'busy' FROM extension_base.attached_pool WHERE pid = $warm"),
	'the warm worker serves the long call');
$node->safe_psql('postgres', q{
	SELECT pg_cancel_backend(pid) FROM pg_stat_activity
	WHERE query LIKE '%pg_sleep(600)%' AND backend_type = 'client backend'
	AND pid <> pg_backend_pid()});
ok(gone($warm), 'a cancel of the caller ends its warm worker');
$caller->quit;

# statement_timeout
$warm = worker_pid('postgres');
ok(idle_in_pool($warm), 'another warm worker');
my ($ret, $stdout, $stderr) = $node->psql('postgres', q{
	SET statement_timeout = '300ms';
	SELECT * FROM extension_base.run_attached('SELECT pg_sleep(600)')});
like($stderr, qr/canceling statement due to statement timeout/,
	'the caller\'s statement_timeout ends the call');
ok(gone($warm), 'and its warm worker');

# the caller's exit
$warm = worker_pid('postgres');
ok(idle_in_pool($warm), 'a third warm worker');
$caller = $node->background_psql('postgres', on_error_stop => 0);
$caller->query_until(qr/started/, q{
	\echo started
	SELECT * FROM extension_base.run_attached('SELECT pg_sleep(600)');
});
ok( $node->poll_query_until('postgres',
		"SELECT state = 'busy' FROM extension_base.attached_pool WHERE pid = $warm"),
	'it serves the long call');
$node->safe_psql('postgres', q{
	SELECT pg_terminate_backend(pid) FROM pg_stat_activity
	WHERE query LIKE '%pg_sleep(600)%' AND backend_type = 'client backend'
	AND pid <> pg_backend_pid()});
ok(gone($warm), 'the caller\'s exit ends its warm worker');
# (its psql lost its server: nothing to quit)

# an error in the call
$warm = worker_pid('postgres');
ok(idle_in_pool($warm), 'a fourth warm worker');
($ret, $stdout, $stderr) = $node->psql('postgres',
	q{SELECT * FROM extension_base.run_attached('SELECT 1 / 0')});
like($stderr, qr/division by zero/, 'a call fails');
ok(gone($warm), 'the worker that failed exits, never to be reused');

# The role or the database changed since the worker connected

$warm = worker_pid('pool_db', 'pool_bob');
ok(idle_in_pool($warm), 'pool_bob has a warm worker in pool_db');
$node->safe_psql('postgres', q{ALTER ROLE pool_bob SET work_mem = '3MB'});
is( $node->safe_psql('pool_db', q{
		SELECT w FROM extension_base.run_attached_returning(
			$$SELECT current_setting('work_mem')$$) AS r(w text)},
		extra_params => [ '-U', 'pool_bob' ]),
	'3MB', 'after ALTER ROLE ... SET, a call sees the role\'s new default');
ok(gone($warm), 'from a new worker: the warm one gave the call back and exited');

$warm = worker_pid('pool_db', 'pool_bob');
$node->safe_psql('postgres', q{ALTER DATABASE pool_db SET work_mem = '5MB'});
is( $node->safe_psql('pool_db', q{
		SELECT w FROM extension_base.run_attached_returning(
			$$SELECT current_setting('work_mem')$$) AS r(w text)},
		extra_params => [ '-U', 'pool_bob' ]),
	'3MB', 'after ALTER DATABASE ... SET, the role\'s default still wins');
ok(gone($warm), 'again from a new worker');

# (a session connected before the REVOKE, which keeps its connection)
my $bob = $node->background_psql('pool_db', on_error_stop => 0,
	extra_params => [ '-U', 'pool_bob' ]);
$warm = $bob->query_safe(q{
	SELECT pid FROM extension_base.run_attached_returning(
		'SELECT pg_backend_pid()') AS r(pid int)});
ok(idle_in_pool($warm), 'a connected session of pool_bob has a warm worker');
$node->safe_psql('postgres', q{
	REVOKE CONNECT ON DATABASE pool_db FROM PUBLIC});
$bob->query(q{SELECT * FROM extension_base.run_attached('SELECT 1')});
like($bob->{stderr}, qr/permission denied for database "?pool_db"?/,
	'after REVOKE CONNECT, the call fails as a new connection would');
ok(gone($warm), 'and the warm worker is gone');
$bob->quit;
$node->safe_psql('postgres', q{GRANT CONNECT ON DATABASE pool_db TO PUBLIC});

# Database DDL drains the pool

$warm = worker_pid('postgres', undef, 'pool_db');
ok(idle_in_pool($warm), 'a warm worker waits in pool_db');
my $started = time;
($ret, $stdout, $stderr) =
  $node->psql('postgres', 'ALTER DATABASE pool_db RENAME TO pool_db2');
is($ret, 0, 'ALTER DATABASE RENAME succeeds with a warm worker idle there')
  or diag($stderr);
ok(gone($warm), 'which is gone');

$warm = worker_pid('postgres', undef, 'pool_db2');
ok(idle_in_pool($warm), 'a warm worker waits in pool_db2');
($ret, $stdout, $stderr) = $node->psql('postgres', 'DROP DATABASE pool_db2');
is($ret, 0, 'DROP DATABASE succeeds with a warm worker idle there')
  or diag($stderr);
ok(gone($warm), 'which is gone');

$warm = worker_pid('postgres', undef, 'pool_template');
ok(idle_in_pool($warm), 'a warm worker waits in pool_template');
($ret, $stdout, $stderr) = $node->psql('postgres',
	'CREATE DATABASE pool_copy TEMPLATE pool_template');
is($ret, 0, 'CREATE DATABASE ... TEMPLATE succeeds with a warm worker idle in the template')
  or diag($stderr);
ok(gone($warm), 'which is gone');
cmp_ok(time - $started, '<', 5,
	'none of the three waited for core\'s 5 s of other sessions');
is(worker_pid('postgres', undef, 'pool_template') > 0, 1,
	'after the DDL, the pool serves the template again');

# Settings

my @pooled = split /\n/, $node->safe_psql('postgres',
	q{SELECT pid FROM extension_base.attached_pool ORDER BY pid});
ok(scalar(@pooled) > 0, 'the pool has workers before the reload');
$node->safe_psql('postgres',
	q{ALTER SYSTEM SET pg_extension_base.attached_pool_idle_timeout = '1s'});
$node->reload;
ok( $node->poll_query_until('postgres',
		q{SELECT count(*) = 0 FROM extension_base.attached_pool}),
	'a reload that changes the pool\'s settings empties it');

$warm = worker_pid('postgres');
ok(gone($warm), 'with idle_timeout 1s, an idle worker exits by itself');

$node->safe_psql('postgres', q{
	ALTER SYSTEM SET pg_extension_base.attached_pool_idle_timeout = '10min';
	ALTER SYSTEM SET pg_extension_base.attached_pool_size = 1;
	ALTER SYSTEM SET pg_extension_base.attached_pool_max_workers = 2;
	CREATE DATABASE pool_a;
	CREATE DATABASE pool_b;
	CREATE DATABASE pool_c;
});
$node->reload;
$node->poll_query_until('postgres',
	q{SELECT current_setting('pg_extension_base.attached_pool_max_workers') = '2'})
  or die;
# two callers at once in one database: one worker is kept
my @callers = map {
	my $b = $node->background_psql('postgres', on_error_stop => 0);
	$b->query_until(qr/started/, q{
		\echo started
		SELECT * FROM extension_base.run_attached('SELECT pg_sleep(0.5)', 'pool_a');
	});
	$b
} 1 .. 2;
$_->quit foreach @callers;
worker_pid('postgres', undef, $_) foreach qw(pool_b pool_c);
ok( $node->poll_query_until('postgres', q{
		SELECT count(*) FILTER (WHERE state <> 'busy') = count(*)
		FROM extension_base.attached_pool}),
	'every call is over');
my $counts = $node->safe_psql('postgres', q{
	SELECT count(*) <= 2, coalesce(max(n), 0) <= 1
	FROM (SELECT database, count(*) AS n FROM extension_base.attached_pool
		GROUP BY database) d});
is($counts, 't|t',
	'attached_pool_size 1 per database and attached_pool_max_workers 2 in all hold');

# Out of worker slots: warm workers idle in one database hold every slot
# that the logical replication launcher and the server starter leave
# (max_worker_processes = 4); a call into another database makes the
# longest idle one go and takes its slot, instead of failing after a wait.
$node->safe_psql('postgres', q{
	ALTER SYSTEM SET max_worker_processes = 4;
	ALTER SYSTEM SET pg_extension_base.attached_pool_size = 2;
	ALTER SYSTEM SET pg_extension_base.attached_pool_max_workers = 4;
	CREATE TABLE slot_gate ();
});
$node->restart;
$node->poll_query_until('postgres', q{
	SELECT count(*) = 0 FROM pg_stat_activity
	WHERE backend_type = 'pg_extension_base database starter'})
  or die 'database starters did not finish';
# Both calls wait on a lock the test holds, so each needs its own worker.
my $gate = $node->background_psql('postgres');
$gate->query_safe('BEGIN; LOCK slot_gate');
@callers = map {
	my $b = $node->background_psql('postgres', on_error_stop => 0);
	$b->query_until(qr/started/, q{
		\echo started
		SELECT * FROM extension_base.run_attached('SELECT FROM slot_gate');
	});
	$b
} 1 .. 2;
$node->poll_query_until('postgres', q{
	SELECT count(*) = 2 FROM pg_locks
	WHERE relation = 'slot_gate'::regclass AND NOT granted})
  or die 'the two calls did not get a worker each';
$gate->query_safe('COMMIT');
$gate->quit;
$_->quit foreach @callers;
ok( $node->poll_query_until('postgres', q{
		SELECT count(*) = 2 AND bool_and(state = 'idle')
		FROM extension_base.attached_pool WHERE database = 'postgres'}),
	'two warm workers idle in postgres hold the last worker slots');
my @idle = split /\n/, $node->safe_psql('postgres', q{
	SELECT pid FROM extension_base.attached_pool ORDER BY idle_since});
($ret, $stdout, $stderr) = $node->psql('postgres',
	q{SELECT * FROM extension_base.run_attached_returning(
		'SELECT current_database()', 'pool_b') AS r(db name)});
is($stdout, 'pool_b', 'a call into another database finds a slot')
  or diag($stderr);
ok(gone($idle[0]), 'the longest idle warm worker gave its slot up');
is( $node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE pid = $idle[1]"),
	'1', 'the other one stays');

$node->stop;
done_testing();
