--
-- Attached workers: SQL that runs in a separate background worker, commits
-- on its own, and reports back.
--
CREATE EXTENSION pg_extension_base;
CREATE TABLE records (value text);

-- the seed example: the row stays after the caller rolls back
BEGIN;
SELECT * FROM extension_base.run_attached($$insert into records values ('commits immediately')$$);
ROLLBACK;
SELECT * FROM records;

-- one row per statement, with the full command tag
SELECT * FROM extension_base.run_attached($$
	CREATE TABLE attached_t (id int, note text);
	INSERT INTO attached_t VALUES (1, 'one'), (2, NULL), (3, 'three');
	UPDATE attached_t SET note = 'two' WHERE id = 2;
	SELECT * FROM attached_t;
	DELETE FROM attached_t WHERE id = 3$$);

-- the rows of the last statement, with NULLs
SELECT * FROM extension_base.run_attached_returning(
	$$UPDATE attached_t SET note = NULL WHERE id = 1; SELECT id, note FROM attached_t ORDER BY id$$)
	AS t(id int, note text);

-- a last statement that returns no rows at all does not match a column list
SELECT * FROM extension_base.run_attached_returning($$UPDATE attached_t SET id = id$$)
	AS t(id int);
SELECT * FROM extension_base.run_attached_returning($$SELECT 1 WHERE false$$)
	AS t(id int);

-- a domain in the column list matches its base type
CREATE DOMAIN attached_posint AS int CHECK (VALUE > 0);
SELECT * FROM extension_base.run_attached_returning($$SELECT 5$$) AS t(x attached_posint);

-- the column list must match the result
SELECT * FROM extension_base.run_attached_returning($$SELECT 1, 2$$) AS t(a int);
SELECT * FROM extension_base.run_attached_returning($$SELECT 'x'::text$$) AS t(a int);

-- several statements are one transaction: an error rolls them all back
SELECT * FROM extension_base.run_attached($$
	INSERT INTO records VALUES ('rolled back');
	SELECT 1/0$$);
SELECT * FROM records ORDER BY value;

-- errors come back with their SQLSTATE, detail and hint (psql keeps the
-- SQLSTATE in LAST_ERROR_SQLSTATE; VERBOSITY verbose would also print core's
-- source file and line, which differ between versions and minor releases)
SELECT * FROM extension_base.run_attached($$INSERT INTO no_such_table VALUES (1)$$);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM extension_base.run_attached(
	'DO $do$ BEGIN RAISE EXCEPTION ''custom failure'' USING ERRCODE = ''P0099'', DETAIL = ''The detail.'', HINT = ''The hint.''; END $do$');
\echo :LAST_ERROR_SQLSTATE

-- the caller's session goes on, also inside a PL/pgSQL exception block
DO $$
BEGIN
	PERFORM * FROM extension_base.run_attached('SELECT 1/0');
EXCEPTION WHEN division_by_zero THEN
	RAISE NOTICE 'caught: %', SQLERRM;
END $$;

-- notices and warnings reach the client once
SELECT * FROM extension_base.run_attached(
	'DO $do$ BEGIN RAISE NOTICE ''a notice from the worker''; RAISE WARNING ''a warning from the worker''; END $do$');

-- statements that run only outside a transaction block work when alone
SELECT * FROM extension_base.run_attached('VACUUM attached_t');
SELECT * FROM extension_base.run_attached('VACUUM attached_t; SELECT 1');

-- the worker has the caller's settings and identity
CREATE SCHEMA attached_schema;
CREATE TABLE attached_schema.only_here (x int);
SET search_path = attached_schema, public;
SET statement_timeout = '7s';
SET DateStyle = 'SQL, DMY';
SET pgeb.custom_setting = 'custom value';
SELECT * FROM extension_base.run_attached_returning($$
	SELECT current_setting('search_path'), current_setting('statement_timeout'),
		current_setting('DateStyle'), current_setting('pgeb.custom_setting'),
		'2026-11-24'::date::text, (SELECT count(*) FROM only_here)$$)
	AS t(search_path text, statement_timeout text, datestyle text,
		custom text, a_date text, only_here bigint);
RESET search_path;
RESET statement_timeout;
RESET DateStyle;

-- each call has the settings as they are when it is made, however they
-- changed since the last call of this session
CREATE FUNCTION attached_work_mem() RETURNS text LANGUAGE sql AS $$
	SELECT w FROM extension_base.run_attached_returning(
		$q$SELECT current_setting('work_mem')$q$) AS t(w text) $$;
SET work_mem = '5MB';
SELECT attached_work_mem();
SET work_mem = '6MB';
SELECT attached_work_mem();
BEGIN;
SET LOCAL work_mem = '7MB';
SELECT attached_work_mem();
COMMIT;
SELECT attached_work_mem();
SELECT set_config('work_mem', '8MB', false);
SELECT attached_work_mem();
CREATE FUNCTION attached_work_mem_9() RETURNS text LANGUAGE sql
	SET work_mem = '9MB' AS $$ SELECT attached_work_mem() $$;
SELECT attached_work_mem_9();
SELECT attached_work_mem();
RESET work_mem;
SELECT attached_work_mem();
SET pgeb.custom_setting = 'another value';
SELECT * FROM extension_base.run_attached_returning(
	$$SELECT current_setting('pgeb.custom_setting')$$) AS t(custom text);

CREATE ROLE attached_user;
GRANT EXECUTE ON FUNCTION extension_base.run_attached(text, text) TO attached_user;
GRANT EXECUTE ON FUNCTION extension_base.run_attached_returning(text, text) TO attached_user;
GRANT USAGE ON SCHEMA extension_base TO attached_user;
SET ROLE attached_user;
SELECT * FROM extension_base.run_attached_returning(
	$$SELECT current_user::text, session_user = current_user, current_setting('role')$$)
	AS t(who text, same bool, role text);
-- no more privileges than in its own session
SELECT * FROM extension_base.run_attached('SELECT * FROM records');
SELECT * FROM records;
RESET ROLE;

-- without EXECUTE, nothing
CREATE ROLE attached_nobody;
GRANT USAGE ON SCHEMA extension_base TO attached_nobody;
SET ROLE attached_nobody;
SELECT * FROM extension_base.run_attached('SELECT 1');
RESET ROLE;

-- settings that only a superuser may set survive the caller's SET ROLE
SET log_statement = 'all';
SET ROLE attached_user;
SELECT * FROM extension_base.run_attached_returning($$SELECT current_setting('log_statement')$$)
	AS t(log_statement text);
RESET ROLE;
RESET log_statement;

-- a read-only caller gets a read-only worker
BEGIN TRANSACTION READ ONLY;
SELECT * FROM extension_base.run_attached($$INSERT INTO records VALUES ('read-only')$$);
ROLLBACK;

-- read-only follows the caller's current transaction, not its default
-- (t/031_attached_original_api.pl: a server whose default is read-only)
CREATE TABLE attached_rw (note text);
SET default_transaction_read_only = on;
BEGIN READ WRITE;
SELECT * FROM extension_base.run_attached($$INSERT INTO attached_rw VALUES ('begin read write')$$);
COMMIT;
BEGIN;
SET TRANSACTION READ WRITE;
SELECT * FROM extension_base.run_attached_returning(
	$$INSERT INTO attached_rw VALUES ('set transaction read write')
	  RETURNING note, current_setting('transaction_read_only')$$)
	AS t(note text, read_only text);
COMMIT;
RESET default_transaction_read_only;
BEGIN;
SET TRANSACTION READ ONLY;
SELECT * FROM extension_base.run_attached($$INSERT INTO attached_rw VALUES ('read only')$$);
ROLLBACK;
SELECT * FROM attached_rw ORDER BY note;
DROP TABLE attached_rw;

-- refused statements
SELECT * FROM extension_base.run_attached('BEGIN; INSERT INTO records VALUES (1); COMMIT');
SELECT * FROM extension_base.run_attached('SAVEPOINT s');
SELECT * FROM extension_base.run_attached($$PREPARE TRANSACTION 'x'$$);
SELECT * FROM extension_base.run_attached('COPY records FROM STDIN');
SELECT * FROM extension_base.run_attached('COPY records TO STDOUT');

-- bad input
SELECT * FROM extension_base.run_attached(NULL);
SELECT * FROM extension_base.run_attached('SELECT 1', NULL);
SELECT * FROM extension_base.run_attached('');
SELECT * FROM extension_base.run_attached('  ;  ');
SELECT * FROM extension_base.run_attached('SELEC 1');
SELECT * FROM extension_base.run_attached('SELECT 1', 'no_such_database');

-- another database: needs CONNECT there
CREATE DATABASE attached_other;
SELECT * FROM extension_base.run_attached('CREATE TABLE made_elsewhere (x int)', 'attached_other');
SELECT * FROM extension_base.run_attached_returning(
	$$SELECT current_database()::text, count(*) FROM pg_class WHERE relname = 'made_elsewhere'$$,
	'attached_other') AS t(db text, tables bigint);
REVOKE CONNECT ON DATABASE attached_other FROM PUBLIC;
SET ROLE attached_user;
SELECT * FROM extension_base.run_attached('SELECT 1', 'attached_other');
RESET ROLE;

-- statements that wait for older snapshots would wait for the caller:
-- refused in the caller's database, fine in another
SELECT * FROM extension_base.run_attached('CREATE INDEX CONCURRENTLY ON attached_t (id)');
SELECT * FROM extension_base.run_attached('REINDEX (CONCURRENTLY) TABLE attached_t');
SELECT * FROM extension_base.run_attached(
	'CREATE INDEX CONCURRENTLY made_elsewhere_x ON made_elsewhere (x)', 'attached_other');

-- the worker checks its own parse: here its database's setting makes it
-- read a BEGIN that the caller's parse did not see
CREATE DATABASE attached_scs;
DO $$ BEGIN
	EXECUTE format('ALTER ROLE %I IN DATABASE attached_scs SET standard_conforming_strings = off', current_user);
	EXECUTE format('ALTER ROLE %I IN DATABASE attached_scs SET escape_string_warning = off', current_user);
END $$;
SELECT * FROM extension_base.run_attached('CREATE TABLE t2 (x int)', 'attached_scs');
SELECT * FROM extension_base.run_attached($$insert into t2 values (42); select 'a\'; begin; --'$$, 'attached_scs');
SELECT * FROM extension_base.run_attached_returning('SELECT count(*) FROM t2', 'attached_scs')
	AS t(n bigint);
DROP DATABASE attached_scs;

-- another encoding: values and the command itself are converted
CREATE DATABASE attached_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
SELECT s, length(s), s = 'é' AS same, n
FROM extension_base.run_attached_returning(
	$$SELECT chr(233), length('é')$$, 'attached_latin1') AS t(s text, n int);
DROP DATABASE attached_latin1;

-- a database that does not allow connections
ALTER DATABASE attached_other ALLOW_CONNECTIONS false;
SELECT * FROM extension_base.run_attached('SELECT 1', 'attached_other');
DROP DATABASE attached_other;

-- no attached worker is left behind, but warm ones waiting in the pool
SELECT count(*) FROM pg_stat_activity a
WHERE backend_type = 'pg_extension_base attached worker'
AND NOT EXISTS (SELECT FROM extension_base.attached_pool p
                WHERE p.pid = a.pid AND p.state = 'idle');

DROP TABLE records, attached_t;
DROP DOMAIN attached_posint;
DROP SCHEMA attached_schema CASCADE;
REVOKE ALL ON FUNCTION extension_base.run_attached(text, text),
	extension_base.run_attached_returning(text, text) FROM attached_user;
REVOKE ALL ON SCHEMA extension_base FROM attached_user, attached_nobody;
DROP ROLE attached_user, attached_nobody;
DROP SCHEMA extension_base CASCADE;
