--
-- pg_extension_base_deps: requirements are created and updated, leaves
-- first, before CREATE and ALTER EXTENSION.  Test extensions: t/extensions/deps.
--

-- no CASCADE needed: the hook creates the four components first
CREATE EXTENSION pg_extension_base;

CREATE VIEW deps_state AS
SELECT extname, extversion FROM pg_extension
WHERE extname LIKE 'pgeb_deps%' ORDER BY extname;

-- app 1.0 with lib 1.0: a version other than the default pins the
-- extension, so its installed requirements stay where they are (lib's
-- default is 1.1)
CREATE EXTENSION pgeb_deps_lib VERSION '1.0';
CREATE EXTENSION pgeb_deps_app VERSION '1.0';
SELECT * FROM deps_state;

-- UPDATE TO an intermediate version: 1.1 adds pgeb_deps_new (which
-- requires pgeb_deps_leaf) and checks for lib 1.1.  Pinned, lib stays at
-- 1.0 and the update script fails loudly; nothing is left half-done
\set SHOW_CONTEXT never
ALTER EXTENSION pgeb_deps_app UPDATE TO '1.1';
\set SHOW_CONTEXT errors
SELECT * FROM deps_state;

-- with lib updated by hand, the missing requirements are still created
ALTER EXTENSION pgeb_deps_lib UPDATE;
ALTER EXTENSION pgeb_deps_app UPDATE TO '1.1';
SELECT * FROM deps_state;
SELECT pgeb_deps_app_version(), pgeb_deps_lib_version();

-- the rest of the way: 1.2 adds pgeb_deps_later
ALTER EXTENSION pgeb_deps_app UPDATE;
SELECT * FROM deps_state;

-- a multi-step path at once: 1.0 -> 1.1 -> 1.2 needs the requirements of
-- both steps
DROP EXTENSION pgeb_deps_app, pgeb_deps_new, pgeb_deps_leaf, pgeb_deps_later,
	pgeb_deps_lib;
CREATE EXTENSION pgeb_deps_lib VERSION '1.0';
CREATE EXTENSION pgeb_deps_app VERSION '1.0';
ALTER EXTENSION pgeb_deps_app UPDATE;
SELECT * FROM deps_state;

-- naming the default version is the same as naming none: lib is updated
DROP EXTENSION pgeb_deps_app, pgeb_deps_new, pgeb_deps_leaf, pgeb_deps_later,
	pgeb_deps_lib;
CREATE EXTENSION pgeb_deps_lib VERSION '1.0';
CREATE EXTENSION pgeb_deps_app VERSION '1.0';
ALTER EXTENSION pgeb_deps_app UPDATE TO '1.2';
SELECT * FROM deps_state;

-- CREATE EXTENSION of the default version (installed through 1.0 and two
-- updates) creates all of it, and updates an installed lib first
DROP EXTENSION pgeb_deps_app, pgeb_deps_new, pgeb_deps_leaf, pgeb_deps_later,
	pgeb_deps_lib;
CREATE EXTENSION pgeb_deps_lib VERSION '1.0';
CREATE EXTENSION pgeb_deps_app;
SELECT * FROM deps_state;
DROP EXTENSION pgeb_deps_app, pgeb_deps_new, pgeb_deps_leaf, pgeb_deps_later,
	pgeb_deps_lib;

-- with the create half off, behaviour is core's
SET pg_extension_base.enable_extension_dependency_create = off;
CREATE EXTENSION pgeb_deps_new;
CREATE EXTENSION pgeb_deps_new CASCADE;
SELECT * FROM deps_state;
DROP EXTENSION pgeb_deps_new, pgeb_deps_leaf;
RESET pg_extension_base.enable_extension_dependency_create;

-- with the update half off, behaviour is core's even without a version:
-- app's update script finds lib 1.0 and fails, and nothing is left half-done
CREATE EXTENSION pgeb_deps_lib VERSION '1.0';
SET pg_extension_base.enable_extension_dependency_update = off;
CREATE EXTENSION pgeb_deps_app VERSION '1.0';
-- (no CONTEXT lines: PostgreSQL 18 adds the script's statement and line)
\set SHOW_CONTEXT never
ALTER EXTENSION pgeb_deps_app UPDATE;
\set SHOW_CONTEXT errors
SELECT * FROM deps_state;
RESET pg_extension_base.enable_extension_dependency_update;
DROP EXTENSION pgeb_deps_app, pgeb_deps_lib;

-- a requirement cycle is a clear error before anything is created
CREATE EXTENSION pgeb_deps_cycle_app;
SELECT * FROM deps_state;

-- a requirement that is not available: core's error, nothing created
\set VERBOSITY terse
CREATE EXTENSION pgeb_deps_broken;
\set VERBOSITY default
SELECT * FROM deps_state;

-- an installed requirement without an update path to its default version
-- stays as it is: we add to core, never make it fail
CREATE EXTENSION pgeb_deps_stuck VERSION '1.0';
CREATE EXTENSION pgeb_deps_needs_stuck;
SELECT * FROM deps_state;
DROP EXTENSION pgeb_deps_needs_stuck, pgeb_deps_stuck;

-- a name that breaks core's rules never makes us look for files
CREATE EXTENSION "../../pgeb_deps_leaf";
CREATE EXTENSION pgeb_deps_leaf;
ALTER EXTENSION pgeb_deps_leaf UPDATE TO '../1.0';
DROP EXTENSION pgeb_deps_leaf;

-- inside a transaction block, a failure rolls back every step
BEGIN;
CREATE EXTENSION pgeb_deps_new;
SELECT * FROM deps_state;
ROLLBACK;
SELECT * FROM deps_state;

-- event triggers see the commands the hook runs
CREATE FUNCTION deps_report_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE
	command record;
BEGIN
	FOR command IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
		IF command.object_type = 'extension' THEN
			RAISE NOTICE 'event trigger saw % %', command.command_tag, command.object_identity;
		END IF;
	END LOOP;
END $$;
CREATE EVENT TRIGGER deps_report_ddl ON ddl_command_end EXECUTE FUNCTION deps_report_ddl();
CREATE EXTENSION pgeb_deps_new;
DROP EVENT TRIGGER deps_report_ddl;
DROP FUNCTION deps_report_ddl();
DROP EXTENSION pgeb_deps_new, pgeb_deps_leaf;

-- a non-superuser gets what core gives: trusted requirements are created
-- and updated, an untrusted one is refused by name
CREATE ROLE pgeb_deps_user;
DO $$ BEGIN
	EXECUTE format('GRANT CREATE ON DATABASE %I TO pgeb_deps_user', current_database());
END $$;
GRANT CREATE ON SCHEMA public TO pgeb_deps_user;
GRANT SELECT ON deps_state TO pgeb_deps_user;
SET ROLE pgeb_deps_user;
-- the settings are for superusers
SET pg_extension_base.enable_extension_dependency_create = off;
CREATE EXTENSION pgeb_deps_trusted_dep VERSION '1.0';
CREATE EXTENSION pgeb_deps_trusted_app VERSION '1.0';
SELECT * FROM deps_state;
ALTER EXTENSION pgeb_deps_trusted_app UPDATE;
SELECT * FROM deps_state;
DROP EXTENSION pgeb_deps_trusted_app, pgeb_deps_trusted_dep;
CREATE EXTENSION pgeb_deps_trusted_app VERSION '1.0';
SELECT * FROM deps_state;
DROP EXTENSION pgeb_deps_trusted_app, pgeb_deps_trusted_dep;
-- a requirement the user does not own is not updated, and CREATE of the
-- default version (which would update it) goes on
RESET ROLE;
CREATE EXTENSION pgeb_deps_trusted_dep VERSION '1.0';
CREATE EXTENSION pgeb_deps_untrusted;
SET ROLE pgeb_deps_user;
CREATE EXTENSION pgeb_deps_trusted_app;
SELECT * FROM deps_state;
DROP EXTENSION pgeb_deps_trusted_app;
RESET ROLE;
DROP EXTENSION pgeb_deps_trusted_dep, pgeb_deps_untrusted;
REVOKE SELECT ON deps_state FROM pgeb_deps_user;
REVOKE CREATE ON SCHEMA public FROM pgeb_deps_user;
DO $$ BEGIN
	EXECUTE format('REVOKE CREATE ON DATABASE %I FROM pgeb_deps_user', current_database());
END $$;
DROP ROLE pgeb_deps_user;

DROP VIEW deps_state;
DROP SCHEMA extension_base CASCADE;
