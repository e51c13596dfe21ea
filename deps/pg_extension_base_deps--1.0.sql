/* pg_extension_base_deps--1.0.sql */

\echo Use "CREATE EXTENSION pg_extension_base_deps" to load this file. \quit

-- No SQL objects: the module works through its ProcessUtility hook.
