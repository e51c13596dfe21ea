# Warm attached workers under load: 8 callers, calls into 2 databases for
# 30 s (PGEB_CONCURRENCY_SECONDS), mixed with errors, statement timeouts,
# cancels from outside, and DROP / CREATE DATABASE of one of the two in a
# loop.  At the end:
# - every call that returned has its effect exactly once, and no call's
#   effect is there twice (the database never dropped, pool_one);
# - no attached worker is left in a dropped database;
# - the pool stayed within its limits at every sample;
# - the pool served calls (the run did not fall back to new workers only:
#   a worker made more than one of pool_one's effects).
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

my $seconds = $ENV{PGEB_CONCURRENCY_SECONDS} // 30;
my $callers = 8;
my $pool_size = 2;
my $pool_max = 4;

my $node = new_node('pool_concurrency',
	conf => "max_worker_processes = 32\n"
	  . "pg_extension_base.attached_pool_size = $pool_size\n"
	  . "pg_extension_base.attached_pool_max_workers = $pool_max\n"
	  . "pg_extension_base.attached_pool_idle_timeout = '10min'\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_extension_base;
	CREATE SEQUENCE call_ids;
	CREATE TABLE calls (id bigint, target text, outcome text, sqlstate text);
	CREATE DATABASE pool_one;
	CREATE DATABASE pool_two;
});
# pool_one's effects say which worker made them: a (pid, start) pair seen
# for more than one call is a worker that served again from the pool.
$node->safe_psql('pool_one', q{
	CREATE FUNCTION worker_start() RETURNS timestamptz LANGUAGE sql
	AS 'SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()';
	CREATE TABLE done (id bigint, pid int DEFAULT pg_backend_pid(),
		started timestamptz DEFAULT worker_start());
});
$node->safe_psql('pool_two', 'CREATE TABLE done (id bigint)');

# One call and its bookkeeping; psql runs it again and again until the
# deadline (psql has no loop: the caller's script includes it again and
# again, and quits after the deadline; a \q in the included file would
# only end that file).
my $block = <<'EOF';
SELECT nextval('call_ids') AS id, random() AS r \gset
SELECT (:r < 0.5) AS one, (:r >= 0.45 AND :r < 0.5) AS timed \gset
\if :timed
SET statement_timeout = '30ms';
\endif
\if :one
SELECT count(*) FROM extension_base.run_attached(
	CASE WHEN :r < 0.05 THEN 'SELECT 1 / 0'
	     WHEN :r < 0.1 THEN 'SELECT pg_sleep(0.01); INSERT INTO done VALUES (' || :id || ')'
	     WHEN :r >= 0.45 THEN 'SELECT pg_sleep(1); INSERT INTO done VALUES (' || :id || ')'
	     ELSE 'INSERT INTO done VALUES (' || :id || ')' END,
	'pool_one');
\else
SELECT count(*) FROM extension_base.run_attached_returning(
	'INSERT INTO done VALUES (' || :id || ') RETURNING id', 'pool_two') AS r(id bigint);
\endif
\if :ERROR
INSERT INTO calls VALUES (:id, CASE WHEN :'one' THEN 'pool_one' ELSE 'pool_two' END,
	'failed', :'LAST_ERROR_SQLSTATE');
\else
INSERT INTO calls VALUES (:id, CASE WHEN :'one' THEN 'pool_one' ELSE 'pool_two' END,
	'ok', NULL);
\endif
RESET statement_timeout;
SELECT clock_timestamp() > :'deadline' AS over \gset
EOF
my $dir = PostgreSQL::Test::Utils::tempdir();
PostgreSQL::Test::Utils::append_to_file("$dir/block.sql", $block);
PostgreSQL::Test::Utils::append_to_file("$dir/caller.sql",
	"SET application_name = 'pool_caller';\n"
	  . "SELECT clock_timestamp() + make_interval(secs => :seconds) AS deadline \\gset\n"
	  . ("\\ir block.sql\n\\if :over\n\\q\n\\endif\n" x 200_000));
PostgreSQL::Test::Utils::append_to_file("$dir/canceller.sql",
	"SELECT clock_timestamp() + make_interval(secs => :seconds) AS deadline \\gset\n"
	  . (<<'EOF' x 10_000));
SELECT count(pg_cancel_backend(pid)) FROM (
	SELECT pid FROM pg_stat_activity
	WHERE application_name = 'pool_caller' AND state = 'active'
	AND query LIKE '%run_attached%'
	ORDER BY random() LIMIT 1) c;
SELECT pg_sleep(0.2);
SELECT clock_timestamp() > :'deadline' AS over \gset
\if :over
\q
\endif
EOF

my @psql = ($node->installed_command('psql'), '-X', '-q',
	'-d', $node->connstr('postgres'), '-v', "seconds=$seconds");
my @runs;
foreach my $i (1 .. $callers)
{
	my ($out, $err) = ('', '');
	push @runs, IPC::Run::start([ @psql, '-f', "$dir/caller.sql" ],
		'>', \$out, '2>', \$err,
		IPC::Run::timeout($seconds + $PostgreSQL::Test::Utils::timeout_default));
}
my ($cancel_out, $cancel_err) = ('', '');
push @runs, IPC::Run::start([ @psql, '-f', "$dir/canceller.sql" ],
	'>', \$cancel_out, '2>', \$cancel_err,
	IPC::Run::timeout($seconds + $PostgreSQL::Test::Utils::timeout_default));

# DROP and CREATE DATABASE pool_two in a loop; sample the pool meanwhile
my ($drops, $failed_drops, $samples, $over_limits) = (0, 0, 0, 0);
my $deadline = time + $seconds;
while (time < $deadline)
{
	my ($ret, $stdout, $stderr) = $node->psql('postgres', 'DROP DATABASE pool_two');
	if ($ret == 0)
	{
		$drops++;
		$node->safe_psql('postgres', 'CREATE DATABASE pool_two');
		$node->safe_psql('pool_two', 'CREATE TABLE done (id bigint)');
	}
	else
	{
		$failed_drops++;
		diag("DROP DATABASE failed: $stderr") if $failed_drops <= 3;
	}
	my $limits = $node->safe_psql('postgres', qq{
		SELECT count(*) <= $pool_max
		AND coalesce(max(n), 0) <= $pool_size
		FROM (SELECT database_id, count(*) AS n
			FROM extension_base.attached_pool() GROUP BY database_id) d});
	$samples++;
	$over_limits++ if $limits ne 't';
}
$_->finish foreach @runs;

ok($drops > 0, "pool_two was dropped and created again ($drops times)");
is($failed_drops, 0, 'no DROP DATABASE failed');
is($over_limits, 0, "the pool was within its limits at every sample ($samples)");

my ($ok_calls, $failed_calls) = split /\|/, $node->safe_psql('postgres', q{
	SELECT count(*) FILTER (WHERE outcome = 'ok'),
		count(*) FILTER (WHERE outcome = 'failed') FROM calls});
cmp_ok($ok_calls, '>', 100, "calls returned ($ok_calls, and $failed_calls failed)");
note($node->safe_psql('postgres', q{
	SELECT string_agg(sqlstate || ': ' || n, ', ' ORDER BY sqlstate)
	FROM (SELECT sqlstate, count(*) AS n FROM calls
		WHERE outcome = 'failed' GROUP BY sqlstate) f}));

# exactly once, in pool_one
my $done = $node->safe_psql('pool_one',
	q{SELECT id, count(*) FROM done GROUP BY id ORDER BY id});
my %done = map { split /\|/ } split /\n/, $done;
my @twice = grep { $done{$_} > 1 } keys %done;
is(scalar(@twice), 0, 'no call\'s effect is there twice')
  or diag("ids done twice: @twice[0 .. ($#twice < 9 ? $#twice : 9)]");
my @returned = split /\n/, $node->safe_psql('postgres', q{
	SELECT id FROM calls WHERE target = 'pool_one' AND outcome = 'ok'});
my @missing = grep { !$done{$_} } @returned;
is(scalar(@missing), 0,
	'every call that returned has its effect (' . scalar(@returned) . ' calls)')
  or diag("ids missing: @missing[0 .. ($#missing < 9 ? $#missing : 9)]");

# no worker left in a dropped database
ok( $node->poll_query_until('postgres', q{
		SELECT count(*) = 0 FROM pg_stat_activity
		WHERE backend_type = 'pg_extension_base attached worker'
		AND datid NOT IN (SELECT oid FROM pg_database)}),
	'no attached worker is left in a dropped database');
is( $node->safe_psql('postgres', q{
		SELECT count(*) FROM extension_base.attached_pool() p
		WHERE p.database_id NOT IN (SELECT oid FROM pg_database)}),
	'0', 'nor in the pool');

# the pool did its job: some of pool_one's effects were made by a worker
# that had made another before (the pool's own counters may be gone with
# its workers by now: errors, timeouts and cancels end them)
my ($warm, $workers) = split /\|/, $node->safe_psql('pool_one', q{
	SELECT coalesce(sum(n - 1), 0), count(*)
	FROM (SELECT count(*) AS n FROM done GROUP BY pid, started) w});
cmp_ok($warm, '>', 0,
	"warm workers served calls ($warm calls, by $workers workers in all)");

$node->stop;
done_testing();
