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

-- a last statement without rows returns none
SELECT * FROM extension_base.run_attached_returning($$UPDATE attached_t SET id = id$$)
	AS t(id int);

-- the column list must match the result
SELECT * FROM extension_base.run_attached_returning($$SELECT 1, 2$$) AS t(a int);
SELECT * FROM extension_base.run_attached_returning($$SELECT 'x'::text$$) AS t(a int);

-- several statements are one transaction: an error rolls them all back
SELECT * FROM extension_base.run_attached($$
	INSERT INTO records VALUES ('rolled back');
	SELECT 1/0$$);
SELECT * FROM records ORDER BY value;

-- errors come back with their SQLSTATE, detail and hint
\set VERBOSITY verbose
SELECT * FROM extension_base.run_attached($$INSERT INTO no_such_table VALUES (1)$$);
SELECT * FROM extension_base.run_attached(
	'DO $do$ BEGIN RAISE EXCEPTION ''custom failure'' USING ERRCODE = ''P0099'', DETAIL = ''The detail.'', HINT = ''The hint.''; END $do$');
\set VERBOSITY default

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

CREATE ROLE attached_user;
GRANT EXECUTE ON FUNCTION extension_base.run_attached(text, text) TO attached_user;
GRANT EXECUTE ON FUNCTION extension_base.run_attached_returning(text, text) TO attached_user;
GRANT USAGE ON SCHEMA extension_base TO attached_user;
SET ROLE attached_user;
SELECT * FROM extension_base.run_attached_returning('SELECT current_user::text, session_user = current_user')
	AS t(who text, same bool);
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

-- a read-only caller gets a read-only worker
BEGIN TRANSACTION READ ONLY;
SELECT * FROM extension_base.run_attached($$INSERT INTO records VALUES ('read-only')$$);
ROLLBACK;

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

-- a database that does not allow connections
ALTER DATABASE attached_other ALLOW_CONNECTIONS false;
SELECT * FROM extension_base.run_attached('SELECT 1', 'attached_other');
DROP DATABASE attached_other;

-- no attached worker is left behind
SELECT count(*) FROM pg_stat_activity
WHERE backend_type = 'pg_extension_base attached worker';

DROP TABLE records, attached_t;
DROP SCHEMA attached_schema CASCADE;
REVOKE ALL ON FUNCTION extension_base.run_attached(text, text),
	extension_base.run_attached_returning(text, text) FROM attached_user;
REVOKE ALL ON SCHEMA extension_base FROM attached_user, attached_nobody;
DROP ROLE attached_user, attached_nobody;
DROP SCHEMA extension_base CASCADE;
