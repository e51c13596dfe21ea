\echo Use "CREATE EXTENSION pgeb_deps_leaf" to load this file. \quit
-- a requirement with no requirements
