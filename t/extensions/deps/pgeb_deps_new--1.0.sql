\echo Use "CREATE EXTENSION pgeb_deps_new" to load this file. \quit
-- a new requirement that itself requires a missing extension
