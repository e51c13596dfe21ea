\echo Use "ALTER EXTENSION pgeb_deps_trusted_dep UPDATE" to load this file. \quit
-- 1.1
