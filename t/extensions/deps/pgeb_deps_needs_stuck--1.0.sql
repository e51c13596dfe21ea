\echo Use "CREATE EXTENSION pgeb_deps_needs_stuck" to load this file. \quit
-- requires pgeb_deps_stuck
