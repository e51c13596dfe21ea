\echo Use "CREATE EXTENSION pgeb_deps_trusted_dep" to load this file. \quit
-- 1.0
