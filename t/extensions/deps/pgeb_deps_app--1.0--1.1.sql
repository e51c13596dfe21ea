\echo Use "ALTER EXTENSION pgeb_deps_app UPDATE" to load this file. \quit
-- this script relies on what lib 1.1 and new provide: fail clearly if the
-- dependencies were not brought up to date first
DO $$
BEGIN
	IF (SELECT extversion FROM pg_extension WHERE extname = 'pgeb_deps_lib') IS DISTINCT FROM '1.1' THEN
		RAISE EXCEPTION 'pgeb_deps_app 1.1 needs pgeb_deps_lib 1.1, found %',
			(SELECT extversion FROM pg_extension WHERE extname = 'pgeb_deps_lib');
	END IF;
	IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pgeb_deps_new') THEN
		RAISE EXCEPTION 'pgeb_deps_app 1.1 needs pgeb_deps_new';
	END IF;
END $$;
CREATE OR REPLACE FUNCTION pgeb_deps_app_version() RETURNS text LANGUAGE sql AS $$ SELECT '1.1' $$;
