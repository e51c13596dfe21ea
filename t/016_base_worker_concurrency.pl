# A minute of concurrent lifecycle changes: in each of several databases a
# session creates and drops the worker extension, updates it (a second
# worker) and deregisters a worker, committing or rolling back at random;
# meanwhile another session creates databases from a template that has a
# running worker and drops them again.  Afterwards exactly one worker runs
# per (database with the extension, registered worker), no process is
# left over, no registry slot leaked, and nothing crashed.
#
# PGEB_CONCURRENCY_SECONDS sets the duration (default 60).
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

my $seconds = $ENV{PGEB_CONCURRENCY_SECONDS} // 60;
my @databases = map { "db$_" } 1 .. 4;

my $node = new_node(
	'concurrency', conf => q{
max_worker_processes = 32
pg_extension_base.worker_restart_backoff_initial = '100ms'
});
start_with_extension($node);

for my $db (@databases, 'tmpl')
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db,
		'SET client_min_messages = warning; CREATE EXTENSION pg_extension_base');
}
$node->safe_psql('tmpl',
	'SET client_min_messages = warning; CREATE EXTENSION pgeb_test_worker');

# One client per database, so that its own statements never conflict with
# each other; the races are between databases, the server starter, the
# database starters and the workers.
my $lifecycle = $node->basedir . '/lifecycle.sql';
append_to_file(
	$lifecycle, q{
\set change random(0, 4)
\set finish random(0, 1)
SET client_min_messages = warning;
BEGIN;
\if :change = 0
CREATE EXTENSION IF NOT EXISTS pgeb_test_worker;
\elif :change = 1
DROP EXTENSION IF EXISTS pgeb_test_worker;
\elif :change = 2
DO $$
BEGIN
	IF EXISTS (SELECT FROM pg_extension
			   WHERE extname = 'pgeb_test_worker' AND extversion = '1.0') THEN
		ALTER EXTENSION pgeb_test_worker UPDATE TO '1.1';
	END IF;
END $$;
\elif :change = 3
SELECT extension_base.deregister_worker('test_worker_b', missing_ok => true);
\else
SELECT count(*) FROM extension_base.base_workers;
\endif
\if :finish = 0
COMMIT;
\else
ROLLBACK;
\endif
});

# CREATE DATABASE from a template whose worker runs, then DROP it
my $databases_script = $node->basedir . '/databases.sql';
append_to_file(
	$databases_script, q{
CREATE DATABASE scratch TEMPLATE tmpl;
DROP DATABASE scratch;
});

my (@runs, @errors, @outputs);
for my $db (@databases)
{
	my ($out, $err) = ('', '');
	push @errors, \$err;
	push @outputs, \$out;
	push @runs,
	  IPC::Run::start(
		[
			'pgbench', '-n', '-T', $seconds, '-c', '1', '-f', $lifecycle,
			'-h', $node->host, '-p', $node->port, $db
		],
		'>', \$out, '2>', \$err);
}
push @runs,
  IPC::Run::start(
	[
		'pgbench', '-n', '-T', $seconds, '-c', '1', '-f', $databases_script,
		'-h', $node->host, '-p', $node->port, 'postgres'
	],
	'>', \my $dbout, '2>', \my $dberr);
push @errors, \$dberr;

my $finished = 0;
for my $run (@runs)
{
	$finished++ if $run->finish;
}
is($finished, scalar @runs, "all sessions ran $seconds seconds without an error");
diag($$_) for grep { $$_ =~ /error|abort/i } @errors;
note("lifecycle transactions per database: "
	  . join(', ', map { $$_ =~ /actually processed: (\d+)/ ? $1 : '?' } @outputs));
note("CREATE/DROP DATABASE rounds: " . ($dbout =~ /actually processed: (\d+)/ ? $1 : '?'));

# what must run now, from the catalogs of each database
my @expected;
for my $db (sort(@databases, 'tmpl'))
{
	my $names = $node->safe_psql(
		$db, q{
		SELECT string_agg(current_database() || '/' || worker_name, ' '
			ORDER BY worker_name)
		FROM extension_base.workers});
	push @expected, $names if $names ne '';
}
my $expected = join ' ', @expected;
note("expected: $expected");
wait_for_base_workers($node, $expected,
	'exactly one worker per database with the extension and registered worker');
ok( $node->poll_query_until(
		'postgres', q{
		SELECT count(*) = 0 FROM extension_base.list_database_starters()}),
	'no database starter is left');
is( $node->safe_psql(
		'postgres', q{
		SELECT count(*) FILTER (WHERE state = 'running' AND pid > 0)
			|| ' ' || count(*)
		FROM extension_base.list_base_workers()}),
	scalar(split / /, $expected) . ' ' . scalar(split / /, $expected),
	'the registry holds one running slot per worker, none leaked');
is( $node->safe_psql(
		'postgres', q{
		SELECT count(*) FROM pg_database WHERE datname = 'scratch'}),
	'0',
	'the scratch database was dropped every time');

$node->stop;
ok(!$node->log_contains('TRAP:|PANIC:|terminated by signal|server process .* was terminated'),
	'no crash, assertion failure or PANIC');
done_testing();
