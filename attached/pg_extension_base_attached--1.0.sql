/* pg_extension_base_attached--1.0.sql */

\echo Use "CREATE EXTENSION pg_extension_base_attached" to load this file. \quit

CREATE FUNCTION run_attached(
    command text,
    dbname text DEFAULT current_database(),
    OUT command_id int,
    OUT command_tag text)
RETURNS SETOF record
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'pgeb_run_attached';

COMMENT ON FUNCTION run_attached(text, text) IS
    'Runs the command in a separate background worker that commits on its own; one command tag per statement';

CREATE FUNCTION run_attached_returning(
    command text,
    dbname text DEFAULT current_database())
RETURNS SETOF record
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'pgeb_run_attached_returning';

COMMENT ON FUNCTION run_attached_returning(text, text) IS
    'Runs the command in a separate background worker that commits on its own; the rows of its last statement';

-- Worker slots are a shared, limited resource: administrators decide who may
-- use them (GRANT EXECUTE).  A grantee can do nothing through an attached
-- worker that it could not do in its own session.
REVOKE ALL ON FUNCTION run_attached(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION run_attached_returning(text, text) FROM PUBLIC;
