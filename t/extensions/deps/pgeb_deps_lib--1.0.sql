\echo Use "CREATE EXTENSION pgeb_deps_lib" to load this file. \quit
CREATE FUNCTION pgeb_deps_lib_version() RETURNS text LANGUAGE sql AS $$ SELECT '1.0' $$;
