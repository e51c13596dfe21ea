# The guards of the shared-memory ABI: pg_extension_base and its components
# refuse, clearly and without crashing, to run outside
# shared_preload_libraries, without the meta library, or against another ABI
# major version; modules() says when SQL and library versions differ.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

my $hint = qr/HINT:  Set shared_preload_libraries = 'pg_extension_base' in postgresql.conf and restart the server\./;

# A server started without pg_extension_base preloaded.
my $plain = new_node('not_preloaded', preload => 0);
$plain->start;

my ($ret, $stdout, $stderr) = $plain->psql('postgres', "LOAD 'pg_extension_base'");
like($stderr,
	qr/ERROR:  pg_extension_base must be loaded via shared_preload_libraries\n$hint/,
	'LOAD outside shared_preload_libraries is refused with a hint');

($ret, $stdout, $stderr) =
  $plain->psql('postgres', 'CREATE EXTENSION pg_extension_base CASCADE');
like($stderr,
	qr/ERROR:  pg_extension_base_\w+ can only be loaded by pg_extension_base at server start\n$hint/,
	'CREATE EXTENSION on a server without pg_extension_base is refused with a hint');
is($plain->safe_psql('postgres',
		q{SELECT count(*) FROM pg_extension WHERE extname LIKE 'pg_extension_base%'}),
	'0', 'and nothing is left behind');

($ret, $stdout, $stderr) =
  $plain->psql('postgres', "LOAD 'pg_extension_base_supervisor'");
like($stderr,
	qr/ERROR:  pg_extension_base_supervisor can only be loaded by pg_extension_base at server start\n$hint/,
	'LOAD of a component is refused with a hint');

# PostgreSQL does not keep a library whose _PG_init failed, so every later
# attempt in the same session fails the same clear way, even through a C
# function declared by hand; the session survives.
($ret, $stdout, $stderr) = $plain->psql(
	'postgres', q{
	LOAD 'pg_extension_base';
	LOAD 'pg_extension_base';
	CREATE FUNCTION list_preload_libraries() RETURNS SETOF record LANGUAGE C
		AS 'pg_extension_base_preloader', 'pgeb_list_preload_libraries';
	SELECT 'still here';},
	on_error_stop => 0);
my @refusals = ($stderr =~ /ERROR:  pg_extension_base must be loaded via shared_preload_libraries/g);
is(scalar @refusals, 2, 'a second LOAD in the same session is refused again');
like($stderr,
	qr/ERROR:  pg_extension_base_preloader can only be loaded by pg_extension_base at server start\n$hint/,
	'a C function declared by hand cannot reach a component that is not preloaded');
like($stdout, qr/still here/, 'the session survives');
ok(!$plain->log_contains(qr/terminated by signal/), 'no backend crashed');
$plain->stop;

# A component without the meta library, alone or listed before it.
my $alone = new_node('component_alone', preload => 0);
for my $list ('pg_extension_base_supervisor',
	'pg_extension_base_attached, pg_extension_base')
{
	$alone->append_conf('postgresql.conf', "shared_preload_libraries = '$list'\n");
	my $offset = -s $alone->logfile;
	ok(!$alone->start(fail_ok => 1), "shared_preload_libraries = '$list' does not start");
	ok( $alone->wait_for_log(
			qr/FATAL:  pg_extension_base_\w+ must be loaded through pg_extension_base\n.*DETAIL:  The library is listed in shared_preload_libraries, but pg_extension_base is not loaded before it\.\n.*$hint/,
			$offset),
		'and the log says why, with a hint');
}

# A component built for another ABI major version is refused, with both
# versions named.
my $abi = new_node('abi_mismatch', preload => 0,
	conf => "shared_preload_libraries = 'pg_extension_base, pgeb_test_abi_mismatch'\n");
ok(!$abi->start(fail_ok => 1), 'a component of another ABI major version stops the server');
ok( $abi->log_contains(
		qr/FATAL:  pgeb_test_abi_mismatch was built for pg_extension_base ABI version 99\.0, but the loaded pg_extension_base provides ABI version 3\.0/
	),
	'the message names both ABI versions');

# modules() says when a component's SQL version differs from its library.
my $install = install_copy('old_sql');
write_extension_file($install, 'pg_extension_base_deps--0.9.sql',
	"-- an older release of the deps SQL objects\n");
write_extension_file($install, 'pg_extension_base_deps--0.9--1.0.sql',
	"-- the update to 1.0\n");
my $node = new_node('old_sql', install => $install);
$node->start;
# (with the dependency hook's updates off: it would bring deps to 1.0)
$node->safe_psql('postgres', q{
	SET pg_extension_base.enable_extension_dependency_update = off;
	CREATE EXTENSION pg_extension_base_deps VERSION '0.9';
	CREATE EXTENSION pg_extension_base});
is( $node->safe_psql(
		'postgres', q{
		SELECT installed_version || ' / ' || library_version || ': ' || status
		FROM extension_base.modules() WHERE module_name = 'pg_extension_base_deps'}),
	'0.9 / 1.0: installed SQL version 0.9 does not match library version 1.0: run ALTER EXTENSION pg_extension_base_deps UPDATE',
	'modules() reports a SQL version that does not match the library, and the fix');
$node->safe_psql('postgres', 'ALTER EXTENSION pg_extension_base_deps UPDATE');
is( $node->safe_psql(
		'postgres', q{
		SELECT string_agg(DISTINCT status, ',') FROM extension_base.modules()}),
	'ok', 'after the update every module is ok');
$node->stop;

done_testing();
