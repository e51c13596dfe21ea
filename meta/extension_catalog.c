/*-------------------------------------------------------------------------
 *
 * extension_catalog.c
 *	  What the catalogs of the current database say about extensions.
 *
 * Unlike control_file.c, which reads files and runs in the postmaster too,
 * this reads pg_extension: it needs a transaction and a database, and takes
 * the catalog's ordinary AccessShareLock for the length of the scan.  Used
 * by extension_base.modules() (modules.c) and, through the function table
 * (installed_extension_version), by the dependency hook.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_extension.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"

#include "meta.h"

/*
 * The version of an extension installed in the current database, or NULL.
 * Needs a transaction; not for the postmaster.  Takes AccessShareLock on
 * pg_extension and releases it before returning.
 */
char *
pgeb_installed_extension_version(const char *extname)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	char	   *result = NULL;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum(extname));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;
		Datum		version = heap_getattr(tuple, Anum_pg_extension_extversion,
										   RelationGetDescr(rel), &isnull);

		if (!isnull)
			result = text_to_cstring(DatumGetTextPP(version));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	return result;
}
