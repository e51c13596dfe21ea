# pg_upgrade of a cluster that uses pg_extension_base, into a new cluster of
# the same installation (an upgrade within the major version under test).
#
# pg_upgrade starts both servers in binary-upgrade mode (postgres -b): the
# old one to check and dump it, the new one to restore the schema before
# it copies the data files and again after.  Nothing of ours may act then
# (supervisor.c registers no server starter in that mode): no server
# starter, database starter or base worker runs in either server (a base
# worker would change the old cluster's data while it is dumped), and the
# deps hook creates and updates nothing.  Afterwards the registrations are
# the same rows (ids included, the identity sequence too), every worker runs
# again in both databases, and the same libraries are preloaded.
use strict;
use warnings;

use File::Copy;
use File::Find;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

# debug1: the postmaster logs every background worker it registers and
# starts, by name, in the servers pg_upgrade starts too
my $conf = "log_min_messages = debug1\n";

my $old = new_node('old', conf => $conf);
start_with_extension($old);
# two databases with base workers: pgeb_test_worker (test_worker, and in db1
# test_worker_b of version 1.1) and pg_extension_base_example (heartbeat),
# whose control file asks for its library to be preloaded; the deps hook
# creates pg_extension_base for them
for my $db ('db1', 'db2')
{
	$old->safe_psql('postgres', "CREATE DATABASE $db");
	$old->safe_psql($db, q{
		SET client_min_messages = warning;
		CREATE EXTENSION pgeb_test_worker;
		CREATE EXTENSION pg_extension_base_example});
}
$old->safe_psql('db1', q{ALTER EXTENSION pgeb_test_worker UPDATE TO '1.1'});
my $all = 'db1/heartbeat db1/test_worker db1/test_worker_b '
  . 'db2/heartbeat db2/test_worker';
wait_for_base_workers($old, $all,
	'before the upgrade every registered worker runs in both databases');
like(
	preloaded($old, q{extension_name || ':' || library_name || ':' || loaded}),
	qr/(^| )pg_extension_base_example:\$libdir\/pg_extension_base_example:true( |$)/,
	'before the upgrade the marked extension\'s library is preloaded');
is( $old->safe_psql(
		'db1', 'SELECT extension_base_example.loaded_at_server_start()'),
	't',
	'before the upgrade the example\'s library was loaded at server start');

# the logs the upgrade's logs are checked against do show what is looked for
ok( $old->log_contains(
		qr/starting background worker process "pg_extension_base base worker test_worker"/),
	'the old server logged starting our workers (so the log checks below can fail)');
ok($old->log_contains(qr/creating required extension "pg_extension_base"/),
	'the old server logged the deps hook creating a requirement');

# What must come through the upgrade, read from a running server.
my %queries = (
	registrations => q{
		SELECT worker_id, worker_name, extension_name, entry_point_schema,
			entry_point_function
		FROM extension_base.workers ORDER BY worker_id},
	extensions => q{
		SELECT extname, extversion, extnamespace::regnamespace
		FROM pg_extension ORDER BY extname},
	runs => q{SELECT count(*) FROM pgeb_test_worker.runs},);
my @databases = ('postgres', 'db1', 'db2');

sub state_of
{
	my ($node, $what, $dbname) = @_;
	return $node->safe_psql($dbname, $queries{$what});
}

my %before;
for my $db (@databases)
{
	$before{registrations}{$db} = state_of($old, 'registrations', $db);
	$before{extensions}{$db} = state_of($old, 'extensions', $db);
	$before{runs}{$db} = state_of($old, 'runs', $db) if $db ne 'postgres';
}
my $preload_query = q{
	SELECT * FROM extension_base.list_preload_libraries()
	ORDER BY load_position};
my $modules_query = q{
	SELECT module_name, library_version, abi_version, installed_version, status
	FROM extension_base.modules() ORDER BY load_position};
my $preload_before = $old->safe_psql('postgres', $preload_query);
my $modules_before = $old->safe_psql('postgres', $modules_query);
isnt($before{registrations}{db1}, '', 'db1 has registrations to compare');
isnt($before{registrations}{db2}, '', 'db2 has registrations to compare');
$old->stop;

# The new cluster: same installation, same shared_preload_libraries.
my $new = new_node('new', conf => $conf);
my $bindir = $old->config_data('--bindir');

# pg_upgrade writes files into its working directory; --retain keeps its
# logs (those of the servers it started too) in the new data directory
chdir $PostgreSQL::Test::Utils::tmp_check
  or die "could not enter $PostgreSQL::Test::Utils::tmp_check: $!";
command_ok(
	[
		'pg_upgrade', '--no-sync', '--retain',
		'-b', $bindir, '-B', $bindir,
		'-d', $old->data_dir, '-D', $new->data_dir,
		'-s', $new->host,
		'-p', $old->port, '-P', $new->port
	],
	'pg_upgrade of a cluster with base workers and a preloaded extension succeeds'
);

my @upgrade_logs;
find(sub { push @upgrade_logs, $File::Find::name if /\.log$/ },
	$new->data_dir . '/pg_upgrade_output.d')
  if -d $new->data_dir . '/pg_upgrade_output.d';
# kept beside the test's other logs, for whoever reads them after a failure
my $kept_logs = "$PostgreSQL::Test::Utils::log_path/021_pg_upgrade_output";
mkdir $kept_logs;
copy($_, $kept_logs) for @upgrade_logs;
my ($server_log) = grep { m{/pg_upgrade_server\.log$} } @upgrade_logs;
ok(defined $server_log, 'pg_upgrade kept the log of the servers it started')
  or diag('logs: ' . join(' ', @upgrade_logs));
my $server_text = defined $server_log ? slurp_file($server_log) : '';
my $upgrade_text = join('', map { slurp_file($_) } sort @upgrade_logs);

# the servers pg_upgrade started, in binary-upgrade mode, did load our
# libraries, so what follows is about them
like($server_text, qr/command: .*pg_ctl.* -o "[^"]*-b\b/,
	'pg_upgrade started its servers in binary-upgrade mode (-b)');
like($server_text, qr/pg_extension_base: preloading \d+ librar/,
	'pg_upgrade\'s servers ran with pg_extension_base preloaded');
unlike(
	$server_text,
	qr/(?:registering background worker|starting background worker process) "pg_extension_base[^"]*"/,
	'in binary-upgrade mode no server starter, database starter or base worker is registered or started'
);
unlike(
	$upgrade_text,
	qr/(?:creating|updating) required extension/,
	'in binary-upgrade mode the deps hook creates and updates no extension');
my @errors = grep { /\b(?:ERROR|FATAL|PANIC|WARNING):/ }
  split /\n/, $server_text;
is(scalar @errors, 0,
	'pg_upgrade\'s servers logged no error or warning')
  or diag(join("\n", @errors));

# The upgraded cluster.
$new->start;
wait_for_base_workers($new, $all,
	'after the upgrade every registered worker runs again in both databases');
for my $db (@databases)
{
	is(state_of($new, 'registrations', $db),
		$before{registrations}{$db},
		"$db: the registrations are the same rows, ids included");
	is(state_of($new, 'extensions', $db),
		$before{extensions}{$db},
		"$db: the same extensions at the same versions");
	next if $db eq 'postgres';
	# the data files are the old cluster's as pg_upgrade left them, and
	# pg_upgrade starts the new cluster again after copying them (to
	# look for extension updates): a row from before this start is a
	# worker that ran during the upgrade
	is( $new->safe_psql(
			$db, q{
			SELECT count(*) FROM pgeb_test_worker.runs
			WHERE started_at < pg_postmaster_start_time()}),
		$before{runs}{$db},
		"$db: no base worker ran while pg_upgrade had a server running (the old one to dump it, the new one after the file copy)"
	);
}
is($new->safe_psql('postgres', $preload_query),
	$preload_before,
	'list_preload_libraries() is the same after the upgrade');
is( $new->safe_psql(
		'db2', 'SELECT extension_base_example.loaded_at_server_start()'),
	't',
	'after the upgrade the example\'s library is loaded at server start');
is($new->safe_psql('postgres', $modules_query),
	$modules_before, 'modules() reports the same components, versions and statuses');

# the id sequence came through: a registration made after the
# upgrade gets a new id, and its worker starts
my $max_id = $new->safe_psql('db2', 'SELECT max(worker_id) FROM extension_base.workers');
$new->safe_psql('db2', q{ALTER EXTENSION pgeb_test_worker UPDATE TO '1.1'});
is( $new->safe_psql(
		'db2', qq{
		SELECT worker_id > $max_id FROM extension_base.workers
		WHERE worker_name = 'test_worker_b'}),
	't',
	'a worker registered after the upgrade gets a new id');
wait_for_base_workers($new, "$all db2/test_worker_b",
	'and it starts after the upgrade');

$new->stop;
ok( !$new->log_contains(
		qr/TRAP:|PANIC:|terminated by signal|ERROR:  .*pg_extension_base/),
	'the upgraded server had no crash, assertion failure or error of ours');
done_testing();
