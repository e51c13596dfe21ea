/*
 * pgeb_test_abi_mismatch.c
 *	  A pg_extension_base component built for ABI major version 99.
 *
 * It attaches exactly as the real components do, through the installed
 * header, so loading it after pg_extension_base shows how a component of
 * another ABI major version is refused.  The header is a copy of the
 * installed abi.h that says major version 99 (abi_major_99.h, made by the
 * Makefile): the installed header has no way to change its version.
 */
#include "postgres.h"

#include "abi_major_99.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	const PgExtensionBaseApi *api = pgeb_attach_component("pgeb_test_abi_mismatch");

	api->module_initialized(pgeb_register_component(api, "pgeb_test_abi_mismatch"));
}
