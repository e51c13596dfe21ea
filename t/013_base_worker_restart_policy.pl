# The restart policy of base workers (DESIGN.md section 5): what the entry
# point returns decides when it runs again (-1 at once, N > 0 after N ms, 0
# never), and an ERROR, a FATAL or a SIGTERM from outside is a failure,
# restarted after a backoff that doubles up to a cap and starts again from
# the initial delay after a healthy run.  wakeup_worker() starts a waiting
# or finished worker at once.
#
# pgeb_test_worker reads pgeb_test_worker.behaviour at each start and
# inserts a row into pgeb_test_worker.runs first, so the runs table is the
# history of starts.  Its started_at is taken inside the worker, after the
# server starter decided to start it; the server starter computes the next
# start from the time it reaped the previous run, which is after that run's
# started_at.  So the interval between two consecutive started_at is never
# shorter than the delay the policy chose: we assert lower bounds only, as
# the machine is shared and a start can be late but never early.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

# Short delays so that a whole backoff sequence fits in a few seconds; the
# healthy time is longer than any failing run (a few ms) and than the time
# the test needs to terminate a worker it just saw start, and shorter than
# the runs that must count as healthy.
my $initial = 250;
my $max = 2000;
my $healthy = 3000;
my $node = new_node(
	'restart_policy',
	conf => "pg_extension_base.worker_restart_backoff_initial = '${initial}ms'\n"
	  . "pg_extension_base.worker_restart_backoff_max = '${max}ms'\n"
	  . "pg_extension_base.worker_restart_healthy_time = '${healthy}ms'\n");
start_with_extension($node);

# Start times are compared with the lower bound the policy guarantees; a
# millisecond of slack absorbs the rounding of the interval arithmetic.
my $slack = 1;

# The backoff after the n-th failure in a row, as DESIGN.md states it.
sub backoff
{
	my ($failures) = @_;
	my $delay = $initial * 2**($failures - 1);
	return $delay > $max ? $max : $delay;
}

sub query
{
	my ($sql) = @_;
	return $node->safe_psql('postgres', $sql);
}

my $view = q{extension_base.base_workers WHERE worker_name = 'test_worker'};
my $columns = q{state, pid, failure_count, last_exit_reason,
	round(extract(epoch FROM next_start_time - last_exit_time) * 1000),
	next_start_time, last_exit_time, last_start_time};

# The test worker's row of base_workers, once it satisfies a condition, as a
# hash.  A waiting state lasts only as long as its delay, so the row is read
# with the same condition and the poll repeated if the state moved on in
# between: what we return always satisfies the condition.
sub worker_when
{
	my ($condition) = @_;
	for (1 .. 5)
	{
		$node->poll_query_until('postgres',
			"SELECT count(*) = 1 FROM $view AND ($condition)")
		  or last;
		my $row = query("SELECT $columns FROM $view AND ($condition)");
		next if $row eq '';
		my %r;
		@r{qw(state pid failures reason delay next_start last_exit last_start)}
		  = split /\|/, $row, -1;
		return \%r;
	}
	diag("base_workers never satisfied: $condition; it shows: "
		  . query("SELECT $columns FROM $view"));
	return {};
}

# Intervals in ms between the consecutive starts of the first $count runs
# after a time (a timestamp from the database).
sub intervals_after
{
	my ($after, $count) = @_;
	my $list = query(qq{
		SELECT string_agg(round(ms)::text, ' ' ORDER BY started_at)
		FROM (SELECT started_at, extract(epoch FROM started_at
				- lag(started_at) OVER (ORDER BY started_at)) * 1000 AS ms
			FROM (SELECT started_at FROM pgeb_test_worker.runs
				WHERE started_at > '$after' ORDER BY started_at LIMIT $count) r) i
		WHERE ms IS NOT NULL});
	return split / /, $list;
}

sub runs_after_sql
{
	my ($after) = @_;
	return
	  "SELECT count(*) FROM pgeb_test_worker.runs WHERE started_at > '$after'";
}

sub set_behaviour
{
	my ($action, $arg) = @_;
	query(qq{
		UPDATE pgeb_test_worker.behaviour SET action = '$action', arg = $arg
		WHERE worker_name = 'test_worker'});
}

# The server starter logs each failure with the delay it chose: the only
# place where the delay of a short wait, which a poll may miss, is visible.
sub failure_logged
{
	my ($failures, $offset, $reason) = @_;
	my $delay = backoff($failures);
	ok( $node->log_contains(
			qr/base worker "test_worker" \(id \d+\) in database \d+ failed $failures time\(s\) in a row; restarting in $delay ms/,
			$offset),
		"$reason: failure $failures in a row is logged with a delay of $delay ms");
}

# The behaviour row must exist before the worker's first start: inserted in
# the transaction that creates the extension, it is there when the worker
# starts, since nothing starts before that COMMIT.
query(q{
	SET client_min_messages = warning;
	BEGIN;
	CREATE EXTENSION pgeb_test_worker;
	INSERT INTO pgeb_test_worker.behaviour VALUES ('test_worker', 'return', -1);
	COMMIT});
my $id = query(
	q{SELECT worker_id FROM extension_base.workers WHERE worker_name = 'test_worker'});

### -1: restart at once, in a new process each time

ok( $node->poll_query_until(
		'postgres', 'SELECT count(*) >= 10 FROM pgeb_test_worker.runs'),
	'returning -1: the worker keeps starting again');
is( query(
		'SELECT count(DISTINCT pid) = count(*) FROM pgeb_test_worker.runs'),
	't', 'returning -1: each start is a new process');
my $w = worker_when('true');
is("$w->{failures} $w->{reason}", '0 returned -1',
	'returning -1 is no failure and is recorded as the exit reason');
# a failure would wait at least the initial backoff each time; "at once"
# is asserted as the typical interval being shorter than that (the median,
# so that one start delayed by the shared machine does not matter)
my $median = query(q{
	SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms))
	FROM (SELECT extract(epoch FROM started_at
			- lag(started_at) OVER (ORDER BY started_at)) * 1000 AS ms
		FROM pgeb_test_worker.runs) i});
cmp_ok($median, '<', $initial,
	"returning -1: restarts come faster than any failure backoff (median ${median} ms)");
ok(!$node->log_contains('base worker "test_worker".*failed'),
	'returning -1: no failure is logged');

### N > 0: restart after N ms, waiting in between

my $period = 1000;
set_behaviour('return', $period);
# the runs that start after the first "returned 1000" read the new
# behaviour, as does the run that returned it
$w = worker_when("state = 'waiting' AND last_exit_reason = 'returned $period'");
is("$w->{pid} $w->{failures} $w->{delay}", "0 0 $period",
	"returning $period: waiting, no process, next start $period ms after the exit");
my $first = query(qq{
	SELECT max(started_at) - interval '1 microsecond'
	FROM pgeb_test_worker.runs WHERE started_at < '$w->{last_exit}'});
ok( $node->poll_query_until(
		'postgres', "SELECT (" . runs_after_sql($first) . ") >= 4"),
	"returning $period: the worker starts again and again");
my @intervals = intervals_after($first, 4);
is(scalar @intervals, 3, "returning $period: three intervals measured");
for my $ms (@intervals)
{
	cmp_ok($ms, '>=', $period - $slack,
		"returning $period: the next start came $ms ms later, not earlier");
}

### 0: never again, until wakeup_worker

set_behaviour('return', 0);
$w = worker_when("state = 'done'");
is( "$w->{pid} $w->{failures} $w->{reason} "
	  . ($w->{next_start} eq '' ? 'no next start' : $w->{next_start}),
	'0 0 returned 0 no next start',
	'returning 0: done, no process, no next start');
my $runs = query('SELECT count(*) FROM pgeb_test_worker.runs');
# "never" can only be observed over some time: twice the period of the
# previous phase, after which a worker still restarting would have started
ok( $node->poll_query_until(
		'postgres',
		"SELECT clock_timestamp() > '$w->{last_exit}'::timestamptz + interval '"
		  . 2 * $period . " ms'"),
	'returning 0: time passes');
is( query(
		"SELECT count(*) || ' ' || (SELECT state FROM $view) FROM pgeb_test_worker.runs"),
	"$runs done", 'returning 0: the worker did not start again');
is( query(q{
		SELECT count(*) FROM pg_stat_activity
		WHERE backend_type = 'pg_extension_base base worker'}),
	'0', 'returning 0: no process runs');

query(q{SELECT extension_base.wakeup_worker('test_worker')});
ok( $node->poll_query_until(
		'postgres', qq{
		SELECT count(*) = $runs + 1 AND (SELECT state = 'done'
			AND last_start_time > '$w->{last_exit}' FROM $view)
		FROM pgeb_test_worker.runs}),
	'wakeup_worker starts a finished worker, which runs and is done again');
is(query('SELECT count(*) FROM pgeb_test_worker.runs'),
	$runs + 1, 'wakeup_worker started it exactly once');

### ERROR: backoff that doubles up to the cap

my $offset = -s $node->logfile;
set_behaviour('error', 0);
my $since = query('SELECT clock_timestamp()');
query(q{SELECT extension_base.wakeup_worker('test_worker')});
# five failures: delays 250, 500, 1000, 2000 and, capped, 2000 again; the
# cap is long enough for the poll to catch the fifth wait with a second to
# spare, which the next step needs to wake the worker before it is due
$w = worker_when("state = 'waiting' AND failure_count = 5 "
	  . "AND next_start_time > clock_timestamp() + interval '1 s'");
# wake it right away, while the fifth wait has most of its second to run
# (on a loaded machine the checks of the ERROR sequence take longer than
# that: they come after); the behaviour is committed before wakeup_worker
# asks for the start, so the woken run reads it
my $error_offset = $offset;
my $error_wait = $w;
$offset = -s $node->logfile;
my $deadline = $w->{next_start};
my $woke_at = query('SELECT clock_timestamp()');
set_behaviour('fatal', 0);
query(q{SELECT extension_base.wakeup_worker('test_worker')});

is($error_wait->{reason}, "failed: test worker $id fails on purpose",
	'ERROR: last_exit_reason has the error message');
is($error_wait->{delay}, $max,
	"ERROR: after 5 failures the delay is capped at $max ms, not "
	  . $initial * 16 . ' ms');
@intervals = intervals_after($since, 5);
is(scalar @intervals, 4, 'ERROR: four intervals between five starts');
for my $i (0 .. $#intervals)
{
	my $expected = backoff($i + 1);
	cmp_ok($intervals[$i], '>=', $expected - $slack,
		"ERROR: start " . ($i + 2) . " came $intervals[$i] ms after the "
		  . "previous one, not before the backoff of $expected ms");
	next if $i == 0;
	cmp_ok($intervals[$i], '>', $intervals[ $i - 1 ],
		"ERROR: interval " . ($i + 1) . " is longer than interval $i");
}
failure_logged($_, $error_offset, 'ERROR') for 1 .. 5;
is( query(qq{
		SELECT count(*) FROM pgeb_test_worker.runs
		WHERE started_at > '$since' AND started_at <= '$woke_at'}),
	5, 'ERROR: no start during the fifth wait until it was cut short');

### FATAL is a failure too; wakeup_worker cuts a wait short

$w = worker_when("state = 'waiting' AND failure_count = 6");
is($w->{reason}, "failed: test worker $id ends on purpose",
	'FATAL: a failure, last_exit_reason has its message');
is($w->{delay}, $max, 'FATAL: the delay stays at the cap');
failure_logged(6, $offset, 'FATAL');
my $woken = query(qq{
	SELECT started_at FROM pgeb_test_worker.runs
	WHERE started_at > '$since' ORDER BY started_at OFFSET 5 LIMIT 1});
is(query("SELECT '$woken'::timestamptz < '$deadline'"),
	't',
	"wakeup_worker started the waiting worker at once ($woken), "
	  . "before its next start ($deadline)");

### SIGTERM from outside (pg_terminate_backend) is a failure

$offset = -s $node->logfile;
set_behaviour('loop', 0);
query(q{SELECT extension_base.wakeup_worker('test_worker')});
# it runs once its run is recorded; it has not run long enough to be
# healthy when we terminate it right away
ok( $node->poll_query_until(
		'postgres', qq{
		SELECT state = 'running' AND failure_count = 6 AND pid IN
			(SELECT pid FROM pgeb_test_worker.runs) FROM $view}),
	'a looping worker runs');
my $pid = query("SELECT pid FROM $view");
is(query("SELECT pg_terminate_backend($pid)"), 't',
	'pg_terminate_backend reaches the worker');
$w = worker_when("state = 'waiting' AND failure_count = 7");
like(
	$w->{reason},
	qr/^failed: terminating .* due to administrator command$/,
	'SIGTERM: a failure, last_exit_reason has the termination message');
is($w->{delay}, $max, 'SIGTERM: the delay stays at the cap');
failure_logged(7, $offset, 'SIGTERM');

### a healthy run resets the failure count: SIGTERM after a long run

# the worker loops when it starts again (after the capped delay); a run
# longer than the healthy time then fails with a count of 1 again
ok( $node->poll_query_until(
		'postgres', qq{
		SELECT state = 'running' AND clock_timestamp() >
			last_start_time + interval '@{[ $healthy + 500 ]} ms' FROM $view}),
	'the worker has run longer than worker_restart_healthy_time');
$offset = -s $node->logfile;
$pid = query("SELECT pid FROM $view");
my $terminated = query("SELECT clock_timestamp(), pg_terminate_backend($pid)");
$terminated =~ s/\|t$// or diag("pg_terminate_backend($pid): $terminated");
ok( $node->poll_query_until(
		'postgres', qq{
		SELECT last_exit_time > '$terminated' FROM $view}),
	'the healthy worker was terminated');
is( query("SELECT failure_count || ' ' || (last_exit_reason LIKE "
		  . "'failed: terminating % due to administrator command') FROM $view"),
	'1 true',
	'SIGTERM after a healthy run: the failure count starts again at 1');
failure_logged(1, $offset, 'SIGTERM after a healthy run');

### a healthy run resets the failure count: ERROR after a long run

# first a quick failure, so that the count is 2 before the healthy run
ok( $node->poll_query_until(
		'postgres', qq{
		SELECT state = 'running' AND pid <> $pid AND pid IN
			(SELECT pid FROM pgeb_test_worker.runs) FROM $view}),
	'the worker loops again after the initial delay');
$pid = query("SELECT pid FROM $view");
# committed before the termination, so the next start reads it
my $sleep = $healthy + 1000;
set_behaviour('sleep_then_error', $sleep);
$offset = -s $node->logfile;
query("SELECT pg_terminate_backend($pid)");
ok( $node->poll_query_until(
		'postgres', qq{
		SELECT last_exit_reason = 'failed: test worker $id fails after $sleep ms'
		FROM $view}),
	"a worker that fails after $sleep ms has run");
failure_logged(2, $offset, 'SIGTERM right after a start');
# The run must really have lasted the LightSleep() it asked for, or it is
# no healthy run.  A new process starts with its latch set (PostgreSQL's
# SwitchToSharedLatch), so a LightSleep() that returned as soon as the
# latch is set would end the first sleep of every worker at once.
my $lasted = query(qq{
	SELECT round(extract(epoch FROM last_exit_time - (SELECT max(started_at)
		FROM pgeb_test_worker.runs WHERE started_at < last_exit_time)) * 1000)
	FROM $view});
cmp_ok($lasted, '>=', $sleep,
	"LightSleep($sleep) in a new worker sleeps $sleep ms (the run lasted $lasted ms)");
is(query("SELECT failure_count FROM $view"),
	'1', 'ERROR after a healthy run: the failure count starts again at 1');
failure_logged(1, $offset, 'ERROR after a healthy run');

$node->stop;
ok(!$node->log_contains('TRAP:|PANIC:|terminated by signal'),
	'no crash, assertion failure or PANIC');
done_testing();
