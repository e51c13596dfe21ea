\echo Use "CREATE EXTENSION pgeb_deps_cycle_app" to load this file. \quit
-- requires a leaf, then a cycle
