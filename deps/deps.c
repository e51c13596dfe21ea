/*-------------------------------------------------------------------------
 *
 * deps.c
 *	  pg_extension_base_deps: creates and updates extension dependencies.
 *
 * Loaded by the meta library (pg_extension_base) in the postmaster, after
 * the modules before it in the load order described in pg_extension_base.c.
 * So far the module attaches to the meta library and registers itself in
 * the module table; its behaviour is described in DESIGN.md and is not
 * implemented yet.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "pg_extension_base/abi.h"
#include "pg_extension_base/compat.h"

#define MODULE_NAME "pg_extension_base_deps"

PGEB_MODULE_MAGIC(MODULE_NAME);

void		_PG_init(void);

/* Runs in the postmaster, called by the meta library's _PG_init. */
void
_PG_init(void)
{
	const PgExtensionBaseApi *api = pgeb_attach_component(MODULE_NAME);
	int			module_id = pgeb_register_component(api, MODULE_NAME, NULL);

	api->module_initialized(module_id);
}
