/*-------------------------------------------------------------------------
 *
 * sql.c
 *	  The SQL functions of pg_extension_base_supervisor (schema
 *	  extension_base): register_worker, deregister_worker, get_worker_pid,
 *	  wakeup_worker, list_base_workers, list_database_starters.
 *
 * None is STRICT, so that a NULL argument gets a clear error instead of a
 * silent NULL.  Registering, deregistering and waking workers, and seeing
 * other databases' workers, need a superuser; EXECUTE on the first three is
 * also revoked from PUBLIC by the install script.
 *
 * Registering, deregistering and waking go through registrations.c (the
 * C API of base_workers.h and its internal forms with missing_ok and
 * names).
 *
 * Locks: SupervisorState->lock, shared to copy slots and starters out
 * (list_*); no error is raised while it is held.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "commands/extension.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "pg_extension_base/base_workers.h"
#include "supervisor.h"

PG_FUNCTION_INFO_V1(pgeb_register_worker);
PG_FUNCTION_INFO_V1(pgeb_deregister_worker_by_name);
PG_FUNCTION_INFO_V1(pgeb_deregister_worker_by_id);
PG_FUNCTION_INFO_V1(pgeb_get_worker_pid);
PG_FUNCTION_INFO_V1(pgeb_wakeup_worker_by_name);
PG_FUNCTION_INFO_V1(pgeb_wakeup_worker_by_id);
PG_FUNCTION_INFO_V1(pgeb_list_base_workers);
PG_FUNCTION_INFO_V1(pgeb_list_database_starters);

static void require_arguments(FunctionCallInfo fcinfo, int count);

/* register_worker(worker_name text, entry_point regproc) returns bigint */
Datum
pgeb_register_worker(PG_FUNCTION_ARGS)
{
	pgeb_require_registry();
	require_arguments(fcinfo, 2);
	pgeb_require_superuser("register base workers");
	if (!creating_extension)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("register_worker() can only be called from an extension script"),
				 errhint("Call it in the script that CREATE EXTENSION or ALTER EXTENSION ... UPDATE runs, or use RegisterBaseWorker() from C.")));

	PG_RETURN_INT64(RegisterBaseWorker(text_to_cstring(PG_GETARG_TEXT_PP(0)),
									   PG_GETARG_OID(1), CurrentExtensionObject));
}

/* deregister_worker(worker_name text, missing_ok bool) */
Datum
pgeb_deregister_worker_by_name(PG_FUNCTION_ARGS)
{
	pgeb_require_registry();
	require_arguments(fcinfo, 2);
	(void) pgeb_deregister_worker(text_to_cstring(PG_GETARG_TEXT_PP(0)), 0,
								  PG_GETARG_BOOL(1));
	PG_RETURN_VOID();
}

/* deregister_worker(worker_id int, missing_ok bool) */
Datum
pgeb_deregister_worker_by_id(PG_FUNCTION_ARGS)
{
	pgeb_require_registry();
	require_arguments(fcinfo, 2);
	(void) pgeb_deregister_worker(NULL, PG_GETARG_INT32(0), PG_GETARG_BOOL(1));
	PG_RETURN_VOID();
}

/*
 * get_worker_pid(worker_id int) returns int: 0 when it does not run, also
 * when there is no such worker (as the original's)
 */
Datum
pgeb_get_worker_pid(PG_FUNCTION_ARGS)
{
	pgeb_require_registry();
	require_arguments(fcinfo, 1);
	PG_RETURN_INT32(GetBaseWorkerPid(PG_GETARG_INT32(0)));
}

Datum
pgeb_wakeup_worker_by_name(PG_FUNCTION_ARGS)
{
	pgeb_require_registry();
	require_arguments(fcinfo, 1);
	pgeb_wakeup_worker(text_to_cstring(PG_GETARG_TEXT_PP(0)), 0);
	PG_RETURN_VOID();
}

Datum
pgeb_wakeup_worker_by_id(PG_FUNCTION_ARGS)
{
	pgeb_require_registry();
	require_arguments(fcinfo, 1);
	WakeupBaseWorker(PG_GETARG_INT32(0));
	PG_RETURN_VOID();
}

/*
 * list_base_workers(): every slot in use; a non-superuser sees only the
 * current database's workers.
 */
Datum
pgeb_list_base_workers(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		all = superuser();

	pgeb_require_registry();
	InitMaterializedSRF(fcinfo, 0);

	pgeb_lock_registry(LW_SHARED);
	for (int i = 0; i < SupervisorState->num_slots; i++)
	{
		WorkerSlot *slot = &SupervisorState->slots[i];
		Datum		values[12];
		bool		nulls[12] = {0};

		if (slot->state == SLOT_FREE || (!all && slot->database_id != MyDatabaseId))
			continue;
		values[0] = ObjectIdGetDatum(slot->database_id);
		values[1] = Int32GetDatum(slot->worker_id);
		values[2] = ObjectIdGetDatum(slot->extension_id);
		values[3] = Int32GetDatum(slot->state == SLOT_STOPPING ||
								  slot->state == SLOT_RESUMING ? 0 : slot->pid);
		values[4] = BoolGetDatum(slot->state == SLOT_WANTED || slot->state == SLOT_WAITING);
		values[5] = Int32GetDatum(slot->failure_count);
		values[6] = CStringGetTextDatum(slot->worker_name);
		values[7] = CStringGetTextDatum(pgeb_slot_state_name(slot->state));
		values[8] = TimestampTzGetDatum(slot->last_start);
		nulls[8] = slot->last_start == 0;
		values[9] = CStringGetTextDatum(slot->last_exit_reason);
		nulls[9] = slot->last_exit_reason[0] == '\0';
		values[10] = TimestampTzGetDatum(slot->last_exit_time);
		nulls[10] = slot->last_exit_time == 0;
		values[11] = TimestampTzGetDatum(slot->next_start);
		nulls[11] = !(slot->state == SLOT_WAITING || slot->state == SLOT_WANTED) ||
			slot->next_start == 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	pgeb_unlock_registry();
	return (Datum) 0;
}

/* list_database_starters(): the running database starters */
Datum
pgeb_list_database_starters(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		all = superuser();

	pgeb_require_registry();
	InitMaterializedSRF(fcinfo, 0);

	pgeb_lock_registry(LW_SHARED);
	for (int i = 0; i < MAX_DATABASE_STARTERS; i++)
	{
		DatabaseStarterSlot *starter = &SupervisorState->starters[i];
		Datum		values[3];
		bool		nulls[3] = {0};

		if (!OidIsValid(starter->database_id) ||
			(!all && starter->database_id != MyDatabaseId))
			continue;
		values[0] = ObjectIdGetDatum(starter->database_id);
		values[1] = Int32GetDatum(starter->pid);
		values[2] = BoolGetDatum(starter->needs_restart);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	pgeb_unlock_registry();
	return (Datum) 0;
}

static void
require_arguments(FunctionCallInfo fcinfo, int count)
{
	for (int i = 0; i < count; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument %d of %s must not be null", i + 1,
							get_func_name(fcinfo->flinfo->fn_oid))));
}
