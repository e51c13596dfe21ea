/*-------------------------------------------------------------------------
 *
 * modules.c
 *	  extension_base.modules(): what the postmaster loaded, and whether the
 *	  SQL objects installed in this database match it.
 *
 * The library versions come from the shared module table (abi.h); the
 * installed versions come from pg_extension of the current database.  A
 * component whose SQL version differs from its library says so in the
 * status column, with the command that fixes it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "meta.h"

#define MODULES_COLUMNS 7

static char *module_status(const PgebModuleInfo *module, const char *installed);

PG_FUNCTION_INFO_V1(pgeb_modules);

/*
 * modules(out module_name text, out library_version text, out abi_version
 * text, out load_position int, out initialized bool, out installed_version
 * text, out status text)
 */
Datum
pgeb_modules(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const PgebSharedHeader *header = pgeb_shared_header();
	int			i;

	pgeb_require_loaded(header, PGEB_META_LIBRARY);
	InitMaterializedSRF(fcinfo, 0);

	for (i = 0; i < header->num_modules; i++)
	{
		const PgebModuleInfo *module = &header->modules[i];
		Datum		values[MODULES_COLUMNS];
		bool		nulls[MODULES_COLUMNS] = {0};
		char	   *installed = pgeb_installed_extension_version(module->name);

		values[0] = CStringGetTextDatum(module->name);
		values[1] = CStringGetTextDatum(module->library_version);
		values[2] = CStringGetTextDatum(psprintf("%d.%d", module->abi_major,
												 module->abi_minor));
		values[3] = Int32GetDatum(module->load_position);
		values[4] = BoolGetDatum(module->initialized);
		if (installed != NULL)
			values[5] = CStringGetTextDatum(installed);
		else
			nulls[5] = true;
		values[6] = CStringGetTextDatum(module_status(module, installed));

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	return (Datum) 0;
}

static char *
module_status(const PgebModuleInfo *module, const char *installed)
{
	if (!module->initialized)
		return "library did not finish initialising";
	if (installed == NULL)
		return "extension not created in this database";
	if (strcmp(installed, module->library_version) != 0)
		return psprintf("installed SQL version %s does not match library version %s: run ALTER EXTENSION %s UPDATE",
						installed, module->library_version, module->name);
	return "ok";
}
