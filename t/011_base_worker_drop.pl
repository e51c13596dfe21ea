# Stopping base workers: DROP EXTENSION (also through DROP SCHEMA ...
# CASCADE and DROP OWNED) and deregister_worker stop the process before
# the command returns; a ROLLBACK (of the transaction, to a savepoint, or
# of a PL/pgSQL exception block) brings the worker back at once, with no
# backoff and no failure counted.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

# a backoff longer than any poll: a worker that comes back within the
# poll's timeout came back without backoff
my $node = new_node('drop',
	conf => "pg_extension_base.worker_restart_backoff_initial = '30min'\n");
start_with_extension($node);
$node->safe_psql('postgres', 'CREATE EXTENSION pgeb_test_worker');
wait_for_base_workers($node, 'postgres/test_worker', 'the worker runs');

my $session = $node->background_psql('postgres', on_error_stop => 0);
$session->query_safe('SET client_min_messages = warning');

# The pid of the worker, and whether that process still exists, asked in the
# same session right after a command: so "before the command returns".
sub gone_after
{
	my ($command, $pid) = @_;
	my $out = $session->query_safe(
		"$command; SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid");
	return (split /\n/, $out)[-1];
}

# The worker came back without failure: same registration, no failure.
sub back_without_failure
{
	my ($what, $reason) = @_;
	$reason //= 'extension was dropped';
	wait_for_base_workers($node, 'postgres/test_worker',
		"$what brings the worker back at once");
	# the reason says whether the rollback came before or after the exit
	like( $node->safe_psql(
			'postgres', q{
			SELECT failure_count || ' ' || last_exit_reason
			FROM extension_base.base_workers WHERE worker_name = 'test_worker'}),
		qr/^0 stopped(: \Q$reason\E|, then resumed by a rollback)$/,
		"$what: no failure counted, no backoff");
}

# DROP EXTENSION in a transaction, then ROLLBACK
my $pid = base_worker_pid($node, 'postgres', 'test_worker');
$session->query_safe('BEGIN');
is(gone_after('DROP EXTENSION pgeb_test_worker', $pid),
	't', 'DROP EXTENSION: the worker is gone when the command returns');
$session->query_safe('ROLLBACK');
back_without_failure('ROLLBACK of DROP EXTENSION');

# ... ROLLBACK TO SAVEPOINT, while the transaction goes on
$pid = base_worker_pid($node, 'postgres', 'test_worker');
$session->query_safe('BEGIN; SAVEPOINT s');
is(gone_after('DROP EXTENSION pgeb_test_worker', $pid),
	't', 'DROP EXTENSION in a savepoint stops the worker');
$session->query_safe('ROLLBACK TO SAVEPOINT s');
back_without_failure('ROLLBACK TO SAVEPOINT');
$session->query_safe('COMMIT');

# ... a PL/pgSQL exception block
$pid = base_worker_pid($node, 'postgres', 'test_worker');
$session->query_safe(q{
	DO $$
	BEGIN
		DROP EXTENSION pgeb_test_worker;
		RAISE EXCEPTION 'changed my mind';
	EXCEPTION WHEN raise_exception THEN
		NULL;
	END $$});
back_without_failure('an exception block that rolls back DROP EXTENSION');
isnt(base_worker_pid($node, 'postgres', 'test_worker'),
	$pid, 'in a new process: it had been stopped');

# deregister_worker, rolled back, then committed
$pid = base_worker_pid($node, 'postgres', 'test_worker');
$session->query_safe('BEGIN');
is( gone_after(
		q{SELECT extension_base.deregister_worker('test_worker')}, $pid),
	't',
	'deregister_worker: the worker is gone when it returns');
$session->query_safe('ROLLBACK');
back_without_failure('ROLLBACK of deregister_worker', 'deregistered');

# a worker that finished (returned 0) is not restarted by a rolled-back
# deregister: the rollback gives back what was, not a fresh start
$node->safe_psql('postgres', q{
	INSERT INTO pgeb_test_worker.behaviour VALUES ('test_worker', 'return', 0)});
$session->query_safe('BEGIN; DROP EXTENSION pgeb_test_worker; ROLLBACK');
ok( $node->poll_query_until(
		'postgres', q{
		SELECT state = 'done' FROM extension_base.base_workers
		WHERE worker_name = 'test_worker'}),
	'a worker that returned 0 is done');
my $runs = $node->safe_psql('postgres', 'SELECT count(*) FROM pgeb_test_worker.runs');
$session->query_safe(q{
	BEGIN;
	SELECT extension_base.deregister_worker('test_worker');
	ROLLBACK});
is( $node->safe_psql(
		'postgres', q{
		SELECT state FROM extension_base.base_workers
		WHERE worker_name = 'test_worker'}),
	'done',
	'a rolled-back deregister leaves a finished worker finished');
$node->safe_psql('postgres', q{
	DELETE FROM pgeb_test_worker.behaviour;
	SELECT extension_base.wakeup_worker('test_worker')});
wait_for_base_workers($node, 'postgres/test_worker', 'wakeup_worker starts it again');
is($node->safe_psql('postgres', 'SELECT count(*) FROM pgeb_test_worker.runs'),
	$runs + 1, 'exactly once more');

$pid = base_worker_pid($node, 'postgres', 'test_worker');
my $id = $node->safe_psql('postgres',
	q{SELECT worker_id FROM extension_base.workers WHERE worker_name = 'test_worker'});
is(gone_after("SELECT extension_base.deregister_worker($id)", $pid),
	't', 'deregister_worker by id: gone when it returns');
is( $node->safe_psql(
		'postgres', q{
		SELECT (SELECT count(*) FROM extension_base.workers) || ' '
			|| (SELECT count(*) FROM extension_base.list_base_workers())}),
	'0 0',
	'after COMMIT the registration and its slot are gone');
is(base_workers($node), '', 'and no worker runs');

# registering again (ALTER EXTENSION UPDATE registers test_worker_b) works
$session->query_safe(q{
	DROP EXTENSION pgeb_test_worker;
	CREATE EXTENSION pgeb_test_worker VERSION '1.1'});
wait_for_base_workers($node, 'postgres/test_worker postgres/test_worker_b',
	'both workers of version 1.1 run');

# DROP SCHEMA ... CASCADE drops the extension: both workers stop
my @pids = map { base_worker_pid($node, 'postgres', $_) }
  ('test_worker', 'test_worker_b');
is( $session->query_safe(
		"DROP SCHEMA pgeb_test_worker CASCADE; "
		  . "SELECT count(*) FROM pg_stat_activity WHERE pid IN ($pids[0], $pids[1])"),
	'0',
	'DROP SCHEMA CASCADE: both workers are gone when it returns');
is($node->safe_psql('postgres', 'SELECT count(*) FROM extension_base.workers'),
	'0', 'their registrations went with the extension');

# DROP OWNED drops the extensions a role owns
$node->safe_psql('postgres', 'CREATE ROLE ext_owner SUPERUSER');
$session->query_safe(
	'SET ROLE ext_owner; CREATE EXTENSION pgeb_test_worker; RESET ROLE');
wait_for_base_workers($node, 'postgres/test_worker',
	'the worker of an extension owned by ext_owner runs');
$pid = base_worker_pid($node, 'postgres', 'test_worker');
is(gone_after('DROP OWNED BY ext_owner', $pid),
	't', 'DROP OWNED: the worker is gone when it returns');

# DROP EXTENSION pg_extension_base CASCADE takes every worker with it
$session->query_safe('CREATE EXTENSION pgeb_test_worker');
wait_for_base_workers($node, 'postgres/test_worker', 'the worker runs again');
$pid = base_worker_pid($node, 'postgres', 'test_worker');
is(gone_after('DROP EXTENSION pg_extension_base CASCADE', $pid),
	't', 'dropping pg_extension_base stops the workers of the database');
$session->quit;

$node->stop;
ok(!$node->log_contains('TRAP:|PANIC:|terminated by signal'),
	'no crash, assertion failure or PANIC');
done_testing();
