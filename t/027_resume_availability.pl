# An open or prepared transaction that changes registrations delays only
# what it touches.
#
# 1. Database DDL stops every worker of a database and fails because a
#    session stays in it; that session has meanwhile deregistered one worker
#    in a transaction that is still open (or prepared).  The workers it did
#    not touch run again as soon as the DDL has failed, while that
#    transaction is still open; the one it deregistered waits for its
#    outcome: gone after COMMIT, back after ROLLBACK, and never started in
#    between.
# 2. A database starter that waits for such a transaction does not queue for
#    the registrations table: another session's CREATE EXTENSION, which
#    needs ROW EXCLUSIVE on it, takes its lock without waiting (lock_timeout
#    shows any wait; a queued starter would hold it up for up to 10 s).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

my $node = new_node('resume',
	conf => "max_worker_processes = 16\nmax_prepared_transactions = 4\n");
start_with_extension($node);

my $workers_query = q{
	SELECT coalesce(string_agg(application_name, ' ' ORDER BY application_name), '')
	FROM pg_stat_activity
	WHERE backend_type = 'pg_extension_base base worker' AND datname = '%s'};

sub workers_in
{
	my ($db) = @_;
	return $node->safe_psql('postgres', sprintf($workers_query, $db));
}

sub wait_for_workers_in
{
	my ($db, $expected, $name) = @_;
	ok( $node->poll_query_until(
			'postgres', sprintf("SELECT ($workers_query) = '%s'", $db, $expected)),
		$name)
	  or diag("running in $db: " . workers_in($db));
}

# test_worker and test_worker_b of pgeb_test_worker 1.1, heartbeat of the
# example extension
sub database_with_workers
{
	my ($db) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql(
		$db, q{
		SET client_min_messages = warning;
		CREATE EXTENSION pgeb_test_worker VERSION '1.1';
		CREATE EXTENSION pg_extension_base_example});
	wait_for_workers_in($db, 'heartbeat test_worker test_worker_b',
		"$db: its three workers run");
}

sub slot_state
{
	my ($db, $worker) = @_;
	return $node->safe_psql(
		'postgres', qq{
		SELECT coalesce((SELECT state FROM extension_base.list_base_workers() w
			JOIN pg_database d ON d.oid = w.database_id
			WHERE d.datname = '$db' AND w.worker_name = '$worker'), 'none')});
}

# Case 1: $prepare says whether the deregistering transaction is prepared
# (then settled from another session) or stays open in the session that
# made the DDL fail; $outcome is COMMIT or ROLLBACK.
sub deregistered_during_failed_ddl
{
	my (%case) = @_;
	my ($db, $label) = @case{qw(db label)};

	database_with_workers($db);
	my $removed_id = $node->safe_psql($db,
		"SELECT worker_id FROM extension_base.workers WHERE worker_name = 'test_worker_b'");
	my $runs_before = $node->safe_psql($db,
		"SELECT count(*) FROM pgeb_test_worker.runs WHERE worker_id = $removed_id");

	my $stayer = $node->background_psql($db, on_error_stop => 0);
	$stayer->query_safe('SELECT 1');
	my $ddl = $node->background_psql('postgres', on_error_stop => 0);
	$ddl->query_until(qr/ddl started/,
		"\\echo ddl started\nCREATE DATABASE ${db}_copy TEMPLATE $db;\n");
	wait_for_workers_in($db, '', "$label: the DDL stopped every worker of $db");

	$stayer->query_safe(
		"BEGIN; SELECT extension_base.deregister_worker('test_worker_b')");
	$stayer->query_safe("PREPARE TRANSACTION '$db'") if $case{prepare};
	pass("$label: test_worker_b deregistered, not settled, while the DDL waits");

	$ddl->query('SELECT 1');
	like($ddl->{stderr}, qr/is being accessed by other users/,
		"$label: the DDL failed because a session stayed in $db");
	$ddl->quit;

	# the untouched workers do not wait for the open transaction
	wait_for_workers_in($db, 'heartbeat test_worker',
		"$label: the workers no transaction touched run again at once");
	is(slot_state($db, 'test_worker_b'), 'resuming',
		"$label: the deregistered one waits for the transaction's outcome");
	is($node->safe_psql($db, "SELECT count(*) FROM pg_prepared_xacts"),
		$case{prepare} ? '1' : '0',
		"$label: the transaction is still unsettled");

	my $settle =
	  $case{prepare}
	  ? "$case{outcome} PREPARED '$db'"
	  : $case{outcome};
	if ($case{prepare})
	{
		$node->safe_psql($db, $settle);
	}
	else
	{
		$stayer->query_safe($settle);
	}
	pass("$label: $settle");

	if ($case{outcome} eq 'COMMIT')
	{
		ok( $node->poll_query_until(
				'postgres', qq{
				SELECT count(*) = 0 FROM extension_base.list_base_workers() w
				JOIN pg_database d ON d.oid = w.database_id
				WHERE d.datname = '$db' AND w.worker_id = $removed_id}),
			"$label: after COMMIT its slot is freed");
		is(workers_in($db), 'heartbeat test_worker',
			"$label: and the others keep running");
		is( $node->safe_psql(
				$db,
				"SELECT count(*) FROM pgeb_test_worker.runs WHERE worker_id = $removed_id"
			),
			$runs_before,
			"$label: the deregistered worker never started again");
	}
	else
	{
		wait_for_workers_in($db, 'heartbeat test_worker test_worker_b',
			"$label: after ROLLBACK it runs again");
	}
	$stayer->quit;
	$node->safe_psql('postgres', "DROP DATABASE $db");
}

deregistered_during_failed_ddl(
	label => 'open transaction, committed',
	db => 'open_commit',
	prepare => 0,
	outcome => 'COMMIT');
deregistered_during_failed_ddl(
	label => 'open transaction, rolled back',
	db => 'open_rollback',
	prepare => 0,
	outcome => 'ROLLBACK');
deregistered_during_failed_ddl(
	label => 'prepared transaction, committed',
	db => 'prepared_commit',
	prepare => 1,
	outcome => 'COMMIT');
deregistered_during_failed_ddl(
	label => 'prepared transaction, rolled back',
	db => 'prepared_rollback',
	prepare => 1,
	outcome => 'ROLLBACK');

# Case 2: a prepared transaction holds ROW EXCLUSIVE on the registrations
# table of db 'queue'; a scan of 'queue' waits for it.
$node->safe_psql('postgres', 'CREATE DATABASE queue');
$node->safe_psql('queue',
	"SET client_min_messages = warning; CREATE EXTENSION pgeb_test_worker VERSION '1.1'");
wait_for_workers_in('queue', 'test_worker test_worker_b',
	'queue: its two workers run');
$node->safe_psql('queue', q{
	BEGIN;
	SELECT extension_base.deregister_worker('test_worker_b');
	PREPARE TRANSACTION 'holds_registrations'});
# any database DDL asks for a scan of the database
$node->safe_psql('postgres',
	'ALTER DATABASE queue SET pg_extension_base.base_workers_enabled = on');
# (our own wait event on 17+, core's "Extension" before)
my $major = $node->safe_psql('postgres',
	q{SELECT current_setting('server_version_num')::int / 10000});
my $starter_event = $major >= 17 ? 'PgExtensionBaseRegistrations' : 'Extension';
ok( $node->poll_query_until(
		'postgres', qq{
		SELECT count(*) = 1 FROM pg_stat_activity
		WHERE backend_type = 'pg_extension_base database starter'
		AND datname = 'queue' AND wait_event_type = 'Extension'
		AND wait_event = '$starter_event'}),
	"the scan of queue waits for the prepared transaction (Extension/$starter_event)");
is( $node->safe_psql(
		'postgres', q{
		SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
		WHERE a.backend_type = 'pg_extension_base database starter'
		AND NOT l.granted}),
	'0',
	'without queueing for any lock');
my ($stdout, $stderr);
my $ret = $node->psql(
	'queue', q{
	SET lock_timeout = '2s';
	SET client_min_messages = warning;
	CREATE EXTENSION pg_extension_base_example},
	stdout => \$stdout,
	stderr => \$stderr);
is($ret, 0, 'CREATE EXTENSION registers a worker without waiting behind the scan')
  or diag($stderr);
$node->safe_psql('queue', "COMMIT PREPARED 'holds_registrations'");
wait_for_workers_in('queue', 'heartbeat test_worker',
	'once the prepared transaction commits, the scan sees both changes');

ok(!$node->log_contains(qr/PANIC|TRAP|terminated by signal/), 'no crash');
$node->stop;
done_testing();
