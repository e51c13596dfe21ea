/* pgeb_test_original--1.0.sql */

\echo Use "CREATE EXTENSION pgeb_test_original" to load this file. \quit

-- what IsExtensionCreated said while a script of this extension or of
-- pgeb_test_original_target ran
CREATE TABLE script_log (
    seq serial PRIMARY KEY,
    phase text NOT NULL,
    self_created bool NOT NULL,
    target_created bool NOT NULL,
    target_id oid
);

CREATE FUNCTION record_during_script(phase text) RETURNS void
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_original_record_during_script';

SELECT record_during_script('self create');

-- extension_ids.h and pg_extension_base_ids.h
CREATE FUNCTION preload_facts(OUT loaded_at_preload bool,
    OUT created_at_init bool, OUT base_cache_stable bool)
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_original_preload_facts';

CREATE FUNCTION target_ids(OUT created bool, OUT extension_id oid,
    OUT schema_id oid, OUT owner_id oid, OUT schema_name name,
    OUT clears bigint, OUT lookups bigint)
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_original_target_ids';

CREATE FUNCTION target_extension_id() RETURNS oid
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_original_target_extension_id';

CREATE FUNCTION ensure_target() RETURNS void
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_original_ensure_target';

CREATE FUNCTION base_ids(OUT created bool, OUT extension_id oid,
    OUT schema_id oid, OUT owner_id oid)
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_original_base_ids';

-- spi_helpers.h
CREATE FUNCTION spi_echo(OUT sql_saw text, OUT c_read text,
    OUT null_is_null bool, OUT null_pointer bool)
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_original_spi_echo';

CREATE FUNCTION spi_tracking(OUT auto_explain text,
    OUT pg_stat_statements text, OUT pgaudit text, OUT search_path text,
    OUT upper text, OUT current_user_name text)
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_original_spi_tracking';

CREATE FUNCTION owner_context(OUT spi_user text, OUT spi_search_path text,
    OUT spi_upper text, OUT spi_restricted bool, OUT temp_error text,
    OUT temp_allowed bool, OUT direct_user text, OUT direct_search_path text,
    OUT direct_restricted bool, OUT after_user text, OUT after_search_path text)
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_original_owner_context';

-- extension_control_file.h, pg_compat.h
CREATE FUNCTION control_directories() RETURNS text[]
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_original_control_directories';

CREATE FUNCTION control_filename(extension_name text) RETURNS text
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_original_control_filename';

CREATE FUNCTION is_control_filename(file_name text) RETURNS bool
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_original_is_control_filename';

CREATE FUNCTION requires_of(extension_name text) RETURNS text[]
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_original_requires_of';

CREATE FUNCTION foreach_demo() RETURNS text
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_original_foreach_demo';

-- extension_dependencies.h
CREATE FUNCTION deps_settings(OUT create_missing bool, OUT update_existing bool,
    OUT escalation_role text)
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_original_deps_settings';

-- base_workers.h: two workers written the original's way
CREATE TABLE worker_runs (
    run bigserial PRIMARY KEY,
    worker_name text NOT NULL,
    worker_id int NOT NULL,
    pid int NOT NULL,
    created_outside bool NOT NULL,
    created_inside bool NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE FUNCTION worker_main(internal) RETURNS internal
LANGUAGE C AS 'MODULE_PATHNAME', 'pgeb_test_original_worker_main';

SELECT extension_base.register_worker('original_again', 'worker_main');
SELECT extension_base.register_worker('original_once', 'worker_main');

CREATE FUNCTION deregister_worker(worker_name text, missing_ok bool DEFAULT false) RETURNS int
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_original_deregister_by_name';

CREATE FUNCTION deregister_worker(worker_id int, missing_ok bool DEFAULT false) RETURNS int
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_original_deregister_by_id';

CREATE FUNCTION wakeup_worker(worker_id int) RETURNS void
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_original_wakeup_worker';

CREATE FUNCTION launcher_enabled() RETURNS bool
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_original_launcher_enabled';

CREATE FUNCTION worker_settings() RETURNS text
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_original_worker_settings';

-- attached_worker.h
CREATE FUNCTION attached_rows(command text) RETURNS SETOF text
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'pgeb_test_original_attached_rows';
