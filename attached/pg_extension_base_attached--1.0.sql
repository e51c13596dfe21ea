/* pg_extension_base_attached--1.0.sql */

\echo Use "CREATE EXTENSION pg_extension_base_attached" to load this file. \quit

-- The attached worker SQL API (DESIGN.md section 6) is not implemented yet.
