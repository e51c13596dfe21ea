/* pg_extension_base_supervisor--1.0--1.1.sql: the original's registrations table */

\echo Use "ALTER EXTENSION pg_extension_base_supervisor UPDATE" to load this file. \quit

-- extension_base.workers gets the columns and constraints of the original
-- pg_extension_base, whose extensions' update scripts write them directly
-- (UPDATE ... SET entry_point_schema = ... after moving an entry point):
--   worker_id             serial, unique (was id, an identity primary key)
--   worker_name           the primary key, at most 255 characters
--   extension_name        unchanged
--   entry_point_schema,   the entry point, looked up as
--   entry_point_function  schema.function(internal) (was entry_point, a
--                         regprocedure as text)
-- The rows keep their ids and names, so running workers run on; the view
-- base_workers follows the renamed column.  Dropping entry_point leaves the
-- columns in the original's order.

ALTER TABLE workers RENAME COLUMN id TO worker_id;

-- identity to serial, the counter carried over: ids are never reused
DO $$
DECLARE
    identity_sequence text :=
        pg_catalog.pg_get_serial_sequence('extension_base.workers', 'worker_id');
    last_value bigint;
    is_called bool;
BEGIN
    EXECUTE pg_catalog.format('SELECT last_value, is_called FROM %s', identity_sequence)
        INTO last_value, is_called;
    ALTER TABLE extension_base.workers ALTER COLUMN worker_id DROP IDENTITY;
    CREATE SEQUENCE extension_base.workers_worker_id_seq AS integer
        OWNED BY extension_base.workers.worker_id;
    PERFORM pg_catalog.setval('extension_base.workers_worker_id_seq', last_value, is_called);
END
$$;
ALTER TABLE workers ALTER COLUMN worker_id
    SET DEFAULT pg_catalog.nextval('extension_base.workers_worker_id_seq'::pg_catalog.regclass);

ALTER TABLE workers
    ADD COLUMN entry_point_schema name,
    ADD COLUMN entry_point_function name;

-- The schema and name of each entry point: those of the function it names
-- when there is one, else read from the text (format_procedure_qualified
-- wrote it, so it is schema.name(argument types), quoted as needed).
UPDATE workers w
SET entry_point_schema = coalesce(n.nspname, parsed.ident[1]),
    entry_point_function = coalesce(p.proname, parsed.ident[2])
FROM (SELECT ww.worker_id,
             pg_catalog.parse_ident(ww.entry_point, false) AS ident,
             pg_catalog.to_regprocedure(ww.entry_point) AS function_id
      FROM workers ww) parsed
LEFT JOIN pg_catalog.pg_proc p ON p.oid = parsed.function_id
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE parsed.worker_id = w.worker_id;

ALTER TABLE workers
    DROP COLUMN entry_point,
    ALTER COLUMN entry_point_schema SET NOT NULL,
    ALTER COLUMN entry_point_function SET NOT NULL,
    DROP CONSTRAINT workers_pkey,
    DROP CONSTRAINT workers_worker_name_key,
    ADD CONSTRAINT worker_id_unique UNIQUE (worker_id),
    ADD CONSTRAINT workers_pk PRIMARY KEY (worker_name),
    ADD CONSTRAINT name_length CHECK (pg_catalog.char_length(worker_name) <= 255);
