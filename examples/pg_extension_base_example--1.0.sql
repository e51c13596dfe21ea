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

-- A base worker: pg_extension_base runs heartbeat_main in every database
-- where this extension exists, from the COMMIT of CREATE EXTENSION until
-- DROP EXTENSION, across restarts.
CREATE TABLE heartbeat (
    beats bigint NOT NULL,
    last_beat timestamptz,
    pid int
);
INSERT INTO heartbeat VALUES (0, NULL, NULL);
GRANT SELECT ON heartbeat TO PUBLIC;

CREATE FUNCTION heartbeat_main(internal)
RETURNS internal
LANGUAGE C
AS 'MODULE_PATHNAME', 'example_heartbeat_main';

SELECT extension_base.register_worker('heartbeat', 'heartbeat_main');
