/* pg_extension_base_supervisor--1.0.sql */

\echo Use "CREATE EXTENSION pg_extension_base_supervisor" to load this file. \quit

-- The base worker SQL API (DESIGN.md section 5) is not implemented yet.
