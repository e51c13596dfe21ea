# Running out of background worker slots is logged once, retried with
# backoff, and every worker runs once slots are free; a hot standby runs
# nothing until it is promoted, then everything starts.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

# Five slots: the server starter and the logical replication launcher take
# two, which leaves three for database starters and base workers.
my $node = new_node(
	'slots', conf => q{
max_worker_processes = 5
pg_extension_base.worker_restart_backoff_initial = '200ms'
});
$node->start;
$node->safe_psql('postgres',
	'SET client_min_messages = warning; CREATE EXTENSION pgeb_test_worker VERSION \'1.1\'');
wait_for_base_workers($node, 'postgres/test_worker postgres/test_worker_b',
	'two workers take two of the three free slots');

$node->safe_psql('postgres', 'CREATE DATABASE db2');
$node->safe_psql('db2',
	'SET client_min_messages = warning; CREATE EXTENSION pgeb_test_worker VERSION \'1.1\'');
wait_for_base_workers($node,
	'db2/test_worker postgres/test_worker postgres/test_worker_b',
	'db2 gets the last slot for one of its two workers');
ok( $node->poll_query_until(
		'postgres', q{
		SELECT count(*) = 1 FROM extension_base.list_base_workers()
		WHERE state = 'wanted'}),
	'the other one waits for a slot');

# more demand while out of slots: a third database's starter waits as well
$node->safe_psql('postgres', 'CREATE DATABASE db3');
$node->safe_psql('db3',
	'SET client_min_messages = warning; CREATE EXTENSION pgeb_test_worker');
is(log_count($node, qr/out of background worker slots/),
	1, 'running out of slots is logged once, not per attempt');
unlike(slurp_file($node->logfile), qr/could not register background process/,
	'and core\'s registration error never appears');

# free two slots: everything that waited starts, without a restart
$node->safe_psql('postgres', 'DROP EXTENSION pgeb_test_worker');
wait_for_base_workers($node,
	'db2/test_worker db2/test_worker_b db3/test_worker',
	'once slots are free, every waiting worker runs');
is(log_count($node, qr/out of background worker slots/),
	1, 'still logged only once');
is(log_count($node, qr/background worker slots are available again/),
	1, 'and the end of the condition once');
$node->stop;

# hot standby: nothing runs until promotion
my $primary = new_node('primary', init => { allows_streaming => 1 });
$primary->start;
$primary->safe_psql('postgres',
	'SET client_min_messages = warning; CREATE EXTENSION pgeb_test_worker');
wait_for_base_workers($primary, 'postgres/test_worker',
	'the primary runs its worker');
$primary->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;
$primary->safe_psql('postgres', 'CREATE DATABASE later');
$primary->safe_psql('later',
	'SET client_min_messages = warning; CREATE EXTENSION pgeb_test_worker');
$primary->wait_for_catchup($standby);
is( $standby->safe_psql(
		'postgres', q{
		SELECT count(*) FROM pg_stat_activity
		WHERE backend_type LIKE 'pg_extension_base%'}),
	'0',
	'a caught-up hot standby runs no server starter and no worker');
$primary->stop;
$standby->promote;
wait_for_base_workers($standby, 'later/test_worker postgres/test_worker',
	'after promotion every worker starts');

$standby->stop;
ok(!$standby->log_contains('TRAP:|PANIC:|terminated by signal'),
	'no crash on the promoted standby');
done_testing();
