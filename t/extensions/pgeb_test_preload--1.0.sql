/* pgeb_test_preload--1.0.sql */

\echo Use "CREATE EXTENSION pgeb_test_preload" to load this file. \quit

CREATE FUNCTION pgeb_test_load_log(
    OUT load_order int,
    OUT library text,
    OUT at_server_start bool)
RETURNS SETOF record
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'pgeb_test_load_log';
