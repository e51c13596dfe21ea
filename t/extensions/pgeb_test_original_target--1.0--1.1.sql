/* pgeb_test_original_target--1.0--1.1.sql */

\echo Use "ALTER EXTENSION pgeb_test_original_target UPDATE" to load this file. \quit

SELECT pgeb_test_original.record_during_script('target update');
