\echo Use "CREATE EXTENSION pgeb_deps_broken" to load this file. \quit
-- requires a leaf, then an extension that is not available
