/*-------------------------------------------------------------------------
 *
 * pgeb_test_api.c
 *	  Every public function and variable of pg_extension_base's installed
 *	  headers base_workers.h and attached_worker.h, called from a library
 *	  built apart from ours, against those headers only.
 *
 * Our libraries are built with hidden symbol visibility and export only
 * what the headers mark PGDLLEXPORT.  This library references each public
 * name, so it loads only when every one is exported, and
 * t/020_exported_symbols.pl checks through it that each also does what the
 * headers say:
 *
 *	register_worker, deregister_worker (by name, by id), worker_pid,
 *	wakeup_worker, my_base_worker_id
 *		RegisterBaseWorker, DeregisterBaseWorker, DeregisterBaseWorkerById,
 *		GetBaseWorkerPid, WakeupBaseWorker and MyBaseWorkerId, from a
 *		session
 *	launcher_enabled, shared_memory_size, shared_memory_init
 *		EnableBaseWorkerLauncher, BaseWorkerSharedMemorySize and
 *		BaseWorkerSharedMemoryInit
 *	worker_settings
 *		WorkerStarterSleepTimeSec, WorkerRestartBackoffInitialMs,
 *		WorkerRestartBackoffMaxMs and WorkerRestartHealthyMs
 *	worker_main
 *		a base worker that beats in pgeb_test_api.heartbeats under its
 *		MyBaseWorkerId (START_TRANSACTION, END_TRANSACTION and SPI), sleeps
 *		with LightSleep, counts ReloadRequested, stops when it sees
 *		TerminationRequested, and does what pgeb_test_api.orders says:
 *		survive an error (END_TRANSACTION_NO_THROW), sleep long, remove
 *		its own registration (DeregisterBaseWorkerSelf), or return
 *		BASE_WORKER_NO_RESTART or BASE_WORKER_RESTART_IMMEDIATELY
 *	attached_tags, attached_rows, attached_end_early
 *		the four ways to start an attached worker, ReadFromAttachedWorker,
 *		ReadResultsFromAttachedWorker, IsAttachedWorkerRunning and
 *		EndAttachedWorker
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "pg_extension_base/attached_worker.h"
#include "pg_extension_base/base_workers.h"

PG_MODULE_MAGIC;

/* the worker's sleep between heartbeats, and after a sleep_long order */
#define HEARTBEAT_MS	100
#define LONG_SLEEP_MS	(3600 * 1000)

/* the orders a worker takes from pgeb_test_api.orders */
typedef enum WorkerOrder
{
	ORDER_NONE,
	ORDER_SURVIVE_ERROR,
	ORDER_SLEEP_LONG,
	ORDER_DEREGISTER_SELF,
	ORDER_FINISH,				/* return BASE_WORKER_NO_RESTART */
	ORDER_RESTART				/* return BASE_WORKER_RESTART_IMMEDIATELY */
} WorkerOrder;

static WorkerOrder beat(int32 argument, int *sleep_ms, int reloads,
						int errors_survived);
static bool run_failing_transaction(void);
static void deregister_self(void);
static AttachedWorker *start_attached(FunctionCallInfo fcinfo, bool returning);
static void end_attached(AttachedWorker *worker);

PG_FUNCTION_INFO_V1(pgeb_test_api_worker_main);

/*
 * The base worker.  Interrupts are held over the sleep, so that a SIGTERM
 * that finds the worker asleep ends the loop through TerminationRequested
 * (which the worker logs) instead of ending the process at LightSleep's
 * CHECK_FOR_INTERRUPTS(); a SIGTERM elsewhere ends it there, as usual.
 */
Datum
pgeb_test_api_worker_main(PG_FUNCTION_ARGS)
{
	int32		argument = PG_GETARG_INT32(0);
	int			sleep_ms = HEARTBEAT_MS;
	int			reloads = 0;
	int			errors_survived = 0;

	while (!TerminationRequested)
	{
		WorkerOrder order = beat(argument, &sleep_ms, reloads, errors_survived);

		if (order == ORDER_SURVIVE_ERROR && !run_failing_transaction())
			errors_survived++;
		else if (order == ORDER_DEREGISTER_SELF)
		{
			deregister_self();
			return BASE_WORKER_NO_RESTART;
		}
		else if (order == ORDER_FINISH)
			return BASE_WORKER_NO_RESTART;
		else if (order == ORDER_RESTART)
			return BASE_WORKER_RESTART_IMMEDIATELY;

		HOLD_INTERRUPTS();
		LightSleep(sleep_ms);
		if (TerminationRequested)
			ereport(LOG,
					(errmsg("pgeb_test_api: base worker %d saw TerminationRequested",
							MyBaseWorkerId)));
		RESUME_INTERRUPTS();

		/* LightSleep has reloaded the configuration files; the flag is ours */
		if (ReloadRequested)
		{
			ReloadRequested = false;
			reloads++;
		}
	}
	PG_RETURN_INT64(0);
}

/*
 * One heartbeat, in a transaction: take the worker's order, if any, and
 * record the worker's state under MyBaseWorkerId.  A sleep_long order
 * changes *sleep_ms before it is recorded.
 */
static WorkerOrder
beat(int32 argument, int *sleep_ms, int reloads, int errors_survived)
{
	/* set inside START_TRANSACTION's PG_TRY, read after it */
	volatile WorkerOrder order = ORDER_NONE;

	START_TRANSACTION();
	{
		Oid			types[6] = {INT4OID, INT4OID, INT4OID, INT4OID, INT4OID, INT4OID};
		Datum		values[6];

		values[0] = Int32GetDatum(MyBaseWorkerId);
		SPI_connect();
		SPI_execute_with_args("DELETE FROM pgeb_test_api.orders "
							  "WHERE worker_id = $1 RETURNING action",
							  1, types, values, NULL, false, 0);
		if (SPI_processed > 0)
		{
			char	   *action = SPI_getvalue(SPI_tuptable->vals[0],
											  SPI_tuptable->tupdesc, 1);

			if (strcmp(action, "survive_error") == 0)
				order = ORDER_SURVIVE_ERROR;
			else if (strcmp(action, "sleep_long") == 0)
				order = ORDER_SLEEP_LONG;
			else if (strcmp(action, "deregister_self") == 0)
				order = ORDER_DEREGISTER_SELF;
			else if (strcmp(action, "finish") == 0)
				order = ORDER_FINISH;
			else if (strcmp(action, "restart") == 0)
				order = ORDER_RESTART;
		}
		if (order == ORDER_SLEEP_LONG)
			*sleep_ms = LONG_SLEEP_MS;

		values[1] = Int32GetDatum(argument);
		values[2] = Int32GetDatum(MyProcPid);
		values[3] = Int32GetDatum(*sleep_ms);
		values[4] = Int32GetDatum(reloads);
		values[5] = Int32GetDatum(errors_survived);
		SPI_execute_with_args("INSERT INTO pgeb_test_api.heartbeats AS h "
							  "(worker_id, argument, pid, sleep_ms, reloads, "
							  "errors_survived, work_mem) "
							  "VALUES ($1, $2, $3, $4, $5, $6, "
							  "current_setting('work_mem')) "
							  "ON CONFLICT (worker_id) DO UPDATE SET "
							  "argument = excluded.argument, pid = excluded.pid, "
							  "beats = h.beats + 1, sleep_ms = excluded.sleep_ms, "
							  "reloads = excluded.reloads, "
							  "errors_survived = excluded.errors_survived, "
							  "work_mem = excluded.work_mem, "
							  "last_beat = clock_timestamp()",
							  6, types, values, NULL, false, 0);
		SPI_finish();
	}
	END_TRANSACTION();
	return order;
}

/*
 * A transaction that fails, in END_TRANSACTION_NO_THROW(WARNING): the
 * error is logged as a WARNING and the worker goes on.  Returns whether it
 * committed.
 */
static bool
run_failing_transaction(void)
{
	/* set inside START_TRANSACTION's PG_TRY, read after it */
	volatile bool committed = false;

	START_TRANSACTION();
	{
		SPI_connect();
		SPI_execute("SELECT 1/0", true, 0);
		SPI_finish();
		committed = true;
	}
	END_TRANSACTION_NO_THROW(WARNING);
	return committed;
}

/* Remove the worker's own registration, and record that it did. */
static void
deregister_self(void)
{
	START_TRANSACTION();
	{
		Oid			types[1] = {INT4OID};
		Datum		values[1] = {Int32GetDatum(MyBaseWorkerId)};

		DeregisterBaseWorkerSelf();
		SPI_connect();
		SPI_execute_with_args("UPDATE pgeb_test_api.heartbeats "
							  "SET deregistered_self = true "
							  "WHERE worker_id = $1",
							  1, types, values, NULL, false, 0);
		SPI_finish();
	}
	END_TRANSACTION();
}

PG_FUNCTION_INFO_V1(pgeb_test_api_register_worker);

/* register_worker(worker_name text, entry_point regprocedure) returns int */
Datum
pgeb_test_api_register_worker(PG_FUNCTION_ARGS)
{
	char	   *worker_name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Oid			extension_id = get_extension_oid("pgeb_test_api", false);

	PG_RETURN_INT32(RegisterBaseWorker(worker_name, PG_GETARG_OID(1), extension_id));
}

PG_FUNCTION_INFO_V1(pgeb_test_api_deregister_by_name);

/* deregister_worker(worker_name text, missing_ok bool) returns int: the id removed */
Datum
pgeb_test_api_deregister_by_name(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(DeregisterBaseWorker(text_to_cstring(PG_GETARG_TEXT_PP(0)),
										 PG_GETARG_BOOL(1)));
}

PG_FUNCTION_INFO_V1(pgeb_test_api_deregister_by_id);

/* deregister_worker(worker_id int, missing_ok bool) returns int: the id removed */
Datum
pgeb_test_api_deregister_by_id(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(DeregisterBaseWorkerById(PG_GETARG_INT32(0), PG_GETARG_BOOL(1)));
}

PG_FUNCTION_INFO_V1(pgeb_test_api_wakeup_worker);

/* wakeup_worker(worker_id int) */
Datum
pgeb_test_api_wakeup_worker(PG_FUNCTION_ARGS)
{
	WakeupBaseWorker(PG_GETARG_INT32(0));
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(pgeb_test_api_launcher_enabled);

/* launcher_enabled() returns bool: EnableBaseWorkerLauncher */
Datum
pgeb_test_api_launcher_enabled(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(EnableBaseWorkerLauncher);
}

PG_FUNCTION_INFO_V1(pgeb_test_api_worker_settings);

/* worker_settings() returns int[]: the four settings variables, in order */
Datum
pgeb_test_api_worker_settings(PG_FUNCTION_ARGS)
{
	Datum		values[4];

	values[0] = Int32GetDatum(WorkerStarterSleepTimeSec);
	values[1] = Int32GetDatum(WorkerRestartBackoffInitialMs);
	values[2] = Int32GetDatum(WorkerRestartBackoffMaxMs);
	values[3] = Int32GetDatum(WorkerRestartHealthyMs);
	PG_RETURN_ARRAYTYPE_P(construct_array(values, 4, INT4OID, sizeof(int32),
										  true, TYPALIGN_INT));
}

PG_FUNCTION_INFO_V1(pgeb_test_api_shared_memory_size);

/* shared_memory_size() returns bigint: BaseWorkerSharedMemorySize() */
Datum
pgeb_test_api_shared_memory_size(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64((int64) BaseWorkerSharedMemorySize());
}

PG_FUNCTION_INFO_V1(pgeb_test_api_shared_memory_init);

/* shared_memory_init(): BaseWorkerSharedMemoryInit(), as often as called */
Datum
pgeb_test_api_shared_memory_init(PG_FUNCTION_ARGS)
{
	BaseWorkerSharedMemoryInit();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(pgeb_test_api_worker_pid);

/* worker_pid(worker_id int) returns int: 0 when it does not run */
Datum
pgeb_test_api_worker_pid(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(GetBaseWorkerPid(PG_GETARG_INT32(0)));
}

PG_FUNCTION_INFO_V1(pgeb_test_api_my_base_worker_id);

/* my_base_worker_id() returns int: 0 outside a base worker */
Datum
pgeb_test_api_my_base_worker_id(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(MyBaseWorkerId);
}

PG_FUNCTION_INFO_V1(pgeb_test_api_attached_tags);

/* attached_tags(command, dbname, username) returns setof text */
Datum
pgeb_test_api_attached_tags(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AttachedWorker *worker;
	char	   *tag;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	worker = start_attached(fcinfo, false);
	while ((tag = ReadFromAttachedWorker(worker, true)) != NULL)
	{
		Datum		value = CStringGetTextDatum(tag);
		bool		isnull = false;

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
	}
	end_attached(worker);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(pgeb_test_api_attached_rows);

/* attached_rows(command, dbname, username) returns setof record */
Datum
pgeb_test_api_attached_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AttachedWorker *worker;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	worker = start_attached(fcinfo, true);
	ReadResultsFromAttachedWorker(worker, rsinfo->setResult, &rsinfo->setDesc);
	end_attached(worker);
	return (Datum) 0;
}

/*
 * Start an attached worker as the arguments (command, dbname, username)
 * say: StartAttachedWorker[Returning] without a database name,
 * StartAttachedWorkerInDatabase[Returning] with one.
 */
static AttachedWorker *
start_attached(FunctionCallInfo fcinfo, bool returning)
{
	char	   *command;
	char	   *dbname;
	char	   *username;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("command must not be null")));
	command = text_to_cstring(PG_GETARG_TEXT_PP(0));
	dbname = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	username = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));

	if (dbname == NULL)
	{
		if (username != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a user name needs a database name")));
		return returning ? StartAttachedWorkerReturning(command) :
			StartAttachedWorker(command);
	}
	return returning ?
		StartAttachedWorkerInDatabaseReturning(command, dbname, username) :
		StartAttachedWorkerInDatabase(command, dbname, username);
}

/* After the last read the worker has finished: say so if not, and end it. */
static void
end_attached(AttachedWorker *worker)
{
	if (IsAttachedWorkerRunning(worker))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("attached worker still runs after its last message")));
	EndAttachedWorker(worker);
}

PG_FUNCTION_INFO_V1(pgeb_test_api_attached_end_early);

/*
 * attached_end_early(command) returns (first_tag, tag_without_waiting,
 * running, worker_pid): for a command whose second statement waits (on a
 * lock the test holds), so that the worker still runs when it is ended.
 */
Datum
pgeb_test_api_attached_end_early(PG_FUNCTION_ARGS)
{
	AttachedWorker *worker;
	TupleDesc	desc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	char	   *tag;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	worker = StartAttachedWorker(text_to_cstring(PG_GETARG_TEXT_PP(0)));

	tag = ReadFromAttachedWorker(worker, true);
	nulls[0] = tag == NULL;
	values[0] = tag == NULL ? (Datum) 0 : CStringGetTextDatum(tag);

	tag = ReadFromAttachedWorker(worker, false);
	nulls[1] = tag == NULL;
	values[1] = tag == NULL ? (Datum) 0 : CStringGetTextDatum(tag);

	/* sets workerPid while the worker runs */
	values[2] = BoolGetDatum(IsAttachedWorkerRunning(worker));
	values[3] = Int32GetDatum(worker->workerPid);

	EndAttachedWorker(worker);

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc),
													  values, nulls)));
}
