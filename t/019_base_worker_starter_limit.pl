# At most pg_extension_base.max_database_starters database starters run at
# once.  Each database below holds a transaction that keeps its starter
# waiting (ROW EXCLUSIVE on extension_base.workers, as a transaction that
# registers workers does), so a starter stays until that transaction ends
# and the count can be observed without racing.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

my $node = new_node('starter_limit',
	conf => "pg_extension_base.max_database_starters = 2\n");
start_with_extension($node);

my @databases = map { "db$_" } 1 .. 4;
my @holders;
for my $db (@databases)
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db,
		'SET client_min_messages = warning; CREATE EXTENSION pgeb_test_worker');
}
wait_for_base_workers($node, join(' ', map { "$_/test_worker" } @databases),
	'every database runs its worker');

for my $db (@databases)
{
	my $holder = $node->background_psql($db, on_error_stop => 0);
	$holder->query_safe(
		'BEGIN; LOCK TABLE extension_base.workers IN ROW EXCLUSIVE MODE');
	push @holders, $holder;
	# a change of the database's settings asks for a scan of it
	$node->safe_psql('postgres', "ALTER DATABASE $db RESET work_mem");
}

my $starters = q{
	SELECT count(*) FROM pg_stat_activity
	WHERE backend_type = 'pg_extension_base database starter'};
ok($node->poll_query_until('postgres', "SELECT ($starters) = 2"),
	'two database starters run, waiting for their databases');
is($node->safe_psql('postgres', 'SELECT count(*) FROM extension_base.list_database_starters()'),
	'2', 'the registry agrees');

# each transaction that ends lets its starter finish and the next one in
my $seen_max = 0;
for my $holder (@holders)
{
	$holder->query_safe('COMMIT');
	$holder->quit;
	my $now = $node->safe_psql('postgres', $starters);
	$seen_max = $now if $now > $seen_max;
}
ok($node->poll_query_until('postgres', "SELECT ($starters) = 0"),
	'all scans finished');
cmp_ok($seen_max, '<=', 2, 'never more than two starters at once');
wait_for_base_workers($node, join(' ', map { "$_/test_worker" } @databases),
	'and every worker still runs');

$node->stop;
done_testing();
