/*-------------------------------------------------------------------------
 *
 * extension_ids.c
 *	  The extension-ids caches of extension_ids.h, and pg_extension_base's
 *	  own (pg_extension_base_ids.h).
 *
 * Each cache remembers, for one extension name, what pg_extension of the
 * current database said: that the extension is missing, or its oid,
 * schema and owner.  The caches of a process are on one list, and all of
 * them forget everything when any extension is created, dropped or
 * altered, whichever backend did it:
 *
 *	- an object access hook sees every CREATE EXTENSION, DROP EXTENSION
 *	  (also through DROP SCHEMA ... CASCADE or DROP OWNED) and ALTER
 *	  EXTENSION (UPDATE, SET SCHEMA, ADD and DROP of members) as an access
 *	  to an object of class pg_extension, and queues a relcache invalidation
 *	  of pg_extension.  pg_extension has no syscache on PostgreSQL 15, so
 *	  core sends nothing we could listen to;
 *	- that message reaches this backend at the end of the command and every
 *	  other backend once the transaction commits (nothing if it aborts;
 *	  this backend then processes it again), where a relcache callback
 *	  resets every cache and calls each cache's clear function.
 *
 * The hook must run in the backend that changes the extension, not only in
 * the one that caches.  Both are installed, once per process however many
 * caches there are (core allows only a few relcache callbacks per
 * process), by CreateExtensionIdsCache or InitializePgExtensionBaseCache,
 * or else by the first use of a cache.  The meta library's _PG_init calls
 * InitializePgExtensionBaseCache in the postmaster, so every process
 * inherits both and tells the others about its extension DDL, whether or
 * not it caches anything itself.
 *
 * Caches are kept in TopMemoryContext, for the life of the process.
 * Reading pg_extension needs a transaction and a database; nothing here
 * reads it anywhere else.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "pg_extension_base/extension_ids.h"
#include "pg_extension_base/pg_extension_base_ids.h"

/* What a cache knows about its extension. */
typedef enum ExtensionState
{
	EXTENSION_STATE_UNKNOWN,	/* not looked up since the last reset */
	EXTENSION_STATE_EXISTS,		/* the oids below are valid */
	EXTENSION_STATE_MISSING
} ExtensionState;

struct CachedExtensionIdsData
{
	char		extensionName[NAMEDATALEN];
	ExtensionState state;
	Oid			extensionId;
	Oid			schemaId;
	Oid			ownerId;

	/* the caller's, called after every reset */
	ClearFunction clearFn;
	void	   *clearContext;

	/* the next cache of this process */
	struct CachedExtensionIdsData *next;
};

/*
 * pg_extension_base's own cache, valid without any initialisation, and the
 * head of the list of every cache of this process.
 */
static struct CachedExtensionIdsData pg_extension_base_ids = {
	.extensionName = PG_EXTENSION_BASE_NAME,
};
CachedExtensionIds *PgExtensionBase = &pg_extension_base_ids;

static CachedExtensionIds *all_caches = &pg_extension_base_ids;

static bool invalidation_installed = false;
static object_access_hook_type prev_object_access_hook = NULL;

static void install_invalidation(void);
static void extension_object_access(ObjectAccessType access, Oid classId,
									Oid objectId, int subId, void *arg);
static void extension_catalog_changed(Datum arg, Oid relationId);
static bool catalog_readable(void);
static void require_catalog(CachedExtensionIds *extension);
static void look_up(CachedExtensionIds *extension);
static bool running_own_script(CachedExtensionIds *extension);

/*
 * Make the cache of an extension.  Usually called from _PG_init, in the
 * postmaster when the library is preloaded: nothing here needs a
 * transaction or shared memory.
 */
CachedExtensionIds *
CreateExtensionIdsCache(char *extensionName, ClearFunction clearFn,
						void *clearContext)
{
	CachedExtensionIds *extension;

	if (extensionName == NULL || extensionName[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an extension-ids cache needs an extension name")));
	if (strlen(extensionName) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("extension name \"%s\" is too long", extensionName),
				 errdetail("Extension names are at most %d bytes long.",
						   NAMEDATALEN - 1)));

	install_invalidation();

	extension = MemoryContextAllocZero(TopMemoryContext,
									   sizeof(CachedExtensionIds));
	strlcpy(extension->extensionName, extensionName, NAMEDATALEN);
	extension->state = EXTENSION_STATE_UNKNOWN;
	extension->clearFn = clearFn;
	extension->clearContext = clearContext;
	extension->next = all_caches;
	all_caches = extension;

	return extension;
}

/*
 * PgExtensionBase needs no initialisation; this only makes sure that the
 * invalidation is in place in this process.  Calling it again does
 * nothing.
 */
void
InitializePgExtensionBaseCache(void)
{
	install_invalidation();
}

/*
 * Whether the extension exists in the current database and may be relied
 * on (see extension_ids.h for when it may not).
 */
bool
IsExtensionCreated(CachedExtensionIds *extension)
{
	install_invalidation();

	if (!catalog_readable() || IsBinaryUpgrade)
		return false;
	if (extension->state == EXTENSION_STATE_UNKNOWN)
		look_up(extension);
	if (extension->state != EXTENSION_STATE_EXISTS)
		return false;

	/* a hook that runs during its own script must not rely on its objects */
	return !running_own_script(extension);
}

Oid
ExtensionId(CachedExtensionIds *extension)
{
	require_catalog(extension);
	if (extension->state == EXTENSION_STATE_UNKNOWN)
		look_up(extension);
	if (extension->state != EXTENSION_STATE_EXISTS)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("extension \"%s\" does not exist",
						extension->extensionName)));
	return extension->extensionId;
}

Oid
ExtensionSchemaId(CachedExtensionIds *extension)
{
	(void) ExtensionId(extension);
	return extension->schemaId;
}

Oid
ExtensionOwnerId(CachedExtensionIds *extension)
{
	(void) ExtensionId(extension);
	return extension->ownerId;
}

/*
 * An error unless IsExtensionCreated, which says why: no transaction,
 * binary-upgrade mode, its own script still running, or missing.
 */
void
EnsureExtensionExists(CachedExtensionIds *extension)
{
	if (IsExtensionCreated(extension))
		return;

	require_catalog(extension);
	if (IsBinaryUpgrade)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"%s\" cannot be used in binary-upgrade mode",
						extension->extensionName)));
	if (extension->state == EXTENSION_STATE_EXISTS)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"%s\" is not ready", extension->extensionName),
				 errdetail("Its CREATE EXTENSION or ALTER EXTENSION UPDATE is still running a script.")));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("extension \"%s\" has not been created in this database",
					extension->extensionName),
			 errhint("Create it with CREATE EXTENSION %s.",
					 quote_identifier(extension->extensionName))));
}

/*
 * The object access hook and the relcache callback, once per process.  In
 * the postmaster both are inherited by every process it starts afterwards.
 */
static void
install_invalidation(void)
{
	if (invalidation_installed)
		return;

	CacheRegisterRelcacheCallback(extension_catalog_changed, (Datum) 0);
	prev_object_access_hook = object_access_hook;
	object_access_hook = extension_object_access;
	invalidation_installed = true;
}

/*
 * Core calls this after creating an extension, before dropping one and
 * after altering one (and for every other object; those are passed on
 * only).  The invalidation is queued: this backend processes it at the end
 * of the command, the others when the transaction commits.
 */
static void
extension_object_access(ObjectAccessType access, Oid classId, Oid objectId,
						int subId, void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);

	if (classId == ExtensionRelationId)
		CacheInvalidateRelcacheByRelid(ExtensionRelationId);
}

/*
 * A relcache invalidation: of pg_extension, or of everything (relationId
 * 0, after the invalidation queue overflowed).  Called for every relation
 * that changes, so anything else returns at once.  Must not fail or read
 * the catalog: it runs wherever invalidations are processed.
 */
static void
extension_catalog_changed(Datum arg, Oid relationId)
{
	CachedExtensionIds *extension;

	if (OidIsValid(relationId) && relationId != ExtensionRelationId)
		return;

	for (extension = all_caches; extension != NULL; extension = extension->next)
	{
		extension->state = EXTENSION_STATE_UNKNOWN;
		extension->extensionId = InvalidOid;
		extension->schemaId = InvalidOid;
		extension->ownerId = InvalidOid;
		if (extension->clearFn != NULL)
			extension->clearFn(extension->clearContext);
	}
}

/* Whether this process can read pg_extension now. */
static bool
catalog_readable(void)
{
	return IsTransactionState() && OidIsValid(MyDatabaseId);
}

static void
require_catalog(CachedExtensionIds *extension)
{
	if (!catalog_readable())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
				 errmsg("extension \"%s\" cannot be looked up outside a transaction",
						extension->extensionName),
				 errdetail("The catalog of extensions is read in a transaction, in a process connected to a database.")));
}

/*
 * Read the extension's row of pg_extension into the cache.  An
 * invalidation processed while the catalog is opened resets the cache
 * before the row is read, so what is stored is never older than the last
 * invalidation.
 */
static void
look_up(CachedExtensionIds *extension)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum(extension->extensionName));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		Form_pg_extension form = (Form_pg_extension) GETSTRUCT(tuple);

		extension->extensionId = form->oid;
		extension->schemaId = form->extnamespace;
		extension->ownerId = form->extowner;
		extension->state = EXTENSION_STATE_EXISTS;
	}
	else
		extension->state = EXTENSION_STATE_MISSING;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/*
 * Whether this backend is running a script of the extension: the one of
 * its CREATE EXTENSION, or of an ALTER EXTENSION UPDATE.  Its objects are
 * then not all there, or not in their final shape.
 */
static bool
running_own_script(CachedExtensionIds *extension)
{
	return creating_extension &&
		CurrentExtensionObject == extension->extensionId;
}
