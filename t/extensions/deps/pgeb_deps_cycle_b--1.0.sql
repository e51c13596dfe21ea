\echo Use "CREATE EXTENSION pgeb_deps_cycle_b" to load this file. \quit
-- the other half of a requirement cycle
