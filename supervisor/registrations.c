/*-------------------------------------------------------------------------
 *
 * registrations.c
 *	  The registrations of base workers: rows of extension_base.workers in
 *	  each database, and the C API of pg_extension_base/base_workers.h that
 *	  adds and removes them.
 *
 * Rows name things (worker, entry point, extension) instead of holding
 * OIDs, so that pg_dump/pg_restore and pg_upgrade keep them meaningful: a
 * restored CREATE EXTENSION runs its script, which registers its workers
 * again (the table is not a configuration table, so its rows are never
 * dumped twice).  Every change sets a flag that makes the end of the
 * transaction wake the server starter (stop.c); nothing starts before the
 * COMMIT, see database_starter.c.  A removal (deregister, DROP EXTENSION
 * through ddl_hooks.c) then stops the workers and waits (stop.c).
 *
 * Calls go one way: ddl_hooks.c calls this file, this file calls stop.c
 * and registry.c, neither of which calls back.
 *
 * Locks: the rows are changed through SPI, under the table's ROW EXCLUSIVE
 * lock, which the database starter waits out (database_starter.c).  Of
 * SupervisorState->lock, only GetBaseWorkerPid takes it, shared, to read
 * one slot; stop.c takes it to stop.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "pg_extension_base/base_workers.h"
#include "supervisor.h"

static Oid	require_registrations_table(void);
static void check_worker_name(const char *name);
static void check_entry_point(Oid function_id);
static int	run_query(const char *sql, int nargs, Oid *types, Datum *values,
					  bool read_only, List **ids);
static void deregister(const char *name, int32 worker_id, bool missing_ok);
static List *for_worker(const char *statement, const char *name, int32 worker_id);
static List *delete_registrations_of_extension(const char *extension_name);

/* extension_base.workers in this database, or InvalidOid */
Oid
pgeb_registrations_table(void)
{
	Oid			namespace = get_namespace_oid(SUPERVISOR_SCHEMA, true);

	if (!OidIsValid(namespace))
		return InvalidOid;
	return get_relname_relid(REGISTRATIONS_TABLE, namespace);
}

int32
RegisterBaseWorker(char *workerName, Oid entryPointFunctionId, Oid extensionId)
{
	char	   *extension_name;
	Oid			types[3] = {TEXTOID, TEXTOID, NAMEOID};
	Datum		values[3];
	List	   *ids = NIL;
	NameData	extname;

	pgeb_require_registry();
	pgeb_require_superuser("register base workers");
	if (workerName == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the name of a base worker must not be null")));
	check_worker_name(workerName);
	check_entry_point(entryPointFunctionId);
	extension_name = get_extension_name(extensionId);
	if (extension_name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("extension with OID %u does not exist", extensionId)));
	(void) require_registrations_table();

	if (pgeb_find_registration(workerName, 0) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("base worker \"%s\" already exists", workerName)));

	values[0] = CStringGetTextDatum(workerName);
	values[1] = CStringGetTextDatum(format_procedure_qualified(entryPointFunctionId));
	namestrcpy(&extname, extension_name);
	values[2] = NameGetDatum(&extname);
	(void) run_query("INSERT INTO " SUPERVISOR_SCHEMA "." REGISTRATIONS_TABLE
					 " (worker_name, entry_point, extension_name) VALUES ($1, $2, $3)"
					 " RETURNING id", 3, types, values, false, &ids);

	pgeb_note_registrations_changed();
	return linitial_int(ids);
}

void
DeregisterBaseWorker(char *workerName, bool missingOk)
{
	if (workerName == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the name of a base worker must not be null")));
	deregister(workerName, 0, missingOk);
}

void
DeregisterBaseWorkerById(int32 workerId, bool missingOk)
{
	deregister(NULL, workerId, missingOk);
}

/*
 * A worker removing its own registration: no waiting for itself.  When the
 * transaction commits, the next scan stops it if it still runs; it should
 * return 0 instead.
 */
void
DeregisterBaseWorkerSelf(void)
{
	if (MyBaseWorkerId == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("DeregisterBaseWorkerSelf() can only be called by a base worker")));
	(void) require_registrations_table();
	(void) for_worker("DELETE FROM " SUPERVISOR_SCHEMA "." REGISTRATIONS_TABLE,
					  NULL, MyBaseWorkerId);
	pgeb_note_registrations_changed();
}

int
GetBaseWorkerPid(int32 workerId)
{
	WorkerSlot *slot;
	int			pid = 0;

	pgeb_require_registry();
	pgeb_lock_registry(LW_SHARED);
	slot = pgeb_find_slot(MyDatabaseId, workerId);
	if (slot != NULL && slot->state != SLOT_STOPPING &&
		slot->state != SLOT_RESUMING)
		pid = slot->pid;
	pgeb_unlock_registry();
	return pid;
}

/*
 * Id of a registered worker of this database, by name (name != NULL) or
 * id; 0 when there is none.
 */
int32
pgeb_find_registration(const char *name, int32 worker_id)
{
	List	   *ids;

	if (!OidIsValid(pgeb_registrations_table()))
		return 0;
	ids = for_worker("SELECT id FROM " SUPERVISOR_SCHEMA "." REGISTRATIONS_TABLE,
					 name, worker_id);
	return ids == NIL ? 0 : linitial_int(ids);
}

/*
 * Run a SELECT id or a DELETE on the registrations of one worker, by name
 * (name != NULL) or id, and return the ids it found.
 */
static List *
for_worker(const char *statement, const char *name, int32 worker_id)
{
	Oid			type = name != NULL ? TEXTOID : INT4OID;
	Datum		value = name != NULL ? CStringGetTextDatum(name) : Int32GetDatum(worker_id);
	bool		read_only = strncmp(statement, "SELECT", 6) == 0;
	List	   *ids = NIL;

	(void) run_query(psprintf("%s WHERE %s = $1%s", statement,
							  name != NULL ? "worker_name" : "id",
							  read_only ? "" : " RETURNING id"),
					 1, &type, &value, read_only, &ids);
	return ids;
}

/* The error for a worker that is not registered here. */
void
pgeb_report_unknown_worker(const char *name, int32 worker_id)
{
	if (name != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("base worker \"%s\" does not exist", name)));
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("base worker with id %d does not exist", worker_id)));
}

static void
deregister(const char *name, int32 worker_id, bool missing_ok)
{
	List	   *ids;

	pgeb_require_registry();
	pgeb_require_superuser("deregister base workers");
	if (!OidIsValid(pgeb_registrations_table()))
	{
		if (missing_ok)
			return;
		pgeb_report_unknown_worker(name, worker_id);
	}

	ids = for_worker("DELETE FROM " SUPERVISOR_SCHEMA "." REGISTRATIONS_TABLE,
					 name, worker_id);
	if (ids == NIL)
	{
		if (missing_ok)
			return;
		pgeb_report_unknown_worker(name, worker_id);
	}

	pgeb_note_registrations_changed();
	pgeb_stop_workers_and_wait(MyDatabaseId, InvalidOid, linitial_int(ids),
							   "deregistered");
}

/*
 * DROP EXTENSION (the object-access hook, ddl_hooks.c): remove the
 * extension's registrations and stop its workers.  Dropping the supervisor
 * itself takes the table, and so every registration: every worker of this
 * database stops.
 */
void
pgeb_extension_dropped(Oid extension_id)
{
	char	   *name = get_extension_name(extension_id);

	if (name == NULL)
		return;
	if (strcmp(name, SUPERVISOR_MODULE_NAME) == 0)
	{
		/* the registrations go with the table: stop every worker here */
		pgeb_note_registrations_changed();
		pgeb_stop_workers_and_wait(MyDatabaseId, InvalidOid, 0,
								   "pg_extension_base_supervisor was dropped");
		return;
	}
	if (delete_registrations_of_extension(name) != NIL)
		pgeb_note_registrations_changed();
	pgeb_stop_workers_and_wait(MyDatabaseId, extension_id, 0,
							   "extension was dropped");
}

/*
 * Remove an extension's registrations.  Runs as the owner of the table,
 * since the extension's owner (who may drop it) need not be allowed to
 * write the table.  Returns the ids removed.
 */
static List *
delete_registrations_of_extension(const char *extension_name)
{
	Oid			table = pgeb_registrations_table();
	Oid			types[1] = {NAMEOID};
	Datum		values[1];
	NameData	extname;
	HeapTuple	tuple;
	Oid			owner;
	Oid			save_userid;
	int			save_sec_context;
	List	   *ids = NIL;

	if (!OidIsValid(table))
		return NIL;
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(table));
	if (!HeapTupleIsValid(tuple))
		return NIL;
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);

	namestrcpy(&extname, extension_name);
	values[0] = NameGetDatum(&extname);

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	(void) run_query("DELETE FROM " SUPERVISOR_SCHEMA "." REGISTRATIONS_TABLE
					 " WHERE extension_name = $1 RETURNING id", 1, types, values,
					 false, &ids);
	SetUserIdAndSecContext(save_userid, save_sec_context);
	return ids;
}

void
pgeb_require_superuser(const char *action)
{
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s", action),
				 errdetail("Only superusers may %s.", action)));
}

static Oid
require_registrations_table(void)
{
	Oid			table = pgeb_registrations_table();

	if (!OidIsValid(table))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension pg_extension_base_supervisor is not installed in this database"),
				 errhint("Add requires = 'pg_extension_base' to the control file of the extension that registers base workers.")));
	return table;
}

static void
check_worker_name(const char *name)
{
	if (name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the name of a base worker must not be empty")));
	if (strlen(name) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("base worker name \"%s\" is too long", name),
				 errdetail("Names of base workers are at most %d bytes long.",
						   NAMEDATALEN - 1)));
}

/* The entry point must be fn(internal) returns internal, in C. */
static void
check_entry_point(Oid function_id)
{
	HeapTuple	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(function_id));
	Form_pg_proc proc;
	bool		signature_ok;

	if (!HeapTupleIsValid(tuple))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("function with OID %u does not exist", function_id)));
	proc = (Form_pg_proc) GETSTRUCT(tuple);
	signature_ok = proc->pronargs == 1 &&
		proc->proargtypes.values[0] == INTERNALOID &&
		proc->prorettype == INTERNALOID && !proc->proretset;
	if (!signature_ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_FUNCTION_DEFINITION),
				 errmsg("entry point %s of a base worker has the wrong signature",
						format_procedure(function_id)),
				 errhint("Declare it as %s(internal) RETURNS internal.",
						 NameStr(proc->proname))));
	if (proc->prolang != ClanguageId)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_FUNCTION_DEFINITION),
				 errmsg("entry point %s of a base worker must be written in C",
						format_procedure(function_id))));
	ReleaseSysCache(tuple);
}

/*
 * Our own SQL runs with search_path = pg_catalog, pg_temp, so that neither
 * the caller's nor the database's search_path can choose the operators and
 * functions it calls (it may run as the table owner, or in a database
 * starter as the bootstrap superuser).  Returns the level to end with
 * pgeb_end_catalog_search_path().
 */
int
pgeb_begin_catalog_search_path(void)
{
	int			level = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	return level;
}

void
pgeb_end_catalog_search_path(int level)
{
	AtEOXact_GUC(true, level);
}

/*
 * Run one statement through SPI; collect the int4 first column into *ids
 * (allocated in the caller's context) when ids != NULL.  Returns the row
 * count.
 */
static int
run_query(const char *sql, int nargs, Oid *types, Datum *values, bool read_only,
		  List **ids)
{
	MemoryContext caller = CurrentMemoryContext;
	int			rows;
	int			level = pgeb_begin_catalog_search_path();

	SPI_connect();
	if (SPI_execute_with_args(sql, nargs, types, values, NULL, read_only, 0) < 0)
		elog(ERROR, "could not run \"%s\"", sql);
	rows = (int) SPI_processed;
	if (ids != NULL)
	{
		for (int i = 0; i < rows; i++)
		{
			bool		isnull;
			Datum		id = SPI_getbinval(SPI_tuptable->vals[i],
										   SPI_tuptable->tupdesc, 1, &isnull);
			MemoryContext old = MemoryContextSwitchTo(caller);

			*ids = lappend_int(*ids, DatumGetInt32(id));
			MemoryContextSwitchTo(old);
		}
	}
	SPI_finish();
	pgeb_end_catalog_search_path(level);
	return rows;
}
