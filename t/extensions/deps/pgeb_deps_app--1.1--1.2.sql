\echo Use "ALTER EXTENSION pgeb_deps_app UPDATE" to load this file. \quit
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pgeb_deps_later') THEN
		RAISE EXCEPTION 'pgeb_deps_app 1.2 needs pgeb_deps_later';
	END IF;
END $$;
CREATE OR REPLACE FUNCTION pgeb_deps_app_version() RETURNS text LANGUAGE sql AS $$ SELECT '1.2' $$;
