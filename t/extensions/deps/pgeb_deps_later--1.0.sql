\echo Use "CREATE EXTENSION pgeb_deps_later" to load this file. \quit
-- a requirement added by version 1.2 of the application
