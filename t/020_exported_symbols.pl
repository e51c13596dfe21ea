# Exported symbols: our libraries are built with hidden symbol visibility
# on every version, so a public function or variable of an installed header
# is usable by other extensions only when it is declared PGDLLEXPORT.  The
# installed headers declare every extern function and variable PGDLLEXPORT
# and the library behind each header exports all of them; our five
# libraries export nothing else but what the server calls (the magic block,
# _PG_init, the C functions our installed SQL scripts name, background
# worker entry points).  pgeb_test_api, built apart against the installed
# headers only, references every public name of base_workers.h and
# attached_worker.h (pgeb_test_original, of t/032_original_api.pl, those of
# the original's other headers), loads, and each call does
# what the headers say: base workers registered, observed, woken and
# deregistered from C (by name, by id, by themselves), their return values,
# transaction macros, sleep and signal flags, the launcher flag and the
# shared-memory functions, and attached workers in this and another
# database.
use strict;
use warnings;

use File::Basename qw(basename);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

# the library behind each installed header that declares public names, and
# the test library, built apart against the installed headers, that
# references all of them (and whose test calls them)
my %library_of_header = (
	'base_workers.h' => 'pg_extension_base_supervisor',
	'attached_worker.h' => 'pg_extension_base_attached',
	'extension_control_file.h' => 'pg_extension_base',
	'extension_ids.h' => 'pg_extension_base',
	'pg_extension_base_ids.h' => 'pg_extension_base',
	'extension_dependencies.h' => 'pg_extension_base_deps');
my %test_library_of_header = (
	'base_workers.h' => 'pgeb_test_api',
	'attached_worker.h' => 'pgeb_test_api',
	'extension_control_file.h' => 'pgeb_test_original',
	'extension_ids.h' => 'pgeb_test_original',
	'pg_extension_base_ids.h' => 'pgeb_test_original',
	'extension_dependencies.h' => 'pgeb_test_original');
my @libraries = qw(pg_extension_base pg_extension_base_deps
  pg_extension_base_supervisor pg_extension_base_attached
  pg_extension_base_preloader);

sub pg_config
{
	my ($what) = @_;
	my $dir = `pg_config --$what`;
	chomp $dir;
	die "pg_config --$what failed" unless $dir;
	return $dir;
}

my $header_dir = pg_config('includedir-server') . '/pg_extension_base';
my $pkglibdir = pg_config('pkglibdir');
my $extdir = pg_config('sharedir') . '/extension';

# The names nm lists for a library: defined dynamic symbols (-D
# --defined-only) or undefined ones (-u).
sub nm_names
{
	my ($path, @options) = @_;
	my @lines = `nm @options '$path'`;
	die "nm @options $path failed (is binutils installed?)" if $? != 0;
	my %names;
	for (@lines)
	{
		my $name = (split ' ')[-1];
		$name =~ s/@.*//;    # a symbol version, if any
		$names{$name} = 1;
	}
	return \%names;
}

# The extern declarations of a C header outside macro definitions: a list
# of [name, declaration] pairs.
sub extern_declarations
{
	my ($path) = @_;
	my $text = slurp_file($path);

	$text =~ s{/\*.*?\*/}{ }gs;
	$text =~ s{//[^\n]*}{}g;
	$text =~ s/\\\n/ /g;    # continuation lines, as the preprocessor does
	$text =~ s/^\s*#[^\n]*//mg;    # #define, #include, #if ...

	my @declarations;
	while ($text =~ /\bextern\b([^;{]*);/g)
	{
		my $declaration = $1;
		my $name;

		$declaration =~ s/\s+/ /g;
		if ($declaration =~ /\(\s*\*\s*(\w+)\s*\)\s*\(/)
		{
			$name = $1;    # a function pointer variable
		}
		elsif ($declaration =~ /\(/)
		{
			# a function: the first name before a parenthesis that is not an
			# attribute
			for my $candidate ($declaration =~ /(\w+)\s*\(/g)
			{
				next if $candidate =~ /^(__attribute__|pg_attribute_\w+)$/;
				$name = $candidate;
				last;
			}
		}
		else
		{
			(my $variable = $declaration) =~ s/(=.*|\[.*)$//;
			($name) = $variable =~ /(\w+)\s*$/;
		}
		die "could not find the name declared by \"extern$declaration\" in $path"
		  unless defined $name;
		push @declarations, [ $name, "extern$declaration" ];
	}
	return @declarations;
}

# Split an extension script into statements, honouring quotes, dollar
# quotes and comments.  Like CREATE EXTENSION, drop the \echo ... \quit
# line first.
sub sql_statements
{
	my ($text) = @_;
	my @statements;
	my $current = '';

	$text =~ s/^\\echo.*\\quit\s*$//mg;

	while (
		$text =~ m{\G(
			'(?:[^']|'')*'
			| "(?:[^"]|"")*"
			| \$(\w*)\$.*?\$\2\$
			| --[^\n]*
			| /\*.*?\*/
			| ;
			| [^'";\$/-]+
			| .
		)}gsx)
	{
		my $token = $1;
		if ($token eq ';')
		{
			push @statements, $current;
			$current = '';
		}
		elsif ($token !~ m{^(--|/\*)})
		{
			$current .= $token;
		}
	}
	push @statements, $current if $current =~ /\S/;
	return @statements;
}

# The C functions the installed SQL scripts of an extension name, by
# library: { library => { symbol => 1 } }.
sub sql_callable_symbols
{
	my ($extension) = @_;
	my $control = slurp_file("$extdir/$extension.control");
	my ($module_pathname) =
	  $control =~ /^\s*module_pathname\s*=\s*'([^']*)'/m;
	my %symbols;

	for my $script (glob("$extdir/$extension--*.sql"))
	{
		for my $statement (sql_statements(slurp_file($script)))
		{
			next
			  unless $statement =~
			  /^\s*CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+([\w."]+)/i;
			my $function = $1;
			next unless $statement =~ /\bLANGUAGE\s+'?c'?(?:\s|$)/i;
			$statement =~ /\bAS\s+'([^']*)'(?:\s*,\s*'([^']*)')?/i
			  or die "no AS clause in $script: $statement";
			my ($file, $symbol) = ($1, $2);
			$function =~ s/^.*\.//;
			$function =~ s/"//g;
			$symbol //= $function;
			$file = $module_pathname if $file eq 'MODULE_PATHNAME';
			die "MODULE_PATHNAME in $script, and no module_pathname in its control file"
			  unless defined $file;
			my $library = basename($file);
			$library =~ s/\.so$//;
			$symbols{$library}{$symbol} = 1;
		}
	}
	return \%symbols;
}

#
# a. every extern of the installed headers is PGDLLEXPORT and exported by
#    the library behind its header
#
my %public_names_of;    # library => [ names ]
my %names_to_reference;    # test library => [ names ]
my @headers = sort glob("$header_dir/*.h");
ok(-f "$header_dir/$_", "$_ is installed")
  for sort keys %library_of_header;

for my $path (@headers)
{
	my $header = basename($path);
	my @declarations = extern_declarations($path);
	my $library = $library_of_header{$header};

	for (@declarations)
	{
		my ($name, $declaration) = @$_;
		ok($declaration =~ /\bPGDLLEXPORT\b/,
			"$header declares $name PGDLLEXPORT")
		  or diag("declaration: $declaration");
	}

	if (!defined $library)
	{
		# abi.h: declares no function or variable of a library (a
		# declaration of the including library's own _PG_init would belong
		# to no single library)
		my @names = grep { $_ ne '_PG_init' } map { $_->[0] } @declarations;
		is(join(' ', @names), '',
			"$header declares no public function or variable of a library "
			  . '(else map it to its library in this test)');
		next;
	}

	ok(@declarations > 0, "$header declares public functions and variables");
	my $exported = nm_names("$pkglibdir/$library.so", '-D', '--defined-only');
	for (@declarations)
	{
		my $name = $_->[0];
		ok($exported->{$name}, "$library.so exports $name of $header");
		push @{ $public_names_of{$library} }, $name;
		push @{ $names_to_reference{ $test_library_of_header{$header} } }, $name;
	}
}

#
# b. our libraries export nothing else than public names, Pg_magic_func,
#    _PG_init, the C functions of our SQL scripts (and their pg_finfo_
#    records) and background worker entry points
#
my %sql_symbols_of;
for my $extension (@libraries)
{
	my $symbols = sql_callable_symbols($extension);
	for my $library (keys %$symbols)
	{
		$sql_symbols_of{$library}{$_} = 1 for keys %{ $symbols->{$library} };
	}
}
ok(scalar(keys %{ $sql_symbols_of{pg_extension_base_supervisor} // {} }) > 0,
	'the installed SQL scripts name C functions of the supervisor library');

for my $library (@libraries)
{
	my $exported = nm_names("$pkglibdir/$library.so", '-D', '--defined-only');
	my %allowed = map { $_ => 1 } ('Pg_magic_func', '_PG_init',
		@{ $public_names_of{$library} // [] });
	my @sql_symbols = sort keys %{ $sql_symbols_of{$library} // {} };

	$allowed{$_} = $allowed{"pg_finfo_$_"} = 1 for @sql_symbols;
	my @unexpected =
	  grep { !$allowed{$_} && !/^pgeb_\w+_main$/ } sort keys %$exported;
	is(join(' ', @unexpected), '',
		"$library.so exports nothing but public names, the magic block, "
		  . '_PG_init, SQL-callable functions and worker entry points');

	my @missing = grep { !$exported->{$_} || !$exported->{"pg_finfo_$_"} }
	  @sql_symbols;
	is(join(' ', @missing), '',
		"$library.so exports every C function (and pg_finfo_ record) its SQL scripts name"
	);
	ok($exported->{Pg_magic_func} && $exported->{_PG_init},
		"$library.so exports Pg_magic_func and _PG_init");
}

#
# c. pgeb_test_api references every public name, loads, and each call
#    works
#
for my $test_library (sort keys %names_to_reference)
{
  SKIP:
	{
		# t/032_original_api.pl fails without it
		skip "$test_library.so is not installed", 1
		  if $test_library ne 'pgeb_test_api'
		  && !-f "$pkglibdir/$test_library.so";
		my $referenced = nm_names("$pkglibdir/$test_library.so", '-u');
		is( join(' ',
				grep { !$referenced->{$_} }
				  @{ $names_to_reference{$test_library} }),
			'',
			"$test_library.so references every public name of its headers");
	}
}

my $node = new_node('api');
start_with_extension($node);
my ($ret, $stdout, $stderr) =
  $node->psql('postgres', 'CREATE EXTENSION pgeb_test_api');
is($ret, 0, 'CREATE EXTENSION pgeb_test_api loads its library')
  or diag($stderr);

# Base workers

# GetBaseWorkerPid from a session
sub worker_pid
{
	my ($id) = @_;
	return $node->safe_psql('postgres', "SELECT pgeb_test_api.worker_pid($id)");
}

# A heartbeats column of a worker
sub heartbeat
{
	my ($id, $column) = @_;
	return $node->safe_psql('postgres',
		"SELECT $column FROM pgeb_test_api.heartbeats WHERE worker_id = $id");
}

# The error psql reports for SQL, "" when none
sub error_of
{
	my ($sql) = @_;
	my ($ret, $stdout, $stderr) = $node->psql('postgres', $sql);
	return $stderr;
}

is($node->safe_psql('postgres', 'SELECT pgeb_test_api.my_base_worker_id()'),
	'0', 'MyBaseWorkerId is 0 outside a base worker');

my $id_a = $node->safe_psql('postgres',
	"SELECT pgeb_test_api.register_worker('api_a')");
my $id_b = $node->safe_psql('postgres',
	"SELECT pgeb_test_api.register_worker('api_b')");
is( $node->safe_psql(
		'postgres', q{
		SELECT string_agg(worker_id || ' ' || worker_name || ' ' || extension_name
			|| ' ' || entry_point_schema || '.' || entry_point_function, ', '
			ORDER BY worker_id)
		FROM extension_base.workers}),
	"$id_a api_a pgeb_test_api pgeb_test_api.worker_main, "
	  . "$id_b api_b pgeb_test_api pgeb_test_api.worker_main",
	'RegisterBaseWorker records the worker of the extension and returns its id');
wait_for_base_workers($node, 'postgres/api_a postgres/api_b',
	'the workers registered from C run');

ok( $node->poll_query_until(
		'postgres',
		"SELECT beats >= 3 FROM pgeb_test_api.heartbeats WHERE worker_id = $id_a"),
	'the worker beats again and again: its START_TRANSACTION/END_TRANSACTION '
	  . 'blocks commit, LightSleep returns after its timeout');
my $pid_a = base_worker_pid($node, 'postgres', 'api_a');
is(heartbeat($id_a, 'pid'), $pid_a,
	'the process that recorded MyBaseWorkerId = the id RegisterBaseWorker '
	  . 'returned is the worker of that name');
is(heartbeat($id_a, 'argument'), $id_a,
	'MyBaseWorkerId is the id passed to the entry point');
is(worker_pid($id_a), $pid_a,
	'GetBaseWorkerPid gives the pid pg_stat_activity shows');
ok( $node->poll_query_until(
		'postgres',
		"SELECT pid = pgeb_test_api.worker_pid($id_b) "
		  . "FROM pgeb_test_api.heartbeats WHERE worker_id = $id_b"),
	'the second worker beats under its own id, in the process GetBaseWorkerPid names');

# SIGHUP
$node->safe_psql('postgres',
	"ALTER SYSTEM SET work_mem = '7MB'; SELECT pg_reload_conf()");
ok( $node->poll_query_until(
		'postgres',
		"SELECT reloads >= 1 AND work_mem = '7MB' FROM pgeb_test_api.heartbeats "
		  . "WHERE worker_id = $id_a"),
	'SIGHUP sets ReloadRequested, and LightSleep has reloaded the configuration');

# an error survived
$node->safe_psql('postgres',
	"INSERT INTO pgeb_test_api.orders VALUES ($id_a, 'survive_error')");
ok( $node->poll_query_until(
		'postgres',
		"SELECT errors_survived = 1 AND pid = $pid_a "
		  . "FROM pgeb_test_api.heartbeats WHERE worker_id = $id_a"),
	'END_TRANSACTION_NO_THROW aborts the failed transaction and the worker '
	  . 'goes on in the same process');
ok($node->log_contains("\\[$pid_a\\] .*WARNING:  division by zero"),
	'the error is reported at the level END_TRANSACTION_NO_THROW was given');

# deregistration by name, of a worker that SIGTERM finds asleep
$node->safe_psql('postgres',
	"INSERT INTO pgeb_test_api.orders VALUES ($id_a, 'sleep_long')");
ok( $node->poll_query_until(
		'postgres', qq{
		SELECT h.sleep_ms = 3600000 AND a.wait_event_type = 'Extension'
		FROM pgeb_test_api.heartbeats h JOIN pg_stat_activity a USING (pid)
		WHERE h.worker_id = $id_a}),
	'the worker sleeps in LightSleep');
is($node->safe_psql('postgres', "SELECT pgeb_test_api.deregister_worker('api_a')"),
	$id_a, 'DeregisterBaseWorker returns the id of the worker it removed');
is(worker_pid($id_a), '0',
	'DeregisterBaseWorker has stopped the worker when it returns: '
	  . 'GetBaseWorkerPid gives 0');
is( $node->safe_psql(
		'postgres', "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid_a"),
	'0',
	'its process is gone');
ok( $node->log_contains(
		"pgeb_test_api: base worker $id_a saw TerminationRequested"),
	'SIGTERM set the TerminationRequested the worker reads');
is( $node->safe_psql(
		'postgres', 'SELECT worker_name FROM extension_base.workers'),
	'api_b',
	'DeregisterBaseWorker removed the registration of the worker it names');
like(
	error_of("SELECT pgeb_test_api.deregister_worker('api_a')"),
	qr/base worker "api_a" does not exist/,
	'DeregisterBaseWorker of an unknown name is an error');
is($node->safe_psql('postgres', "SELECT pgeb_test_api.deregister_worker('api_a', true)"),
	'0', 'with missingOk it returns 0');

# the return values of an entry point, and WakeupBaseWorker
my $pid_b = base_worker_pid($node, 'postgres', 'api_b');
$node->safe_psql('postgres',
	"INSERT INTO pgeb_test_api.orders VALUES ($id_b, 'restart')");
ok( $node->poll_query_until(
		'postgres', qq{
		SELECT pid <> $pid_b AND pid = pgeb_test_api.worker_pid($id_b)
		FROM pgeb_test_api.heartbeats WHERE worker_id = $id_b}),
	'BASE_WORKER_RESTART_IMMEDIATELY: the worker runs again in a new process');
is( $node->safe_psql(
		'postgres', qq{
		SELECT failure_count || ' ' || coalesce(last_exit_reason, '')
		FROM extension_base.base_workers WHERE worker_id = $id_b}),
	'0 returned -1',
	'it returned -1, which is no failure');
$pid_b = base_worker_pid($node, 'postgres', 'api_b');
$node->safe_psql('postgres',
	"INSERT INTO pgeb_test_api.orders VALUES ($id_b, 'finish')");
ok( $node->poll_query_until(
		'postgres', qq{
		SELECT state = 'done' AND pid = 0 AND last_exit_reason = 'returned 0'
		FROM extension_base.base_workers WHERE worker_id = $id_b}),
	'BASE_WORKER_NO_RESTART: the worker ends and stays down');
$node->safe_psql('postgres', "SELECT pgeb_test_api.wakeup_worker($id_b)");
ok( $node->poll_query_until(
		'postgres', qq{
		SELECT pid <> $pid_b AND pid = pgeb_test_api.worker_pid($id_b)
		FROM pgeb_test_api.heartbeats WHERE worker_id = $id_b}),
	'WakeupBaseWorker starts the finished worker again');
like(
	error_of('SELECT pgeb_test_api.wakeup_worker(999999)'),
	qr/base worker with id 999999 does not exist/,
	'WakeupBaseWorker of an unknown id is an error, as wakeup_worker(int) says');

# the launcher flag and the shared-memory functions
is($node->safe_psql('postgres', 'SELECT pgeb_test_api.launcher_enabled()'),
	't', 'EnableBaseWorkerLauncher is true on a server that runs base workers');
$node->safe_psql('postgres',
	q{ALTER SYSTEM SET pg_extension_base.worker_restart_backoff_max = '90s'; SELECT pg_reload_conf()});
ok( $node->poll_query_until(
		'postgres', q{
		SELECT pgeb_test_api.worker_settings()
			= ARRAY[10, 5000, 90000, 60000]}),
	'the settings variables of base_workers.h follow the settings (defaults, and a reload)');
$node->safe_psql('postgres',
	q{ALTER SYSTEM RESET pg_extension_base.worker_restart_backoff_max; SELECT pg_reload_conf()});
is( $node->safe_psql(
		'postgres', q{
		SELECT pgeb_test_api.shared_memory_size() = size
		FROM pg_shmem_allocations WHERE name = 'pg_extension_base_supervisor'}),
	't',
	'BaseWorkerSharedMemorySize is the size of the region base workers use');
$node->safe_psql('postgres',
	'SELECT pgeb_test_api.shared_memory_init(), pgeb_test_api.shared_memory_init()');
is(worker_pid($id_b), base_worker_pid($node, 'postgres', 'api_b'),
	'BaseWorkerSharedMemoryInit, called twice, leaves the registry as it was');

# deregistration by id
$pid_b = base_worker_pid($node, 'postgres', 'api_b');
is($node->safe_psql('postgres', "SELECT pgeb_test_api.deregister_worker($id_b)"),
	$id_b, 'DeregisterBaseWorkerById returns the id it removed');
is(worker_pid($id_b), '0',
	'DeregisterBaseWorkerById has stopped the worker when it returns');
is( $node->safe_psql(
		'postgres', "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid_b"),
	'0',
	'its process is gone');
is($node->safe_psql('postgres', 'SELECT count(*) FROM extension_base.workers'),
	'0', 'DeregisterBaseWorkerById removed its registration');
like(
	error_of("SELECT pgeb_test_api.deregister_worker($id_b)"),
	qr/base worker with id $id_b does not exist/,
	'DeregisterBaseWorkerById of an unknown id is an error');
is($node->safe_psql('postgres', "SELECT pgeb_test_api.deregister_worker($id_b, true)"),
	'0', 'with missingOk it returns 0');

# a worker that removes its own registration
my $id_c = $node->safe_psql('postgres',
	"SELECT pgeb_test_api.register_worker('api_self')");
wait_for_base_workers($node, 'postgres/api_self', 'a third worker runs');
ok( $node->poll_query_until(
		'postgres',
		"SELECT pid = pgeb_test_api.worker_pid($id_c) "
		  . "FROM pgeb_test_api.heartbeats WHERE worker_id = $id_c"),
	'and beats');
$node->safe_psql('postgres',
	"INSERT INTO pgeb_test_api.orders VALUES ($id_c, 'deregister_self')");
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 0 FROM extension_base.workers WHERE worker_id = $id_c"),
	'DeregisterBaseWorkerSelf removes the registration of the worker that calls it');
is(heartbeat($id_c, 'deregistered_self'),
	't', 'in the transaction END_TRANSACTION committed');
wait_for_base_workers($node, '', 'the worker is gone and does not come back');
is(worker_pid($id_c), '0', 'GetBaseWorkerPid gives 0 for it');

# Attached workers

$node->safe_psql('postgres', q{
	CREATE DATABASE api_other;
	CREATE ROLE api_user LOGIN;
	CREATE TABLE api_t (x int);
});
my $me = $node->safe_psql('postgres', 'SELECT current_user');

is( $node->safe_psql(
		'postgres', q{
		SELECT * FROM pgeb_test_api.attached_tags(
			'INSERT INTO api_t VALUES (1), (2); UPDATE api_t SET x = x + 10')}),
	"INSERT 0 2\nUPDATE 2",
	'StartAttachedWorker and ReadFromAttachedWorker: a command tag per statement');
is($node->safe_psql('postgres', 'SELECT string_agg(x::text, \' \' ORDER BY x) FROM api_t'),
	'11 12', 'the attached worker committed in the current database');
is( $node->safe_psql(
		'postgres', q{
		SELECT * FROM pgeb_test_api.attached_rows(
			'SELECT current_database()::text, x FROM api_t ORDER BY x')
		AS (db text, x int)}),
	"postgres|11\npostgres|12",
	'StartAttachedWorkerReturning and ReadResultsFromAttachedWorker: the rows of the last statement');
like(
	error_of(
		q{SELECT * FROM pgeb_test_api.attached_rows('SELECT 1') AS (x text)}),
	qr/the result of the attached worker does not match the column list/,
	'ReadResultsFromAttachedWorker checks the rows against the description it is given');

is( $node->safe_psql(
		'postgres', q{
		SELECT * FROM pgeb_test_api.attached_tags(
			'CREATE TABLE api_t (x int); INSERT INTO api_t VALUES (3)',
			'api_other')}),
	"CREATE TABLE\nINSERT 0 1",
	'StartAttachedWorkerInDatabase: the command tags of a command in another database');
is($node->safe_psql('api_other', 'SELECT x FROM api_t'),
	'3', 'which ran and committed there');
is( $node->safe_psql(
		'postgres', q{
		SELECT * FROM pgeb_test_api.attached_rows(
			'SELECT current_database()::text, current_user::text, x FROM api_t',
			'api_other')
		AS (db text, usr text, x int)}),
	"api_other|$me|3",
	'StartAttachedWorkerInDatabaseReturning: rows from another database, as the current user');
is( $node->safe_psql(
		'postgres', q{
		SELECT * FROM pgeb_test_api.attached_rows(
			'SELECT current_database()::text, current_user::text',
			'api_other', 'api_user')
		AS (db text, usr text)}),
	'api_other|api_user',
	'and with a user name, as that user');

# ended while it runs: its second statement waits for our lock
my $locker = $node->background_psql('postgres');
$locker->query_safe('BEGIN');
$locker->query_safe('LOCK TABLE api_t IN ACCESS EXCLUSIVE MODE');
my ($first_tag, $nothing_yet, $running, $attached_pid) = split /\|/,
  $node->safe_psql(
	'postgres', q{
	SELECT first_tag, tag_without_waiting IS NULL, running, worker_pid
	FROM pgeb_test_api.attached_end_early(
		'SELECT 1; INSERT INTO api_t VALUES (99)')});
is($first_tag, 'SELECT 1',
	'ReadFromAttachedWorker waits for the tag of the first statement');
is($nothing_yet, 't',
	'without waiting it gives NULL while the worker waits for a lock');
is($running, 't', 'IsAttachedWorkerRunning: the worker still runs');
like($attached_pid, qr/^[1-9][0-9]*$/,
	'and IsAttachedWorkerRunning filled in its pid');
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $attached_pid"),
	'EndAttachedWorker terminated the worker that still ran');
$locker->query_safe('COMMIT');
$locker->quit;
is($node->safe_psql('postgres', 'SELECT count(*) FROM api_t WHERE x = 99'),
	'0', 'its unfinished command did not commit');

$node->stop;
ok(!$node->log_contains('TRAP:|PANIC:'), 'no assertion failure or PANIC');
done_testing();
