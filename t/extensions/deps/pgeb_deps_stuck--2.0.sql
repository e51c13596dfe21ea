\echo Use "CREATE EXTENSION pgeb_deps_stuck" to load this file. \quit
-- 2.0, and no update script between the two
