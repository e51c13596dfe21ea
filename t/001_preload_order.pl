# The preloader loads the libraries that control files ask for, in the
# postmaster, in a deterministic, dependency-aware order.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

my $install = install_copy('order');
my $contrib_control = "$install->{extdir}/pg_stat_statements.control";
my $original = slurp_file($contrib_control);

# pg_stat_statements, a real extension that needs preloading: a copy of
# its control file with the marker added
write_extension_file($install, 'pg_stat_statements.control',
	"#!shared_preload_libraries\n$original");

# bare marker: the extension's module_pathname
write_extension_file($install, 'pgeb_t_bare.control', <<'EOF');
#!shared_preload_libraries
comment = 'bare marker'
default_version = '1.0'
module_pathname = '$libdir/pgeb_test_lib_a'
EOF

# bare marker without module_pathname: the library named like the extension
write_extension_file($install, 'pgeb_test_lib_b.control', <<'EOF');
comment = 'bare marker, no module_pathname'
#!shared_preload_libraries
default_version = '1.0'
EOF

# explicit list, loaded in the order written; whitespace is ignored
write_extension_file($install, 'pgeb_t_list.control', <<'EOF');
comment = 'explicit list'
#!shared_preload_libraries   =   '  pgeb_test_lib_d ,$libdir/pgeb_test_lib_c  '
default_version = '1.0'
EOF

# duplicates load once; our own libraries are never loaded again
write_extension_file($install, 'pgeb_t_dup.control', <<'EOF');
#!shared_preload_libraries = 'pgeb_test_lib_a, pgeb_test_lib_a.so'
#!shared_preload_libraries = $libdir/pgeb_test_lib_a, pg_extension_base_supervisor
default_version = '1.0'
EOF

# requirements decide the order, whatever the names: pgeb_t_aaa_needs sorts
# first but requires pgeb_t_zzz_base through an unmarked extension
write_extension_file($install, 'pgeb_t_aaa_needs.control', <<'EOF');
#!shared_preload_libraries = 'pgeb_test_lib_e'
default_version = '1.0'
requires = 'pgeb_t_mid_unmarked'
EOF
write_extension_file($install, 'pgeb_t_mid_unmarked.control', <<'EOF');
default_version = '1.0'
requires = 'pgeb_t_zzz_base'
EOF
write_extension_file($install, 'pgeb_t_zzz_base.control', <<'EOF');
#!shared_preload_libraries = 'pgeb_test_preload'
default_version = '1.0'
EOF

my $node = new_node('order', install => $install);
start_with_extension($node);
create_load_log_function($node);

my @expected = (
	'pg_extension_base_example:$libdir/pg_extension_base_example',
	'pg_stat_statements:$libdir/pg_stat_statements',
	'pgeb_t_bare:$libdir/pgeb_test_lib_a',
	'pgeb_t_list:pgeb_test_lib_d',
	'pgeb_t_list:$libdir/pgeb_test_lib_c',
	'pgeb_t_zzz_base:pgeb_test_preload',
	'pgeb_t_aaa_needs:pgeb_test_lib_e',
	'pgeb_test_lib_b:pgeb_test_lib_b');

is(preloaded($node, q{extension_name || ':' || library_name}, 'loaded'),
	join(' ', @expected),
	'list_preload_libraries() reports every library once, in dependency and name order');

is( $node->safe_psql(
		'postgres', q{
		SELECT string_agg(library || ':' || at_server_start, ' ' ORDER BY load_order)
		FROM pgeb_test_load_log()}),
	'pgeb_test_lib_a:true pgeb_test_lib_d:true pgeb_test_lib_c:true '
	  . 'pgeb_test_preload:true pgeb_test_lib_e:true pgeb_test_lib_b:true',
	'each library ran _PG_init in the postmaster during preloading, in that order');

is(log_count($node, qr/preloading 8 libraries in this order: /), 1,
	'the final order is logged once');
ok( $node->log_contains(
		qr/preloading 8 libraries in this order: \$libdir\/pg_extension_base_example \(pg_extension_base_example\), \$libdir\/pg_stat_statements \(pg_stat_statements\), /
	),
	'the logged order names libraries and extensions');

# the real extension works with only pg_extension_base preloaded
$node->safe_psql('postgres', 'CREATE EXTENSION pg_stat_statements');
is( $node->safe_psql(
		'postgres', 'SELECT count(*) > 0 FROM pg_stat_statements'),
	't', 'pg_stat_statements works when preloaded through its control file');

# a crash restart keeps what the postmaster loaded, without loading again
$node->stop('immediate');
$node->start;
is(log_count($node, qr/pgeb_test: loaded pgeb_test_lib_a at server start/), 2,
	'a new postmaster loads the libraries again');
is( $node->safe_psql(
		'postgres',
		'SELECT count(*) FROM extension_base.list_preload_libraries()'),
	'8', 'after a restart the same libraries are reported');

# disabled: nothing is loaded
$node->append_conf('postgresql.conf',
	"pg_extension_base.enable_preload_libraries = off\n");
$node->restart;
is( $node->safe_psql(
		'postgres',
		'SELECT count(*) FROM extension_base.list_preload_libraries()'),
	'0', 'with enable_preload_libraries = off nothing is preloaded');
ok($node->log_contains(qr/preloading libraries from extension control files is disabled/),
	'disabling is logged');
$node->stop;

# A requirement cycle (a -> c -> b -> a) is reported and broken by name
# order: a loads first.  Then requirements hold again: b (needs a), then
# a_after_cycle (needs b; first by name among what is free), then c.
my $cycle = install_copy('cycle');
write_extension_file($cycle, 'pgeb_t_cycle_b.control', <<'EOF');
#!shared_preload_libraries = 'pgeb_test_lib_b'
requires = 'pgeb_t_cycle_a'
EOF
write_extension_file($cycle, 'pgeb_t_cycle_a.control', <<'EOF');
#!shared_preload_libraries = 'pgeb_test_lib_a'
requires = 'pgeb_t_cycle_c'
EOF
write_extension_file($cycle, 'pgeb_t_cycle_c.control', <<'EOF');
#!shared_preload_libraries = 'pgeb_test_lib_c'
requires = 'pgeb_t_cycle_b'
EOF
write_extension_file($cycle, 'pgeb_t_a_after_cycle.control', <<'EOF');
#!shared_preload_libraries = 'pgeb_test_lib_d'
requires = 'pgeb_t_cycle_b'
EOF

my $cnode = new_node('cycle', install => $cycle);
start_with_extension($cnode);
is(preloaded($cnode, 'library_name', q{extension_name LIKE 'pgeb_t_%'}),
	'pgeb_test_lib_a pgeb_test_lib_b pgeb_test_lib_d pgeb_test_lib_c',
	'a cycle is broken by name order, then requirements are honoured again');
is( log_count(
		$cnode,
		qr/WARNING:  extensions that ask for preloading require each other in a cycle: "pgeb_t_cycle_a", "pgeb_t_cycle_b", "pgeb_t_cycle_c"/
	),
	1,
	'the cycle is reported once, naming its members');
ok($cnode->log_contains(qr/The libraries of "pgeb_t_cycle_a" are loaded first, by name order/),
	'the report says how the cycle was broken');
$cnode->stop;

done_testing();
