/* pg_extension_base_preloader--1.0.sql */

\echo Use "CREATE EXTENSION pg_extension_base_preloader" to load this file. \quit

CREATE FUNCTION list_preload_libraries(
    OUT extension_name text,
    OUT library_name text,
    OUT load_position int,
    OUT control_file text,
    OUT loaded bool,
    OUT error text)
RETURNS SETOF record
LANGUAGE C STRICT VOLATILE
AS 'MODULE_PATHNAME', 'pgeb_list_preload_libraries';

COMMENT ON FUNCTION list_preload_libraries() IS
    'Libraries that pg_extension_base preloaded at server start because a control file asked for it, in load order';
