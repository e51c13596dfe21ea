--
-- The preloader, as a session sees it.  The private installation has one
-- marked extension, the example; the TAP suite covers the rest.
--
CREATE EXTENSION pg_extension_base_example CASCADE;

SELECT extension_name, library_name, load_position,
       regexp_replace(control_file, '^.*/', '') AS control_file,
       loaded, error
FROM extension_base.list_preload_libraries()
ORDER BY load_position;

-- the example's library was loaded by the postmaster, so it could reserve
-- shared memory, which every session shares
SELECT extension_base_example.loaded_at_server_start();
SELECT extension_base_example.next_ticket() > 0 AS has_tickets;

DROP EXTENSION pg_extension_base_example;
DROP SCHEMA extension_base_example;
DROP SCHEMA extension_base CASCADE;
