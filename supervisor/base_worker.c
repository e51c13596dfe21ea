/*-------------------------------------------------------------------------
 *
 * base_worker.c
 *	  The base worker process: connects to its database, calls the
 *	  registered entry point outside any transaction, and records how it
 *	  ended so that the server starter can apply the restart policy.
 *
 * The server starter launches it with the slot index as bgw_main_arg and
 * the slot's generation in bgw_extra; a worker whose slot was reused or
 * stopped meanwhile exits at once without touching it.
 *
 * How the run ended is written into the slot by a before_shmem_exit
 * callback, so every way out is covered: a normal return (returned and
 * return_value), an ERROR or FATAL (the message, caught by an emit_log_hook
 * that only copies it into a static buffer).  A crash never reaches the
 * callback, and the postmaster restarts everything anyway.
 *
 * Locks: SupervisorState->lock, exclusively and briefly, three times: to
 * call in (SLOT_STARTING -> SLOT_RUNNING, its pid), to note that it is
 * connected, and as it exits to write how it ended; each time only if the
 * slot's generation is still its own.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/syscache.h"
#include "utils/wait_event.h"

#include "pg_extension_base/base_workers.h"
#include "supervisor.h"

int32		MyBaseWorkerId = 0;
volatile sig_atomic_t ReloadRequested = false;
volatile sig_atomic_t TerminationRequested = false;

static int	my_slot_index = -1;
static uint32 my_generation = 0;
static bool my_returned = false;
static int64 my_return_value = 0;
static char my_error_message[EXIT_REASON_LEN] = "";
static emit_log_hook_type prev_emit_log_hook = NULL;

/* LightSleep's wait event (named on PostgreSQL 17+, see compat.h) */
static uint32 light_sleep_wait_event = 0;

static void handle_sigterm(SIGNAL_ARGS);
static void handle_sighup(SIGNAL_ARGS);
static void remember_error(ErrorData *edata);
static void record_exit(int code, Datum arg);
static PGFunction lookup_entry_point(Oid function_id);

void
pgeb_base_worker_main(Datum arg)
{
	WorkerSlot *slot;
	Oid			database_id = InvalidOid;
	Oid			function_id = InvalidOid;
	char		worker_name[NAMEDATALEN];
	bool		mine = false;
	PGFunction	entry_point;
	Datum		result;

	pqsignal(SIGTERM, handle_sigterm);
	pqsignal(SIGHUP, handle_sighup);
	BackgroundWorkerUnblockSignals();

	my_slot_index = DatumGetInt32(arg);
	memcpy(&my_generation, MyBgworkerEntry->bgw_extra, sizeof(my_generation));

	pgeb_lock_registry(LW_EXCLUSIVE);
	slot = &SupervisorState->slots[my_slot_index];
	/* RUNNING too: a rollback may have given the slot back before we got here */
	if (slot->generation == my_generation &&
		(slot->state == SLOT_STARTING || slot->state == SLOT_RUNNING))
	{
		mine = true;
		pgeb_set_slot_state(slot, SLOT_RUNNING);
		slot->pid = MyProcPid;
		database_id = slot->database_id;
		function_id = slot->function_id;
		MyBaseWorkerId = slot->worker_id;
		strlcpy(worker_name, slot->worker_name, sizeof(worker_name));
	}
	pgeb_unlock_registry();

	/* stopped or reused before we started: nothing to do */
	if (!mine)
		proc_exit(0);

	before_shmem_exit(record_exit, (Datum) 0);
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = remember_error;

	BackgroundWorkerInitializeConnectionByOid(database_id, InvalidOid, 0);

	/* in the proc array from now on: stop.c waits until we leave it */
	pgeb_lock_registry(LW_EXCLUSIVE);
	if (slot->generation == my_generation)
		slot->connected = true;
	pgeb_unlock_registry();

	pgeb_name_process(worker_name);

	StartTransactionCommand();
	entry_point = lookup_entry_point(function_id);
	CommitTransactionCommand();

	/*
	 * Process start-up leaves the latch set; the entry point's first
	 * LightSleep() would otherwise return at once.
	 */
	ResetLatch(MyLatch);
	pgstat_report_activity(STATE_RUNNING, worker_name);
	result = DirectFunctionCall1(entry_point, Int32GetDatum(MyBaseWorkerId));

	my_return_value = DatumGetInt64(result);
	my_returned = true;
	proc_exit(0);
}

/*
 * The C function behind the registered entry point; it may have been
 * dropped or replaced since the database starter resolved it.
 */
static PGFunction
lookup_entry_point(Oid function_id)
{
	HeapTuple	tuple;
	Form_pg_proc proc;
	char	   *library;
	char	   *symbol;
	bool		isnull;
	Datum		value;

	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(function_id));
	if (!HeapTupleIsValid(tuple))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("entry point of base worker %d no longer exists",
						MyBaseWorkerId)));
	proc = (Form_pg_proc) GETSTRUCT(tuple);
	if (proc->prolang != ClanguageId)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_FUNCTION_DEFINITION),
				 errmsg("entry point of base worker %d is not a C function",
						MyBaseWorkerId)));

	value = SysCacheGetAttr(PROCOID, tuple, Anum_pg_proc_probin, &isnull);
	if (isnull)
		elog(ERROR, "null probin for function %u", function_id);
	library = TextDatumGetCString(value);
	value = SysCacheGetAttr(PROCOID, tuple, Anum_pg_proc_prosrc, &isnull);
	if (isnull)
		elog(ERROR, "null prosrc for function %u", function_id);
	symbol = TextDatumGetCString(value);
	ReleaseSysCache(tuple);

	return load_external_function(library, symbol, true, NULL);
}

/*
 * SIGTERM: let the worker's own code see it, and end the worker at the next
 * CHECK_FOR_INTERRUPTS() as any backend would.
 */
static void
handle_sigterm(SIGNAL_ARGS)
{
	TerminationRequested = true;
	die(postgres_signal_arg);
}

static void
handle_sighup(SIGNAL_ARGS)
{
	ReloadRequested = true;
	SignalHandlerForConfigReload(postgres_signal_arg);
}

/* Keep the last error's message for the slot; nothing else here. */
static void
remember_error(ErrorData *edata)
{
	if (edata->elevel >= ERROR && edata->message != NULL)
		strlcpy(my_error_message, edata->message, sizeof(my_error_message));
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

static void
record_exit(int code, Datum arg)
{
	WorkerSlot *slot;

	/* an error outside any transaction leaves nothing else to release them */
	LWLockReleaseAll();
	pgeb_lock_registry(LW_EXCLUSIVE);
	slot = &SupervisorState->slots[my_slot_index];
	if (slot->generation == my_generation)
	{
		slot->returned = my_returned;
		slot->return_value = my_return_value;
		strlcpy(slot->exit_message, my_error_message, sizeof(slot->exit_message));
	}
	pgeb_unlock_registry();
}

void
LightSleep(long timeoutMs)
{
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 timeoutMs,
					 pgeb_wait_event(&light_sleep_wait_event, "PgExtensionBaseLightSleep"));
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();

	if (ConfigReloadPending)
	{
		ConfigReloadPending = false;
		ProcessConfigFile(PGC_SIGHUP);
	}
}
