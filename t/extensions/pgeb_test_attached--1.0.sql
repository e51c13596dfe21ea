/* pgeb_test_attached--1.0.sql */

\echo Use "CREATE EXTENSION pgeb_test_attached" to load this file. \quit

CREATE FUNCTION pgeb_test_attached_parallel(commands text[])
RETURNS SETOF text
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'pgeb_test_attached_parallel';

CREATE FUNCTION pgeb_test_attached_described(command text, dbname text DEFAULT NULL,
    null_pointer bool DEFAULT false)
RETURNS SETOF text
LANGUAGE C
AS 'MODULE_PATHNAME', 'pgeb_test_attached_described';

CREATE FUNCTION pgeb_test_attached_fields(command text, returns_rows bool, lock_key bigint)
RETURNS SETOF text
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'pgeb_test_attached_fields';

CREATE FUNCTION pgeb_test_attached_as(command text, dbname text, username text)
RETURNS SETOF text
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'pgeb_test_attached_as';
