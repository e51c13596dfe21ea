# The commands pg_extension_base_deps runs for requirements go through
# ProcessUtility, so a hook loaded after it (any third-party library the
# preloader loads) sees them as well as the top-level statement.  (The hook
# also sees the statements of extension scripts; the test looks only at
# CREATE and ALTER EXTENSION.)
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

my $install = install_copy('hook_chain');
my $control = slurp_file("$install->{extdir}/pgeb_test_utility_log.control");
write_extension_file($install, 'pgeb_test_utility_log.control',
	"#!shared_preload_libraries\n$control");

my $node = new_node('hook_chain', install => $install);
$node->start;

is( $node->safe_psql(
		'postgres', q{
		CREATE EXTENSION pg_extension_base;
		CREATE EXTENSION pgeb_test_utility_log;
		CREATE EXTENSION pgeb_deps_new;
		SELECT string_agg(command, E'\n') FROM pgeb_test_utility_log()
		WHERE command ~ '^\w+: (CREATE|ALTER) EXTENSION'}),
	join("\n",
		'top: CREATE EXTENSION pg_extension_base',
		'nested: CREATE EXTENSION pg_extension_base_deps CASCADE',
		'nested: CREATE EXTENSION pg_extension_base_supervisor CASCADE',
		'nested: CREATE EXTENSION pg_extension_base_attached CASCADE',
		'nested: CREATE EXTENSION pg_extension_base_preloader CASCADE',
		'top: CREATE EXTENSION pgeb_test_utility_log',
		'top: CREATE EXTENSION pgeb_deps_new',
		'nested: CREATE EXTENSION pgeb_deps_leaf CASCADE'),
	'a hook loaded after deps sees each requirement created as a nested command');

# the record is per backend: a new session starts with an empty one
$node->safe_psql(
	'postgres', q{
	SET pg_extension_base.enable_extension_dependency_update = off;
	CREATE EXTENSION pgeb_deps_lib VERSION '1.0';
	CREATE EXTENSION pgeb_deps_app VERSION '1.0'});
is( $node->safe_psql(
		'postgres', q{
		ALTER EXTENSION pgeb_deps_app UPDATE;
		SELECT string_agg(command, E'\n') FROM pgeb_test_utility_log()
		WHERE command ~ '^\w+: (CREATE|ALTER) EXTENSION'}),
	join("\n",
		'top: ALTER EXTENSION pgeb_deps_app UPDATE',
		q{nested: ALTER EXTENSION pgeb_deps_lib UPDATE TO '1.1'},
		'nested: CREATE EXTENSION pgeb_deps_later CASCADE'),
	'and each requirement updated, before the statement itself');

# pgeb_deps_new and pgeb_deps_leaf exist already; only lib and later are new
is( $node->safe_psql(
		'postgres', q{
		SELECT string_agg(extname || ' ' || extversion, ', ' ORDER BY extname)
		FROM pg_extension WHERE extname LIKE 'pgeb_deps%'}),
	'pgeb_deps_app 1.2, pgeb_deps_later 1.0, pgeb_deps_leaf 1.0, pgeb_deps_lib 1.1, pgeb_deps_new 1.0',
	'the update reached the default versions');

$node->stop;
done_testing();
