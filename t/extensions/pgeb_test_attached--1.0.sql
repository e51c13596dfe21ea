/* pgeb_test_attached--1.0.sql */

\echo Use "CREATE EXTENSION pgeb_test_attached" to load this file. \quit

CREATE FUNCTION pgeb_test_attached_parallel(commands text[])
RETURNS SETOF text
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'pgeb_test_attached_parallel';
