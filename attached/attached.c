/*-------------------------------------------------------------------------
 *
 * attached.c
 *	  pg_extension_base_attached: run SQL in a separate background worker
 *	  that commits on its own.
 *
 * Loaded by the meta library (pg_extension_base) in the postmaster, after
 * deps and the supervisor.  The caller's side is in launch.c (the C API of
 * pg_extension_base/attached_worker.h) and sql.c (run_attached and
 * run_attached_returning); the worker is in worker.c; settings.c carries
 * the caller's settings over; segment_space.c reserves room for the
 * workers' segments in the main shared memory.  Warm workers: pool.c keeps
 * them and hands calls over, reset.c cleans them between calls, fitness.c
 * checks that they are still what a new worker would be, ddl.c drains
 * them from a database that DDL needs free.  The protocol is in
 * attached/README.md.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "pg_extension_base/abi.h"
#include "pg_extension_base/compat.h"
#include "attached.h"

PGEB_MODULE_MAGIC(ATTACHED_MODULE_NAME);

/* Set when _PG_init completed in the postmaster; children inherit it. */
static bool loaded = false;

void		_PG_init(void);

/* Runs in the postmaster, called by the meta library's _PG_init. */
void
_PG_init(void)
{
	const PgExtensionBaseApi *api = pgeb_attach_component(ATTACHED_MODULE_NAME);
	int			module_id;

	/*
	 * Registered with the version of our SQL objects (1.1: the pool's
	 * view) rather than the release's, as the supervisor does: modules()
	 * then asks a database at 1.0 for ALTER EXTENSION ... UPDATE.
	 */
	module_id = api->register_module(ATTACHED_MODULE_NAME, ATTACHED_SQL_VERSION,
									 PGEB_ABI_MAJOR, PGEB_ABI_MINOR);

	pgeb_attached_reserve_segment_space();
	pgeb_attached_pool_define_settings();
	pgeb_attached_reset_define_settings();
	pgeb_attached_install_ddl_hook();
	api->module_initialized(module_id);
	loaded = true;
}

bool
pgeb_attached_module_loaded(void)
{
	return loaded;
}
