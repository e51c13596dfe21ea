# Seeded fuzzing of the preloader: PGEB_FUZZ_CONTROL_FILES random control
# files (default 1,000) in a copy of the installation, then four rounds
# that change a fifth as many each (rewritten, edited in place with the same
# size, deleted, added, made unreadable or readable again, given a secondary
# control file or a directory or symbolic link in their place), one server
# start per round with pg_extension_base.preload_failure_action = 'warning'
# and the same data directory, so that the scan cache remembers and forgets
# files as they change.
#
# The files carry markers built to hit every rule of the marker grammar
# (bare and list forms, quotes, whitespace, tabs, carriage returns, commas,
# '$libdir/', '.so', absolute paths, our own libraries, libraries that do
# not exist, lack a magic block or fail in _PG_init, names that are the
# same library) and every way to break it (unterminated quotes, empty lists
# and entries, '=' without value, text glued to the marker or after the
# quotes, indented markers, lines over 4096 bytes), random bytes, including
# bytes that are invalid UTF-8, in markers, comments and file names;
# random requires lists with cycles, self-requirements, missing and
# truncated names, quoted and upper-case names, chains through unmarked,
# malformed and unreadable extensions; module_pathname and requires
# overridden by secondary control files; lines that core cannot parse; NUL
# bytes; CRLF line ends.
#
# The oracle is a model, in this file, of what the preloader does: the
# marker grammar of preloader/marker.c, the parse of meta/control_file.c
# (core's postgresql.conf grammar, SplitIdentifierString, secondary control
# files), and the order of preloader/load_order.c.  After each start:
#   - the server started and nothing crashed;
#   - list_preload_libraries() is exactly what the model says: libraries,
#     extensions, control files, positions, which loaded;
#   - every library it says loaded exists, and the test libraries among
#     them are exactly those loaded at server start, in that order;
#   - a library loads after the libraries of every marked extension that
#     its extension requires, directly or through unmarked ones, unless the
#     two are in a requirement cycle;
#   - every malformed marker, indented marker, unreadable file, file that
#     cannot be parsed, requirement cycle and library that failed to load
#     drew its WARNING naming the file (and line, and problem), and there
#     are no others.
# Then the last round's files stop a server without 'warning' at the
# first library that fails, in load order, with a FATAL naming it and its
# control file; and a deterministic round does the same for a known file.
#
# PGEB_FUZZ_SEED repeats a run (the seed is noted at the start, and again
# on failure).
use strict;
use warnings;

use Fcntl qw(SEEK_SET);
use File::Basename qw(dirname basename);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes ();
use PgebTest;

my $file_count = fuzz_count('PGEB_FUZZ_CONTROL_FILES', 1000);
my $rounds = 5;

my $MARKER = '#!shared_preload_libraries';
my $MAX_LINE = 4096;

my $install = install_copy('fuzz_control');
my $extdir = $install->{extdir};
my $pkglibdir = $install->{pkglibdir};
my $sharedir = dirname($extdir);

sub pick { return $_[ int(rand(scalar @_)) ]; }
sub chance { return rand() < $_[0]; }

# ---------------------------------------------------------------------------
# The model: what the preloader does with the extension directory
# ---------------------------------------------------------------------------

sub is_blank { return $_[0] eq ' ' || $_[0] eq "\t"; }

# trim() of marker.c: leading blanks, trailing blanks, \n and \r.
sub marker_trim
{
	my ($s) = @_;
	$s =~ s/^[ \t]+//;
	$s =~ s/[ \t\n\r]+$//;
	return $s;
}

# parse_marker_line(): (problem) or (undef, libraries), undef for the
# extension's own library.
sub parse_marker_line
{
	my ($line) = @_;
	my $rest = substr($line, length $MARKER);
	my $glued = $rest !~ /^[ \t]/;
	my $p = marker_trim($rest);
	return (undef, [undef]) if $p eq '';
	return ($glued ? 'Unexpected text after the marker.' : 'Expected "=" after the marker.')
	  if substr($p, 0, 1) ne '=';
	$p = marker_trim(substr($p, 1));
	return ('There is no value after "=".') if $p eq '';
	if (substr($p, 0, 1) eq "'")
	{
		my $close = index($p, "'", 1);
		return ('The quoted list of libraries is not terminated.') if $close < 0;
		return ('Unexpected text after the quoted list of libraries.')
		  if marker_trim(substr($p, $close + 1)) ne '';
		$p = substr($p, 1, $close - 1);
	}
	return ('The list of libraries is empty.') if marker_trim($p) eq '';
	my @libraries;
	for my $item (split /,/, $p, -1)
	{
		my $name = marker_trim($item);
		return ('The list of libraries has an empty entry.') if $name eq '';
		push @libraries, $name;
	}
	return (undef, \@libraries);
}

# preload_read_markers(): {libraries (or undef: no request), malformed =>
# [line, problem], indented => [lines]}.
sub read_markers
{
	my ($text) = @_;
	my %result = (indented => []);
	return \%result if index($text, $MARKER) < 0;
	my @libraries;
	my $lineno = 0;
	my $pos = 0;
	while ($pos < length $text)
	{
		my $nl = index($text, "\n", $pos);
		my $line = $nl < 0 ? substr($text, $pos) : substr($text, $pos, $nl - $pos);
		$pos = $nl < 0 ? length $text : $nl + 1;
		$lineno++;
		if (substr($line, 0, length $MARKER) ne $MARKER)
		{
			push @{ $result{indented} }, $lineno if $line =~ /^[ \t]+\Q$MARKER\E/;
			next;
		}
		my ($problem, $libraries) =
		  length($line) > $MAX_LINE
		  ? ("The line is longer than $MAX_LINE bytes.")
		  : parse_marker_line($line);
		if (defined $problem)
		{
			$result{malformed} = [ $lineno, $problem ];
			return \%result;
		}
		push @libraries, @$libraries;
	}
	$result{libraries} = \@libraries if @libraries;
	return \%result;
}

# DeescapeQuotedString() of core's postgresql.conf lexer (no octal: the
# generator never writes it).
sub guc_deescape
{
	my ($s) = @_;
	my %escapes = (b => "\b", f => "\f", n => "\n", r => "\r", t => "\t");
	$s =~ s/\\(.)|''/defined $1 ? ($escapes{$1} \/\/ $1) : "'"/ge;
	return $s;
}

# ParseConfigFp(), for the lines that control files here hold: a list of
# [name, value], or undef for a syntax error.
sub guc_parse
{
	my ($text) = @_;
	my @items;
	my $letter = qr/[A-Za-z_\x80-\xff]/;
	my $id = qr/$letter[A-Za-z0-9_\x80-\xff]*/;
	for my $line (split /\n/, $text, -1)
	{
		next if $line =~ /^[ \t\r]*(#.*)?$/;
		return undef
		  unless $line =~ /^[ \t\r]*($id(?:\.$id)?)(?![A-Za-z0-9_\x80-\xff.])[ \t\r]*=?[ \t\r]*
			('(?:[^'\\\n]|\\.|'')*'|$letter[A-Za-z0-9_\x80-\xff._:\/-]*|[+-]?[0-9][0-9A-Za-z.+-]*)
			[ \t\r]*(?:\#.*)?$/x;
		my ($name, $value) = ($1, $2);
		return undef if $name =~ /^include/;    # never written here
		$value = guc_deescape(substr($value, 1, -1)) if $value =~ /^'/;
		push @items, [ $name, $value ];
	}
	return \@items;
}

# SplitIdentifierString(s, ','): a list, or undef on bad syntax; names
# downcased (ASCII) unless quoted, truncated to 63 bytes.
sub split_identifiers
{
	my ($s) = @_;
	my @names;
	my $space = qr/[ \t\n\r\f]/;
	$s =~ s/^$space+//;
	return [] if $s eq '';
	for (;;)
	{
		my $name;
		if ($s =~ /^"/)
		{
			return undef unless $s =~ s/^"((?:[^"]|"")*)"//;
			($name = $1) =~ s/""/"/g;
		}
		elsif ($s =~ s/^([^, \t\n\r\f]+)//)
		{
			($name = $1) =~ tr/A-Z/a-z/;
		}
		else
		{
			return undef;
		}
		$s =~ s/^$space+//;
		push @names, substr($name, 0, 63);
		return \@names if $s eq '';
		return undef unless $s =~ s/^,$space*//;
	}
}

# The extension directory as the scan sees it: primary entries sorted by
# name, each with its text (cut at the first NUL) or why it cannot be read.
sub list_directory
{
	opendir(my $dh, $extdir) or die "opendir $extdir: $!";
	my @names = sort map { substr($_, 0, -length('.control')) }
	  grep { length($_) > length('.control') && /\.control\z/ } readdir($dh);
	closedir($dh);
	my %secondary;
	my @entries;
	for my $name (@names)
	{
		if ($name =~ /^(.*?)--(.*)\z/s)
		{
			$secondary{$1}{$2} = 1;
			next;
		}
		next if length($name) >= 64;
		my $path = "$extdir/$name.control";
		my %entry = (name => $name, path => $path);
		if (-d $path)
		{
			$entry{error} = 'Is a directory';
		}
		elsif (open(my $fh, '<:raw', $path))
		{
			local $/;
			my $text = <$fh> // '';
			close $fh;
			$text =~ s/\0.*//s;
			$entry{text} = $text;
		}
		else
		{
			$entry{error} = "$!";
		}
		push @entries, \%entry;
	}
	$_->{secondary} = $secondary{ $_->{name} } // {} for @entries;
	return \@entries;
}

# pgeb_parse_control_entry(): {requires, module_pathname}, or undef when
# it (or the secondary control file of its default version) cannot be
# parsed.
sub parse_control
{
	my ($entry) = @_;
	return undef unless defined $entry->{text};
	my %control = (requires => []);
	my $items = guc_parse($entry->{text});
	return undef unless $items;
	my $script_directory = $extdir;
	for my $item (@$items)
	{
		my ($name, $value) = @$item;
		if ($name eq 'default_version')
		{
			$control{default_version} = $value;
		}
		elsif ($name eq 'module_pathname')
		{
			$control{module_pathname} = $value;
		}
		elsif ($name eq 'directory')
		{
			$script_directory = $value =~ m{^/} ? $value : "$sharedir/$value";
		}
		elsif ($name eq 'requires')
		{
			$control{requires} = split_identifiers($value);
			return undef unless $control{requires};
		}
	}
	my $version = $control{default_version};
	return \%control unless defined $version;
	my $secondary = "$script_directory/$entry->{name}--$version.control";
	return \%control
	  unless $script_directory eq $extdir
	  ? $entry->{secondary}{$version}
	  : -e $secondary;
	open(my $fh, '<:raw', $secondary) or return undef;
	local $/;
	my $text = <$fh> // '';
	close $fh;
	$items = guc_parse($text);
	return undef unless $items;
	for my $item (@$items)
	{
		my ($name, $value) = @$item;
		$control{module_pathname} = $value if $name eq 'module_pathname';
		if ($name eq 'requires')
		{
			$control{requires} = split_identifiers($value);
			return undef unless $control{requires};
		}
	}
	return \%control;
}

my @own_libraries = qw(pg_extension_base pg_extension_base_deps
  pg_extension_base_supervisor pg_extension_base_attached
  pg_extension_base_preloader);

# library_key() of load_order.c.
sub library_key
{
	my ($library) = @_;
	my $base = $library =~ m{/([^/]*)\z} ? $1 : $library;
	$base = substr($base, 0, -3) if length($base) > 3 && $base =~ /\.so\z/;
	return $base;
}

# The libraries here that load: the test libraries and core's plpgsql,
# under each spelling the generator uses.
my @test_libraries = map { "pgeb_test_lib_$_" } 'a' .. 'e';
push @test_libraries, 'pgeb_test_preload';
my @loadable_names = (@test_libraries, 'plpgsql', 'pgeb_test_worker',
	'pg_extension_base_example');
my %loadable;
for my $lib (@loadable_names)
{
	$loadable{$_} = $lib for (
		$lib, "$lib.so", "\$libdir/$lib", "\$libdir/$lib.so",
		"$pkglibdir/$lib.so", "$pkglibdir/$lib",
		'$libdir/../' . basename($pkglibdir) . "/$lib");
}

# The whole model of one start: the rows of list_preload_libraries()
# [extension, library, control file, loaded], and the warnings expected.
sub model
{
	my $entries = list_directory();
	my %index = map { $entries->[$_]{name} => $_ } 0 .. $#$entries;
	my %expect = (malformed => [], indented => [], unreadable => [],
		unparsable => [], cycles => [], failed => []);
	my @requests;
	for my $entry (@$entries)
	{
		if (!defined $entry->{text})
		{
			push @{ $expect{unreadable} }, [ $entry->{path}, $entry->{error} ];
			next;
		}
		my $markers = read_markers($entry->{text});
		push @{ $expect{indented} }, [ $entry->{path}, $_ ] for @{ $markers->{indented} };
		if ($markers->{malformed})
		{
			push @{ $expect{malformed} }, [ $entry->{path}, @{ $markers->{malformed} } ];
			next;
		}
		push @requests, { entry => $entry, libraries => $markers->{libraries} }
		  if $markers->{libraries};
	}

	# resolve_request(): parse; bare markers name module_pathname or the
	# extension
	my @nodes;
	for my $request (@requests)
	{
		my $control = parse_control($request->{entry});
		if (!$control)
		{
			push @{ $expect{unparsable} }, $request->{entry}{path};
			next;
		}
		$request->{requires} = $control->{requires};
		$request->{libraries} = [ map {
			defined $_ ? $_ : $control->{module_pathname} // $request->{entry}{name}
		} @{ $request->{libraries} } ];
		push @nodes, $request;
	}
	my %node = map { $nodes[$_]{entry}{name} => $_ } 0 .. $#nodes;

	# build_edges(): requirements, through extensions that are not nodes
	my %requires_of;
	my @deps;
	for my $i (0 .. $#nodes)
	{
		my @pending = @{ $nodes[$i]{requires} };
		my %visited;
		my %deps;
		while (@pending)
		{
			my $name = shift @pending;
			next if $visited{$name}++;
			if (exists $node{$name})
			{
				$deps{ $node{$name} } = 1;
				next;
			}
			next unless exists $index{$name};
			$requires_of{$name} //= do {
				my $control = parse_control($entries->[ $index{$name} ]);
				$control ? $control->{requires} : [];
			};
			push @pending, @{ $requires_of{$name} };
		}
		$deps[$i] = [ sort { $a <=> $b } keys %deps ];
	}

	# Kahn's algorithm, smallest name first; cycles broken by name order
	my @done = (0) x @nodes;
	my @cycle_reported = (0) x @nodes;
	my $reaches = sub {
		my ($from, $to) = @_;
		my @stack = ($from);
		my %seen;
		while (@stack)
		{
			my $n = pop @stack;
			next if $seen{$n}++;
			for my $dep (@{ $deps[$n] })
			{
				return 1 if $dep == $to;
				push @stack, $dep unless $done[$dep];
			}
		}
		return 0;
	};
	my @order;
	for (1 .. @nodes)
	{
		my $next;
		for my $i (0 .. $#nodes)
		{
			next if $done[$i];
			if (!grep { $_ != $i && !$done[$_] } @{ $deps[$i] })
			{
				$next = $i;
				last;
			}
		}
		if (!defined $next)
		{
			for my $i (0 .. $#nodes)
			{
				next if $done[$i];
				next if grep { !$done[$_] && !$reaches->($_, $i) } @{ $deps[$i] };
				$next = $i;
				last;
			}
			die 'model: no node breaks the cycle' unless defined $next;
			if (!$cycle_reported[$next])
			{
				my @members;
				for my $j (0 .. $#nodes)
				{
					next if $done[$j]
					  || !($j == $next || ($reaches->($next, $j) && $reaches->($j, $next)));
					$cycle_reported[$j] = 1;
					push @members, $nodes[$j]{entry}{name};
				}
				push @{ $expect{cycles} }, [ \@members, $nodes[$next]{entry}{name} ];
			}
		}
		$done[$next] = 1;
		push @order, $next;
	}

	# emit_libraries(): each library once, never ours
	my %own = map { $_ => 1 } @own_libraries;
	my %seen;
	my @rows;
	for my $i (@order)
	{
		for my $library (@{ $nodes[$i]{libraries} })
		{
			my $key = library_key($library);
			next if $own{$key} || $seen{$key}++;
			my $loaded = exists $loadable{$library} ? 1 : 0;
			push @rows, [ $nodes[$i]{entry}{name}, $library, $nodes[$i]{entry}{path}, $loaded ];
			push @{ $expect{failed} }, [ $library, $nodes[$i]{entry}{path} ] unless $loaded;
		}
	}

	# requirement edges between nodes that are not in one cycle, for the
	# order check that does not rely on the model's order
	my @edges;
	for my $i (0 .. $#nodes)
	{
		for my $dep (@{ $deps[$i] })
		{
			next if $dep == $i;
			@done = (0) x @nodes;
			next if $reaches->($dep, $i);
			push @edges, [ $nodes[$i]{entry}{name}, $nodes[$dep]{entry}{name} ];
		}
	}
	return { rows => \@rows, expect => \%expect, edges => \@edges,
		marked => scalar @requests };
}

# ---------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------

my @odd_bytes = (
	' ', "'", '"', '\\', '%s', '%n', "\xc3\xa9", "\xe6\x97\xa5", "\xf0\x9f\x98\x80",
	"\xff", "\xfe\xfd", "\xc3\x28", "\xe2\x82", "\xc0\xaf", "\xed\xa0\x80", "\t",
	'.', '$', '#', '=', ',', '@', '!', '*', '?', '[', ']', '{', '}', '~', 'UP');

sub random_word
{
	my @chars = ('a' .. 'z', '0' .. '9', '_');
	return join '', map { pick(@chars) } 1 .. 2 + int(rand(10));
}

# Random bytes: never a newline or NUL.
sub random_bytes
{
	my ($length) = @_;
	return join '', map { chr(pick(1 .. 9, 11 .. 255)) } 1 .. $length;
}

# A file name (without ".control"): mostly plain, sometimes odd bytes,
# sometimes 63 or 64 bytes or more (ignored by the scan); never "--" or
# "/", so that it is a primary control file.
my %used_names;

sub random_name
{
	my $name;
	for (;;)
	{
		my $r = rand();
		$name = 'fz' . random_word();
		if ($r < 0.2)
		{
			$name .= join '', map { pick(@odd_bytes, random_word()) } 1 .. 1 + int(rand(3));
		}
		elsif ($r < 0.23)
		{
			$name .= "\n" . random_word();
		}
		elsif ($r < 0.28)
		{
			$name .= 'x' x (pick(63, 64, 70, 100) - length $name) if length $name < 63;
		}
		$name =~ s{/|\0}{_}g;
		$name =~ s/-(?=-)/_/g;
		$name =~ s/-\z/_/;
		next if $used_names{$name} || length($name) > 200;
		$used_names{$name} = 1;
		return $name;
	}
}

# A library: one that loads, one of ours, or one that does not load.
sub random_library
{
	my $r = rand();
	if ($r < 0.45)
	{
		my $lib = pick(@test_libraries, @test_libraries, 'plpgsql', 'pgeb_test_worker',
			'pg_extension_base_example');
		my @forms = grep { $loadable{$_} eq $lib } sort keys %loadable;
		return pick(@forms);
	}
	return pick(map { ($_, "\$libdir/$_", "$_.so") } @own_libraries) if $r < 0.55;
	return pick(
		'fz_no_such_library', '$libdir/fz_no_such_library', 'pgeb_test_nomagic',
		'pgeb_test_abi_mismatch', 'PGEB_TEST_LIB_A', 'pgeb_test_lib_a.so.so',
		'no_such_dir/pgeb_test_lib_b', '$libdirx/pgeb_test_lib_c', '$LIBDIR/pgeb_test_lib_c',
		'$libdir/', '/', '.', '..', '$libdir/pgeb_test_lib_d/', 'pgeb_test_lib_e.dll',
		'/nonexistent/pgeb_test_preload.so', '$libdir/../pgeb_test_lib_a',
		'fz' . random_word(), 'fz' . random_bytes(1 + int(rand(20))),
		'x' x (100 + int(rand(2000))));
}

# Quote a value for a postgresql.conf string.
sub guc_quote
{
	my ($value) = @_;
	$value =~ s/\\/\\\\/g;
	$value =~ s/'/''/g;
	$value =~ s/\n/\\n/g;
	return "'$value'";
}

# A well-formed marker line, or one broken on purpose.
sub marker_line
{
	my $r = rand();
	my $blank = sub { pick('', '', ' ', '  ', "\t", " \t ") };
	if ($r < 0.15)
	{
		return $MARKER . $blank->() . pick('', '', "\r");    # bare
	}
	my @libraries = map { random_library() } 1 .. 1 + int(rand(4));
	# a marker library may hold neither the separator nor, when quoted, a
	# quote; trim would eat its blanks
	s/[,\r]/_/g for @libraries;
	s/^[ \t]+|[ \t]+\z//g for @libraries;
	@libraries = map { $_ eq '' ? 'fz_empty' : $_ } @libraries;
	my $list = join '', map {
		($_ > 0 ? $blank->() . ',' . $blank->() : '') . $libraries[$_]
	} 0 .. $#libraries;
	my $quoted = chance(0.6) && !grep { /'/ } @libraries;
	my $value = $quoted ? "'" . $blank->() . $list . $blank->() . "'" : $list;
	my $line = $MARKER . $blank->() . '=' . $blank->() . $value . $blank->()
	  . (chance(0.1) ? "\r" : '');
	return $line if $r < 0.75;

	# broken on purpose
	my $broken = pick(
		"$MARKER = '$list",                 # unterminated
		"$MARKER = ''", "$MARKER = '  '",   # empty list
		"$MARKER =", "$MARKER = \t ",       # no value
		"$MARKER = '$list,'", "$MARKER = ,$list", "$MARKER = $list,, x",
		"${MARKER}_please", "${MARKER}x = '$list'",    # glued
		"$MARKER $list", "$MARKER\t'$list'",           # no "="
		"$MARKER = '$list' x", "$MARKER = 'a', 'b'",   # text after the quotes
		"$MARKER = '" . join(', ', ('pgeb_test_lib_a') x 300) . "'",    # too long
		"$MARKER = '" . ('x' x ($MAX_LINE - length($MARKER) - 5)) . "'",  # 4096 exactly
		"$MARKER = '" . ('x' x ($MAX_LINE - length($MARKER) - 4)) . "'",  # 4097
		$MARKER . random_bytes(1 + int(rand(60))),      # chaos
		"$MARKER = " . random_bytes(1 + int(rand(60))),
		"$MARKER = '" . random_bytes(1 + int(rand(60))) . "'");
	return $broken;
}

# A few names that requirements name often, so that cycles form among
# them.
my @hubs;

# A requires value: hubs, other generated extensions, itself, missing ones,
# real ones; unquoted (sometimes upper-case), quoted, or broken.
sub requires_line
{
	my ($self, @names) = @_;
	my @required;
	my ($hub) = grep { $hubs[$_] eq $self } 0 .. $#hubs;
	# hubs form rings of three, which later rounds may break
	push @required, $hubs[ $hub - $hub % 3 + ($hub + 1) % 3 ]
	  if defined $hub && $hub - $hub % 3 + 2 <= $#hubs;
	for (1 .. (defined $hub ? int(rand(3)) : int(rand(5))))
	{
		my $r = rand();
		push @required,
			$r < (defined $hub ? 0.8 : 0.2) ? pick(@hubs)
		  : $r < 0.55 && @names ? pick(@names)
		  : $r < 0.65 ? $self
		  : $r < 0.75 ? 'fz_missing_' . random_word()
		  : $r < 0.85 ? pick('plpgsql', 'pg_extension_base', 'pg_extension_base_example',
			'cube', 'earthdistance', 'pgeb_test_preload')
		  : $r < 0.9 ? 'x' x 70    # truncated to 63 bytes
		  : random_word();
	}
	my @written = map {
		my $n = $_;
		$n =~ /^[a-z0-9_]+\z/ && chance(0.8)
		  ? (chance(0.1) ? uc($n) : $n)
		  : do { (my $q = $n) =~ s/"/""/g; "\"$q\"" }
	} @required;
	my $value = join pick(',', ', ', ' , ', ",\t"), @written;
	$value = pick("$value,", ",$value", "\"$value", "$value,,x") if chance(0.03);
	return 'requires = ' . guc_quote($value);
}

# The text of one control file.
sub control_text
{
	my ($name, @names) = @_;
	my @lines;
	my $hub = grep { $_ eq $name } @hubs;
	my $markers = rand() < ($hub ? 0.2 : 0.4) ? 0 : rand() < 0.8 ? 1 : 2 + int(rand(2));
	for (1 .. $markers)
	{
		my $r = rand();
		push @lines,
			$r < 0.9 ? marker_line()
		  : $r < 0.95 ? pick(' ', "\t", '   ') . marker_line()    # indented
		  : "comment = '$MARKER'";    # marker text inside another line
	}
	push @lines, '# ' . random_bytes(int(rand(80))) if chance(0.3);
	push @lines, 'comment = ' . guc_quote('fuzz ' . random_bytes(int(rand(20)))) if chance(0.5);
	push @lines, "default_version = '1.0'" if chance(0.85);
	push @lines, 'module_pathname = ' . guc_quote(random_library()) if chance(0.5);
	push @lines, requires_line($name, @names)
	  for 1 .. (rand() < ($hub ? 0.1 : 0.5) ? 0 : rand() < 0.9 ? 1 : 2);
	push @lines, 'relocatable = true' if chance(0.5);
	push @lines, "directory = '" . pick('extension', 'fzelsewhere', $extdir) . "'"
	  if chance(0.05);
	push @lines, pick("comment = 'unterminated", '= value', "comment = 'a' 'b'",
		'requires', "module_pathname = '\$libdir/x' extra")
	  if chance(0.04);
	# shuffle
	for (my $i = $#lines; $i > 0; $i--)
	{
		my $j = int(rand($i + 1));
		@lines[ $i, $j ] = @lines[ $j, $i ];
	}
	my $eol = chance(0.1) ? "\r\n" : "\n";
	my $text = join($eol, @lines) . (chance(0.9) ? $eol : '');
	if (chance(0.02))
	{
		my $at = int(rand(length($text) + 1));
		$text = substr($text, 0, $at) . "\0" . substr($text, $at);
	}
	return $text;
}

# A secondary control file: module_pathname and requires override the
# primary's; a marker in it means nothing.
sub secondary_text
{
	my ($name, @names) = @_;
	my @lines;
	push @lines, marker_line() if chance(0.3);
	push @lines, 'module_pathname = ' . guc_quote(random_library()) if chance(0.6);
	push @lines, requires_line($name, @names) if chance(0.5);
	push @lines, "comment = 'unterminated" if chance(0.05);
	return join("\n", @lines) . "\n";
}

# ---------------------------------------------------------------------------
# The files: what the generator made, to change in later rounds
# ---------------------------------------------------------------------------

my %generated;    # name => kind: file, unreadable, directory, symlink

sub write_file
{
	my ($path, $content) = @_;
	unlink $path;
	open my $fh, '>:raw', $path or die "could not write $path: $!";
	print $fh $content;
	close $fh;
}

sub remove_generated
{
	my ($name) = @_;
	my $path = "$extdir/$name.control";
	if (-d $path && !-l $path)
	{
		rmdir $path or die "rmdir $path: $!";
	}
	else
	{
		unlink $path;
	}
	opendir(my $dh, $extdir) or die "opendir $extdir: $!";
	unlink map { "$extdir/$_" } grep { index($_, "$name--") == 0 && /\.control\z/ } readdir($dh);
	closedir($dh);
	delete $generated{$name};
}

sub add_file
{
	my ($name, @names) = @_;
	my $path = "$extdir/$name.control";
	my $r = rand();
	if ($r < 0.02)
	{
		mkdir $path or die "mkdir $path: $!";
		$generated{$name} = 'directory';
		return;
	}
	if ($r < 0.04)
	{
		# a symbolic link: dangling, or to another control file
		my $target = chance(0.5) ? "$extdir/fz_nowhere.control"
		  : "$extdir/" . pick((grep { $generated{$_} eq 'file' } sort keys %generated), 'plpgsql') . '.control';
		symlink($target, $path) or die "symlink $path: $!";
		$generated{$name} = 'symlink';
		return;
	}
	write_file($path, control_text($name, @names));
	$generated{$name} = 'file';
	if (chance(0.05))
	{
		chmod 0000, $path or die "chmod: $!";
		$generated{$name} = 'unreadable';
	}
	if (chance(0.08))
	{
		my $secondary = "$extdir/$name--1.0.control";
		write_file($secondary, secondary_text($name, @names));
		chmod 0000, $secondary if chance(0.1);
	}
}

# Same size, same file (inode), other content: only the timestamps tell
# the scan cache.
sub edit_in_place
{
	my ($name, @names) = @_;
	my $path = "$extdir/$name.control";
	my $size = -s $path;
	my $text = control_text($name, @names);
	$text = length($text) >= $size
	  ? substr($text, 0, $size)
	  : $text . '#' . ('x' x ($size - length($text) - 2)) . "\n";
	$text = substr($text, 0, $size);
	open my $fh, '+<:raw', $path or die "could not open $path: $!";
	seek($fh, 0, SEEK_SET);
	print $fh $text;
	close $fh;
}

sub change_files
{
	my ($changes) = @_;
	my @existing = sort keys %generated;
	for (1 .. $changes)
	{
		my @names = sort keys %generated;
		my $r = rand();
		my $name = pick(@names);
		my $kind = $generated{$name} // '';
		if ($r < 0.3 || !@names)
		{
			add_file(random_name(), @names);
		}
		elsif ($r < 0.5)
		{
			remove_generated($name);
			add_file($name, @names);    # rewritten: a new file
		}
		elsif ($r < 0.7 && $kind eq 'file')
		{
			edit_in_place($name, @names);
		}
		elsif ($r < 0.8)
		{
			remove_generated($name);
		}
		elsif ($r < 0.9 && ($kind eq 'file' || $kind eq 'unreadable'))
		{
			my $readable = $kind eq 'unreadable';
			chmod($readable ? 0644 : 0000, "$extdir/$name.control") or die "chmod: $!";
			$generated{$name} = $readable ? 'file' : 'unreadable';
		}
		elsif ($kind eq 'file')
		{
			# a secondary control file appears or goes
			my $secondary = "$extdir/$name--1.0.control";
			if (-e $secondary)
			{
				unlink $secondary;
			}
			else
			{
				write_file($secondary, secondary_text($name, @names));
			}
		}
	}
}

# ---------------------------------------------------------------------------
# One round: start, compare with the model, stop
# ---------------------------------------------------------------------------

my $node = new_node(
	'fuzz_control',
	install => $install,
	init => { extra => [ '--encoding=UTF8', '--locale=C' ] },
	conf => "pg_extension_base.preload_failure_action = 'warning'\n");

# list_preload_libraries(), bytes exactly.
sub actual_rows
{
	my $out = $node->safe_psql(
		'postgres', q{
		SELECT encode(textsend(extension_name), 'hex'), encode(textsend(library_name), 'hex'),
			encode(textsend(control_file), 'hex'), loaded::int, (error IS NOT NULL)::int,
			load_position
		FROM extension_base.list_preload_libraries() ORDER BY load_position});
	my @rows;
	for my $line (split /\n/, $out)
	{
		my ($ext, $lib, $path, $loaded, $error, $position) = split /\|/, $line;
		push @rows, [ pack('H*', $ext), pack('H*', $lib), pack('H*', $path), $loaded + 0,
			$error + 0, $position + 0 ];
	}
	return \@rows;
}

# What list_preload_libraries() makes of bytes from the file system in a
# UTF8 database: each byte that does not start a valid character as \xNN.
my $utf8_character = qr/[\x01-\x7f]|[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]
	|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]
	|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}/x;

sub as_text
{
	my ($bytes) = @_;
	my $text = '';
	while ($bytes ne '')
	{
		if ($bytes =~ s/^($utf8_character)//)
		{
			$text .= $1;
		}
		else
		{
			$text .= sprintf('\\x%02x', ord($bytes));
			substr($bytes, 0, 1) = '';
		}
	}
	return $text;
}

# A row for a diagnostic: printable.
sub show
{
	my ($s) = @_;
	$s =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
	return length($s) > 200 ? substr($s, 0, 200) . '...' : $s;
}

# Positions in the log of each occurrence of a string.
sub occurrences
{
	my ($log, $string) = @_;
	my @at;
	my $pos = 0;
	while ((my $i = index($log, $string, $pos)) >= 0)
	{
		push @at, $i;
		$pos = $i + 1;
	}
	return @at;
}

sub check_warnings
{
	my ($round, $log, $expect) = @_;
	my @problems;

	# the server's log puts a tab after each newline inside a message
	$log =~ s/\n\t/\n/g;
	my $count = sub { scalar(() = occurrences($log, $_[0])) };

	for my $m (@{ $expect->{malformed} })
	{
		my ($path, $line, $problem) = @$m;
		my @at = occurrences($log,
			"WARNING:  skipping extension control file \"$path\": invalid preload marker at line $line\n");
		if (!@at)
		{
			push @problems, "no malformed-marker warning for " . show($path) . " line $line";
			next;
		}
		my $detail = index($log, 'DETAIL:  ', $at[0]);
		push @problems, "wrong detail for " . show($path) . ": expected \"$problem\""
		  unless $detail >= 0 && substr($log, $detail + 9, length $problem) eq $problem;
	}
	push @problems, sprintf('%d malformed-marker warnings, expected %d',
		$count->('": invalid preload marker at line '), scalar @{ $expect->{malformed} })
	  if $count->('": invalid preload marker at line ') != @{ $expect->{malformed} };

	for my $i (@{ $expect->{indented} })
	{
		push @problems, "no indented-marker warning for " . show($i->[0]) . " line $i->[1]"
		  unless index($log,
			"WARNING:  ignoring indented preload marker in extension control file \"$i->[0]\" line $i->[1]\n")
		  >= 0;
	}
	push @problems, 'indented-marker warnings: ' . $count->('ignoring indented preload marker')
	  . ', expected ' . scalar @{ $expect->{indented} }
	  if $count->('ignoring indented preload marker') != @{ $expect->{indented} };

	for my $u (@{ $expect->{unreadable} })
	{
		push @problems, "no warning that " . show($u->[0]) . " cannot be read ($u->[1])"
		  unless index($log, "WARNING:  could not read extension control file \"$u->[0]\": $u->[1]\n") >= 0;
	}
	push @problems, 'unreadable-file warnings: ' . $count->('could not read extension control file')
	  . ', expected ' . scalar @{ $expect->{unreadable} }
	  if $count->('could not read extension control file') != @{ $expect->{unreadable} };

	for my $path (@{ $expect->{unparsable} })
	{
		push @problems, 'no cannot-be-parsed warning for ' . show($path)
		  unless index($log, "WARNING:  skipping extension control file \"$path\": it cannot be parsed\n") >= 0;
	}
	push @problems, 'cannot-be-parsed warnings: ' . $count->('": it cannot be parsed')
	  . ', expected ' . scalar @{ $expect->{unparsable} }
	  if $count->('": it cannot be parsed') != @{ $expect->{unparsable} };

	for my $cycle (@{ $expect->{cycles} })
	{
		my ($members, $first) = @$cycle;
		my $text = 'extensions that ask for preloading require each other in a cycle: '
		  . join(', ', map { "\"$_\"" } @$members) . "\n";
		push @problems, 'no cycle warning: ' . show($text) unless index($log, $text) >= 0;
	}
	push @problems, 'cycle warnings: ' . $count->('require each other in a cycle')
	  . ', expected ' . scalar @{ $expect->{cycles} }
	  if $count->('require each other in a cycle') != @{ $expect->{cycles} };

	for my $f (@{ $expect->{failed} })
	{
		push @problems, 'no load-failure warning for ' . show($f->[0])
		  unless index($log, "WARNING:  could not preload library \"$f->[0]\" requested by extension control file \"$f->[1]\": ")
		  >= 0;
	}
	push @problems, 'load-failure warnings: ' . $count->('could not preload library')
	  . ', expected ' . scalar @{ $expect->{failed} }
	  if $count->('could not preload library') != @{ $expect->{failed} };

	is(scalar @problems, 0,
		"round $round: every malformed or indented marker, unreadable or unparsable file, "
		  . 'cycle and failed library drew its warning naming the file, and no other did')
	  or diag(join "\n", @problems[0 .. ($#problems < 29 ? $#problems : 29)]);
}

my $created = 0;
my $last_model;

sub round
{
	my ($round) = @_;
	my $model = model();
	$last_model = $model;
	my $rows = $model->{rows};
	note(sprintf('round %d: %d control files here, %d generated, %d marked; '
		  . '%d libraries to preload, %d of which fail; %d malformed, %d unreadable, '
		  . '%d unparsable, %d cycles',
		$round, scalar @{ list_directory() }, scalar keys %generated, $model->{marked},
		scalar @$rows, scalar @{ $model->{expect}{failed} },
		scalar @{ $model->{expect}{malformed} }, scalar @{ $model->{expect}{unreadable} },
		scalar @{ $model->{expect}{unparsable} }, scalar @{ $model->{expect}{cycles} }));

	my $offset = -s $node->logfile // 0;
	my $started = Time::HiRes::time();
	my $ok = $node->start(fail_ok => 1);
	ok($ok, "round $round: the server starts");
	my $log = slurp_file($node->logfile, $offset);
	if (!$ok)
	{
		diag(substr($log, -3000));
		return;
	}
	note(sprintf('round %d: started in %.2f s; %s', $round, Time::HiRes::time() - $started,
		$log =~ /(Scanned \d+ control files in [\d.]+ ms; \d+ of them[^\n]*)/ ? $1 : ''));
	if (!$created++)
	{
		$node->safe_psql('postgres', 'SET client_min_messages = warning; CREATE EXTENSION pg_extension_base');
		create_load_log_function($node);
	}

	# exactly what the model says
	my $actual = actual_rows();
	my @expected = map {
		[ as_text($rows->[$_][0]), as_text($rows->[$_][1]), as_text($rows->[$_][2]),
			$rows->[$_][3], 1 - $rows->[$_][3], $_ + 1 ]
	} 0 .. $#$rows;
	my $same = @$actual == @expected;
	my $first_difference;
	for my $i (0 .. ($#$actual > $#expected ? $#$actual : $#expected))
	{
		my $a = join '|', map { $_ // '(none)' } @{ $actual->[$i] // [] };
		my $e = join '|', map { $_ // '(none)' } @{ $expected[$i] // [] };
		next if $a eq $e;
		$same = 0;
		$first_difference //= "row " . ($i + 1) . ":\n  got      " . show($a) . "\n  expected " . show($e);
	}
	if (!ok($same, "round $round: list_preload_libraries() lists the "
		  . scalar(@expected) . ' libraries the model expects, in its order, with what loaded'))
	{
		my %in_actual = map { ("$_->[0]|$_->[1]" => 1) } @$actual;
		my %in_expected = map { ("$_->[0]|$_->[1]" => 1) } @expected;
		diag($first_difference);
		diag('  only listed:   ' . show($_)) for grep { !$in_expected{$_} } sort keys %in_actual;
		diag('  only expected: ' . show($_)) for grep { !$in_actual{$_} } sort keys %in_expected;
	}

	# independent of the model: loaded means it exists and was loaded
	my @missing = grep {
		my $lib = $_->[1];
		(my $file = $lib) =~ s/^\$libdir/$pkglibdir/;
		$file = "$pkglibdir/$file" unless $file =~ m{/};
		$_->[3] && !-f $file && !-f "$file.so"
	} @$actual;
	is(scalar @missing, 0, "round $round: every library listed as loaded exists")
	  or diag(join "\n", map { show($_->[1]) } @missing);
	my $load_log = $node->safe_psql(
		'postgres', q{
		SELECT string_agg(library, ' ' ORDER BY load_order) FROM pgeb_test_load_log()
		WHERE at_server_start});
	my %test = map { $_ => 1 } @test_libraries;
	my @listed_test = grep { $test{$_} } map { library_key($_->[1]) } grep { $_->[3] } @$actual;
	is($load_log, join(' ', @listed_test),
		"round $round: the test libraries listed as loaded are those loaded at server start, in that order");
	my @unexplained_errors = grep { $_->[3] == $_->[4] } @$actual;
	is(scalar @unexplained_errors, 0,
		"round $round: a library that did not load says why, one that loaded does not");

	# requirements before requirers, outside cycles
	my %first;
	my %last;
	for my $row (@$actual)
	{
		$first{ $row->[0] } //= $row->[5];
		$last{ $row->[0] } = $row->[5];
	}
	my @violations = grep {
		my ($needs, $needed) = map { as_text($_) } @$_;
		defined $first{$needs} && defined $last{$needed} && $last{$needed} > $first{$needs}
	} @{ $model->{edges} };
	is(scalar @violations, 0,
		"round $round: the libraries of an extension load after those of what it requires ("
		  . scalar(@{ $model->{edges} }) . ' requirements outside cycles)')
	  or diag(join "\n", map { show($_->[0]) . ' requires ' . show($_->[1]) } @violations);

	check_warnings($round, $log, $model->{expect});
	ok($log !~ /terminated by signal|PANIC:|TRAP:|server process .* was terminated/,
		"round $round: nothing crashed");
	$node->stop;
}

# ---------------------------------------------------------------------------
# The rounds
# ---------------------------------------------------------------------------

# seeded here, after the setup, so that nothing else draws from rand()
fuzz_seed();
my $started = Time::HiRes::time();
@hubs = map { random_name() } 1 .. 15;
my @initial_names;
for my $i (1 .. $file_count)
{
	my $name = $i <= @hubs ? $hubs[ $i - 1 ] : random_name();
	add_file($name, @initial_names);
	push @initial_names, $name;
}
my $written = $file_count;
round(1);
for my $round (2 .. $rounds)
{
	my $changes = int($file_count / 5);
	change_files($changes);
	$written += $changes;
	round($round);
}
note(sprintf('%d rounds, %d control files written or changed, in %.1f s',
	$rounds, $written, Time::HiRes::time() - $started));

# Without 'warning', the last round's files stop the server at the first
# library that fails to load, in load order.
my @failed = @{ $last_model->{expect}{failed} };
$node->adjust_conf('postgresql.conf', 'pg_extension_base.preload_failure_action', "'error'");
my $offset = -s $node->logfile;
if (@failed)
{
	ok(!$node->start(fail_ok => 1),
		'with preload_failure_action = error, a library that fails stops the server');
	my ($library, $path) = @{ $failed[0] };
	my ($extension) = map { $_->[0] } grep { $_->[1] eq $library && $_->[2] eq $path } @{ $last_model->{rows} };
	my $log = slurp_file($node->logfile, $offset);
	$log =~ s/\n\t/\n/g;    # as in check_warnings
	ok( index($log,
			"CONTEXT:  while preloading library \"$library\" for extension \"$extension\", "
			  . "as requested by extension control file \"$path\"") >= 0 && $log =~ /FATAL:  /,
		'its FATAL names the first library that fails, in load order, and its control file')
	  or diag(show(substr($log, -2000)));
}

# A deterministic round: a known missing library among good ones.
remove_generated($_) for sort keys %generated;
write_extension_file($install, 'fzz_good.control',
	"#!shared_preload_libraries = 'pgeb_test_lib_a'\nrequires = 'fzz_missing'\n");
write_extension_file($install, 'fzz_missing.control',
	"#!shared_preload_libraries = '\$libdir/pgeb_fz_no_such_library'\n");
$offset = -s $node->logfile;
ok(!$node->start(fail_ok => 1), 'a marker naming a missing library stops the server');
my $log = slurp_file($node->logfile, $offset);
ok( $log =~ /FATAL:  could not access file "\$libdir\/pgeb_fz_no_such_library": No such file or directory\n.*CONTEXT:  while preloading library "\$libdir\/pgeb_fz_no_such_library" for extension "fzz_missing", as requested by extension control file "[^"]*\/fzz_missing\.control"/,
	'the FATAL names the library and the control file')
  or diag(substr($log, -2000));
ok($log !~ /pgeb_test: loaded pgeb_test_lib_a/,
	'the library of the extension that requires it was not loaded before it');
unlink "$extdir/fzz_missing.control";
$node->start;
is(preloaded($node, q{extension_name || ':' || library_name || ':' || loaded}),
	'fzz_good:pgeb_test_lib_a:true pg_extension_base_example:$libdir/pg_extension_base_example:true',
	'without it, the server starts and loads the rest');
$node->stop;

# Bytes that are not valid in the database encoding, in a file name and a
# library name, are shown as \xNN: list_preload_libraries() returns valid
# text, which a client in another encoding can read.  (It returned the
# bytes as they were: a conversion failed with "invalid byte sequence",
# and CREATE TABLE AS stored invalid text.)
write_extension_file($install, "fzz_bytes\xc3\x28.control",
	"#!shared_preload_libraries = 'fzz\xfe\xff\xe6\x97\xa5lib'\n");
$node->adjust_conf('postgresql.conf', 'pg_extension_base.preload_failure_action', "'warning'");
$node->start;
is(preloaded($node, q{extension_name || ':' || library_name || ':' || loaded}),
	'fzz_bytes\xc3(:fzz\xfe\xff' . "\xe6\x97\xa5" . 'lib:false fzz_good:pgeb_test_lib_a:true '
	  . 'pg_extension_base_example:$libdir/pg_extension_base_example:true',
	'list_preload_libraries() writes bytes that are not valid UTF-8 as \xNN, and keeps valid characters');
is( $node->safe_psql(
		'postgres', q{
		SET client_encoding = 'LATIN1';
		SELECT count(*) FROM extension_base.list_preload_libraries()
		WHERE convert_to(extension_name || library_name || control_file || coalesce(error, ''), 'UTF8')
			IS NOT NULL AND position('fzz\\xfe\\xff' IN error) > 0}),
	'1', 'its text converts to another client encoding, and the error quotes the name the same way');
$node->stop;
ok(slurp_file($node->logfile) !~ /terminated by signal|PANIC:|TRAP:/, 'nothing crashed');

done_testing();
