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
 * The table's columns are those of the original pg_extension_base since
 * version 1.1 of our SQL (an entry point is entry_point_schema and
 * entry_point_function, taking internal); a database still at 1.0 keeps
 * working with this library until ALTER EXTENSION ... UPDATE, so every
 * statement here asks pgeb_registration_columns() which columns to use.
 *
 * Calls go one way: ddl_hooks.c and sql.c call this file, this file calls
 * stop.c and registry.c, neither of which calls back.
 *
 * Locks: the rows are changed through SPI, under the table's ROW EXCLUSIVE
 * lock, which the database starter waits out (database_starter.c); it is
 * taken before the columns are looked at, so that an ALTER EXTENSION ...
 * UPDATE that changes them is over by then.  Of SupervisorState->lock,
 * GetBaseWorkerPid takes it shared to read one slot, WakeupBaseWorker
 * exclusively to move one slot to SLOT_WANTED; stop.c takes it to stop.
 *
 * A build with -DPGEB_INJECT_SLOT_FAULTS (only t/029_slot_state_machine.pl
 * makes one) breaks the state machine on request in wakeup_worker, to show
 * that the registry's assertions catch it: see inject_slot_fault.
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
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "pg_extension_base/base_workers.h"
#include "supervisor.h"

static Oid	require_registrations_table(void);
static RegistrationColumns lock_registrations(Oid table, LOCKMODE mode);
static void check_worker_name(const char *name);
static void check_entry_point(Oid function_id);
static int32 insert_registration(Oid table, const char *worker_name,
								 Oid function_id, const char *extension_name);
static int	run_query(const char *sql, int nargs, Oid *types, Datum *values,
					  bool read_only, List **ids);
static List *for_worker(bool removing, const char *name, int32 worker_id);
static List *delete_registrations_of_extension(const char *extension_name);
#ifdef PGEB_INJECT_SLOT_FAULTS
static void inject_slot_fault(WorkerSlot *slot);
#endif

/* extension_base.workers in this database, or InvalidOid */
Oid
pgeb_registrations_table(void)
{
	Oid			namespace = get_namespace_oid(SUPERVISOR_SCHEMA, true);

	if (!OidIsValid(namespace))
		return InvalidOid;
	return get_relname_relid(REGISTRATIONS_TABLE, namespace);
}

/*
 * The columns of the registrations table (supervisor.h).  The caller holds
 * a lock on it, so that they cannot change before its statement runs.
 */
RegistrationColumns
pgeb_registration_columns(Oid table)
{
	RegistrationColumns columns;

	columns.entry_point_by_name =
		get_attnum(table, "entry_point_schema") != InvalidAttrNumber;
	if (columns.entry_point_by_name)
	{
		columns.worker_id = "worker_id";
		columns.entry_point =
			"pg_catalog.to_regprocedure(pg_catalog.format('%I.%I(pg_catalog.internal)', "
			"w.entry_point_schema, w.entry_point_function))::pg_catalog.oid";
	}
	else
	{
		columns.worker_id = "id";
		columns.entry_point = "pg_catalog.to_regprocedure(w.entry_point)::pg_catalog.oid";
	}
	return columns;
}

/*
 * Lock the table before the columns are looked at: taking the lock
 * processes the invalidations of a committed ALTER EXTENSION ... UPDATE
 * that changed them, and a running one holds the table until it ends.
 */
static RegistrationColumns
lock_registrations(Oid table, LOCKMODE mode)
{
	LockRelationOid(table, mode);
	return pgeb_registration_columns(table);
}

int32
RegisterBaseWorker(char *workerName, Oid entryPointFunctionId, Oid extensionId)
{
	char	   *extension_name;
	Oid			table;
	int32		id;

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
	table = require_registrations_table();

	(void) lock_registrations(table, RowExclusiveLock);
	if (pgeb_find_registration(workerName, 0) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("base worker \"%s\" already exists", workerName)));

	id = insert_registration(table, workerName, entryPointFunctionId,
							 extension_name);
	pgeb_note_registrations_changed();
	return id;
}

/*
 * Insert one row and return its id: with 1.1's columns, the entry point
 * is its schema and name (its argument is internal: check_entry_point);
 * with 1.0's, its regprocedure as text.
 */
static int32
insert_registration(Oid table, const char *worker_name, Oid function_id,
					const char *extension_name)
{
	RegistrationColumns columns = pgeb_registration_columns(table);
	Oid			types[4] = {TEXTOID, NAMEOID, NAMEOID, NAMEOID};
	Datum		values[4];
	NameData	names[3];
	List	   *ids = NIL;

	values[0] = CStringGetTextDatum(worker_name);
	namestrcpy(&names[0], extension_name);
	values[1] = NameGetDatum(&names[0]);
	if (columns.entry_point_by_name)
	{
		char	   *schema = get_namespace_name(get_func_namespace(function_id));
		char	   *function = get_func_name(function_id);

		/* dropped by a concurrent transaction since check_entry_point */
		if (schema == NULL || function == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FUNCTION),
					 errmsg("function with OID %u does not exist", function_id)));
		namestrcpy(&names[1], schema);
		values[2] = NameGetDatum(&names[1]);
		namestrcpy(&names[2], function);
		values[3] = NameGetDatum(&names[2]);
		(void) run_query("INSERT INTO " SUPERVISOR_SCHEMA "." REGISTRATIONS_TABLE
						 " (worker_name, extension_name, entry_point_schema,"
						 " entry_point_function) VALUES ($1, $2, $3, $4)"
						 " RETURNING worker_id", 4, types, values, false, &ids);
	}
	else
	{
		types[2] = TEXTOID;
		values[2] = CStringGetTextDatum(format_procedure_qualified(function_id));
		(void) run_query("INSERT INTO " SUPERVISOR_SCHEMA "." REGISTRATIONS_TABLE
						 " (worker_name, extension_name, entry_point)"
						 " VALUES ($1, $2, $3) RETURNING id",
						 3, types, values, false, &ids);
	}
	return linitial_int(ids);
}

/* As the original: 0 when there is no such worker and missingOk. */
int32
DeregisterBaseWorker(char *workerName, bool missingOk)
{
	if (workerName == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the name of a base worker must not be null")));
	return pgeb_deregister_worker(workerName, 0, missingOk);
}

int32
DeregisterBaseWorkerById(int32 workerId, bool missingOk)
{
	return pgeb_deregister_worker(NULL, workerId, missingOk);
}

/* extension_base.wakeup_worker(worker_id int) from C */
void
WakeupBaseWorker(int32 workerId)
{
	pgeb_wakeup_worker(NULL, workerId);
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
	(void) for_worker(true, NULL, MyBaseWorkerId);
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
	ids = for_worker(false, name, worker_id);
	return ids == NIL ? 0 : linitial_int(ids);
}

/*
 * Find (removing = false) or delete the registration of one worker, by name
 * (name != NULL) or id, and return the ids found.
 */
static List *
for_worker(bool removing, const char *name, int32 worker_id)
{
	Oid			table = require_registrations_table();
	RegistrationColumns columns =
		lock_registrations(table, removing ? RowExclusiveLock : AccessShareLock);
	const char *id = columns.worker_id;
	Oid			type = name != NULL ? TEXTOID : INT4OID;
	Datum		value = name != NULL ? CStringGetTextDatum(name) : Int32GetDatum(worker_id);
	const char *where = psprintf("WHERE %s = $1", name != NULL ? "worker_name" : id);
	List	   *ids = NIL;

	if (removing)
		(void) run_query(psprintf("DELETE FROM %s.%s %s RETURNING %s",
								  SUPERVISOR_SCHEMA, REGISTRATIONS_TABLE, where, id),
						 1, &type, &value, false, &ids);
	else
		(void) run_query(psprintf("SELECT %s FROM %s.%s %s",
								  id, SUPERVISOR_SCHEMA, REGISTRATIONS_TABLE, where),
						 1, &type, &value, true, &ids);
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

/*
 * Remove the registration of a worker, by name (name != NULL) or id, stop
 * the worker and wait for it; return its id.  One that does not exist is
 * an error, or with missing_ok (deregister_worker's) nothing, and 0.
 */
int32
pgeb_deregister_worker(const char *name, int32 worker_id, bool missing_ok)
{
	List	   *ids;
	int32		id;

	pgeb_require_registry();
	pgeb_require_superuser("deregister base workers");
	if (!OidIsValid(pgeb_registrations_table()))
	{
		if (missing_ok)
			return 0;
		pgeb_report_unknown_worker(name, worker_id);
	}

	ids = for_worker(true, name, worker_id);
	if (ids == NIL)
	{
		if (missing_ok)
			return 0;
		pgeb_report_unknown_worker(name, worker_id);
	}

	id = linitial_int(ids);
	pgeb_note_registrations_changed();
	pgeb_stop_workers_and_wait(MyDatabaseId, InvalidOid, id, "deregistered");
	return id;
}

/*
 * Start a waiting (or finished) worker now, by name (name != NULL) or id:
 * wakeup_worker() and WakeupBaseWorker.
 */
void
pgeb_wakeup_worker(const char *name, int32 worker_id)
{
	int32		id;
	WorkerSlot *slot;

	pgeb_require_registry();
	pgeb_require_superuser("wake up base workers");
	id = pgeb_find_registration(name, worker_id);
	if (id == 0)
		pgeb_report_unknown_worker(name, worker_id);

	pgeb_lock_registry(LW_EXCLUSIVE);
	slot = pgeb_find_slot(MyDatabaseId, id);
	if (slot != NULL && (slot->state == SLOT_WAITING || slot->state == SLOT_DONE ||
						 slot->state == SLOT_WANTED))
	{
		pgeb_set_slot_state(slot, SLOT_WANTED);
		slot->next_start = 0;
	}
#ifdef PGEB_INJECT_SLOT_FAULTS
	inject_slot_fault(slot);
#endif
	pgeb_unlock_registry();
	pgeb_wake_server_starter();
}

#ifdef PGEB_INJECT_SLOT_FAULTS
/*
 * Test builds only: break the state machine as the placeholder setting
 * pgeb_test.inject_slot_fault asks, with the lock held exclusively.
 *	- illegal_transition: SLOT_RESUMING from a state other than
 *	  SLOT_STOPPING, through pgeb_set_slot_state, whose assertion fails;
 *	- outside_write: a state written directly, which the check of
 *	  pgeb_unlock_registry finds (state differs from state_written).
 */
static void
inject_slot_fault(WorkerSlot *slot)
{
	const char *fault = GetConfigOption("pgeb_test.inject_slot_fault", true, false);

	if (slot == NULL || fault == NULL)
		return;
	if (strcmp(fault, "illegal_transition") == 0 && slot->state != SLOT_STOPPING)
		pgeb_set_slot_state(slot, SLOT_RESUMING);
	else if (strcmp(fault, "outside_write") == 0)
		slot->state = (slot->state == SLOT_DONE ? SLOT_WAITING : SLOT_DONE);
}
#endif

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
	RegistrationColumns columns;
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
	columns = lock_registrations(table, RowExclusiveLock);
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
	(void) run_query(psprintf("DELETE FROM %s.%s WHERE extension_name = $1 RETURNING %s",
							  SUPERVISOR_SCHEMA, REGISTRATIONS_TABLE, columns.worker_id),
					 1, types, values, false, &ids);
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
