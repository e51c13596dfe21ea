/* pg_extension_base_attached--1.0--1.1.sql: the pool of warm attached workers */

\echo Use "ALTER EXTENSION pg_extension_base_attached UPDATE" to load this file. \quit

CREATE FUNCTION attached_pool(
    OUT pid int,
    OUT database_id oid,
    OUT user_id oid,
    OUT state text,
    OUT calls bigint,
    OUT joined_at timestamptz,
    OUT idle_since timestamptz,
    OUT memory_bytes bigint)
RETURNS SETOF record
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'pgeb_attached_pool';

COMMENT ON FUNCTION attached_pool() IS
    'The warm attached workers of the whole server: idle, busy with a call, or exiting';

-- Names rather than oids; a pooled worker's database may be another one.
CREATE VIEW attached_pool AS
SELECT p.pid,
       d.datname AS database,
       r.rolname AS user_name,
       p.state,
       p.calls,
       p.joined_at,
       p.idle_since,
       p.memory_bytes
FROM extension_base.attached_pool() p
LEFT JOIN pg_catalog.pg_database d ON d.oid OPERATOR(pg_catalog.=) p.database_id
LEFT JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) p.user_id;

COMMENT ON VIEW attached_pool IS
    'The warm attached workers of the whole server: idle, busy with a call, or exiting';

-- As pg_stat_activity's other processes: who may see them decides.
REVOKE ALL ON FUNCTION attached_pool() FROM PUBLIC;
REVOKE ALL ON attached_pool FROM PUBLIC;
GRANT EXECUTE ON FUNCTION attached_pool() TO pg_read_all_stats;
GRANT SELECT ON attached_pool TO pg_read_all_stats;
