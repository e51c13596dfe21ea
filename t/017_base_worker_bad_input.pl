# Bad input to the SQL API of base workers: every bad call gets a clear
# error with the documented SQLSTATE and crashes nothing.  NULL arguments,
# register_worker outside an extension script, entry points of the wrong
# signature or language or that do not exist, empty, duplicate and
# over-long names, callers that are not superusers (with and without
# EXECUTE), unknown names and ids (and missing_ok), ids past 65535 (never
# aliasing a smaller id), and a registration whose id is past 65535.  A
# failed CREATE EXTENSION leaves no registration behind, and the worker that
# ran before runs on, in the same process.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

# the extensions whose scripts call register_worker badly live in a copy of
# the installation; pgeb_t_reg's script is rewritten for each case (the
# server reads it at each CREATE EXTENSION)
my $install = install_copy('worker_bad_input');
write_extension_file($install, 'pgeb_t_reg.control',
	"default_version = '1.0'\nrelocatable = false\n"
	  . "schema = pgeb_t_reg\nrequires = 'pg_extension_base'\n");
write_extension_file($install, 'pgeb_t_high.control',
	"default_version = '1.0'\nrelocatable = false\n"
	  . "schema = pgeb_t_high\nrequires = 'pg_extension_base'\n");
write_extension_file($install, 'pgeb_t_high--1.0.sql', q{
CREATE FUNCTION main(internal) RETURNS internal
LANGUAGE C AS 'pgeb_test_worker', 'pgeb_test_worker_main';
SELECT extension_base.register_worker('high_worker', 'pgeb_t_high.main');
});

my $node = new_node('worker_bad_input', install => $install);
start_with_extension($node);
$node->safe_psql('postgres', 'CREATE EXTENSION pgeb_test_worker');
wait_for_base_workers($node, 'postgres/test_worker', 'the worker runs');
my $pid = base_worker_pid($node, 'postgres', 'test_worker');
my $id = $node->safe_psql('postgres',
	q{SELECT worker_id FROM extension_base.workers WHERE worker_name = 'test_worker'});

# Run SQL (as $user when given) and return "SQLSTATE: message" of its
# error, or "" when it succeeds without a word on stderr.  At VERBOSITY
# verbose psql prints "ERROR:  22004: message".
sub error_of
{
	my ($sql, $user) = @_;
	my ($stdout, $stderr) = ('', '');
	$node->psql(
		'postgres', "\\set VERBOSITY verbose\n$sql",
		stdout => \$stdout,
		stderr => \$stderr,
		extra_params => $user ? [ '-U', $user ] : []);
	return $1 if $stderr =~ /ERROR:  ([0-9A-Z]{5}: .*)/;
	return $stderr;
}

# One test: $sql fails with $sqlstate and a message matching $message.
sub fails_with
{
	my ($sql, $sqlstate, $message, $name, $user) = @_;
	like(error_of($sql, $user), qr/^$sqlstate: $message/, "$name: $sqlstate");
}

# One test: CREATE EXTENSION pgeb_t_reg with this script fails with
# $sqlstate, and leaves neither the extension nor a registration behind
# (test_worker's is the only one).
sub script_fails_with
{
	my ($script, $sqlstate, $message, $name) = @_;
	write_extension_file($install, 'pgeb_t_reg--1.0.sql', $script);
	my $error = error_of('CREATE EXTENSION pgeb_t_reg');
	my $left = $node->safe_psql(
		'postgres', q{
		SELECT (SELECT string_agg(worker_name, ',') FROM extension_base.workers)
			|| ' ' || (SELECT count(*) FROM pg_extension WHERE extname = 'pgeb_t_reg')});
	like("$error | $left", qr/^$sqlstate: $message.* \| test_worker 0$/,
		"$name: $sqlstate, and no registration is left behind");
}

# a C function declared with the given signature, and register_worker
my $c_function = q{
CREATE FUNCTION main(%s) RETURNS %s
LANGUAGE C AS 'pgeb_test_worker', 'pgeb_test_worker_main';
};
my $good_main = sprintf($c_function, 'internal', 'internal');
sub register
{
	my ($name, $entry_point) = @_;
	return "SELECT extension_base.register_worker($name, $entry_point);\n";
}

# --- NULL arguments: 22004 from every function, even with missing_ok ---

script_fails_with($good_main . register('NULL', q{'pgeb_t_reg.main'}),
	'22004', 'argument 1 of register_worker must not be null',
	'register_worker with a NULL name');
script_fails_with($good_main . register(q{'w'}, 'NULL'),
	'22004', 'argument 2 of register_worker must not be null',
	'register_worker with a NULL entry point');
for my $call (
	'deregister_worker(NULL::text)',
	'deregister_worker(NULL::text, true)',
	q{deregister_worker('test_worker', NULL)},
	'deregister_worker(NULL::int)',
	'deregister_worker(NULL::int, true)',
	"deregister_worker($id, NULL)",
	'get_worker_pid(NULL)',
	'wakeup_worker(NULL::text)',
	'wakeup_worker(NULL::int)')
{
	fails_with("SELECT extension_base.$call", '22004', 'argument \d of \w+ must not be null',
		$call);
}

# --- register_worker outside an extension script: 55000 ---

fails_with(
	q{SELECT extension_base.register_worker('outside', 'pgeb_test_worker.worker_main')},
	'55000', 'register_worker\(\) can only be called from an extension script',
	'register_worker in a plain statement');
fails_with(
	q{DO $$ BEGIN PERFORM extension_base.register_worker('outside',
		'pgeb_test_worker.worker_main'); END $$},
	'55000', 'register_worker\(\) can only be called from an extension script',
	'register_worker in a DO block');

# --- entry points: fn(internal) returns internal, in C; else 42P13 ---

my $wrong = 'entry point .* of a base worker has the wrong signature';
for my $signature ([ 'int', 'int' ], [ 'internal', 'void' ],
	[ 'internal', 'SETOF internal' ], [ 'internal, internal', 'internal' ],
	[ 'internal', 'int' ])
{
	script_fails_with(
		sprintf($c_function, @$signature)
		  . register(q{'w'}, q{'pgeb_t_reg.main'}),
		'42P13', $wrong, "entry point main($signature->[0]) returns $signature->[1]");
}
# SQL and PL/pgSQL functions cannot take internal: LANGUAGE internal is
# the language other than C that can declare the right signature
script_fails_with(q{
CREATE FUNCTION main(internal) RETURNS internal LANGUAGE internal AS 'int4in';
} . register(q{'w'}, q{'pgeb_t_reg.main'}),
	'42P13', 'entry point .* of a base worker must be written in C',
	'an entry point in LANGUAGE internal');
# a function that does not exist fails in the cast to regproc
script_fails_with(register(q{'w'}, q{'pgeb_t_reg.no_such_function'}),
	'42883', 'function "pgeb_t_reg.no_such_function" does not exist',
	'an entry point that does not exist');

# --- names: empty 22023, duplicate 42710, 64 bytes and more 42622 ---

script_fails_with($good_main . register(q{''}, q{'pgeb_t_reg.main'}),
	'22023', 'the name of a base worker must not be empty', 'an empty name');
script_fails_with($good_main . register(q{'test_worker'}, q{'pgeb_t_reg.main'}),
	'42710', 'base worker "test_worker" already exists',
	'the name of a worker of another extension');
script_fails_with(
	$good_main
	  . register(q{'twice'}, q{'pgeb_t_reg.main'})
	  . register(q{'twice'}, q{'pgeb_t_reg.main'}),
	'42710', 'base worker "twice" already exists',
	'the same name twice in one script');
script_fails_with($good_main . register(q{'} . ('w' x 64) . q{'}, q{'pgeb_t_reg.main'}),
	'42622', 'base worker name "w{64}" is too long', 'a name of 64 bytes');
# 32 two-byte characters: the limit is in bytes
script_fails_with(
	$good_main . register(q{'} . ("\xc3\xa9" x 32) . q{'}, q{'pgeb_t_reg.main'}),
	'42622', 'base worker name .* is too long', 'a name of 32 characters in 64 bytes');
script_fails_with(
	$good_main . register(q{'} . ('w' x 10000) . q{'}, q{'pgeb_t_reg.main'}),
	'42622', 'base worker name .* is too long', 'a name of 10000 bytes');
# 63 bytes is accepted: the script gets past register_worker and then
# fails on purpose (so that nothing starts)
script_fails_with(
	$good_main
	  . register(q{'} . ('w' x 63) . q{'}, q{'pgeb_t_reg.main'})
	  . "SELECT 1/0;\n",
	'22012', 'division by zero', 'a name of 63 bytes is accepted');

# --- callers that are not superusers: 42501 ---

$node->safe_psql('postgres', q{
	CREATE ROLE alice LOGIN;
	GRANT USAGE ON SCHEMA extension_base, pgeb_test_worker TO alice});
my %calls = (
	register_worker =>
	  q{register_worker('by_alice', 'pgeb_test_worker.worker_main')},
	'deregister_worker(text)' => q{deregister_worker('test_worker')},
	'deregister_worker(int)' => "deregister_worker($id)",
	'wakeup_worker(text)' => q{wakeup_worker('test_worker')},
	'wakeup_worker(int)' => "wakeup_worker($id)");
# EXECUTE is revoked from PUBLIC
for my $function (sort keys %calls)
{
	fails_with("SELECT extension_base.$calls{$function}",
		'42501', 'permission denied for function',
		"$function by a non-superuser without EXECUTE", 'alice');
}
# with EXECUTE, the functions themselves refuse
$node->safe_psql('postgres', q{
	GRANT EXECUTE ON FUNCTION extension_base.register_worker(text, regproc),
		extension_base.deregister_worker(text, bool),
		extension_base.deregister_worker(int, bool),
		extension_base.wakeup_worker(text), extension_base.wakeup_worker(int)
	TO alice});
my %action = (
	register_worker => 'register',
	'deregister_worker(text)' => 'deregister',
	'deregister_worker(int)' => 'deregister',
	'wakeup_worker(text)' => 'wake up',
	'wakeup_worker(int)' => 'wake up');
for my $function (sort keys %calls)
{
	fails_with("SELECT extension_base.$calls{$function}",
		'42501', "permission denied to $action{$function} base workers",
		"$function by a non-superuser with EXECUTE", 'alice');
}
# ... also in an extension script, where only the role is wrong
script_fails_with(
	$good_main . q{
GRANT USAGE ON SCHEMA pgeb_t_reg TO alice;
SET ROLE alice;
} . register(q{'w'}, q{'pgeb_t_reg.main'}),
	'42501', 'permission denied to register base workers',
	'register_worker in an extension script under SET ROLE of a non-superuser');
# reading is allowed: get_worker_pid is not revoked
is($node->safe_psql('postgres', "SELECT extension_base.get_worker_pid($id)",
		extra_params => [ '-U', 'alice' ]),
	$pid, 'a non-superuser may read the pid of a worker');

# --- unknown names and ids: 42704; missing_ok => true does nothing;
# get_worker_pid gives 0, as the original's ---

for my $call (
	q{deregister_worker('no_such_worker')},
	'deregister_worker(9999)',
	q{wakeup_worker('no_such_worker')},
	'wakeup_worker(9999)',
	# past 65535; 65536 + 1 would alias test_worker's id in 16 bits
	'deregister_worker(70000)',
	'deregister_worker(65536 + 1)',
	'wakeup_worker(65536 + 1)')
{
	fails_with("SELECT extension_base.$call", '42704',
		'base worker (".*"|with id -?\d+) does not exist', $call);
}
for my $call (
	q{deregister_worker('no_such_worker', true)},
	'deregister_worker(9999, missing_ok => true)',
	'deregister_worker(65536 + 1, true)')
{
	is(error_of("SELECT extension_base.$call"), '', "$call does nothing, silently");
}
for my $call (
	'get_worker_pid(9999)',
	'get_worker_pid(0)',
	'get_worker_pid(-1)',
	'get_worker_pid(2147483647)',
	'get_worker_pid(70000)',
	'get_worker_pid(65536 + 1)')
{
	is($node->safe_psql('postgres', "SELECT extension_base.$call"),
		'0', "$call is 0: no such worker runs");
}

# nothing above touched test_worker: same registration, same process
is( $node->safe_psql(
		'postgres', q{
		SELECT string_agg(worker_name || ' ' || pid || ' ' || failure_count, ',')
		FROM extension_base.base_workers}),
	"test_worker $pid 0",
	'after all the bad calls test_worker runs on in the same process');

# --- a registration whose id is past 65535 ---

$node->safe_psql('postgres', q{
	SELECT setval(pg_get_serial_sequence('extension_base.workers', 'worker_id'), 70000)});
$node->safe_psql('postgres', 'CREATE EXTENSION pgeb_t_high');
wait_for_base_workers($node, 'postgres/high_worker postgres/test_worker',
	'the worker with id 70001 runs beside test_worker');
is( $node->safe_psql(
		'postgres', q{
		SELECT worker_id FROM extension_base.workers WHERE worker_name = 'high_worker'}),
	'70001', 'its id is 70001');
my $high_pid = base_worker_pid($node, 'postgres', 'high_worker');
is($node->safe_psql('postgres', 'SELECT extension_base.get_worker_pid(70001)'),
	$high_pid, 'get_worker_pid(70001) returns its pid');
is($node->safe_psql('postgres', "SELECT extension_base.get_worker_pid($id)"),
	$pid, 'get_worker_pid of test_worker still returns test_worker');
is($node->safe_psql('postgres', 'SELECT extension_base.get_worker_pid(70001 - 65536)'),
	'0', 'get_worker_pid(70001 - 65536) does not alias it');
ok( $node->poll_query_until(
		'postgres', qq{
		SELECT count(*) = 1 FROM pgeb_test_worker.runs
		WHERE worker_id = 70001 AND pid = $high_pid}),
	'its entry point got 70001 as its worker id');
is( $node->safe_psql(
		'postgres', q{
		SELECT worker_name FROM extension_base.list_base_workers()
		WHERE worker_id = 70001}),
	'high_worker', 'list_base_workers reports 70001');
is(error_of('SELECT extension_base.wakeup_worker(70001)'),
	'', 'wakeup_worker(70001) is accepted');
is(error_of('SELECT extension_base.deregister_worker(70001)'),
	'', 'deregister_worker(70001) is accepted');
is(base_workers($node), 'postgres/test_worker',
	'deregister_worker(70001) stopped it, and only it, before returning');
is(base_worker_pid($node, 'postgres', 'test_worker'),
	$pid, 'test_worker still runs in the process it started in');

$node->stop;
ok(!$node->log_contains('TRAP:|PANIC:|terminated by signal'),
	'no crash, assertion failure or PANIC');
done_testing();
