\echo Use "ALTER EXTENSION pgeb_deps_lib UPDATE" to load this file. \quit
CREATE OR REPLACE FUNCTION pgeb_deps_lib_version() RETURNS text LANGUAGE sql AS $$ SELECT '1.1' $$;
