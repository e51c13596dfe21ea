/* pgeb_test_worker--1.0.sql */

\echo Use "CREATE EXTENSION pgeb_test_worker" to load this file. \quit

-- one row each time a worker's entry point starts
CREATE TABLE runs (
    worker_id int NOT NULL,
    pid int NOT NULL,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
GRANT ALL ON runs TO PUBLIC;

-- what a worker does, by worker name: loop (the default), return <arg>,
-- error, fatal, sleep_then_error (<arg> ms), no_throw
CREATE TABLE behaviour (
    worker_name text PRIMARY KEY,
    action text NOT NULL,
    arg int NOT NULL DEFAULT 0
);
GRANT ALL ON behaviour TO PUBLIC;

CREATE FUNCTION worker_main(internal) RETURNS internal
LANGUAGE C AS 'MODULE_PATHNAME', 'pgeb_test_worker_main';

SELECT extension_base.register_worker('test_worker', 'worker_main');
