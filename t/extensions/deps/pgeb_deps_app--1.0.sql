\echo Use "CREATE EXTENSION pgeb_deps_app" to load this file. \quit
CREATE FUNCTION pgeb_deps_app_version() RETURNS text LANGUAGE sql AS $$ SELECT '1.0' $$;
