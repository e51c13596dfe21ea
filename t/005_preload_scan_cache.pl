# The preloader remembers, in the data directory, what each control file
# said (marker, libraries, requirements), and does not read it again while
# it is unchanged.  Any change must still be seen: a file edited in place or
# appended to, a new file, a removed file, a secondary control file that
# appears beside a remembered one; a damaged cache is ignored; a file with a
# bad marker is never remembered, so its warning comes at every start.
# The names in an extension directory are remembered too, and not read
# again while the directory is unchanged; a file added or removed is seen
# even when the directory's modification time is put back.
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
until (-f $cache && slurp_file($cache) =~ /^(\d+ ){5}U pgeb_t_cached_a\t/m)
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
like(slurp_file($cache), qr/^\Q$header\E\n(?:D )?\d+ /,
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
unlike(slurp_file($cache), qr/^(\d+ ){5}[MU] pgeb_u_bad\t/m,
	'a file with a bad marker is not remembered');
like($log, qr/skipping extension control file "[^"]*pgeb_u_bad\.control": invalid preload marker/,
	'so its warning comes again at every start');
unlike(slurp_file($cache), qr/^(\d+ ){5}[MU] pgeb_u_indent\t/m,
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

# The extension directory: once settled, its control file names are
# remembered with its identity, and the next start does not read it.
my $extdir = $install->{extdir};
sub listed_names
{
	opendir my $dh, $extdir or die "opendir $extdir: $!";
	my @names = sort map { s/\.control$//r } grep { /.\.control$/ } readdir $dh;
	closedir $dh;
	return join('/', @names);
}
sub remembered_names
{
	return slurp_file($cache) =~ /^D (?:-?\d+ ){5}\Q$extdir\E\t(.*)$/m ? $1 : undef;
}
sub restart_until_directory_remembered
{
	my ($what) = @_;
	my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
	until ((remembered_names() // '') eq listed_names())
	{
		die "the scan cache never remembered the extension directory $what"
		  if time > $deadline;
		$node->restart;
	}
}
restart_until_directory_remembered('');
is(remembered_names(), listed_names(),
	'the scan cache remembers the names of every control file in the directory');
$node->append_conf('postgresql.conf', "log_min_messages = debug1\n");
$offset = -s $node->logfile;
$node->restart;
my $count = () = listed_names() =~ m{(?:^|/)}g;
like(slurp_file($node->logfile, $offset),
	qr/extension directory "\Q$extdir\E" is unchanged; its $count control file names were not read again/,
	'and the next start does not read the directory');

# a file removed from the remembered directory, its mtime put back
my @dir_stat = stat $extdir or die;
my $new = "$extdir/pgeb_t_new.control";
my $removed_text = slurp_file($new);
unlink $new or die;
utime $dir_stat[8], $dir_stat[9], $extdir or die "utime: $!";
is((stat $extdir)[9], $dir_stat[9], 'the directory has its old modification time');
restart_and_scan_detail();
is(preloaded($node, 'library_name', q{extension_name LIKE 'pgeb_t_%'}),
	'pgeb_test_lib_a pgeb_test_lib_b',
	'a file removed from a remembered directory is seen, whatever its mtime says');

# a file added to it, once the directory is remembered again
restart_until_directory_remembered('again');
@dir_stat = stat $extdir or die;
write_extension_file($install, 'pgeb_t_new.control', $removed_text);
utime $dir_stat[8], $dir_stat[9], $extdir or die "utime: $!";
restart_and_scan_detail();
is(preloaded($node, 'library_name', q{extension_name LIKE 'pgeb_t_%'}),
	'pgeb_test_lib_a pgeb_test_lib_b pgeb_test_lib_c',
	'a file added to a remembered directory is seen');

# remembered names that are wrong for the directory's identity (a file that
# is not there): the directory is read after all, and the names mended
restart_until_directory_remembered('a third time');
my $text = slurp_file($cache);
my $names = remembered_names();
my $wrong = join('/', sort(split(m{/}, $names), 'pgeb_t_not_there'));
$text =~ s/\t\Q$names\E$/\t$wrong/m or die "no directory line in the cache";
open $fh, '>', $cache or die;
print $fh $text;
close $fh;
$offset = -s $node->logfile;
$node->restart;
unlike(slurp_file($node->logfile, $offset), qr/extension directory "\Q$extdir\E" is unchanged/,
	'a remembered name that is not there makes the start read the directory');
is(preloaded($node, 'library_name', q{extension_name LIKE 'pgeb_t_%'}),
	'pgeb_test_lib_a pgeb_test_lib_b pgeb_test_lib_c', 'with the same result');
is(remembered_names(), listed_names(), 'and the names are mended');

# names that end with an empty one (a last slash) make a damaged line: the
# whole cache is thrown away and every file and directory read
restart_until_directory_remembered('a fourth time');
$text = slurp_file($cache);
$names = remembered_names();
$text =~ s/\t\Q$names\E$/\t$names\//m or die "no directory line in the cache";
open $fh, '>', $cache or die;
print $fh $text;
close $fh;
$offset = -s $node->logfile;
$node->restart;
$log = slurp_file($node->logfile, $offset);
unlike($log, qr/extension directory "\Q$extdir\E" is unchanged/,
	'names ending with an empty name are not taken for the directory');
like($log, qr/Scanned \d+ control files in [\d.]+ ms; 0 of them/,
	'the damaged cache is ignored: every file is read');
is(remembered_names(), listed_names(), 'and the line is written right again');

# Numbers at and beyond the range of int64 in a file's line: the smallest
# int64 is read as such (an identity that no longer matches: the file is
# read again), one digit more makes the line damaged.  (Under
# PGEB_SANITIZE=undefined a negation that overflows would end the start.)
sub cache_with_first_number_of
{
	my ($name, $number) = @_;
	my $text = slurp_file($cache);
	$text =~ s/^-?\d+ (?=(?:-?\d+ ){4}[MU] \Q$name\E\t)/$number /m
	  or die "no line for $name in the cache";
	open my $fh, '>', $cache or die;
	print $fh $text;
	close $fh;
}
cache_with_first_number_of('pgeb_t_cached_a', '-9223372036854775808');
my $unread_then = restart_and_scan_detail();
ok(defined $unread_then && $unread_then > 0,
	'the smallest int64 is a number like any other: the rest of the cache is used');
like(slurp_file($cache), qr/^(\d+ ){5}[MU] pgeb_t_cached_a\t/m,
	'and the file is read and remembered again');
cache_with_first_number_of('pgeb_t_cached_a', '-92233720368547758080');
is(restart_and_scan_detail(), 0,
	'a number beyond int64 makes the cache damaged: every file is read');
cache_with_first_number_of('pgeb_t_cached_a', '18446744073709551617');
is(restart_and_scan_detail(), 0, 'also a positive one that would wrap around');
is(preloaded($node, 'library_name', q{extension_name LIKE 'pgeb_t_%'}),
	'pgeb_test_lib_a pgeb_test_lib_b pgeb_test_lib_c', 'with the same result');

# A cache that cannot be written (its temporary file is /dev/full, where
# every write fails): logged, the old cache kept, nothing left behind.
open $fh, '>', $cache or die;
print $fh "$header\nthis is not a cache line\n";
close $fh;
symlink '/dev/full', "$cache.tmp" or die "symlink: $!";
$offset = -s $node->logfile;
$node->restart;
like(slurp_file($node->logfile, $offset),
	qr/could not write "pg_extension_base_preload\.cache": No space left on device/,
	'a failed write of the cache is logged');
ok(!-e "$cache.tmp" && !-l "$cache.tmp", 'and its temporary file is removed');
is(slurp_file($cache), "$header\nthis is not a cache line\n", 'the old cache stays');
is(restart_and_scan_detail(), 0, 'the next start reads every file');
like(slurp_file($cache), qr/^\Q$header\E\n(?:D )?\d+ /, 'and writes the cache');

$node->stop;
done_testing();
