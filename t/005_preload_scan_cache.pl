# The preloader remembers, in the data directory, what each control file
# said (marker, libraries, requirements), and does not read it again while
# it is unchanged.  Any change must still be seen: a file edited in place or
# appended to, a new file, a removed file, a secondary control file that
# appears beside a remembered one; a damaged cache is ignored; a file with a
# bad marker is never remembered, so its warning comes at every start.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

my $install = install_copy('scan_cache');

# control files as a package would have installed them, an hour ago
my $an_hour_ago = time - 3600;
for my $name (qw(pgeb_t_cached_a pgeb_t_cached_b pgeb_t_cached_c))
{
	my $path = write_extension_file($install, "$name.control",
		"comment = 'no marker yet'\ndefault_version = '1.0'\n");
	utime $an_hour_ago, $an_hour_ago, $path or die "utime: $!";
}

my $node = new_node('scan_cache', install => $install);
my $cache = $node->data_dir . '/pg_extension_base_preload.cache';

# Start, and the scan is logged with how many files it did not read.
sub restart_and_scan_detail
{
	my $offset = -s $node->logfile // 0;
	$node->restart;
	my $log = slurp_file($node->logfile, $offset);
	return $log =~ /DETAIL:  (Scanned \d+ control files in [\d.]+ ms; (\d+) of them[^\n]*)/
	  ? $2 : undef;
}

start_with_extension($node);

# Files changed in the last two seconds are not remembered (making the copy
# of the installation changed every file's ctime): restart until they are.
my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
until (-f $cache && slurp_file($cache) =~ /pgeb_t_cached_a/)
{
	die "the scan cache never remembered pgeb_t_cached_a" if time > $deadline;
	$node->restart;
}
ok(-f $cache, 'a start writes the scan cache into the data directory');
like(slurp_file($cache),
	qr/^(\d+ ){5}U pgeb_t_cached_a\t\S+\/pgeb_t_cached_a\.control\t\t$/m,
	'it remembers a settled control file without a marker');
like(slurp_file($cache),
	qr/^(\d+ ){5}M pg_extension_base_example\t\S+\tpg_extension_base\t\$libdir\/pg_extension_base_example$/m,
	'it remembers a marked control file with its resolved library');

my $unread = restart_and_scan_detail();
ok($unread > 0, "the next start does not read the files it remembers ($unread)");

# an in-place append keeps the inode; the new size and time are seen
my $a = "$install->{extdir}/pgeb_t_cached_a.control";
open my $fh, '>>', $a or die;
print $fh "#!shared_preload_libraries = 'pgeb_test_lib_a'\n";
close $fh;
restart_and_scan_detail();
is(preloaded($node, 'library_name', q{extension_name LIKE 'pgeb_t_%'}),
	'pgeb_test_lib_a', 'a marker appended in place is seen');

# an in-place rewrite of the same size, with the modification time put
# back: inode, size and mtime are the remembered ones, the change time is not
my $b = "$install->{extdir}/pgeb_t_cached_b.control";
my $old_text = slurp_file($b);
my $new_text = "#!shared_preload_libraries='pgeb_test_lib_b'\n";
$new_text .= ('#' x (length($old_text) - length($new_text) - 1)) . "\n";
is(length($new_text), length($old_text), 'the rewrite keeps the size');
open $fh, '+<', $b or die;
print $fh $new_text;
close $fh;
utime $an_hour_ago, $an_hour_ago, $b or die;
restart_and_scan_detail();
is(preloaded($node, 'library_name', q{extension_name LIKE 'pgeb_t_%'}),
	'pgeb_test_lib_a pgeb_test_lib_b', 'a file rewritten in place is seen');

# a new file is read, a removed one is forgotten
write_extension_file($install, 'pgeb_t_new.control',
	"#!shared_preload_libraries = 'pgeb_test_lib_c'\n");
unlink "$install->{extdir}/pgeb_t_cached_c.control" or die;
restart_and_scan_detail();
is(preloaded($node, 'library_name', q{extension_name LIKE 'pgeb_t_%'}),
	'pgeb_test_lib_a pgeb_test_lib_b pgeb_test_lib_c', 'a new file is seen');
unlike(slurp_file($cache), qr/pgeb_t_cached_c/, 'a removed file is forgotten');

# a damaged cache is ignored and rewritten
my ($header) = split /\n/, slurp_file($cache);
open $fh, '>', $cache or die;
print $fh "$header\nthis is not a cache line\n";
close $fh;
is(restart_and_scan_detail(), 0, 'a damaged cache is ignored: every file is read');
is(preloaded($node, 'library_name', q{extension_name LIKE 'pgeb_t_%'}),
	'pgeb_test_lib_a pgeb_test_lib_b pgeb_test_lib_c', 'with the same result');
like(slurp_file($cache), qr/^\Q$header\E\n\d+ /,
	'and it is rewritten');

# Requirements through a remembered unmarked file.  pgeb_u_1 (lib_d)
# requires pgeb_u_mid, which says nothing yet; pgeb_u_2 (lib_e) follows by
# name.  Restart until the cache remembers all three.
write_extension_file($install, 'pgeb_u_1.control',
	"#!shared_preload_libraries = 'pgeb_test_lib_d'\nrequires = 'pgeb_u_mid'\n");
write_extension_file($install, 'pgeb_u_mid.control',
	"comment = 'no marker'\ndefault_version = '1.0'\n");
write_extension_file($install, 'pgeb_u_2.control',
	"#!shared_preload_libraries = 'pgeb_test_lib_e'\n");
write_extension_file($install, 'pgeb_u_bad.control',
	"#!shared_preload_libraries = 'unterminated\n");
write_extension_file($install, 'pgeb_u_indent.control',
	"#!shared_preload_libraries = 'pgeb_test_lib_d'\n  #!shared_preload_libraries\n");
$deadline = time + $PostgreSQL::Test::Utils::timeout_default;
until (slurp_file($cache) =~ /pgeb_u_mid\t/ && slurp_file($cache) =~ /pgeb_u_2\t/)
{
	die "the scan cache never remembered the pgeb_u_ files" if time > $deadline;
	$node->restart;
}
my $offset = -s $node->logfile;
$node->restart;
my $log = slurp_file($node->logfile, $offset);
like($log, qr/Scanned \d+ control files in [\d.]+ ms; \d+ of them/,
	'a start with every pgeb_u_ file remembered');
unlike(slurp_file($cache), qr/pgeb_u_bad/,
	'a file with a bad marker is not remembered');
like($log, qr/skipping extension control file "[^"]*pgeb_u_bad\.control": invalid preload marker/,
	'so its warning comes again at every start');
unlike(slurp_file($cache), qr/pgeb_u_indent/,
	'nor is a marked file that also has an indented marker');
like($log, qr/ignoring indented preload marker in extension control file "[^"]*pgeb_u_indent\.control"/,
	'whose warning comes again too');
is(preloaded($node, 'library_name', q{extension_name LIKE 'pgeb_u_%'}),
	'pgeb_test_lib_d pgeb_test_lib_e', 'remembered files load by name');

# A secondary control file appears beside the remembered unmarked file: it
# now requires pgeb_u_2, so lib_e must load first.
write_extension_file($install, 'pgeb_u_mid--1.0.control',
	"requires = 'pgeb_u_2'\n");
restart_and_scan_detail();
is(preloaded($node, 'library_name', q{extension_name LIKE 'pgeb_u_%'}),
	'pgeb_test_lib_e pgeb_test_lib_d',
	'a new secondary control file beside a remembered file is seen');
unlink "$install->{extdir}/pgeb_u_mid--1.0.control" or die;

# The same requirement written in place into the primary file, once that
# is remembered again without it: the edit is seen.
$deadline = time + $PostgreSQL::Test::Utils::timeout_default;
do
{
	die "the scan cache never remembered pgeb_u_mid again" if time > $deadline;
	$node->restart;
} until (slurp_file($cache) =~ /^(\d+ ){5}U pgeb_u_mid\t\S+\t\t$/m);
is(preloaded($node, 'library_name', q{extension_name LIKE 'pgeb_u_%'}),
	'pgeb_test_lib_d pgeb_test_lib_e', 'without the secondary file, name order again');
my $mid = "$install->{extdir}/pgeb_u_mid.control";
open $fh, '>>', $mid or die;
print $fh "requires = 'pgeb_u_2'\n";
close $fh;
restart_and_scan_detail();
is(preloaded($node, 'library_name', q{extension_name LIKE 'pgeb_u_%'}),
	'pgeb_test_lib_e pgeb_test_lib_d',
	'a requirement appended in place to a remembered unmarked file is seen');
$deadline = time + $PostgreSQL::Test::Utils::timeout_default;
until (slurp_file($cache) =~ /^(\d+ ){5}U pgeb_u_mid\t\S+\tpgeb_u_2\t$/m)
{
	die "the scan cache never remembered pgeb_u_mid's requirement" if time > $deadline;
	$node->restart;
}
restart_and_scan_detail();
is(preloaded($node, 'library_name', q{extension_name LIKE 'pgeb_u_%'}),
	'pgeb_test_lib_e pgeb_test_lib_d',
	'and once remembered, the requirement still orders the libraries');

$node->stop;
done_testing();
