/* pgeb_test_utility_log--1.0.sql */

\echo Use "CREATE EXTENSION pgeb_test_utility_log" to load this file. \quit

CREATE FUNCTION pgeb_test_utility_log(OUT command text)
RETURNS SETOF text
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'pgeb_test_utility_log';
