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
-- error, fatal, sleep_then_error (<arg> ms), no_throw, transactions
CREATE TABLE behaviour (
    worker_name text PRIMARY KEY,
    action text NOT NULL,
    arg int NOT NULL DEFAULT 0
);
GRANT ALL ON behaviour TO PUBLIC;

CREATE FUNCTION worker_main(internal) RETURNS internal
LANGUAGE C AS 'MODULE_PATHNAME', 'pgeb_test_worker_main';

SELECT extension_base.register_worker('test_worker', 'worker_main');

-- the "transactions" behaviour: one row per START_TRANSACTION ...
-- END_TRANSACTION block that committed (steps first, second, after_error;
-- a block that failed, step failed, must leave none), with the times the
-- block saw; open_after_error: whether the failed block's transaction was
-- still open when its error reached the worker
CREATE TABLE transactions (
    worker_id int NOT NULL,
    pid int NOT NULL,
    step text NOT NULL,
    statement_time timestamptz NOT NULL DEFAULT statement_timestamp(),
    transaction_time timestamptz NOT NULL DEFAULT now(),
    clock_time timestamptz NOT NULL DEFAULT clock_timestamp(),
    open_after_error bool
);
GRANT ALL ON transactions TO PUBLIC;
