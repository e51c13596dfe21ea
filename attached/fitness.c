/*-------------------------------------------------------------------------
 *
 * fitness.c
 *	  Whether a warm attached worker is still what a new one would be.
 *
 * What a worker learned when it connected, and cannot learn again, comes
 * from three catalogs: its database's row in pg_database (whether it
 * allows connections, the CONNECT privilege, its name), its user's row in
 * pg_authid (LOGIN before PostgreSQL 17, superuser), and pg_db_role_setting
 * (the database's and the role's defaults, which become the values RESET
 * returns to).  A change to either row is seen through the syscache's
 * invalidation callbacks, which core runs when the worker next starts a
 * transaction; pg_db_role_setting has no syscache, so its rows that apply
 * are read and compared at each call (a scan of a small catalog).
 *
 * A worker that no longer fits gives its call back untouched and exits
 * (pool.c); the caller then starts a new worker, which makes every check
 * of a new connection and fails, or not, as a new one would.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_db_role_setting.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "utils/inval.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "attached.h"

static bool changed = false;
static uint64 settings_at_connect = 0;

static void catalog_row_changed(Datum arg, int cacheid, uint32 hashvalue);
static uint64 db_role_settings_fingerprint(void);

/* Once connected, in a transaction: remember what applies. */
void
pgeb_attached_fitness_init(void)
{
	CacheRegisterSyscacheCallback(AUTHOID, catalog_row_changed, (Datum) 0);
	CacheRegisterSyscacheCallback(DATABASEOID, catalog_row_changed, (Datum) 0);
	settings_at_connect = db_role_settings_fingerprint();
}

/* In a transaction, at the start of a warm call. */
bool
pgeb_attached_still_fits(void)
{
	return !changed && db_role_settings_fingerprint() == settings_at_connect;
}

/*
 * Any change to our role's or our database's row, or a reset of the
 * cache (hash 0).  Other rows hash differently, mostly; a collision only
 * costs a worker.
 */
static void
catalog_row_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	uint32		ours;

	if (cacheid == AUTHOID)
		ours = GetSysCacheHashValue1(AUTHOID,
									 ObjectIdGetDatum(GetAuthenticatedUserId()));
	else
		ours = GetSysCacheHashValue1(DATABASEOID, ObjectIdGetDatum(MyDatabaseId));
	if (hashvalue == 0 || hashvalue == ours)
		changed = true;
}

/* The rows of pg_db_role_setting that apply to us, as one number. */
static uint64
db_role_settings_fingerprint(void)
{
	Oid			user_id = GetAuthenticatedUserId();
	Relation	relation = table_open(DbRoleSettingRelationId, AccessShareLock);
	SysScanDesc scan = systable_beginscan(relation, InvalidOid, false, NULL, 0, NULL);
	uint64		fingerprint = 0;
	HeapTuple	tuple;

	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_db_role_setting row = (Form_pg_db_role_setting) GETSTRUCT(tuple);
		bool		isnull;
		Datum		config;
		struct varlena *value;

		if ((row->setdatabase != MyDatabaseId && row->setdatabase != InvalidOid) ||
			(row->setrole != user_id && row->setrole != InvalidOid))
			continue;
		config = heap_getattr(tuple, Anum_pg_db_role_setting_setconfig,
							  RelationGetDescr(relation), &isnull);
		if (isnull)
			continue;
		value = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(config));
		fingerprint += hash_bytes_extended((const unsigned char *) VARDATA_ANY(value),
										   VARSIZE_ANY_EXHDR(value),
										   ((uint64) row->setdatabase << 32) | row->setrole);
	}
	systable_endscan(scan);
	table_close(relation, AccessShareLock);
	return fingerprint;
}
