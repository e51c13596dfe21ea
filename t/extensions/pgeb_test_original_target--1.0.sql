/* pgeb_test_original_target--1.0.sql */

\echo Use "CREATE EXTENSION pgeb_test_original_target" to load this file. \quit

SELECT pgeb_test_original.record_during_script('target create');
