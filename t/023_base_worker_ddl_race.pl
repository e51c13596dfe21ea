# A worker removed while its database is blocked by database DDL that then
# fails stays removed.
#
# Database DDL (CREATE DATABASE ... TEMPLATE, DROP DATABASE, ALTER DATABASE
# RENAME) stops the database's workers first, then core waits up to 5 s for
# other sessions to leave the database and fails if one stays.  A session
# that stays can meanwhile remove a worker (deregister_worker, DROP
# EXTENSION) and commit.  When the failed DDL releases the database, the
# removed worker must not start again: its registration is gone.  Each case
# proves it by the traces a start would leave: the postmaster logs it (at
# DEBUG1), pgeb_test_worker inserts a row into its runs table (unless it is
# terminated first), a worker whose extension was dropped fails with "entry
# point ... no longer exists".
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

# (DEBUG1: the postmaster logs every background worker it starts)
my $node = new_node('ddl_race',
	conf => "max_worker_processes = 16\nlog_min_messages = debug1\n");
start_with_extension($node);

# A database running three workers: test_worker and test_worker_b of
# pgeb_test_worker 1.1, heartbeat of the example extension.
sub database_with_workers
{
	my ($db) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql(
		$db, q{
		SET client_min_messages = warning;
		CREATE EXTENSION pgeb_test_worker VERSION '1.1';
		CREATE EXTENSION pg_extension_base_example});
	ok( $node->poll_query_until(
			'postgres', qq{
			SELECT count(*) = 3 FROM pg_stat_activity
			WHERE backend_type = 'pg_extension_base base worker' AND datname = '$db'}),
		"$db: its three workers run");
}

sub workers_in
{
	my ($db) = @_;
	return $node->safe_psql(
		'postgres', qq{
		SELECT coalesce(string_agg(application_name, ' ' ORDER BY application_name), '')
		FROM pg_stat_activity
		WHERE backend_type = 'pg_extension_base base worker' AND datname = '$db'});
}

# One case: $ddl, run from another session, blocks $db and fails because
# the session in $db stays; meanwhile that session runs $remove and
# commits.  $removed is the worker that $remove removes, $kept the workers
# that must run again.
sub removed_during_failed_ddl
{
	my (%case) = @_;
	my ($db, $label) = @case{qw(db label)};

	database_with_workers($db);
	my $removed_id = $node->safe_psql($db,
		"SELECT worker_id FROM extension_base.workers WHERE worker_name = '$case{removed}'");
	my $log_offset = -s $node->logfile;

	my $stayer = $node->background_psql($db, on_error_stop => 0);
	$stayer->query_safe('SELECT 1');
	my $ddl = $node->background_psql('postgres', on_error_stop => 0);
	$ddl->query_until(qr/ddl started/, "\\echo ddl started\n$case{ddl};\n");

	ok( $node->poll_query_until(
			'postgres', qq{
			SELECT count(*) = 0 FROM pg_stat_activity
			WHERE backend_type = 'pg_extension_base base worker' AND datname = '$db'}),
		"$label: the DDL stopped the workers of $db");
	# (through the session in $db: the DDL keeps new sessions out of it)
	my $runs_before = $stayer->query_safe(
		"SELECT count(*) FROM pgeb_test_worker.runs WHERE worker_id = $removed_id");

	$stayer->query_safe($case{remove});
	pass("$label: $case{remove} committed while the DDL waits");

	# the DDL fails once core has waited for the session that stays
	$ddl->query('SELECT 1');
	like($ddl->{stderr}, qr/is being accessed by other users/,
		"$label: the DDL failed because a session stayed in $db");
	$ddl->quit;

	ok( $node->poll_query_until(
			'postgres', qq{
			SELECT ((SELECT coalesce(string_agg(application_name, ' ' ORDER BY application_name), '')
					FROM pg_stat_activity
					WHERE backend_type = 'pg_extension_base base worker'
					AND datname = '$db') = '$case{kept}')
				AND NOT EXISTS (SELECT FROM extension_base.list_database_starters())}),
		"$label: the workers still registered run again")
	  or diag('running: ' . workers_in($db));

	is($node->safe_psql($db,
			"SELECT count(*) FROM pgeb_test_worker.runs WHERE worker_id = $removed_id"),
		$runs_before,
		"$label: the removed worker $case{removed} never started again");
	ok( !$node->log_contains(
			qr/starting background worker process "pg_extension_base base worker $case{removed}"/,
			$log_offset),
		"$label: the postmaster never started the removed worker again");
	ok( !$node->log_contains(
			qr/entry point of base worker $removed_id no longer exists/,
			$log_offset),
		"$label: no start of the removed worker failed");
	is( $node->safe_psql(
			'postgres', qq{
			SELECT count(*) FROM extension_base.list_base_workers() w
			JOIN pg_database d ON d.oid = w.database_id
			WHERE d.datname = '$db' AND (w.worker_id = $removed_id OR w.failure_count > 0)}),
		'0',
		"$label: the registry has no slot of it and no failure");
	$stayer->quit;
	$node->safe_psql('postgres', "DROP DATABASE $db");
}

removed_during_failed_ddl(
	label => 'deregister during a failing CREATE DATABASE TEMPLATE',
	db => 'race_a',
	ddl => 'CREATE DATABASE race_a_copy TEMPLATE race_a',
	remove => q{SELECT extension_base.deregister_worker('test_worker_b')},
	removed => 'test_worker_b',
	kept => 'heartbeat test_worker');

removed_during_failed_ddl(
	label => 'DROP EXTENSION during a failing CREATE DATABASE TEMPLATE',
	db => 'race_b',
	ddl => 'CREATE DATABASE race_b_copy TEMPLATE race_b',
	remove => 'DROP EXTENSION pg_extension_base_example',
	removed => 'heartbeat',
	kept => 'test_worker test_worker_b');

removed_during_failed_ddl(
	label => 'deregister during a failing DROP DATABASE',
	db => 'race_c',
	ddl => 'DROP DATABASE race_c',
	remove => q{SELECT extension_base.deregister_worker('test_worker_b')},
	removed => 'test_worker_b',
	kept => 'heartbeat test_worker');

removed_during_failed_ddl(
	label => 'DROP EXTENSION during a failing ALTER DATABASE RENAME',
	db => 'race_d',
	ddl => 'ALTER DATABASE race_d RENAME TO race_d_renamed',
	remove => 'DROP EXTENSION pg_extension_base_example',
	removed => 'heartbeat',
	kept => 'test_worker test_worker_b');

ok(!$node->log_contains(qr/PANIC|TRAP|terminated by signal/),
	'no crash');
$node->stop;
done_testing();
