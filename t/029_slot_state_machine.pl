# The worker slot is a state machine in code (supervisor/registry.c):
#
# 1. Always, on the sources: the arrows drawn in supervisor/README.md
#    ("Worker slot states") are exactly the table slot_transitions of
#    registry.c; a slot's state and its copy state_written are written only
#    by pgeb_set_slot_state, pgeb_free_slot and pgeb_claim_free_slot; the
#    registry's lock is taken and released only through pgeb_lock_registry
#    and pgeb_unlock_registry (whose release runs the invariant check).
#
# 2. With PGEB_ASSERT set (PGEB_ASSERT=1 scripts/test ...), the assertions
#    fire: a variant of the supervisor built with USE_ASSERT_CHECKING and
#    -DPGEB_INJECT_SLOT_FAULTS, in which wakeup_worker() breaks the state
#    machine when pgeb_test.inject_slot_fault asks (supervisor/registrations.c), runs
#    in a copy of the installation.  Without the setting wakeup_worker
#    works and nothing fails; with 'illegal_transition' the assertion of
#    pgeb_set_slot_state aborts the backend; with 'outside_write' (a
#    direct write of the state) the invariant check at the lock's release
#    does.  Each TRAP is looked for in the node's log, which is then kept
#    under a name that the run's search for unexpected TRAPs does not read
#    (*.log.expected-traps).
use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Copy qw(copy);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

# the source tree is the directory above this file
my $top = abs_path(dirname(abs_path(__FILE__)) . '/..');
my $supervisor = "$top/supervisor";
die "no supervisor sources in $top" unless -f "$supervisor/registry.c";

sub slurp
{
	my ($path) = @_;
	open my $fh, '<', $path or die "could not read $path: $!";
	local $/;
	my $text = <$fh>;
	close $fh;
	return $text;
}

# C source without comments and without the test-only fault injection
sub code_of
{
	my ($path) = @_;
	my $text = slurp($path);
	$text =~ s{/\*.*?\*/}{ my $c = $&; $c =~ tr/\n//cd; $c }gse;
	$text =~
	  s{^#ifdef PGEB_INJECT_SLOT_FAULTS\n.*?^#endif[^\n]*\n}{}gms;
	return $text;
}

# Every line matching $pattern in the supervisor's C files, as
# "file:function", the function being the last one defined above it
# (PostgreSQL style: the name starts a line).
sub writers
{
	my ($pattern) = @_;
	my @found;
	for my $path (sort glob("$supervisor/*.c"))
	{
		my ($file) = $path =~ m{([^/]+)$};
		my $function = '(file scope)';
		for my $line (split /\n/, code_of($path))
		{
			$function = $1 if $line =~ /^([A-Za-z_]\w*)\(/;
			push @found, "$file:$function" if $line =~ $pattern;
		}
	}
	my %seen;
	return join ' ', grep { !$seen{$_}++ } @found;
}

# --- 1. the sources -------------------------------------------------------

my %state_of = (
	'(free)' => 'FREE',
	map { $_ => $_ } qw(WANTED STARTING RUNNING WAITING DONE STOPPING RESUMING));

# the arrows of the drawing: "FROM[, FROM...] ─ why ─► TO[, TO...]"
my $readme = slurp("$supervisor/README.md");
my ($drawing) = $readme =~ /^## Worker slot states\n\n```\n(.*?)^```/ms;
ok(defined $drawing, 'supervisor/README.md draws the slot states');
my (%drawn, @unreadable);
for my $line (split /\n/, $drawing // '')
{
	next unless $line =~ /\S/;
	my ($from, $to) = $line =~ /^\s*(.*?)\s+─ .* ─► (.*?)\s*$/;
	my @from = map { $state_of{$_} } split /,\s*/, $from // '';
	my @to = map { $state_of{$_} } split /,\s*/, $to // '';
	if (!@from || !@to || grep { !defined } @from, @to)
	{
		push @unreadable, $line;
		next;
	}
	for my $f (@from)
	{
		$drawn{"$f -> $_"} = 1 for @to;
	}
}
is(join("\n", @unreadable), '', 'every line of the drawing is an arrow between states');

# the table of registry.c: [SLOT_FROM] = { [SLOT_TO] = true, ... }
my $registry = code_of("$supervisor/registry.c");
my ($table) =
  $registry =~ /slot_transitions\[SLOT_STATES\]\[SLOT_STATES\] = \{\n(.*?)^\};/ms;
ok(defined $table, 'registry.c has the transition table');
my %coded;
while (($table // '') =~ /\[SLOT_(\w+)\] = \{(.*?)\}/gs)
{
	my ($from, $row) = ($1, $2);
	$coded{"$from -> $1"} = 1 while $row =~ /\[SLOT_(\w+)\] = true/g;
}
is(join(', ', sort keys %coded), join(', ', sort keys %drawn),
	'the transition table is the drawing of supervisor/README.md');
cmp_ok(scalar(keys %coded), '>=', 20, 'the table is not empty');

is( writers(qr/(?:->|\.)state\s*=[^=]/),
	'registry.c:pgeb_set_slot_state registry.c:pgeb_free_slot',
	'a slot state is written only by pgeb_set_slot_state and pgeb_free_slot');
is( writers(qr/state_written\s*=[^=]/),
	'registry.c:pgeb_set_slot_state registry.c:pgeb_free_slot',
	'state_written is written only by pgeb_set_slot_state and pgeb_free_slot');
is(writers(qr/memset\(slot\b/), 'registry.c:pgeb_claim_free_slot',
	'a slot is cleared only by pgeb_claim_free_slot');
is( writers(qr/LWLock(?:Acquire|Release)\(SupervisorState->lock/),
	'registry.c:pgeb_lock_registry registry.c:pgeb_unlock_registry',
	'the registry lock is taken and released only through registry.c');

# --- 2. the assertions fire ---------------------------------------------

# One fault: the backend that injects it aborts on the assertion whose
# expression matches $expression (the postmaster restarts), and the
# worker runs again afterwards.
sub inject
{
	my ($node, $fault, $expression, $name) = @_;
	my $offset = -s $node->logfile;
	my ($ret, $out, $err) = $node->psql('postgres',
		"SET pgeb_test.inject_slot_fault = '$fault';\n"
		  . "SELECT extension_base.wakeup_worker('test_worker');");
	isnt($ret, 0, "$fault: the backend does not survive");
	# core's polling of the log; a timeout leaves $found empty and fails below
	eval { $node->wait_for_log(qr/TRAP: /, $offset) };
	my ($found) = substr(slurp($node->logfile), $offset) =~ /(TRAP: [^\n]*)/;
	like($found // '', $expression, $name);
	wait_for_base_workers($node, 'postgres/test_worker',
		"$fault: after the crash restart the worker runs again");
}

SKIP:
{
	skip 'PGEB_ASSERT is not set: our assertions are compiled out (Debian\'s '
	  . 'server has none); run PGEB_ASSERT=1 scripts/test '
	  . 't/029_slot_state_machine.pl to see them fire', 10
	  unless $ENV{PGEB_ASSERT};

	my ($so, $stderr) = build_variant('supervisor', 'slot_fault_src',
		'PGEB_ASSERT=1', 'COPT=-DPGEB_INJECT_SLOT_FAULTS');
	ok(defined $so, 'the variant with injectable faults builds') or diag($stderr);
	$so //= '';

	my $install = install_copy('slot_faults');
	unlink "$install->{pkglibdir}/pg_extension_base_supervisor.so";
	copy($so, "$install->{pkglibdir}/pg_extension_base_supervisor.so")
	  or die "could not install the variant: $!";

	my $node = new_node('slot_faults', install => $install,
		conf => "restart_after_crash = on\n");
	start_with_extension($node);
	$node->safe_psql('postgres', 'CREATE EXTENSION pgeb_test_worker');
	wait_for_base_workers($node, 'postgres/test_worker', 'the worker runs');

	# the variant without a fault asked for: nothing fails
	$node->safe_psql('postgres',
		q{SELECT extension_base.wakeup_worker('test_worker')});
	is( $node->safe_psql('postgres',
			q{SELECT state FROM extension_base.list_base_workers()}),
		'running',
		'without a fault, wakeup_worker leaves a running worker running');

	inject($node, 'illegal_transition',
		qr/pgeb_slot_transition_allowed\(slot->state, next\).*registry\.c/,
		'an illegal transition (running -> resuming) fails the assertion of pgeb_set_slot_state');
	inject($node, 'outside_write',
		qr/slot_state_written_by_setter\(slot\).*registry\.c/,
		'a state written outside pgeb_set_slot_state fails the invariant check at the release of the lock');

	$node->stop;
	my @traps = slurp($node->logfile) =~ /TRAP: /g;
	is(scalar(@traps), 2, 'the log has exactly the two expected failed assertions');
	rename $node->logfile, $node->logfile . '.expected-traps'
	  or die "could not rename the log: $!";
}

done_testing();
