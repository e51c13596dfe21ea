/* pg_extension_base_example--1.0.sql */

\echo Use "CREATE EXTENSION pg_extension_base_example" to load this file. \quit

CREATE FUNCTION loaded_at_server_start()
RETURNS bool
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'example_loaded_at_server_start';

COMMENT ON FUNCTION loaded_at_server_start() IS
    'True when the library was loaded by the postmaster at server start';

CREATE FUNCTION next_ticket()
RETURNS bigint
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'example_next_ticket';

COMMENT ON FUNCTION next_ticket() IS
    'A number from a counter in shared memory, shared by all sessions';
