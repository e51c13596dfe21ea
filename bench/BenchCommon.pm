# bench/BenchCommon.pm: helpers shared by the benchmarks under bench/.
package BenchCommon;

use strict;
use warnings;

use Exporter 'import';
use IPC::Run ();

our @EXPORT = qw(run_logged append_file slurp write_summary goal_verdict);

# Run a program with its output appended to a log file; die if it fails,
# unless { may_fail => 1 } comes before the program: then return its exit
# status.
sub run_logged
{
	my ($log, @command) = @_;
	my $opts = ref $command[0] ? shift @command : {};
	my $out = '';
	my $ok = IPC::Run::run(\@command, '<', '/dev/null', '>&', \$out);
	append_file($log, $out);
	die "$command[0] failed (status $?); see $log\n"
	  unless $ok || $opts->{may_fail};
	return $? >> 8;
}

sub append_file
{
	my ($file, $text) = @_;
	open my $fh, '>>', $file or die "could not write $file: $!\n";
	print $fh $text;
	close $fh;
}

sub slurp
{
	my ($file) = @_;
	open my $fh, '<', $file or die "could not read $file: $!\n";
	local $/;
	my $text = <$fh>;
	close $fh;
	return $text // '';
}

# "met", "NOT met", or why the goal is not judged: too few measurements
# (count of what, against the minimum).
sub goal_verdict
{
	my ($met, $count, $minimum, $what) = @_;
	return sprintf('not judged: fewer than %d %s', $minimum, $what)
	  if $count < $minimum;
	return $met ? 'met' : 'NOT met';
}

# Print the report and keep it as summary.txt in the results directory.
sub write_summary
{
	my ($results, @lines) = @_;
	my $text = join("\n", @lines) . "\n";

	print $text;
	open my $summary, '>', "$results/summary.txt"
	  or die "could not write summary.txt: $!\n";
	print $summary $text;
	close $summary;
}

1;
