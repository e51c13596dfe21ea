\echo Use "CREATE EXTENSION pgeb_deps_untrusted" to load this file. \quit
-- a requirement only superusers may create
