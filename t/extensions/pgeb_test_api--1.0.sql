/* pgeb_test_api--1.0.sql */

\echo Use "CREATE EXTENSION pgeb_test_api" to load this file. \quit

-- one row per base worker, keyed by the MyBaseWorkerId of its process and
-- updated at every heartbeat
CREATE TABLE heartbeats (
    worker_id int PRIMARY KEY,
    argument int NOT NULL,
    pid int NOT NULL,
    beats bigint NOT NULL DEFAULT 1,
    sleep_ms int NOT NULL,
    reloads int NOT NULL,
    work_mem text NOT NULL,
    errors_survived int NOT NULL,
    deregistered_self bool NOT NULL DEFAULT false,
    last_beat timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- what a worker does after its next heartbeat; it deletes the order
CREATE TABLE orders (
    worker_id int PRIMARY KEY,
    action text NOT NULL
        CHECK (action IN ('survive_error', 'sleep_long', 'deregister_self',
                          'finish', 'restart'))
);

CREATE FUNCTION worker_main(internal) RETURNS internal
LANGUAGE C AS 'MODULE_PATHNAME', 'pgeb_test_api_worker_main';

-- RegisterBaseWorker, outside any extension script
CREATE FUNCTION register_worker(worker_name text,
    entry_point regprocedure DEFAULT 'worker_main(internal)')
RETURNS int
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_api_register_worker';

-- DeregisterBaseWorker and DeregisterBaseWorkerById: the id removed
CREATE FUNCTION deregister_worker(worker_name text, missing_ok bool DEFAULT false)
RETURNS int
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_api_deregister_by_name';

CREATE FUNCTION deregister_worker(worker_id int, missing_ok bool DEFAULT false)
RETURNS int
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_api_deregister_by_id';

-- WakeupBaseWorker
CREATE FUNCTION wakeup_worker(worker_id int)
RETURNS void
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_api_wakeup_worker';

-- EnableBaseWorkerLauncher, BaseWorkerSharedMemorySize(),
-- BaseWorkerSharedMemoryInit()
CREATE FUNCTION launcher_enabled()
RETURNS bool
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_api_launcher_enabled';

-- WorkerStarterSleepTimeSec, WorkerRestartBackoffInitialMs,
-- WorkerRestartBackoffMaxMs, WorkerRestartHealthyMs
CREATE FUNCTION worker_settings()
RETURNS int[]
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_api_worker_settings';

CREATE FUNCTION shared_memory_size()
RETURNS bigint
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_api_shared_memory_size';

CREATE FUNCTION shared_memory_init()
RETURNS void
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_api_shared_memory_init';

-- GetBaseWorkerPid
CREATE FUNCTION worker_pid(worker_id int)
RETURNS int
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_api_worker_pid';

-- MyBaseWorkerId of the calling process
CREATE FUNCTION my_base_worker_id()
RETURNS int
LANGUAGE C AS 'MODULE_PATHNAME', 'pgeb_test_api_my_base_worker_id';

-- An attached worker in the current database (dbname NULL) or in dbname,
-- as the current user or as username: its command tags, or the rows of
-- its last statement
CREATE FUNCTION attached_tags(command text, dbname text DEFAULT NULL,
    username text DEFAULT NULL)
RETURNS SETOF text
LANGUAGE C AS 'MODULE_PATHNAME', 'pgeb_test_api_attached_tags';

CREATE FUNCTION attached_rows(command text, dbname text DEFAULT NULL,
    username text DEFAULT NULL)
RETURNS SETOF record
LANGUAGE C AS 'MODULE_PATHNAME', 'pgeb_test_api_attached_rows';

-- An attached worker ended while it still runs: the tag of its first
-- statement, what a read without waiting then gives, whether it ran and
-- its pid when it was ended
CREATE FUNCTION attached_end_early(command text,
    OUT first_tag text, OUT tag_without_waiting text, OUT running bool,
    OUT worker_pid int)
RETURNS record
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_api_attached_end_early';
