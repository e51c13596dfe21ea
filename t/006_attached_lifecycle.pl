# Attached workers end with their caller: cancel, statement_timeout and the
# caller's exit leave no worker behind; a missing worker slot is core's
# error; large results come back whole; from C, several workers run at
# once and are read without blocking.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

# five slots: the logical replication launcher, the base workers' server
# starter and three attached workers
my $node = new_node('attached', conf => "max_worker_processes = 5\n");
start_with_extension($node);
$node->safe_psql('postgres', 'CREATE EXTENSION pgeb_test_attached');

# Start a long command in a session of its own; returns the session and
# the pid of its backend, once its worker runs.
sub start_long_command
{
	my ($setup) = @_;
	my $session = $node->background_psql('postgres', on_error_stop => 0);
	my $pid = $session->query_safe('SELECT pg_backend_pid()');
	$session->query_until(qr/started/, ($setup // '') . q{
		\echo started
		SELECT * FROM extension_base.run_attached('SELECT pg_sleep(300)');
	});
	ok($node->poll_query_until('postgres', attached_workers_running(1)),
		'the attached worker runs');
	return ($session, $pid);
}

# After the caller's statement was interrupted: its worker ends, the caller
# goes on and was told why.
sub expect_interrupted
{
	my ($session, $what, $reason) = @_;
	ok($node->poll_query_until('postgres', attached_workers_running(0)),
		"$what terminates the attached worker");
	like($session->query('SELECT 42'), qr/^42$/m, 'the caller goes on');
	like($session->{stderr}, $reason, 'and was told why');
	$session->quit;
}

# cancel from another session
my ($session, $pid) = start_long_command();
$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
expect_interrupted($session, 'cancelling the caller',
	qr/canceling statement due to user request/);

# the caller's statement_timeout
($session, $pid) = start_long_command("SET statement_timeout = '1s';");
expect_interrupted($session, "the caller's statement_timeout",
	qr/canceling statement due to statement timeout/);

# the caller's exit
($session, $pid) = start_long_command();
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
ok($node->poll_query_until('postgres', attached_workers_running(0)),
	'the caller\'s exit terminates its attached worker');
eval { $session->quit };    # its psql lost the connection and exited

# out of worker slots: core's error and hint; the held workers end cleanly
my @holders;
for (1 .. 3)
{
	my $holder = $node->background_psql('postgres', on_error_stop => 0);
	$holder->query_until(qr/started/, q{
		\echo started
		SELECT * FROM extension_base.run_attached('SELECT pg_sleep(300)');
	});
	push @holders, $holder;
}
ok( $node->poll_query_until(
		'postgres', q{
		SELECT count(*) = current_setting('max_worker_processes')::int
		FROM pg_stat_activity WHERE backend_type IN
			('pg_extension_base attached worker', 'logical replication launcher',
			 'pg_extension_base server starter')}),
	'every worker slot is taken');
my ($ret, $stdout, $stderr) = $node->psql('postgres',
	q{SELECT * FROM extension_base.run_attached('SELECT 1')});
like($stderr,
	qr/ERROR:  could not register background process\nHINT:  You may need to increase max_worker_processes\./,
	'without a free slot, core\'s error and hint');
$node->safe_psql('postgres', q{
	SELECT pg_cancel_backend(pid) FROM pg_stat_activity
	WHERE query LIKE '%run_attached(''SELECT pg_sleep(300)'')%'
	AND backend_type = 'client backend'});
ok($node->poll_query_until('postgres', attached_workers_running(0)), 'all of them end');
$_->quit for @holders;
is($node->safe_psql('postgres',
		q{SELECT command_tag FROM extension_base.run_attached('SELECT 1')}),
	'SELECT 1', 'once slots are free, attached workers start again');

# large results
is( $node->safe_psql(
		'postgres', q{
		SELECT length(v), md5(v) = md5(repeat('x', 3000000))
		FROM extension_base.run_attached_returning($$SELECT repeat('x', 3000000)$$)
			AS t(v text)}),
	'3000000|t', 'a value over 1 MB comes back whole');
is( $node->safe_psql(
		'postgres', q{
		SELECT count(*), sum(i), count(*) FILTER (WHERE n IS NULL)
		FROM extension_base.run_attached_returning(
			$$SELECT i, CASE WHEN i % 10 = 0 THEN NULL ELSE i::text END
			  FROM generate_series(1, 100000) i$$) AS t(i int, n text)}),
	'100000|5000050000|10000', '100,000 rows come back, NULLs included');

# from C: started together, read without blocking, in the order they finish
is( $node->safe_psql(
		'postgres', q{
		SELECT string_agg(t, ', ') FROM pgeb_test_attached_parallel(ARRAY[
			'SELECT pg_sleep(2)', 'SELECT pg_sleep(1)', 'SELECT 3']) t}),
	'2: SELECT 1, 1: SELECT 1, 0: SELECT 1',
	'several attached workers run at once and are read as they finish');
is($node->safe_psql('postgres', attached_workers_running(0)), 't', 'none is left behind');

ok(!$node->log_contains(qr/TRAP|PANIC|terminated by signal 11/),
	'no crash in the server log');
$node->stop;
done_testing();
