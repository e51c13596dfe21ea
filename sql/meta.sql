--
-- The meta-extension and its components.
--

-- everything lands in schema extension_base
CREATE EXTENSION pg_extension_base CASCADE;

SELECT e.extname, e.extversion, n.nspname AS schema
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname LIKE 'pg_extension_base%'
ORDER BY e.extname;

-- the components, in load order, with matching SQL versions
SELECT module_name, library_version, abi_version, load_position,
       initialized, installed_version, status
FROM extension_base.modules()
ORDER BY load_position;

-- the library is already loaded: LOAD is a no-op
LOAD 'pg_extension_base';

-- the component settings exist and are fixed at server start
SHOW pg_extension_base.enable_preload_libraries;
SHOW pg_extension_base.preload_failure_action;
SET pg_extension_base.preload_failure_action = 'warning';

-- the prefix is reserved: a misspelt setting is refused
SET pg_extension_base.enable_preload_librarie = on;

-- dropping a component drops what requires it
DROP EXTENSION pg_extension_base_deps CASCADE;
SELECT extname FROM pg_extension WHERE extname LIKE 'pg_extension_base%' ORDER BY 1;

-- DROP ... CASCADE removes them all, and the schema goes with it
DROP SCHEMA extension_base CASCADE;
SELECT count(*) FROM pg_extension WHERE extname LIKE 'pg_extension_base%';

-- and all of it comes back
CREATE EXTENSION pg_extension_base CASCADE;
DROP EXTENSION pg_extension_base, pg_extension_base_preloader,
    pg_extension_base_supervisor, pg_extension_base_attached,
    pg_extension_base_deps CASCADE;
SELECT count(*) FROM pg_extension WHERE extname LIKE 'pg_extension_base%';
