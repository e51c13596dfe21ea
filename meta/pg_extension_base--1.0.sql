/* pg_extension_base--1.0.sql */

\echo Use "CREATE EXTENSION pg_extension_base" to load this file. \quit

CREATE FUNCTION modules(
    OUT module_name text,
    OUT library_version text,
    OUT abi_version text,
    OUT load_position int,
    OUT initialized bool,
    OUT installed_version text,
    OUT status text)
RETURNS SETOF record
LANGUAGE C STRICT VOLATILE
AS 'MODULE_PATHNAME', 'pgeb_modules';

COMMENT ON FUNCTION modules() IS
    'The pg_extension_base libraries the postmaster loaded, in load order, and whether this database''s SQL objects match them';
