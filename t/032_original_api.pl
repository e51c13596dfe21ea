# The original pg_extension_base's C API (issue 14): an extension written
# against it only (t/extensions/pgeb_test_original.c), built against our
# installed headers and preloaded through its control file's marker, and
# what each call does, compared with the catalogs:
#
#  - extension_ids.h, pg_extension_base_ids.h: caches made in the
#    postmaster; IsExtensionCreated, ExtensionId, ExtensionSchemaId,
#    ExtensionOwnerId and EnsureExtensionExists follow CREATE, DROP, ALTER
#    EXTENSION (SET SCHEMA, UPDATE) of another session after its commit,
#    and of the same session at once and after a rollback; the clear
#    function runs with each reset; IsExtensionCreated is false outside a
#    transaction and while the extension's own scripts run;
#  - spi_helpers.h: every type through DATUMIZE and DEDATUMIZE, a null
#    argument and a null result; SPI_START turns query tracking off and
#    SPI_END restores it; SPI_START_EXTENSION_OWNER and
#    BEGIN_EXTENSION_OWNER_CONTEXT run as the extension's owner with
#    search_path locked (an object of the caller's does not take over an
#    unqualified name, as it does under SPI_START) in a security-restricted
#    operation that ALLOW_TEMP_OBJECTS_BEGIN relaxes for temporary tables;
#  - extension_control_file.h, pg_compat.h, extension_dependencies.h;
#  - base_workers.h and attached_worker.h used the original's way: entry
#    points returning BASE_WORKER_RESTART_IMMEDIATELY and
#    BASE_WORKER_NO_RESTART, SPI macros between START_TRANSACTION and
#    END_TRANSACTION, the results of DeregisterBaseWorker[ById],
#    WakeupBaseWorker, and an attached worker's rows read with a NULL
#    descriptor.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

my $install = install_copy('original');
write_extension_file($install, 'pgeb_test_original.control',
	"#!shared_preload_libraries\n"
	  . slurp_file("$install->{extdir}/pgeb_test_original.control"));
my $node = new_node(
	'original',
	install => $install,
	conf => "shared_preload_libraries = "
	  . "'pg_extension_base, pg_stat_statements, auto_explain'\n");
start_with_extension($node);
my $version = $node->safe_psql('postgres', 'SHOW server_version_num');

sub query
{
	my ($sql) = @_;
	return $node->safe_psql('postgres', $sql);
}

# The error psql reports for SQL, "" when none
sub error_of
{
	my ($sql) = @_;
	my ($ret, $stdout, $stderr) = $node->psql('postgres', $sql);
	return $stderr;
}

query('CREATE EXTENSION pgeb_test_original');
is(preloaded($node, 'library_name', "extension_name = 'pgeb_test_original'"),
	'$libdir/pgeb_test_original', 'the test library is preloaded');

#
# Extension ids
#
is( query('SELECT * FROM pgeb_test_original.preload_facts()'),
	't|f|t',
	'_PG_init ran in the postmaster: it made its caches there, '
	  . 'IsExtensionCreated was false without a transaction, and '
	  . 'InitializePgExtensionBaseCache twice left PgExtensionBase as it was');

is( query(q{
		SELECT b.created, b.extension_id = e.oid, b.schema_id = e.extnamespace,
			b.owner_id = e.extowner, e.extnamespace::regnamespace
		FROM pgeb_test_original.base_ids() b, pg_extension e
		WHERE e.extname = 'pg_extension_base'}),
	't|t|t|t|extension_base',
	'PgExtensionBase: created, with the oid, schema and owner of pg_extension');

is( query('SELECT phase, self_created, target_created FROM pgeb_test_original.script_log'),
	'self create|f|f',
	'IsExtensionCreated is false for an extension while its own CREATE EXTENSION runs its script');

# A session that keeps its caches, and a role that is a superuser
my $session = $node->background_psql('postgres', on_error_stop => 0);
$session->query_safe('SET client_min_messages = warning');
query('CREATE ROLE boss SUPERUSER');

sub target_ids
{
	return $session->query_safe(
		'SELECT * FROM pgeb_test_original.target_ids()');
}

# "created|id|schema|owner|schema name" of the target in pg_extension
sub catalog_ids
{
	return query(q{
		SELECT true, oid, extnamespace, extowner, extnamespace::regnamespace
		FROM pg_extension WHERE extname = 'pgeb_test_original_target'});
}

# the clears and lookups columns of target_ids
sub counters
{
	my @columns = split /\|/, target_ids();
	return ($columns[5], $columns[6]);
}

like(target_ids(), qr/^f\|\|\|\|\|\d+\|0$/,
	'IsExtensionCreated is false for an extension that does not exist');
like(
	error_of('SELECT pgeb_test_original.ensure_target()'),
	qr/ERROR:  extension "pgeb_test_original_target" has not been created in this database\n.*HINT:  Create it with CREATE EXTENSION pgeb_test_original_target\./s,
	'EnsureExtensionExists: an error naming the extension, with a hint');
like(
	error_of(
		"\\set VERBOSITY verbose\nSELECT pgeb_test_original.ensure_target()"),
	qr/ERROR:  55000: /,
	'EnsureExtensionExists: SQLSTATE 55000 (object not in prerequisite state)');
like(
	error_of('SELECT pgeb_test_original.target_extension_id()'),
	qr/ERROR:  extension "pgeb_test_original_target" does not exist/,
	'ExtensionId of a missing extension is an error');

query('CREATE EXTENSION pgeb_test_original_target');
my ($clears, $lookups) = counters();
is(target_ids() =~ s/\|\d+\|\d+$//r, catalog_ids(),
	'CREATE EXTENSION committed in another session: IsExtensionCreated, ExtensionId, '
	  . 'ExtensionSchemaId and ExtensionOwnerId give what pg_extension says');
is($lookups, 1, 'the value derived from the cache was looked up');
is(join(' ', counters()), "$clears $lookups",
	'asked again: nothing was cleared, nothing looked up again');
is( query(q{
		SELECT l.self_created, l.target_created, l.target_id = e.oid
		FROM pgeb_test_original.script_log l, pg_extension e
		WHERE l.phase = 'target create' AND e.extname = 'pgeb_test_original_target'}),
	't|f|t',
	'during the target\'s install script: it is not created yet, its ExtensionId works, '
	  . 'and the extension it requires is created');

query('CREATE SCHEMA target_home; '
	  . 'ALTER EXTENSION pgeb_test_original_target SET SCHEMA target_home');
my ($clears2, $lookups2) = counters();
is(target_ids() =~ s/\|\d+\|\d+$//r, catalog_ids(),
	'ALTER EXTENSION SET SCHEMA in another session: the new schema');
like(target_ids(), qr/\|target_home\|/,
	'the clear function ran: the derived schema name is the new one');
ok($clears2 > $clears && $lookups2 == $lookups + 1,
	'the clear function ran, and the derived value was looked up once again');

query(q{ALTER EXTENSION pgeb_test_original_target UPDATE TO '1.1'});
my ($clears3) = counters();
ok($clears3 > $clears2, 'ALTER EXTENSION UPDATE in another session resets the cache');
is( query(q{SELECT self_created, target_created FROM pgeb_test_original.script_log
			WHERE phase = 'target update'}),
	't|f',
	'IsExtensionCreated is false while the extension\'s own update script runs');

# a DROP that another session has not committed yet changes nothing here
my $other = $node->background_psql('postgres', on_error_stop => 0);
$other->query_safe('BEGIN; DROP EXTENSION pgeb_test_original_target');
is(target_ids() =~ s/\|\d+\|\d+$//r, catalog_ids(),
	'a DROP EXTENSION not committed yet in another session: still there');
$other->query_safe('ROLLBACK');
$other->quit;
is(target_ids() =~ s/\|\d+\|\d+$//r, catalog_ids(),
	'and after its ROLLBACK');

query('DROP EXTENSION pgeb_test_original_target');
like(target_ids(), qr/^f\|\|\|\|\|/,
	'DROP EXTENSION committed in another session: IsExtensionCreated is false');

# the same session: at once, and after a rollback
$session->query_safe('CREATE EXTENSION pgeb_test_original_target');
is(target_ids() =~ s/\|\d+\|\d+$//r, catalog_ids(),
	'CREATE EXTENSION in the same session: seen at once');
$session->query_safe('BEGIN; DROP EXTENSION pgeb_test_original_target');
like(target_ids(), qr/^f\|/,
	'DROP EXTENSION in the same transaction: seen at once');
$session->query_safe('ROLLBACK');
is(target_ids() =~ s/\|\d+\|\d+$//r, catalog_ids(),
	'after the ROLLBACK of that DROP: there again');

# another owner
query('DROP EXTENSION pgeb_test_original_target; SET ROLE boss; '
	  . 'CREATE EXTENSION pgeb_test_original_target');
is(target_ids() =~ s/\|\d+\|\d+$//r, catalog_ids(),
	'created again by another role: ExtensionOwnerId is the new owner');
like(catalog_ids(), qr/\|\d+\|\d+\|${\ query(q{SELECT 'boss'::regrole::oid}) }\|/,
	'(which is that role)');
$session->quit;

#
# SPI
#
is( query('SELECT sql_saw FROM pgeb_test_original.spi_echo()'),
	'some text | x | t | 4000000000 | -32768 | 2147483647 | -9223372036854775807 '
	  . '| 1.5 | -2.25 | 2000-01-01 00:00:01 | {"k": [true]} '
	  . '| {"a": null, "b": [1, 2]} | \x01ff41 | 1/ABC | a name '
	  . '| {one,"two words"} | {-2,7} | {1,-20,300} | {-9000000000,42} '
	  . '| {0.5,-1.25} | {3.75,-0.125} | {"\\\\x01ff41","\\\\x01ff41"}',
	'DATUMIZE: the query receives every type as the C value passed');
is( query('SELECT c_read FROM pgeb_test_original.spi_echo()'),
	'some text | x | t | 4000000000 | -32768 | 2147483647 | -9223372036854775807 '
	  . '| 1.5 | -2.25 | 1000000 | {"k": [true]} '
	  . '| {"a": null, "b": [1, 2]} | \x01ff41 | 1/ABC | a name '
	  . '| {one,"two words"} | {-2,7} | {1,-20,300} | {-9000000000,42} '
	  . '| {0.5,-1.25} | {3.75,-0.125} | {"\\\\x01ff41","\\\\x01ff41"}',
	'GET_SPI_VALUE and DEDATUMIZE give every type back as a C value');
is( query('SELECT null_is_null, null_pointer FROM pgeb_test_original.spi_echo()'),
	't|t',
	'SPI_ARG_VALUE with IsNull sends a null; GET_SPI_VALUE of a null gives NULL, not a crash');

is( query(q{
		SET auto_explain.log_min_duration = 0;
		SET pg_stat_statements.track = 'all';
		SELECT auto_explain, pg_stat_statements, coalesce(pgaudit, 'undefined')
		FROM pgeb_test_original.spi_tracking();
		SELECT current_setting('auto_explain.log_min_duration'),
			current_setting('pg_stat_statements.track'),
			(SELECT count(*) FROM pg_settings WHERE name = 'pgaudit.log')}),
	"-1|none|undefined\n0|all|0",
	'inside SPI_START, auto_explain and pg_stat_statements are off; SPI_END '
	  . 'restores them; pgaudit, not loaded, is left undefined (no placeholder)');

#
# The extension's owner
#
my $owner = query(q{SELECT extowner::regrole FROM pg_extension
	WHERE extname = 'pgeb_test_original'});
query(q{
	CREATE ROLE alice;
	CREATE SCHEMA alice_schema AUTHORIZATION alice;
	GRANT USAGE ON SCHEMA pgeb_test_original TO alice;
	SET ROLE alice;
	CREATE FUNCTION alice_schema.upper(text) RETURNS text
	LANGUAGE sql AS $$SELECT 'hijacked'$$});
my $as_alice = q{SET ROLE alice; SET search_path = alice_schema, pg_catalog; };

is( query($as_alice
		  . 'SELECT search_path, upper, current_user_name '
		  . 'FROM pgeb_test_original.spi_tracking()'),
	'alice_schema, pg_catalog|hijacked|alice',
	'SPI_START runs as the caller, with the caller\'s search_path: '
	  . 'the caller\'s upper() comes first');
is( query($as_alice
		  . 'SELECT spi_user, spi_search_path, spi_upper, spi_restricted '
		  . 'FROM pgeb_test_original.owner_context()'),
	"$owner|pg_catalog, pg_temp|X|t",
	'SPI_START_EXTENSION_OWNER runs as the extension\'s owner, search_path '
	  . 'locked to pg_catalog, pg_temp (the caller\'s upper() is not found), '
	  . 'in a security-restricted operation');
is( query($as_alice
		  . 'SELECT temp_error, temp_allowed FROM pgeb_test_original.owner_context()'),
	'cannot create temporary table within security-restricted operation|t',
	'there a temporary table is refused, and ALLOW_TEMP_OBJECTS_BEGIN allows one');
is( query($as_alice
		  . 'SELECT direct_user, direct_search_path, direct_restricted '
		  . 'FROM pgeb_test_original.owner_context()'),
	"$owner|pg_catalog, pg_temp|t",
	'BEGIN_EXTENSION_OWNER_CONTEXT: the same, without SPI');
is( query($as_alice
		  . 'SELECT after_user, after_search_path FROM pgeb_test_original.owner_context(); '
		  . 'SELECT current_user, current_setting(\'search_path\')'),
	"alice|alice_schema, pg_catalog\nalice|alice_schema, pg_catalog",
	'SPI_END and END_EXTENSION_OWNER_CONTEXT restore the caller\'s user and search_path');

#
# Control files
#
my $extdir = $install->{extdir};
is( query('SELECT pgeb_test_original.control_directories()'),
	"{$extdir}", 'GetExtensionControlDirectories: the extension directory');
if ($version >= 180000)
{
	is( query(q{SET extension_control_path = '/nonexistent/a:$system';
			SELECT pgeb_test_original.control_directories()}),
		"{/nonexistent/a/extension,$extdir}",
		'GetExtensionControlDirectories: every directory of extension_control_path, in order');
}
is( query(q{
		SELECT pgeb_test_original.control_filename('pgeb_test_original'),
			pgeb_test_original.control_filename('no_such_extension') IS NULL,
			pgeb_test_original.control_filename('nested/pgeb_test_original') IS NULL}),
	"$extdir/pgeb_test_original.control|t|t",
	'GetExtensionControlFilename: the primary control file; NULL for a missing '
	  . 'extension and for a name with a directory separator');
is( query(q{
		SELECT string_agg(pgeb_test_original.is_control_filename(f)::text, ' ')
		FROM unnest(ARRAY['a.control', 'a--1.0.control', 'a.controls',
			'a.sql', 'control']) f}),
	'true true false false false',
	'IsExtensionControlFilename: names that end in .control');
is( query(q{
		SELECT pgeb_test_original.requires_of('pgeb_deps_app'),
			pgeb_test_original.requires_of('pgeb_test_original'),
			pgeb_test_original.requires_of('no_such_extension')}),
	'{pgeb_deps_lib,pgeb_deps_new,pgeb_deps_later}|{pg_extension_base}|{}',
	'GetExtensionDependencyList: the requirements of the default version '
	  . '(its secondary control file overrides the primary one); none for a missing extension');

#
# pg_compat.h
#
my $base_oids = query(q{SELECT oid || ' ' || extnamespace || ' ' || extowner
	FROM pg_extension WHERE extname = 'pg_extension_base'});
like(
	query('SELECT pgeb_test_original.foreach_demo()'),
	$version >= 160000
	? qr/^oids: $base_oids; ints: 4321; index: 3; xid: \d+$/
	: qr/^oids: $base_oids; ints: 4321; index: 3$/,
	'foreach_oid, foreach_int (with foreach_current_index)'
	  . ($version >= 160000 ? ' and foreach_xid' : ''));

#
# extension_dependencies.h
#
is( query('SELECT * FROM pgeb_test_original.deps_settings()'),
	't|t|', 'the dependency settings are on; the escalation role is empty');
is( query(q{SET pg_extension_base.enable_extension_dependency_create = off;
		SELECT * FROM pgeb_test_original.deps_settings()}),
	'f|t|',
	'EnableExtensionDependencyCreate is the setting\'s variable');
is( query(q{SET pg_extension_base.enable_extension_dependency_update = off;
		SELECT * FROM pgeb_test_original.deps_settings()}),
	't|f|',
	'EnableExtensionDependencyUpdate is the setting\'s variable');
my ($ret, $stdout, $stderr) =
  $node->psql('postgres', 'CREATE EXTENSION pgeb_deps_app');
my @created = $stderr =~ /NOTICE:  creating required extension "([^"]+)"/g;
is( join(' ', @created),
	'pgeb_deps_lib pgeb_deps_leaf pgeb_deps_new pgeb_deps_later',
	'InitializeExtensionDependencyInstaller, called twice at preload, did not '
	  . 'install the hook again: each requirement is created once');

#
# Base workers, the original's way
#
is(query('SELECT pgeb_test_original.launcher_enabled()'),
	't', 'EnableBaseWorkerLauncher is true');
is(query('SELECT pgeb_test_original.worker_settings()'),
	'10/10 5000/5000 60000/60000 60000/60000',
	'the settings variables of base_workers.h are the settings, at the defaults its macros name');
my %id = split /[|\n]/, query(q{SELECT worker_name, worker_id
	FROM extension_base.base_workers WHERE extension_name = 'pgeb_test_original'});
ok( $node->poll_query_until(
		'postgres', q{
		SELECT count(DISTINCT pid) = 3 AND bool_and(NOT created_outside AND created_inside)
		FROM pgeb_test_original.worker_runs WHERE worker_name = 'original_again'}),
	'a worker returning BASE_WORKER_RESTART_IMMEDIATELY runs again in a new process '
	  . '(three times); its SPI macros between START_TRANSACTION and END_TRANSACTION '
	  . 'commit, and IsExtensionCreated is false outside its transaction, true inside');
wait_for_base_workers($node, 'postgres/original_again',
	'the worker returning BASE_WORKER_NO_RESTART does not run again');
is( query(q{SELECT count(*) FROM pgeb_test_original.worker_runs
		WHERE worker_name = 'original_once'}),
	'1', 'it ran once');
query("SELECT pgeb_test_original.wakeup_worker($id{original_once})");
ok( $node->poll_query_until(
		'postgres', q{
		SELECT count(*) = 2 FROM pgeb_test_original.worker_runs
		WHERE worker_name = 'original_once'}),
	'WakeupBaseWorker runs it again');
is(query(q{SELECT pgeb_test_original.deregister_worker('original_again')}),
	$id{original_again},
	'DeregisterBaseWorker returns the id of the worker it removed');
is(base_workers($node), '', 'and the worker is gone when it returns');
is(query("SELECT pgeb_test_original.deregister_worker($id{original_once})"),
	$id{original_once}, 'DeregisterBaseWorkerById returns the id it removed');
is(query("SELECT pgeb_test_original.deregister_worker($id{original_once}, true)"),
	'0', 'DeregisterBaseWorkerById of a worker that is gone, with missingOk, returns 0');
is(query(q{SELECT pgeb_test_original.deregister_worker('original_again', true)}),
	'0', 'and so does DeregisterBaseWorker');
is( query(q{SELECT count(*) FROM extension_base.base_workers
		WHERE extension_name = 'pgeb_test_original'}),
	'0', 'both registrations are gone');

#
# An attached worker read without a descriptor
#
is( query(q{SELECT * FROM pgeb_test_original.attached_rows(
		$$SELECT 1 AS a, 'x'::text AS b UNION ALL SELECT 2, NULL ORDER BY 1$$)}),
	"a integer = 1, b text = x\na integer = 2, b text = NULL",
	'ReadResultsFromAttachedWorker with a NULL descriptor makes one from the '
	  . 'worker\'s row description');
is(query(q{SELECT count(*) FROM pgeb_test_original.attached_rows('SET work_mem = 1024')}),
	'0', 'and leaves it NULL for a command without rows');

$node->stop;
done_testing();
