# References to files: a fresh clone of the repository, and what it
# installs, must not point at a file that is not in it.  This test reads
# every text file of the source tree and the SQL scripts, control files and
# headers installed by the server under test, and fails on each reference
# that leads outside the repository or to nothing.
#
# The source tree is the directory above this file.  With a .git beside it
# (a checkout) the files are those git tracks; without one (scripts/test
# runs the tests in a copy of the sources without .git) every file below it
# except what the root .gitignore excludes (build products, test and
# benchmark output).  Either way "in the repository" means one of those
# files or a directory holding one: a file that only a build or a test run
# creates does not exist in a fresh clone.  The installed files are those of
# the installation whose pg_config is first in PATH (under "make test", the
# private installation): $(sharedir)/extension/pg_extension_base* and
# $(includedir-server)/pg_extension_base/; they are checked as if they sat
# at the root of the tree.
#
# The rules, each a test below:
#
# 1. Climbing out.  A relative path that starts with "../" (at the start of
#    a word, not inside a longer path such as "$libdir/../x" or
#    "$(pg_config)/../../src", which are relative to something else) and
#    names a directory (a trailing "/", or more than one name after the
#    "../"s) or a file with an extension (".md", ".c", not "1.0") is
#    resolved against the directory of the file that holds it: it must be
#    a file or directory of the repository.  A single bare name such as
#    "../../x" or "../1.0" is taken for data (sql/deps.sql feeds such
#    names to CREATE EXTENSION on purpose) and allowed.
# 2. Someone's workspace.  An absolute path below one of the directories
#    where people keep their work rather than the system keeps its files:
#    /work, /workspace, /home, /Users, /mnt, /media, /scratch (followed by
#    "/").  System paths (/usr/lib/postgresql, /var/tmp, /tmp, /proc,
#    /etc, HOME=/root in a chroot) are what scripts are for and allowed;
#    so is anything inside a URL.
# 3. Documents.  A name ending in .md, .markdown or .rst (outside URLs)
#    must be a file of the repository: relative to the file that names it,
#    relative to the root, or, for a bare file name without "/", the name
#    of some file in the tree ("README.md").
# 4. Sections.  "DESIGN.md section N" (also "DESIGN.md, section N",
#    "DESIGN.md sections N and M", "DESIGN.md §N"), and inside DESIGN.md
#    any "section N", must name a numbered heading "## N. ..." of
#    DESIGN.md.
# 5. Markdown links.  In .md files, outside code blocks and code spans, the
#    target of every [text](target) and ![alt](target) link and every
#    reference definition "[label]: target" that is not a URL (no
#    "scheme:", no "//") must be a file or directory of the repository,
#    relative to the Markdown file ("/x" relative to the root, as GitHub
#    reads it); an "#anchor" into a Markdown file must be the slug of one
#    of its headings (GitHub's: lower case, punctuation dropped, spaces to
#    "-").
use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname basename);
use File::Find;
use Test::More;

my $root = abs_path(dirname(abs_path(__FILE__)) . '/..');

# ---------------------------------------------------------------------------
# The files of the tree

# Patterns of the root .gitignore: [regex, anchored, directory only].
sub gitignore_rules
{
	my @rules;
	open my $fh, '<', "$root/.gitignore" or return ();
	while (my $line = <$fh>)
	{
		chomp $line;
		$line =~ s/\s+$//;
		next if $line eq '' || $line =~ /^#/;
		die "negated .gitignore patterns are not supported: $line"
		  if $line =~ /^!/;
		my $dir_only = $line =~ s{/$}{};
		my $anchored = $line =~ s{^/}{} || $line =~ m{/};
		my $re = join '', map {
			    $_ eq '*' ? '[^/]*'
			  : $_ eq '?' ? '[^/]'
			  : quotemeta($_)
		} split /([*?])/, $line;
		push @rules, [ qr/^$re$/, $anchored, $dir_only ];
	}
	return @rules;
}

sub ignored
{
	my ($relative, $is_dir, @rules) = @_;
	for my $rule (@rules)
	{
		my ($re, $anchored, $dir_only) = @$rule;
		next if $dir_only && !$is_dir;
		return 1 if ($anchored ? $relative : basename($relative)) =~ $re;
	}
	return 0;
}

my @files;
my $listed_by;
if (-e "$root/.git")
{
	my $out = `git -C '$root' ls-files -z 2>/dev/null`;
	if ($? == 0)
	{
		@files = grep { $_ ne '' && -f "$root/$_" } split /\0/, $out;
		$listed_by = 'git ls-files';
	}
}
if (!$listed_by)
{
	my @rules = gitignore_rules();
	find(
		{
			no_chdir => 1,
			wanted => sub {
				return if $File::Find::name eq $root;
				my $relative = substr($File::Find::name, length($root) + 1);
				if (-d $File::Find::name)
				{
					$File::Find::prune = 1
					  if $relative eq '.git'
					  || ignored($relative, 1, @rules);
					return;
				}
				push @files, $relative
				  if -f $File::Find::name && !ignored($relative, 0, @rules);
			}
		},
		$root);
	$listed_by = 'a walk of the tree without what .gitignore excludes';
}
@files = sort @files;

my %is_file = map { $_ => 1 } @files;
my %is_dir = ('' => 1);
my %basenames;
for my $file (@files)
{
	$basenames{ basename($file) } = 1;
	my $dir = $file;
	$is_dir{$dir} = 1 while ($dir =~ s{/[^/]*$}{});
}

ok(@files > 50, "the tree has files (" . scalar(@files) . ", by $listed_by)");
ok($is_file{'README.md'}, 'README.md is among them');

sub pg_config
{
	my ($what) = @_;
	my $dir = `pg_config --$what`;
	chomp $dir;
	die "pg_config --$what failed" unless $dir;
	return $dir;
}

my $extdir = pg_config('sharedir') . '/extension';
my $headerdir = pg_config('includedir-server') . '/pg_extension_base';
my @installed = (glob("$extdir/pg_extension_base*"), glob("$headerdir/*"));
ok(scalar(grep { m{/pg_extension_base--[\d.]+\.sql$} } @installed),
	"the installed SQL scripts are found in $extdir");

# ---------------------------------------------------------------------------
# Reading

# [label, directory of the file relative to the root, text] of every text
# file; installed files are read as if they sat at the root.
my @texts;
for my $file (@files)
{
	my $text = slurp("$root/$file");
	next if !defined $text || $text =~ /\0/;    # binary
	my $dir = $file =~ m{/} ? dirname($file) : '';
	push @texts, [ $file, $dir, $text ];
}
for my $file (@installed)
{
	next unless -f $file;
	my $text = slurp($file);
	next if !defined $text || $text =~ /\0/;
	push @texts, [ "installed $file", '', $text ];
}

sub slurp
{
	my ($path) = @_;
	open my $fh, '<:raw', $path or return undef;
	local $/;
	my $text = <$fh>;
	return $text // '';
}

sub line_of
{
	my ($text, $offset) = @_;
	return 1 + (substr($text, 0, $offset) =~ tr/\n//);
}

# A relative path resolved against a directory of the tree: the path
# relative to the root, or undef when it leaves the repository.
sub resolve
{
	my ($dir, $path) = @_;
	my @parts = $path =~ m{^/} ? () : grep { $_ ne '' } split m{/}, $dir;
	for my $part (split m{/}, $path)
	{
		next if $part eq '' || $part eq '.';
		if ($part eq '..')
		{
			return undef unless @parts;
			pop @parts;
		}
		else
		{
			push @parts, $part;
		}
	}
	return join '/', @parts;
}

# ---------------------------------------------------------------------------
# 1. Climbing out

my @climbing;
for my $t (@texts)
{
	my ($label, $dir, $text) = @$t;
	while ($text =~ m{(?<![\w.\$/~:-])((?:\.\./)+)([\w.+-]+(?:/[\w.+-]*)*)?}g)
	{
		my ($up, $rest, $at) = ($1, $2 // '', $-[0]);
		my $path = $up . $rest;
		my @names = grep { $_ ne '' } split m{/}, $rest;
		next
		  unless $rest =~ m{/$}
		  || @names > 1
		  || (@names == 1 && $names[0] =~ /[^.]\.[A-Za-z]\w*$/);
		my $resolved = resolve($dir, $path);
		next
		  if defined $resolved
		  && ($is_file{$resolved} || $is_dir{$resolved});
		push @climbing,
		  "$label:" . line_of($text, $at) . ": $path"
		  . (defined $resolved ? ' (not in the repository)' : ' (leaves the repository)');
	}
}
is_deeply(\@climbing, [], 'no "../" path leads outside the repository')
  or diag(join "\n", @climbing);

# ---------------------------------------------------------------------------
# 2. Someone's workspace

my @workspace;
for my $t (@texts)
{
	my ($label, $dir, $text) = @$t;
	while ($text =~
		m{(?<![\w.\$/~:@-])(/(?:work|workspace|home|Users|mnt|media|scratch)/[^\s'"`)]*)}g
	  )
	{
		my ($path, $at) = ($1, $-[0]);
		$path =~ s/[.,;:]+$//;
		push @workspace, "$label:" . line_of($text, $at) . ": $path";
	}
}
is_deeply(\@workspace, [], 'no absolute path into a workspace')
  or diag(join "\n", @workspace);

# ---------------------------------------------------------------------------
# 3. Documents

my @documents;
for my $t (@texts)
{
	my ($label, $dir, $text) = @$t;
	while ($text =~ m{(?<![\w./~:\$-])([\w./-]*[\w-]\.(?:md|markdown|rst))\b(?![\w/-])}g)
	{
		my $name = $1;
		my $at = $-[0];
		(my $plain = $name) =~ s{^\./}{};
		my $here = resolve($dir, $plain);
		next if defined $here && $is_file{$here};
		my $from_root = resolve('', $plain);
		next if defined $from_root && $is_file{$from_root};
		next if $plain !~ m{/} && $basenames{$plain};
		push @documents, "$label:" . line_of($text, $at) . ": $name";
	}
}
is_deeply(\@documents, [], 'every document named is in the repository')
  or diag(join "\n", @documents);

# ---------------------------------------------------------------------------
# 4. Sections of DESIGN.md

my %design_sections;
if ($is_file{'DESIGN.md'})
{
	my $design = slurp("$root/DESIGN.md");
	$design_sections{$1} = 1 while $design =~ /^##\s+(\d+)\.\s/mg;
}
ok(%design_sections, 'DESIGN.md has numbered sections');

my @sections;
for my $t (@texts)
{
	my ($label, $dir, $text) = @$t;
	my @found;
	while ($text =~
		m{DESIGN\.md,?\s+(?:sections?\s+|§\s*)(\d+(?:(?:\s*,\s*|\s+and\s+|\s*[-–]\s*|\s+to\s+)\d+)*)}gi
	  )
	{
		my ($numbers, $at) = ($1, $-[0]);
		push @found, [ $_, $at ] for $numbers =~ /(\d+)/g;
	}
	if ($label eq 'DESIGN.md')
	{
		while ($text =~ m{(?:\bsections?\s+|§\s*)(\d+(?:(?:\s*,\s*|\s+and\s+|\s*[-–]\s*|\s+to\s+)\d+)*)}gi)
		{
			my ($numbers, $at) = ($1, $-[0]);
			push @found, [ $_, $at ] for $numbers =~ /(\d+)/g;
		}
	}
	for my $f (@found)
	{
		my ($number, $at) = @$f;
		push @sections,
		  "$label:" . line_of($text, $at) . ": DESIGN.md section $number"
		  unless $design_sections{$number};
	}
}
is_deeply(\@sections, [], 'every DESIGN.md section referred to exists')
  or diag(join "\n", @sections);

# ---------------------------------------------------------------------------
# 5. Markdown links

# GitHub's anchors of a Markdown file's headings.
my %anchors_of;

sub anchors
{
	my ($file) = @_;
	return $anchors_of{$file} if $anchors_of{$file};
	my %anchors;
	my %seen;
	my $text = strip_code(slurp("$root/$file") // '');
	while ($text =~ /^#{1,6}\s+(.*?)\s*#*\s*$/mg)
	{
		my $slug = lc $1;
		$slug =~ s/[^\w\- ]//g;
		$slug =~ s/ /-/g;
		my $n = $seen{$slug}++;
		$anchors{ $n ? "$slug-$n" : $slug } = 1;
	}
	return $anchors_of{$file} = \%anchors;
}

# The text with fenced code blocks and code spans blanked out (newlines
# kept, so that line numbers stay right).
sub strip_code
{
	my ($text) = @_;
	$text =~ s{^([ \t]*)(```|~~~).*?^[ \t]*\2[^\n]*$}{ (my $b = $&) =~ s/[^\n]/ /g; $b }gmse;
	$text =~ s{(`+)(?!`).*?(?<!`)\1(?!`)}{ (my $b = $&) =~ s/[^\n]/ /g; $b }gse;
	return $text;
}

my @links;
for my $t (grep { $_->[0] =~ /\.md$/ && $_->[0] !~ /^installed / } @texts)
{
	my ($label, $dir, $raw) = @$t;
	my $text = strip_code($raw);
	my @targets;
	while ($text =~ m{!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]*)>?(?:\s+["'(][^)]*)?\)}g)
	{
		push @targets, [ $1, $-[0] ];
	}
	while ($text =~ m{^[ ]{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)}mg)
	{
		push @targets, [ $1, $-[0] ];
	}
	for my $target (@targets)
	{
		my ($link, $at) = @$target;
		next if $link =~ m{^[A-Za-z][\w+.-]*:} || $link =~ m{^//};
		my ($path, $anchor) = $link =~ /^([^#]*)(?:#(.*))?$/;
		$path =~ s/%([0-9A-Fa-f]{2})/chr(hex($1))/ge;
		my $where = "$label:" . line_of($raw, $at) . ": ($link)";
		my $file = $label;
		if ($path ne '')
		{
			$file = resolve($dir, $path);
			if (!defined $file)
			{
				push @links, "$where leaves the repository";
				next;
			}
			my $exists =
			  $path =~ m{/$} ? $is_dir{$file} : ($is_file{$file} || $is_dir{$file});
			if (!$exists)
			{
				push @links, "$where: no such file or directory in the repository";
				next;
			}
		}
		next unless defined $anchor && $anchor ne '';
		next unless $is_file{$file} && $file =~ /\.md$/;
		push @links, "$where: no heading with that anchor in $file"
		  unless anchors($file)->{ lc $anchor };
	}
}
is_deeply(\@links, [], 'every Markdown link points into the repository')
  or diag(join "\n", @links);

done_testing();
