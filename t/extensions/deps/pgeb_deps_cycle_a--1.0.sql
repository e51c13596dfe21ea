\echo Use "CREATE EXTENSION pgeb_deps_cycle_a" to load this file. \quit
-- one half of a requirement cycle
