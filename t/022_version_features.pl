# What pg_extension_base does differently on each server version, because
# newer servers offer more (meta/private/pg_extension_base/compat.h):
# - 17+: our processes wait under wait events of their own name; before 17
#   every extension wait shows as "Extension";
# - 17+: an attached worker connects as its caller even when the caller's
#   role lost LOGIN after connecting (core's login-check bypass); before 17
#   that is a clear error and the caller's session goes on;
# - 18+: control files in every directory of extension_control_path are
#   scanned for preload markers, listed by list_preload_libraries(), and
#   found by the dependency hook.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

my $node = new_node('versions');
start_with_extension($node);
my $major = $node->safe_psql('postgres',
	q{SELECT current_setting('server_version_num')::int / 10000});
note("server major version $major");

# Wait events.
$node->safe_psql('postgres', 'CREATE EXTENSION pgeb_test_worker');
wait_for_base_workers($node, 'postgres/test_worker', 'the test worker runs');

my %event =
  $major >= 17
  ? (
	'pg_extension_base server starter' => 'PgExtensionBaseServerStarter',
	'pg_extension_base base worker' => 'PgExtensionBaseLightSleep')
  : (
	'pg_extension_base server starter' => 'Extension',
	'pg_extension_base base worker' => 'Extension');
for my $type (sort keys %event)
{
	ok( $node->poll_query_until(
			'postgres', qq{
			SELECT wait_event_type = 'Extension' AND wait_event = '$event{$type}'
			FROM pg_stat_activity WHERE backend_type = '$type'}),
		"the $type waits as Extension/$event{$type} on $major");
}

# An attached worker for a caller whose role lost LOGIN after connecting.
$node->safe_psql(
	'postgres', q{
	CREATE ROLE lost_login LOGIN;
	GRANT USAGE ON SCHEMA extension_base TO lost_login;
	GRANT EXECUTE ON FUNCTION extension_base.run_attached(text, text) TO lost_login});
my $caller = $node->background_psql(
	'postgres',
	on_error_stop => 0,
	extra_params => [ '-U', 'lost_login' ]);
is($caller->query_safe(q{SELECT command_tag FROM extension_base.run_attached('SELECT 1')}),
	'SELECT 1', 'a role that may log in gets an attached worker');

$node->safe_psql('postgres', 'ALTER ROLE lost_login NOLOGIN');
# the outcome, error or tag, as a result row: BackgroundPsql may see an
# error's text only after it has returned the query's output
my $outcome = $caller->query_safe(q{
	DO $$
	BEGIN
		PERFORM set_config('pgeb.outcome', (SELECT command_tag
			FROM extension_base.run_attached('SELECT 1')), false);
	EXCEPTION WHEN OTHERS THEN
		PERFORM set_config('pgeb.outcome', SQLSTATE || ': ' || SQLERRM, false);
	END $$;
	SELECT current_setting('pgeb.outcome')});
if ($major >= 17)
{
	is($outcome, 'SELECT 1',
		'17+: the attached worker connects although the caller lost LOGIN');
}
else
{
	is($outcome, '28000: role "lost_login" is not permitted to log in',
		'before 17: the caller who lost LOGIN gets core\'s error and SQLSTATE');
}
is($caller->query_safe('SELECT current_user'),
	'lost_login', 'the caller\'s session goes on either way');
$caller->quit;

# extension_control_path (18+).
SKIP:
{
	skip "extension_control_path exists from PostgreSQL 18 on", 5
	  if $major < 18;

	# a share directory of our own with an "extension" subdirectory: a
	# marked extension that requires another one of the same directory
	my $share = "$PostgreSQL::Test::Utils::tmp_check/control_path_share";
	my $extdir = "$share/extension";
	mkdir $share;
	mkdir $extdir;
	my %files = (
		'pgeb_cpath_marked.control' => qq{#!shared_preload_libraries = 'pgeb_test_lib_b'
comment = 'marked, in a directory of extension_control_path'
default_version = '1.0'
requires = 'pgeb_cpath_dep'
relocatable = true
},
		'pgeb_cpath_marked--1.0.sql' =>
		  "CREATE FUNCTION cpath_marked() RETURNS int LANGUAGE sql AS 'SELECT 1';\n",
		'pgeb_cpath_dep.control' => qq{comment = 'required, in a directory of extension_control_path'
default_version = '1.0'
relocatable = true
},
		'pgeb_cpath_dep--1.0.sql' =>
		  "CREATE FUNCTION cpath_dep() RETURNS int LANGUAGE sql AS 'SELECT 2';\n");
	while (my ($name, $text) = each %files)
	{
		open my $fh, '>', "$extdir/$name" or die "could not write $extdir/$name: $!";
		print $fh $text;
		close $fh;
	}

	$node->append_conf('postgresql.conf',
		"extension_control_path = '\$system:$share'\n");
	$node->restart;

	is( preloaded(
			$node, q{extension_name || ':' || library_name || ':' || loaded},
			q{extension_name = 'pgeb_cpath_marked'}),
		'pgeb_cpath_marked:pgeb_test_lib_b:true',
		'a marked control file in extension_control_path is preloaded');
	is( preloaded(
			$node, 'control_file', q{extension_name = 'pgeb_cpath_marked'}),
		"$extdir/pgeb_cpath_marked.control",
		'list_preload_libraries() names the file where it was found');
	ok($node->log_contains(qr/pgeb_test_lib_b/),
		'the start-up log names the library');

	my ($ret, $stdout, $stderr) =
	  $node->psql('postgres', 'CREATE EXTENSION pgeb_cpath_marked');
	is($ret, 0, 'CREATE EXTENSION of an extension found through the path')
	  or diag($stderr);
	is( $node->safe_psql(
			'postgres',
			q{SELECT string_agg(extname, ' ' ORDER BY extname) FROM pg_extension
			  WHERE extname LIKE 'pgeb_cpath%'}),
		'pgeb_cpath_dep pgeb_cpath_marked',
		'the dependency hook created its requirement from the same directory');
}

$node->stop;
done_testing();
