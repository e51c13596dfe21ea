/* pgeb_test_worker--1.0--1.1.sql: a second worker */

\echo Use "ALTER EXTENSION pgeb_test_worker UPDATE" to load this file. \quit

SELECT extension_base.register_worker('test_worker_b', 'worker_main');
