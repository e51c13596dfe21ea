# Bad control files and libraries: each is reported with the file (and
# line), malformed markers skip only their own file, and a library that
# cannot be loaded stops the server unless preload_failure_action says
# 'warning'.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

my $install = install_copy('bad_markers');

my %bad = (
	pgeb_t_unterminated => [ 2, "#!shared_preload_libraries = 'pgeb_test_lib_a\n",
		'The quoted list of libraries is not terminated' ],
	pgeb_t_empty_list => [ 2, "#!shared_preload_libraries = ''\n",
		'The list of libraries is empty' ],
	pgeb_t_no_value => [ 2, "#!shared_preload_libraries =   \n",
		'There is no value after "="' ],
	pgeb_t_empty_entry =>
	  [ 2, "#!shared_preload_libraries = 'pgeb_test_lib_b,,pgeb_test_lib_c'\n",
		'The list of libraries has an empty entry' ],
	pgeb_t_no_equals => [ 2, "#!shared_preload_libraries pgeb_test_lib_b\n",
		'Expected "=" after the marker' ],
	pgeb_t_glued => [ 2, "#!shared_preload_libraries_please\n",
		'Unexpected text after the marker' ],
	pgeb_t_trailing => [ 2, "#!shared_preload_libraries = 'pgeb_test_lib_b' x\n",
		'Unexpected text after the quoted list of libraries' ],
	pgeb_t_long_line => [
		2,
		"#!shared_preload_libraries = '" . ('pgeb_test_lib_b,' x 400) . "pgeb_test_lib_b'\n",
		'The line is longer than 4096 bytes' ],);

# each bad marker sits on line 2, after a comment; a good marker before it
# shows that the whole file is skipped, not just the line
for my $name (sort keys %bad)
{
	write_extension_file($install, "$name.control",
		"#!shared_preload_libraries = 'pgeb_test_lib_d'\n"
		  . $bad{$name}[1]
		  . "default_version = '1.0'\n");
}

# an indented marker is not a marker, but it is pointed out
write_extension_file($install, 'pgeb_t_indented.control',
	"comment = 'x'\n   #!shared_preload_libraries = 'pgeb_test_lib_a'\n");

# a valid marker in a control file that core cannot parse
write_extension_file($install, 'pgeb_t_bad_syntax.control',
	"#!shared_preload_libraries = 'pgeb_test_lib_a'\ncomment = 'unterminated\n");

# an unreadable control file
my $unreadable = write_extension_file($install, 'pgeb_t_unreadable.control',
	"#!shared_preload_libraries = 'pgeb_test_lib_a'\n");
chmod 0000, $unreadable or die "chmod: $!";

# a long line that is not a marker is fine
write_extension_file($install, 'pgeb_t_good.control',
	"comment = '" . ('x' x 6000) . "'\n#!shared_preload_libraries = 'pgeb_test_lib_e'\n");

my $node = new_node('bad_markers', install => $install);
start_with_extension($node);

is(preloaded($node, q{extension_name || ':' || library_name}),
	'pg_extension_base_example:$libdir/pg_extension_base_example pgeb_t_good:pgeb_test_lib_e',
	'the server starts, and only well-formed control files are preloaded');

for my $name (sort keys %bad)
{
	my ($line, undef, $detail) = @{ $bad{$name} };
	ok( $node->log_contains(
			qr/WARNING:  skipping extension control file "[^"]*\/$name\.control": invalid preload marker at line $line\n.*DETAIL:  \Q$detail\E/
		),
		"$name: warning names the file, the line and the problem");
}

ok( $node->log_contains(
		qr/WARNING:  ignoring indented preload marker in extension control file "[^"]*\/pgeb_t_indented\.control" line 2\n.*HINT:  The marker must start at column 0/
	),
	'an indented marker is ignored, with a warning naming file and line');
ok( $node->log_contains(
		qr/WARNING:  skipping extension control file "[^"]*\/pgeb_t_bad_syntax\.control": it cannot be parsed/
	),
	'a control file that cannot be parsed is skipped with a warning');
ok( $node->log_contains(
		qr/WARNING:  could not read extension control file "[^"]*\/pgeb_t_unreadable\.control": Permission denied/
	),
	'an unreadable control file is reported, not fatal');
$node->stop;

# A library that cannot be loaded stops the server with a message naming
# the control file and the library.
my $failing = install_copy('bad_libraries');
write_extension_file($failing, 'pgeb_t_missing.control',
	"#!shared_preload_libraries = 'pgeb_no_such_library'\n");
my $fnode = new_node('bad_libraries', install => $failing);

ok(!$fnode->start(fail_ok => 1), 'a missing library stops the server');
ok( $fnode->log_contains(
		qr/FATAL:  could not access file "pgeb_no_such_library": No such file or directory\n.*CONTEXT:  while preloading library "pgeb_no_such_library" for extension "pgeb_t_missing", as requested by extension control file "[^"]*\/pgeb_t_missing\.control"/
	),
	'the message names the library and the control file');

unlink "$failing->{extdir}/pgeb_t_missing.control";
write_extension_file($failing, 'pgeb_t_no_magic.control',
	"#!shared_preload_libraries = 'pgeb_test_nomagic'\n");
my $offset = -s $fnode->logfile;
ok(!$fnode->start(fail_ok => 1), 'a library without PG_MODULE_MAGIC stops the server');
ok( $fnode->wait_for_log(
		qr/FATAL:  incompatible library "[^"]*pgeb_test_nomagic\.so": missing magic block\n(.*\n)*.*CONTEXT:  while preloading library "pgeb_test_nomagic" for extension "pgeb_t_no_magic", as requested by extension control file "[^"]*\/pgeb_t_no_magic\.control"/,
		$offset),
	'the message names the library and the control file');

# With preload_failure_action = 'warning' the server starts with the others.
write_extension_file($failing, 'pgeb_t_missing.control',
	"#!shared_preload_libraries = 'pgeb_no_such_library'\n");
write_extension_file($failing, 'pgeb_t_ok.control',
	"#!shared_preload_libraries = 'pgeb_test_lib_a'\n");
$fnode->append_conf('postgresql.conf',
	"pg_extension_base.preload_failure_action = 'warning'\n");
$offset = -s $fnode->logfile;
start_with_extension($fnode);

is(preloaded($fnode, q{library_name || ':' || loaded}),
	'$libdir/pg_extension_base_example:true pgeb_no_such_library:false pgeb_test_nomagic:false pgeb_test_lib_a:true',
	'with preload_failure_action = warning the server starts and loads the others');
like(
	$fnode->safe_psql(
		'postgres', q{
		SELECT error FROM extension_base.list_preload_libraries()
		WHERE library_name = 'pgeb_no_such_library'}),
	qr/could not access file "pgeb_no_such_library"/,
	'list_preload_libraries() says why a library was not loaded');
ok( $fnode->wait_for_log(
		qr/WARNING:  could not preload library "pgeb_no_such_library" requested by extension control file "[^"]*\/pgeb_t_missing\.control": could not access file/,
		$offset),
	'each failure is logged as a warning naming control file and library');
$fnode->stop;

done_testing();
