\echo Use "CREATE EXTENSION pgeb_deps_trusted_app" to load this file. \quit
-- a trusted application
