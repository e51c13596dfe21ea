# Seeded fuzzing of our SQL API: every function of schema extension_base
# (found in pg_proc, so that a new one is fuzzed too) is called
# PGEB_FUZZ_CALLS times (default 1,000 each) with random arguments: NULLs,
# zero, negative, huge, INT_MIN and INT_MAX ids, ids that alias registered
# ones in 16 bits, worker names that exist, almost exist or are long (up to
# about 100 kB) or odd (quotes, backslashes, control characters, '%s',
# text that looks like invalid UTF-8, characters outside the BMP, bytes
# that are invalid UTF-8), entry points of every wrong kind, commands for
# attached workers (valid, failing, refused, cancelled by a tiny
# statement_timeout, self-terminating, nested, garbage, mutated), databases
# that exist, do not, refuse connections, refuse CONNECT or have another
# encoding, bad column lists; in call forms that vary (positional and named
# arguments, missing and extra ones, wrong types, set-returning functions
# in FROM and in the select list), directly, through EXECUTE and through
# SECURITY DEFINER functions of three owners; by a superuser, a plain role,
# a role with USAGE and EXECUTE, and NOLOGIN roles with and without grants
# taken on with SET ROLE or SET SESSION AUTHORIZATION, in three concurrent
# sessions, in two databases, with session settings that attached workers
# take over.  register_worker is also fuzzed inside an extension script
# (rolled back once, then committed), the only place it may succeed.
#
# Afterwards: the server never crashed (same postmaster, no signal, PANIC
# or TRAP in the log); every call reported how it ended, and no error, here
# or in any process's log, has SQLSTATE XX000 (internal error); the
# extension script registered exactly the names of its successful calls,
# and its rollback left nothing; afterwards a registration is gone only if
# a successful deregister_worker call named it (by name or id), every
# successful call with missing_ok false removed what it named, ids are
# unchanged and nothing appeared; exactly the registered looping workers
# run, every registration has its registry slot and none is left over; no
# attached worker or database starter is left; and the API still answers.
#
# PGEB_FUZZ_SEED repeats the calls (the seed is noted before they are
# made, and again on failure); the interleaving of the three sessions is
# the scheduler's.
use strict;
use warnings;

use IPC::Run;
use Time::HiRes ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

my $calls_per_function = fuzz_count('PGEB_FUZZ_CALLS', 1000);
my $sessions = 3;
my $calls_per_batch = 200;

my $INT_MIN = -2147483648;
my $INT_MAX = 2147483647;

# ---------------------------------------------------------------------------
# The cluster
# ---------------------------------------------------------------------------

# pgeb_t_fuzz registers workers in four states: running (fz_loop), done
# (fz_done returns 0), waiting an hour (fz_wait), failed and waiting an
# hour (fz_fail); pgeb_t_fuzzreg's script is the fuzzed register_worker.
my $install = install_copy('fuzz_sql');
write_extension_file($install, 'pgeb_t_fuzz.control',
	"default_version = '1.0'\nrelocatable = false\nschema = pgeb_t_fuzz\n"
	  . "requires = 'pg_extension_base, pgeb_test_worker'\n");
write_extension_file($install, 'pgeb_t_fuzz--1.0.sql', q{
CREATE FUNCTION main(internal) RETURNS internal
LANGUAGE C AS 'pgeb_test_worker', 'pgeb_test_worker_main';
INSERT INTO pgeb_test_worker.behaviour (worker_name, action, arg)
VALUES ('fz_done', 'return', 0), ('fz_wait', 'return', 3600000),
	('fz_fail', 'error', 0);
SELECT extension_base.register_worker(w, 'pgeb_t_fuzz.main')
FROM unnest(ARRAY['fz_loop', 'fz_done', 'fz_wait', 'fz_fail']) w;
});
write_extension_file($install, 'pgeb_t_fuzzreg.control',
	"default_version = '1.0'\nrelocatable = false\nschema = pgeb_t_fuzzreg\n"
	  . "requires = 'pgeb_t_fuzz'\n");

my $node = new_node(
	'fuzz_sql',
	install => $install,
	init => { extra => [ '--encoding=UTF8', '--locale=C' ] },
	conf => q{
max_worker_processes = 32
log_error_verbosity = verbose
log_statement = none
pg_extension_base.worker_restart_backoff_initial = '1h'
pg_extension_base.worker_restart_backoff_max = '1h'
});
$node->start;

my @ext_databases = ('postgres', 'fz_other');
my $bootstrap = $node->safe_psql('postgres', 'SELECT current_user');
$node->safe_psql('postgres', q{
	CREATE DATABASE fz_other;
	CREATE DATABASE fz_latin1 TEMPLATE template0 ENCODING 'LATIN1' LOCALE 'C';
	CREATE DATABASE fz_noconnect;
	REVOKE CONNECT ON DATABASE fz_noconnect FROM PUBLIC;
	CREATE ROLE fz_super SUPERUSER LOGIN;
	CREATE ROLE fz_plain LOGIN;
	CREATE ROLE fz_granted LOGIN;
	CREATE ROLE fz_nologin NOLOGIN;
	CREATE ROLE fz_nologin_bare NOLOGIN;
});
for my $db (@ext_databases)
{
	$node->safe_psql($db, q{
		SET client_min_messages = warning;
		CREATE EXTENSION pg_extension_base;
		CREATE EXTENSION pgeb_test_worker;
		CREATE EXTENSION pgeb_t_fuzz;
		-- fz_plain: USAGE but no EXECUTE on what is revoked from PUBLIC;
		-- fz_granted and fz_nologin: everything; fz_nologin_bare: nothing
		GRANT USAGE ON SCHEMA extension_base TO fz_plain, fz_granted, fz_nologin;
		GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA extension_base
			TO fz_granted, fz_nologin;
		CREATE TABLE public.fz_scratch (x int);
		GRANT ALL ON public.fz_scratch TO PUBLIC;
		CREATE DOMAIN public.fz_pos AS int CHECK (VALUE > 0);
		-- SECURITY DEFINER wrappers, one per owner
		CREATE FUNCTION public.fz_exec_super(sql text) RETURNS void
			LANGUAGE plpgsql SECURITY DEFINER AS $$BEGIN EXECUTE sql; END$$;
		CREATE FUNCTION public.fz_exec_plain(sql text) RETURNS void
			LANGUAGE plpgsql SECURITY DEFINER AS $$BEGIN EXECUTE sql; END$$;
		CREATE FUNCTION public.fz_exec_granted(sql text) RETURNS void
			LANGUAGE plpgsql SECURITY DEFINER AS $$BEGIN EXECUTE sql; END$$;
		ALTER FUNCTION public.fz_exec_super(text) OWNER TO fz_super;
		ALTER FUNCTION public.fz_exec_plain(text) OWNER TO fz_plain;
		ALTER FUNCTION public.fz_exec_granted(text) OWNER TO fz_granted;
	});
}

# What is registered, per database: name => id.
sub registrations
{
	my %result;
	for my $db (@ext_databases)
	{
		my $rows = $node->safe_psql($db,
			q{SELECT string_agg(worker_id || '|' || encode(convert_to(worker_name, 'UTF8'), 'hex'), E'\n' ORDER BY worker_id)
			  FROM extension_base.workers});
		$result{$db} = {};
		for my $row (split /\n/, $rows)
		{
			my ($id, $hex) = split /\|/, $row;
			my $name = pack('H*', $hex);
			utf8::decode($name);
			$result{$db}{$name} = $id;
		}
	}
	return \%result;
}

# The registrations and running workers settle: fz_fail failed once.
for my $db (@ext_databases)
{
	ok( $node->poll_query_until(
			$db, q{
		SELECT string_agg(worker_name || ':' || state, ' ' ORDER BY worker_name)
		FROM extension_base.base_workers},
			'fz_done:done fz_fail:waiting fz_loop:running fz_wait:waiting test_worker:running'
		),
		"$db: the workers of pgeb_t_fuzz and pgeb_test_worker are in their states");
}

my $postmaster_pid = postmaster_pid();

sub postmaster_pid
{
	my $pidfile = slurp_file($node->data_dir . '/postmaster.pid');
	return (split /\n/, $pidfile)[0];
}

# ---------------------------------------------------------------------------
# Random values
# ---------------------------------------------------------------------------

sub pick { return $_[ int(rand(scalar @_)) ]; }
sub chance { return rand() < $_[0]; }

# Pieces of odd text.  chr(0xDC00 + byte) stands for a byte written as an
# escape that is invalid UTF-8 (a lone surrogate never occurs otherwise).
my @odd_pieces = (
	"'", "''", '\\', '\\\\', '"', '""', '%s', '%s%s%s%s%s%n', '%d%x%p', '%',
	"\t", "\n", "\r", "\r\n", (map { chr } 1 .. 8, 11, 12, 14 .. 31, 127),
	'\\xff\\xfe', '\\xC3\\x28', '\\xe2\\x82', '\\u0000', '\\x00', '\\0',
	"\x{e9}", "\x{65e5}\x{672c}", "\x{1F600}", "\x{FFFD}", "\x{FEFF}",
	"\x{202E}", "e\x{301}", "\x{10FFFF}", "\x{FFFF}", "\x{80}", "\x{7FF}",
	' ', '  ', '$libdir/', '../', '/', ';', '--', '/*', '*/', '$$', '$fz$',
	'NULL', 'null', '0', '-1', ',', '=', '(', ')', '[', ']', '{', '}', '.',
	'pg_catalog.', 'extension_base.', 'E\'', 'U&', '\\\\x', chr(0xDCFF),
	chr(0xDCC3) . chr(0xDC28), chr(0xDC80));

sub random_word
{
	my @chars = ('a' .. 'z', '0' .. '9', '_', 'A' .. 'Z');
	return join '', map { pick(@chars) } 1 .. 1 + int(rand(12));
}

sub random_text
{
	my $r = rand();
	return '' if $r < 0.04;
	my $length =
		$r < 0.65 ? 1 + int(rand(20))
	  : $r < 0.92 ? 20 + int(rand(300))
	  : $r < 0.98 ? pick(62, 63, 64, 65, 127, 128)
	  :             1000 + int(rand(100000));
	my $text = '';
	while (length($text) < $length && length($text) < 400)
	{
		$text .= chance(0.6) ? random_word() : pick(@odd_pieces);
	}
	# long: what was made so far, repeated
	$text x= 1 + int($length / length($text)) if length($text) < $length;
	return substr($text, 0, $length);
}

# Escapes of characters in E'' literals, once computed.
my %escapes;

# A string literal of any text (valid escapes only, except the bytes
# marked as invalid above).  Never a dollar sign, so no dollar quote ends.
sub literal
{
	my ($text) = @_;

	# invalid bytes (and NUL) in a literal would be refused when the DO
	# block is compiled, not when the call runs: they come from bytea
	if ($text =~ /[\x{DC00}-\x{DCFF}\0]/)
	{
		my $bytes = join '', map {
			my $o = ord;
			my $c = $_;
			utf8::encode($c) unless $o >= 0xDC00 && $o <= 0xDCFF;
			$o >= 0xDC00 && $o <= 0xDCFF ? chr($o - 0xDC00) : $c
		} split //, $text;
		return "convert_from(E'\\\\x" . unpack('H*', $bytes) . "'::bytea, 'UTF8')";
	}
	my $out = $text;
	$out =~ s/([^\x20-\x23\x25-\x26\x28-\x5b\x5d-\x7e])/$escapes{$1} \/\/ escape($1)/ge;
	return "E'$out'";
}

# The escape of one character in an E'' literal.
sub escape
{
	my ($c) = @_;
	my $o = ord $c;
	return $escapes{$c} =
		$c eq "'" ? "\\'"
	  : $c eq '\\' ? '\\\\'
	  : $o < 0x80 ? sprintf('\\x%02x', $o)
	  : $o < 0x10000 ? sprintf('\\u%04x', $o)
	  : sprintf('\\U%08x', $o);
}

# Whether text holds an invalid byte escape (the literal is an error).
sub has_invalid_byte { return $_[0] =~ /[\x{DC00}-\x{DCFF}\0]/; }

# ---------------------------------------------------------------------------
# Arguments.  Each generator returns [sql, value]: value is what the SQL
# evaluates to when it is a plain, valid value, else undef (NULL, wrong
# type, an error).
# ---------------------------------------------------------------------------

my $registered;    # registrations at generation time

sub known_names
{
	my ($db) = @_;
	return sort keys %{ $registered->{$db} };
}

sub known_ids
{
	my ($db) = @_;
	return sort { $a <=> $b } values %{ $registered->{$db} };
}

sub text_argument
{
	my ($text) = @_;
	my $sql = literal($text);
	my $r = rand();
	$sql .= '::text' if $r < 0.3;
	$sql .= '::varchar' if $r >= 0.3 && $r < 0.35;
	$sql = "($sql || '')" if $r >= 0.35 && $r < 0.4;
	return [ $sql, has_invalid_byte($text) ? undef : $text ];
}

sub worker_name_argument
{
	my ($db, $real_share) = @_;
	my @names = known_names($db);
	my $r = rand();
	return [ pick('NULL', 'NULL::text'), undef ] if $r < 0.06;
	return text_argument(pick(@names)) if $r < 0.06 + $real_share;
	my $name = pick(@names, 'test_worker');
	return text_argument(
		pick(
			uc($name), " $name", "$name ", "$name\0x", substr($name, 0, -1),
			$name . 'x', "$name\n", "\"$name\"", "extension_base.$name",
			$name x 8, undef, undef, undef) // random_text())
	  if $r < 0.6;
	return text_argument(random_text());
}

sub id_argument
{
	my ($db, $real_share) = @_;
	my @ids = known_ids($db);
	my $id = pick(@ids);
	my $r = rand();
	return [ pick('NULL', 'NULL::int'), undef ] if $r < 0.06;
	return [ $id, $id ] if $r < 0.06 + $real_share;
	my $value = pick(
		0, -1, 1, 2, $INT_MIN, $INT_MAX, $INT_MAX - 1, $INT_MIN + 1,
		$id + 1, $id - 1, $id + 65536, $id - 65536, $id + 131072,
		65535, 65536, 65537, -$id, int(rand(100)),
		int(rand(2 * $INT_MAX + 1)) - $INT_MAX - 1);
	$r = rand();
	return [ "$value", $value ] if $r < 0.6;
	return [ "($value)::int", $value ] if $r < 0.7;
	return [ "'$value'::integer", $value ] if $r < 0.75;
	# an untyped literal: the text overload, if there is one, takes it
	return [ "'$value'", "$value" ] if $r < 0.8;
	return [ "'  $value  '::int", $value ] if $r < 0.82;
	return [ "'${value}x'", "${value}x" ] if $r < 0.84;
	return [ "'1.5'", '1.5' ] if $r < 0.85;
	return [ "''", '' ] if $r < 0.86;
	return [ "${value}::smallint", $value ]
	  if $r < 0.87 && $value >= -32768 && $value <= 32767;
	return [
		pick(
			'2147483648', '-2147483649', '9999999999999999999', '1.5',
			'1e10::int', '7::bigint', '7::numeric', 'true', '(1/0)',
			'(2147483647 + 1)', 'NULL::text', '(-2147483648)::int / -1'),
		undef ];
}

sub bool_argument
{
	my $r = rand();
	return [ 'true', 1 ] if $r < 0.35;
	return [ 'false', 0 ] if $r < 0.7;
	return [ pick('NULL', 'NULL::bool'), undef ] if $r < 0.8;
	return [ pick("'t'", "'yes'", "'on'", "'1'", "'TRUE'"), 1 ] if $r < 0.88;
	return [ pick("'f'", "'no'", "'off'", "'0'"), 0 ] if $r < 0.94;
	return [ pick("'maybe'", '1', '0', "''", "'tru'", '1::bool', "'t'::text"),
		undef ];
}

sub regproc_argument
{
	my $r = rand();
	return [ pick('NULL', 'NULL::regproc'), undef ] if $r < 0.06;
	my $name = pick(
		'pgeb_t_fuzz.main', 'pgeb_test_worker.worker_main', 'main',
		'worker_main', 'pg_catalog.now', 'now', 'int4in', 'pg_sleep',
		'extension_base.register_worker', 'extension_base.get_worker_pid',
		'public.fz_exec_super', 'no_such_function', 'pgeb_t_fuzz.no_such',
		'-', '0', '1', '12345', '4294967295', '4294967296', '-1', '"main"',
		'"PGEB_T_FUZZ".main', 'pgeb_t_fuzz."main"', 'a.b.c.d', '.', '"',
		"main'", 'main()', 'main(internal)', 'pg_catalog.', undef) // random_text();
	return text_argument($name) if $r < 0.9;
	return [ pick("'main'::regproc", "'main(internal)'::regprocedure::regproc",
		"'now'::regprocedure", "'now'::text", '42::oid', '42', "'-'::regproc"),
		undef ];
}

sub database_argument
{
	my ($db) = @_;
	my $r = rand();
	return [ pick('NULL', 'NULL::text'), undef ] if $r < 0.05;
	return [ 'current_database()', $db ] if $r < 0.1;
	return text_argument($db) if $r < 0.4;
	return text_argument(
		pick(
			'postgres', 'postgres', 'fz_other', 'fz_other', 'fz_latin1',
			'fz_latin1', 'fz_noconnect', 'template0', 'template1',
			'no_such_database', '', ' postgres', 'POSTGRES', 'postgres ',
			'fz_other' . ('x' x 100), 'p' x 64, undef) // random_text())
	  if $r < 0.95;
	return [ pick('1', 'true', "'postgres'::name", "'postgres'::varchar(3)"),
		undef ];
}

# Commands for attached workers.
my @commands = (
	'SELECT 1', 'SELECT 1; SELECT 2', 'SELECT 1/0', 'SELECT 1; SELECT 1/0',
	'VALUES (1, \'a\'), (2, NULL)', 'SELECT repeat(\'x\', 100000)',
	'SELECT g FROM generate_series(1, 5000) g', 'SELECT', 'SELECT NULL',
	'SHOW search_path', 'SHOW ALL', 'EXPLAIN SELECT 1', 'TABLE fz_scratch',
	'SELECT current_user, session_user, current_setting(\'role\')',
	'SELECT current_setting(\'fz.custom\', true)',
	'CREATE TEMP TABLE t (x int); INSERT INTO t VALUES (1); SELECT * FROM t',
	'INSERT INTO fz_scratch VALUES (1)', 'INSERT INTO fz_scratch VALUES (1) RETURNING *',
	'UPDATE fz_scratch SET x = x + 1', 'DELETE FROM fz_scratch WHERE x > 5',
	'TRUNCATE fz_scratch', 'LOCK fz_scratch IN ACCESS EXCLUSIVE MODE',
	'BEGIN', 'COMMIT', 'ROLLBACK', 'SAVEPOINT s', 'BEGIN; SELECT 1; COMMIT',
	'PREPARE TRANSACTION \'fz\'', 'COPY fz_scratch FROM STDIN',
	'COPY fz_scratch TO STDOUT', 'COPY (SELECT 1) TO STDOUT',
	'CREATE INDEX CONCURRENTLY ON fz_scratch (x)', 'REINDEX TABLE CONCURRENTLY fz_scratch',
	'VACUUM fz_scratch', 'VACUUM fz_scratch; SELECT 1', 'ANALYZE fz_scratch',
	'LISTEN fz', 'NOTIFY fz', 'SET fz.x = 1; SHOW fz.x', 'RESET ALL', 'DISCARD ALL',
	'DISCARD ALL; SELECT 1', 'SELECT pg_sleep(0.01)',
	'SELECT pg_terminate_backend(pg_backend_pid())',
	'SELECT pg_cancel_backend(pg_backend_pid()); SELECT pg_sleep(0.1)',
	'DO $$BEGIN RAISE NOTICE \'fz notice %\', repeat(\'n\', 1000); END$$',
	'DO $$BEGIN RAISE EXCEPTION \'fz\' USING ERRCODE = \'P0001\'; END$$',
	'DO $$BEGIN RAISE EXCEPTION USING ERRCODE = \'22012\', DETAIL = \'d\', HINT = \'h\'; END$$',
	'SELECT extension_base.run_attached(\'SELECT 1\')',
	'SELECT * FROM extension_base.run_attached(\'SELECT 1/0\')',
	'SELECT * FROM extension_base.list_base_workers()',
	'SELECT * FROM extension_base.list_preload_libraries()',
	'SELECT * FROM extension_base.modules()',
	'SELECT extension_base.get_worker_pid(1)',
	'SELECT extension_base.deregister_worker(\'no_such_worker\', true)',
	'SELECT extension_base.wakeup_worker(\'no_such_worker\')',
	'SELECT $1', 'SELECT \'\\xff\'', 'SELECT E\'\\xff\'', 'SELECT E\'\\u00e9\'',
	"SELECT '\x{e9}'", "SELECT '\x{65e5}\x{672c}'", "SELECT '\x{1F600}'",
	'SELECT chr(233)', 'SELECT convert_from(\'\\xff\'::bytea, \'UTF8\')',
	'', ';', ' ', '-- comment', '/* unterminated', 'SELECT \'unterminated',
	'SELECT 1;' x 500, ';' x 1000, 'SELECT ' . ('1+' x 5000) . '1',
	'SELECT ' . ('(' x 2000) . '1' . (')' x 2000),
	'SET ROLE fz_plain; SELECT current_user', 'SET SESSION AUTHORIZATION fz_plain',
	'SET statement_timeout = 1; SELECT pg_sleep(0.1)', 'SET lock_timeout = 1',
	'SELECT txid_current()', 'SELECT * FROM pg_stat_activity',
	'CHECKPOINT', 'LOAD \'pgeb_test_lib_a\'', 'SELECT 1 FROM pg_class LIMIT 1',
	'SELECT x FROM fz_scratch', 'SELECT 1::fz_pos', 'SELECT -1::fz_pos',
	'SELECT 1 AS a, \'b\' AS b', 'SELECT 1, 2, 3', 'SELECT \'{1,2}\'::int[]',
	'SELECT \'{"a":1}\'::json', 'SELECT true', 'SELECT 1::bigint',
	'SELECT 12345678901234567890::numeric', 'SELECT \'abc\'::bytea',
	'SELECT ROW(1, 2)', 'SELECT NULL::int FROM generate_series(1, 3)');

sub mutate
{
	my ($text) = @_;
	my $r = rand();
	my $at = int(rand(length($text) + 1));
	return substr($text, 0, $at) if $r < 0.3;
	return substr($text, 0, $at) . pick(@odd_pieces) . substr($text, $at)
	  if $r < 0.7;
	return substr($text, 0, $at) . substr($text, $at + 1)
	  if $r < 0.85 && $at < length($text);
	return $text . ';' . pick(@commands);
}

# Commands whose result a column list can match, with that list.
my %returning_columns = (
	'SELECT 1' => 'a int',
	'SELECT 1; SELECT 2' => 'a int',
	'VALUES (1, \'a\'), (2, NULL)' => 'a int, b text',
	'SELECT g FROM generate_series(1, 5000) g' => 'g int',
	'SELECT repeat(\'x\', 100000)' => 't text',
	'SHOW search_path' => 's text',
	'INSERT INTO fz_scratch VALUES (1) RETURNING *' => 'x int',
	'SELECT 1::fz_pos' => 'a fz_pos',
	'SELECT -1' => 'a fz_pos',
	'SELECT \'{1,2}\'::int[]' => 'a int[]',
	'SELECT NULL::int FROM generate_series(1, 3)' => 'a int',
	'SELECT current_user, session_user, current_setting(\'role\')' => 'a name, b name, c text',
	'SELECT current_setting(\'fz.custom\', true)' => 'a text',
	"SELECT '\x{e9}'" => 'a text',
	"SELECT '\x{1F600}'" => 'a text',
	'SELECT \'abc\'::bytea' => 'a bytea',
	'SELECT x FROM fz_scratch' => 'x int',
	'SELECT pg_sleep(0.01)' => 'a void',
	'SELECT 12345678901234567890::numeric' => 'a numeric',
	'SELECT 1 AS a, \'b\' AS b' => 'a int, b text',
	'SELECT true' => 'a bool',
	'SELECT \'{"a":1}\'::json' => 'a json',
	'EXPLAIN SELECT 1' => 'a text');

sub command_argument
{
	my ($returning) = @_;
	my $r = rand();
	return [ pick('NULL', 'NULL::text'), undef ] if $r < 0.04;
	return text_argument(pick(sort keys %returning_columns)) if $returning && $r < 0.4;
	return text_argument(pick(@commands)) if $r < 0.7;
	return text_argument(mutate(pick(@commands))) if $r < 0.88;
	return text_argument(random_text());
}

# A column definition list for a function returning record.
sub column_list
{
	my @types = ('int', 'int', 'text', 'text', 'bigint', 'bool', 'numeric',
		'json', 'int[]', 'fz_pos', 'name', 'bytea', 'record', 'void',
		'no_such_type', 'varchar(1)', 'char', 'oid', 'regclass');
	my $n = int(rand(4));
	return '' if $n == 0;
	return ' AS t(' . join(', ', map { "c$_ " . pick(@types) } 1 .. $n) . ')';
}

# ---------------------------------------------------------------------------
# The functions: from pg_proc, so that a new one is fuzzed as well
# ---------------------------------------------------------------------------

my @functions;
{
	my $rows = $node->safe_psql(
		'postgres', q{
		SELECT p.oid::regprocedure, p.proname, p.proretset,
			p.prorettype = 'record'::regtype AND p.proargmodes IS NULL,
			p.pronargdefaults,
			coalesce((SELECT string_agg(format_type(t, NULL) || ':' || coalesce(n, ''), ',' ORDER BY i)
				FROM unnest(p.proargtypes::oid[], (p.proargnames)[1:p.pronargs])
					WITH ORDINALITY AS a(t, n, i)), '')
		FROM pg_proc p JOIN pg_namespace s ON s.oid = p.pronamespace
		WHERE s.nspname = 'extension_base' AND p.prokind = 'f'
		ORDER BY 1::text});
	for my $row (split /\n/, $rows)
	{
		my ($signature, $name, $retset, $needs_columns, $defaults, $args) =
		  split /\|/, $row;
		push @functions, {
			signature => $signature,
			name => $name,
			retset => $retset eq 't',
			needs_columns => $needs_columns eq 't',
			defaults => $defaults,
			args => [ map { [ split /:/, $_, 2 ] } grep { $_ ne '' } split /,/, $args ],
		};
	}
}
my %known = map { $_ => 1 } (
	'deregister_worker(integer,boolean)', 'deregister_worker(text,boolean)',
	'get_worker_pid(integer)', 'list_base_workers()', 'list_database_starters()',
	'list_preload_libraries()', 'modules()', 'register_worker(text,regproc)',
	'run_attached(text,text)', 'run_attached_returning(text,text)',
	'wakeup_worker(integer)', 'wakeup_worker(text)');
my %found = map {
	my $s = $_->{signature};
	$s =~ s/^extension_base\.//;
	$s =~ s/, /,/g;
	($s => 1)
} @functions;
is(join(' ', grep { !$found{$_} } sort keys %known), '',
	'pg_proc lists the functions of schema extension_base that this test knows');
note('functions fuzzed: ' . join(' ', sort keys %found));

# every argument type needs a generator: a new function with a new type
# fails here until the test learns it
my %generators = map { $_ => 1 } qw(text integer boolean regproc);
my @untyped = map {
	my $f = $_;
	map { "$f->{signature}: $_->[1] $_->[0]" } grep { !$generators{ $_->[0] } } @{ $f->{args} }
} @functions;
is(join(', ', @untyped), '', 'every argument of every function has a generator');
@functions = grep {
	!grep { !$generators{ $_->[0] } } @{ $_->{args} }
} @functions;

# Calls of deregister_worker are "late" in the last tenth of each
# session only: before, they never name a registered worker, so that the
# workers live long enough for the other functions to meet them; and
# test_worker of database postgres always stays.
sub argument_for
{
	my ($function, $arg, $db, $late) = @_;
	my ($type, $name) = @$arg;
	my $deregister = $function->{name} =~ /^deregister/;
	my $real = $deregister ? ($late ? 0.2 : 0) : 0.35;
	my $value;
	if ($type eq 'text' && $name =~ /worker_name/)
	{
		$value = worker_name_argument($db, $real);
	}
	elsif ($type eq 'text' && $name eq 'dbname')
	{
		$value = database_argument($db);
	}
	elsif ($type eq 'text' && $name eq 'command')
	{
		$value = command_argument($function->{needs_columns});
	}
	elsif ($type eq 'text')
	{
		$value = text_argument(random_text());
	}
	elsif ($type eq 'integer')
	{
		$value = id_argument($db, $real);
	}
	elsif ($type eq 'boolean')
	{
		$value = bool_argument();
	}
	elsif ($type eq 'regproc')
	{
		$value = regproc_argument();
	}
	else
	{
		die "no generator for $type";
	}
	if ($deregister && defined $value->[1] && $name =~ /^worker_/)
	{
		my $v = $value->[1];
		# late, any but test_worker of postgres, which the end checks
		my $names = $late
		  ? ($db eq 'postgres' ? { test_worker => $registered->{$db}{test_worker} } : {})
		  : $registered->{$db};
		my %ids = map { $_ => 1 } values %$names;
		$value = $type eq 'integer' ? [ '1000000007', 1000000007 ]
		  : [ "'unregistered'", 'unregistered' ]
		  if exists $names->{$v}
		  || ($v =~ /^\s*[+-]?\d+\s*$/ && $ids{ $v + 0 });
	}
	return $value;
}

# One call: the SELECT statement, and what it means for the registrations
# (the deregister_worker target, if its arguments are plain values).
sub make_call
{
	my ($function, $db, $late) = @_;
	my @args = @{ $function->{args} };
	my $required = @args - $function->{defaults};
	my $count = scalar @args;
	$count = $required + int(rand($count - $required + 1)) if chance(0.4);
	$count-- if $count > 0 && chance(0.02);
	my @values = map { argument_for($function, $args[$_], $db, $late) } 0 .. $count - 1;
	my @sql = map { $_->[0] } @values;
	if (chance(0.2) && $count > 0)
	{
		# named notation, for the trailing arguments
		my $from = int(rand($count));
		$sql[$_] = "$args[$_][1] => $sql[$_]" for $from .. $count - 1;
	}
	my $extra = chance(0.02);
	# Without arguments of its own, deregister_worker takes the extra one
	# as the worker: never an id that may be one that must stay (1 was
	# test_worker's, in a run on 17).
	my @extras = ($function->{name} =~ /^deregister/ && $count == 0)
	  ? ('NULL', '1000000007', "'x'", 'true') : ('NULL', '1', "'x'", 'true');
	my $extra_sql = $extra ? pick(@extras) : undef;
	push @sql, $extra_sql if $extra;
	my $expr = "extension_base.$function->{name}(" . join(', ', @sql) . ')';
	my $select;
	if ($function->{needs_columns})
	{
		my $command = $count > 0 ? $values[0][1] : undef;
		my $columns = defined $command && $returning_columns{$command} && chance(0.8)
		  ? " AS t($returning_columns{$command})" : column_list();
		$select = chance(0.9) ? "SELECT * FROM $expr$columns" : "SELECT $expr";
	}
	elsif ($function->{retset})
	{
		$select = pick("SELECT * FROM $expr", "SELECT * FROM $expr",
			"SELECT $expr", "SELECT count(*) FROM $expr",
			"SELECT * FROM $expr LIMIT 1", "SELECT * FROM $expr AS t(a int)");
	}
	else
	{
		$select = chance(0.9) ? "SELECT $expr" : "SELECT * FROM $expr";
	}

	my %call = (function => $function, db => $db, select => $select);
	if ($function->{name} eq 'deregister_worker')
	{
		# what it may remove: the registration named like its first
		# argument, or with that id (the overload PostgreSQL chooses is
		# not ours to predict); and whether it must remove one
		$call{target} = $count > 0 ? $values[0][1]
		  : $extra ? { 'NULL' => undef, '1000000007' => '1000000007', "'x'" => 'x', 'true' => 'true' }->{$extra_sql}
		  : undef;    # (without arguments of its own, the extra one comes first)
		# an extra argument may be the missing_ok of a shorter call
		$call{missing_ok} = $extra ? undef : $count > 1 ? $values[1][1] : 0;
	}
	return \%call;
}

# ---------------------------------------------------------------------------
# Running calls: each call is one line, a DO block that reports how the
# call ended with a NOTICE "FZ|n|SQLSTATE|message"
# ---------------------------------------------------------------------------

sub do_block
{
	my ($n, $statement, $level) = @_;
	$level //= 'NOTICE';
	return "DO \$fz\$DECLARE st text := '00000'; msg text := ''; "
	  . "BEGIN BEGIN $statement; "
	  . 'EXCEPTION WHEN query_canceled THEN st := SQLSTATE; msg := SQLERRM; '
	  . 'WHEN OTHERS THEN st := SQLSTATE; msg := SQLERRM; END; '
	  . "RAISE $level 'FZ|%|%|%', $n, st, translate(left(msg, 300), E'\\n\\r|', '   '); "
	  . "END\$fz\$;";
}

# How a call is made: PERFORM, EXECUTE, or a SECURITY DEFINER function.
sub wrap
{
	my ($select) = @_;
	my $r = rand();
	return 'PERFORM ' . substr($select, length('SELECT ')) if $r < 0.6;
	return 'EXECUTE ' . literal($select) if $r < 0.8;
	return 'PERFORM public.' . pick('fz_exec_super', 'fz_exec_plain', 'fz_exec_granted')
	  . '(' . literal($select) . ')';
}

my @login_users = ($bootstrap, 'fz_super', 'fz_super', 'fz_plain', 'fz_granted');
my @all_roles = ('fz_super', 'fz_plain', 'fz_granted', 'fz_nologin', 'fz_nologin_bare');
my %superuser = ($bootstrap => 1, fz_super => 1);

# Session settings that attached workers take over, and that change who
# the caller is.
sub setting_statement
{
	my ($superuser_session) = @_;
	my @choices = (
		"SET search_path = ''", 'SET search_path = pg_catalog, extension_base',
		'RESET search_path',
		sub { 'SET application_name = ' . literal(substr(random_text(), 0, 100)) },
		sub { 'SET fz.custom = ' . literal(random_text()) }, 'RESET fz.custom',
		'SET default_transaction_read_only = on', 'SET default_transaction_read_only = off',
		"SET DateStyle = 'SQL, DMY'", "SET TimeZone = 'Pacific/Chatham'",
		"SET work_mem = '64kB'", "SET lock_timeout = '10ms'", 'RESET lock_timeout',
		'SET standard_conforming_strings = off', 'SET standard_conforming_strings = on',
		"SET default_transaction_isolation = 'serializable'",
		'RESET default_transaction_isolation', 'RESET ALL');
	push @choices, map { "SET ROLE $_" } @all_roles if $superuser_session;
	push @choices, ('RESET ROLE') x 12;
	push @choices, map { "SET SESSION AUTHORIZATION $_" } @all_roles
	  if $superuser_session;
	push @choices, ('RESET SESSION AUTHORIZATION') x 12, 'SET log_statement = none'
	  if $superuser_session;
	my $choice = pick(@choices);
	return (ref $choice ? $choice->() : $choice) . ';';
}

# Write the script of one session: batches of calls, each batch on a new
# connection (\c) as a random user to a random database.  Maps each call's
# line to the call.
my @calls;

sub make_session
{
	my ($session, @call_numbers) = @_;
	my $file = $node->basedir . "/fuzz_session_$session.sql";
	my @lines = ('\\set VERBOSITY verbose');
	my %lines;
	my $total = @call_numbers;
	my $made = 0;
	while (@call_numbers)
	{
		my @mine = splice(@call_numbers, 0, $calls_per_batch);
		my $user = pick(@login_users);
		my $db = pick(@ext_databases);
		push @lines, "\\c $db $user", "SET statement_timeout = '20s';";
		for my $n (@mine)
		{
			push @lines, setting_statement($superuser{$user}) if chance(0.1);
			my $late = ++$made > 0.9 * $total;
			my $call = make_call($calls[$n]{function}, $db, $late);
			$calls[$n] = { %{ $calls[$n] }, %$call, user => $user, session => $session };
			my $attached = $calls[$n]{function}{name} =~ /attached/;
			# a tiny statement_timeout cancels attached calls at any point
			my $timeout = $attached && chance(0.15);
			push @lines, "SET statement_timeout = '" . pick(1, 2, 5, 10, 50) . "ms';"
			  if $timeout;
			push @lines, do_block($n, wrap($calls[$n]{select}));
			$lines{ scalar @lines } = $n;
			push @lines, "SET statement_timeout = '20s';" if $timeout;
		}
	}
	append_to_file($file, join("\n", @lines) . "\n");
	return { file => $file, lines => \%lines };
}

# Run the sessions concurrently, one psql each.
sub run_sessions
{
	my (@sessions) = @_;
	my $timer = IPC::Run::timeout(600);
	for my $session (@sessions)
	{
		$session->{stderr} = '';
		$session->{stdout} = '';
		$session->{handle} = IPC::Run::start(
			[
				'psql', '-X', '-q', '-h', $node->host, '-p', $node->port,
				'-d', 'postgres', '-f', $session->{file}
			],
			'<', \undef, '>', \$session->{stdout}, '2>', \$session->{stderr},
			$timer);
	}
	for my $session (@sessions)
	{
		eval { $session->{handle}->finish; };
		if ($@)
		{
			$_->{handle}->kill_kill for @sessions;
			fail("the fuzz sessions finished within 600 s: $@");
			last;
		}
	}
}

# Parse a psql transcript into the calls' outcomes.
my @uncaught_other;    # errors on lines that are not calls

sub record_outcomes
{
	my ($session) = @_;
	my $file = $session->{file};
	for my $line (split /\n/, $session->{stderr})
	{
		if ($line =~ /NOTICE:  00000: FZ\|(\d+)\|([0-9A-Z]{5})\|(.*)$/)
		{
			$calls[$1]{state} = $2;
			$calls[$1]{message} = $3;
			$calls[$1]{done}++;
		}
		elsif ($line =~ /^psql:\Q$file\E:(\d+): (ERROR|FATAL|PANIC):  ([0-9A-Z]{5}): (.*)$/)
		{
			my ($lineno, $level, $state, $message) = ($1, $2, $3, $4);
			if (defined(my $n = $session->{lines}{$lineno}))
			{
				# raised outside the call's own block: the whole DO failed
				$calls[$n]{uncaught} = "$level $state: $message";
				$calls[$n]{uncaught_state} = $state;
			}
			else
			{
				push @uncaught_other, "line $lineno: $level $state: $message";
			}
		}
		elsif ($line =~ /server closed the connection|connection to server was lost|terminated abnormally|could not connect/)
		{
			push @uncaught_other, "FATAL $line";
		}
	}
}

# ---------------------------------------------------------------------------
# register_worker in an extension script, the one place it may succeed
# ---------------------------------------------------------------------------

# seeded here, after the setup, so that nothing else draws from rand()
fuzz_seed();
$registered = registrations();
my %before_script = map { $_ => { %{ $registered->{$_} } } } @ext_databases;
my $script_calls = int($calls_per_function / 10) + 10;
my @script_lines = (q{
CREATE FUNCTION main(internal) RETURNS internal
LANGUAGE C AS 'pgeb_test_worker', 'pgeb_test_worker_main';
CREATE FUNCTION wrong(int) RETURNS int
LANGUAGE C AS 'pgeb_test_worker', 'pgeb_test_worker_main';
CREATE FUNCTION sql_main(int) RETURNS int LANGUAGE sql AS 'SELECT 1';
GRANT USAGE ON SCHEMA pgeb_t_fuzzreg TO PUBLIC;
});
my @script_names;
for my $n (1 .. $script_calls)
{
	my $name = worker_name_argument('postgres', 0.1);
	# the script's own entry points, more often than any other
	my $entry = chance(0.5)
	  ? [ literal(pick('pgeb_t_fuzzreg.main', 'main', 'pgeb_t_fuzzreg.wrong',
			'pgeb_t_fuzzreg.sql_main')), undef ]
	  : regproc_argument();
	my $role = chance(0.15) ? 'SET ROLE ' . pick(@all_roles) . '; ' : '';
	$script_names[$n] = $name->[1];
	push @script_lines, do_block($n,
		"${role}PERFORM extension_base.register_worker($name->[0], $entry->[0]); "
		  . 'INSERT INTO pgeb_test_worker.behaviour (worker_name, action) '
		  . "VALUES ($name->[0], 'return') ON CONFLICT DO NOTHING; RESET ROLE",
		# scripts run with client_min_messages = warning at least
		'WARNING');
}
write_extension_file($install, 'pgeb_t_fuzzreg--1.0.sql', join("\n", @script_lines) . "\n");

# Rolled back: nothing is left.
my ($stdout, $stderr);
$node->psql('postgres', "BEGIN;\nCREATE EXTENSION pgeb_t_fuzzreg;\nROLLBACK;",
	stdout => \$stdout, stderr => \$stderr);
my $script_notices = () = $stderr =~ /FZ\|\d+\|/g;
is($script_notices, $script_calls,
	"each of the $script_calls register_worker calls in the extension script reported how it ended");
is_deeply(registrations(), \%before_script,
	'CREATE EXTENSION rolled back: no registration is left');

# Committed: what succeeded is registered.
$node->psql('postgres', 'CREATE EXTENSION pgeb_t_fuzzreg',
	stdout => \$stdout, stderr => \$stderr);
my %script_registered;
my %script_states;
while ($stderr =~ /FZ\|(\d+)\|([0-9A-Z]{5})\|(.*)/g)
{
	my ($n, $state, $message) = ($1, $2, $3);
	$script_states{$state}++;
	$script_registered{$n} = 1 if $state eq '00000';
	if ($state eq 'XX000')
	{
		fail("register_worker in an extension script: XX000 $message");
		diag($script_lines[$n]);
	}
}
note('register_worker in the extension script: '
	  . join(', ', map { "$_ x$script_states{$_}" } sort keys %script_states));
my $after_script = registrations();
my @script_successes = sort { $a <=> $b } keys %script_registered;
is_deeply(
	[ sort map { $script_names[$_] } @script_successes ],
	[ sort grep { !exists $before_script{postgres}{$_} } keys %{ $after_script->{postgres} } ],
	'CREATE EXTENSION committed: exactly the names of the successful calls are registered ('
	  . scalar(@script_successes) . ')');
# the script's workers return 0 at once: they end up done
ok( $node->poll_query_until(
		'postgres', q{
		SELECT count(*) = 0 FROM extension_base.base_workers
		WHERE extension_name = 'pgeb_t_fuzzreg' AND state <> 'done'}),
	"the workers the script registered ran and are done");

# ---------------------------------------------------------------------------
# The fuzz
# ---------------------------------------------------------------------------

$registered = registrations();
my $before = registrations();
my $log_offset = -s $node->logfile;
for my $function (@functions)
{
	push @calls, { function => $function } for 1 .. $calls_per_function;
}
# shuffle (Fisher-Yates, with our seeded rand)
for (my $i = $#calls; $i > 0; $i--)
{
	my $j = int(rand($i + 1));
	@calls[ $i, $j ] = @calls[ $j, $i ];
}
my $started = Time::HiRes::time();
my @per_session = map { [] } 1 .. $sessions;
push @{ $per_session[ $_ % $sessions ] }, $_ for 0 .. $#calls;
my @session_scripts = map { make_session($_, @{ $per_session[$_] }) } 0 .. $sessions - 1;
my $generated = Time::HiRes::time();
run_sessions(@session_scripts);
record_outcomes($_) for @session_scripts;
note(sprintf('%d calls of %d functions in %.1f s (generated in %.1f s)',
		scalar @calls, scalar @functions, Time::HiRes::time() - $generated,
		$generated - $started));

# ---------------------------------------------------------------------------
# Assertions
# ---------------------------------------------------------------------------

my @unreported = grep { !$calls[$_]{done} && !$calls[$_]{uncaught} } 0 .. $#calls;
is(scalar @unreported, 0, 'every call reported how it ended')
  or diag(join "\n", map { "call $_ ($calls[$_]{user}\@$calls[$_]{db}): " . substr($calls[$_]{select}, 0, 300) } @unreported[0 .. ($#unreported < 9 ? $#unreported : 9)]);

# uncaught errors: a cancel between the call's block and the report, or a
# literal the DO block's parser refused (an invalid byte escape)
my @internal = grep {
	($calls[$_]{state} // '') eq 'XX000' || ($calls[$_]{uncaught_state} // '') eq 'XX000'
} 0 .. $#calls;
is(scalar @internal, 0, 'no call failed with SQLSTATE XX000 (internal error)');
for my $n (@internal[0 .. ($#internal < 19 ? $#internal : 19)])
{
	diag("XX000 from call $n as $calls[$n]{user} in $calls[$n]{db}: "
		  . ($calls[$n]{message} // $calls[$n]{uncaught}) . "\n    "
		  . substr($calls[$n]{select}, 0, 1000));
}
is(scalar(grep { /XX000|PANIC|FATAL/ } @uncaught_other), 0,
	'no session statement failed with XX000, and no session was lost')
  or diag(join "\n", @uncaught_other[0 .. ($#uncaught_other < 19 ? $#uncaught_other : 19)]);

my @register_successes = grep {
	$calls[$_]{function}{name} eq 'register_worker' && ($calls[$_]{state} // '') eq '00000'
	  && !$calls[$_]{uncaught}
} 0 .. $#calls;
is(scalar @register_successes, 0, 'register_worker never succeeded outside an extension script')
  or diag(join "\n", map { substr($calls[$_]{select}, 0, 300) } @register_successes);

# outcome summary per function
my %summary;
for my $call (@calls)
{
	my $state = $call->{uncaught} ? "uncaught $call->{uncaught_state}" : $call->{state} // 'none';
	$summary{ $call->{function}{signature} }{$state}++;
}
for my $signature (sort keys %summary)
{
	my $s = $summary{$signature};
	note("$signature: " . join(', ', map { "$_ x$s->{$_}" } sort keys %$s));
}
for my $function (@functions)
{
	my $reported = grep {
		$_->{function} == $function && ($_->{done} || $_->{uncaught})
	} @calls;
	is($reported, $calls_per_function,
		"$function->{signature}: all $calls_per_function calls reported how they ended");
}

# the server never crashed
is(postmaster_pid(), $postmaster_pid, 'the postmaster is the one that started');
my $log = slurp_file($node->logfile, $log_offset);
ok($log !~ /terminated by signal|was terminated by exception|PANIC:|TRAP:|server processes terminated/,
	'the log shows no crash, PANIC, TRAP or restart');
my @log_internal = grep {
	/(?:ERROR|FATAL|PANIC):  XX000: / && !/test worker \d+ fails on purpose/
} split /\n/, $log;
is(scalar @log_internal, 0, 'no process logged an error with SQLSTATE XX000')
  or diag(join "\n", @log_internal[0 .. ($#log_internal < 19 ? $#log_internal : 19)]);

# ---------------------------------------------------------------------------
# The state afterwards
# ---------------------------------------------------------------------------

# A successful deregister_worker call may have removed the registration
# named like its first argument, or the one with that id; one called with
# missing_ok false must have removed one of them.  Nothing else may change.
my $after = registrations();
my (%may_remove, @unexplained, @ineffective);
for my $call (@calls)
{
	next unless $call->{function}{name} eq 'deregister_worker'
	  && ($call->{state} // '') eq '00000' && !$call->{uncaught};
	my $target = $call->{target};
	my $before_db = $before->{ $call->{db} };
	if (!defined $target)
	{
		push @ineffective, "succeeded, but its argument is not a plain value: $call->{select}";
		next;
	}
	my @candidates = grep {
		$_ eq $target
		  || ($target =~ /^\s*[+-]?\d+\s*$/ && $before_db->{$_} == $target)
	} keys %$before_db;
	$may_remove{ $call->{db} }{$_} = 1 for @candidates;
	push @ineffective, "removed nothing: $call->{select}"
	  if defined $call->{missing_ok} && !$call->{missing_ok}
	  && !grep { !exists $after->{ $call->{db} }{$_} } @candidates;
}
for my $db (@ext_databases)
{
	for my $name (sort keys %{ $before->{$db} })
	{
		push @unexplained, "$db: \"$name\" was removed by no successful call"
		  if !exists $after->{$db}{$name} && !$may_remove{$db}{$name};
		push @unexplained, "$db: \"$name\" has id $after->{$db}{$name}, not $before->{$db}{$name}"
		  if exists $after->{$db}{$name} && $after->{$db}{$name} != $before->{$db}{$name};
	}
	push @unexplained, "$db: \"$_\" appeared"
	  for grep { !exists $before->{$db}{$_} } sort keys %{ $after->{$db} };
}
is(scalar @unexplained, 0,
	'the registrations are those of before, minus some that successful deregister_worker calls named')
  or diag(join "\n", @unexplained);
is(scalar @ineffective, 0,
	'every successful deregister_worker call with missing_ok false removed what it named')
  or diag(join "\n", map { substr($_, 0, 300) } @ineffective);
my $removed = 0;
$removed += keys(%{ $before->{$_} }) - keys(%{ $after->{$_} }) for @ext_databases;
note("deregister_worker removed $removed registrations");

# exactly the looping workers run (fz_fail and fz_done may have been woken
# up and be on their way back to waiting or done)
my %loops = map { $_ => 1 } ('test_worker', 'fz_loop');
for my $db (@ext_databases)
{
	my $expected_running = join ' ',
	  sort map { $after->{$db}{$_} } grep { $loops{$_} } keys %{ $after->{$db} };
	ok( $node->poll_query_until(
			$db, qq{
			SELECT coalesce(string_agg(l.worker_id::text, ' ' ORDER BY l.worker_id::text), '')
			FROM extension_base.list_base_workers() l
			JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE l.database_id = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND a.backend_type = 'pg_extension_base base worker'},
			$expected_running),
		"$db: exactly the registered looping workers run ($expected_running)");
	is( $node->safe_psql(
			$db, q{
			SELECT count(*) FROM extension_base.workers w
			FULL JOIN (SELECT * FROM extension_base.list_base_workers()
				WHERE database_id = (SELECT oid FROM pg_database
					WHERE datname = current_database())) l
			ON l.worker_id = w.worker_id
			WHERE w.worker_id IS NULL OR l.worker_id IS NULL}),
		'0', "$db: every registration has its registry slot, and no slot is left over");
}
is( $node->safe_psql(
		'postgres', q{
		SELECT count(*) FROM pg_stat_activity
		WHERE backend_type = 'pg_extension_base base worker'}),
	scalar(grep { $loops{$_} } map { keys %{ $after->{$_} } } @ext_databases),
	'no other base worker runs');
ok($node->poll_query_until('postgres', attached_workers_running(0)),
	'no attached worker is left running');
ok( $node->poll_query_until(
		'postgres', 'SELECT count(*) = 0 FROM extension_base.list_database_starters()'),
	'no database starter is left');

# the API still answers
# test_worker of postgres, which no call may remove, runs in its process
my $test_worker_id = $after->{postgres}{test_worker};
is( defined $test_worker_id
	? $node->safe_psql(
		'postgres', "SELECT extension_base.get_worker_pid($test_worker_id) = "
		  . "(SELECT pid FROM pg_stat_activity WHERE application_name = 'test_worker' "
		  . "AND datname = 'postgres' AND backend_type = 'pg_extension_base base worker')")
	: 'test_worker is not registered',
	't', 'get_worker_pid still gives the pid of a running worker');
is( $node->safe_psql(
		'postgres', q{
		SELECT string_agg(command_tag, ',') FROM extension_base.run_attached('SELECT 1; SELECT 2')}),
	'SELECT 1,SELECT 1', 'run_attached still runs commands');
is( $node->safe_psql(
		'postgres', q{
		SELECT count(*) FROM extension_base.modules() WHERE status = 'ok'}),
	'5', 'modules() still reports the five modules');

$node->stop;
my $final_log = slurp_file($node->logfile, $log_offset);
ok($final_log !~ /terminated by signal|PANIC:|TRAP:/, 'the server stops cleanly');
done_testing();
