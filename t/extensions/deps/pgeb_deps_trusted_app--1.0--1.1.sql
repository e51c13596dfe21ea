\echo Use "ALTER EXTENSION pgeb_deps_trusted_app UPDATE" to load this file. \quit
-- now also requires an untrusted extension
