/*-------------------------------------------------------------------------
 *
 * base_workers.h
 *	  Writing a base worker: a C function that pg_extension_base runs in a
 *	  background worker in every database where its extension exists.
 *
 * The names, macros and signatures are those of the original
 * pg_extension_base (pg_lake), so that extensions written against it build
 * unchanged; GetBaseWorkerPid is ours.  Where the behaviour differs, supervisor/README.md says so.
 *
 * The extension's install script registers the entry point:
 *
 *	  CREATE FUNCTION my_worker_main(internal) RETURNS internal
 *		  LANGUAGE C AS 'MODULE_PATHNAME';
 *	  SELECT extension_base.register_worker('my_worker', 'my_worker_main');
 *
 * and the function runs outside any transaction, with the worker id as its
 * int32 argument:
 *
 *	  PG_FUNCTION_INFO_V1(my_worker_main);
 *	  Datum
 *	  my_worker_main(PG_FUNCTION_ARGS)
 *	  {
 *		  while (!TerminationRequested)
 *		  {
 *			  START_TRANSACTION();
 *			  ... SPI or catalog work ...
 *			  END_TRANSACTION();
 *			  LightSleep(1000);
 *		  }
 *		  return BASE_WORKER_RESTART_IMMEDIATELY;
 *	  }
 *
 * Return value: BASE_WORKER_RESTART_IMMEDIATELY (-1) restarts the worker at
 * once, N > 0 after N milliseconds, BASE_WORKER_NO_RESTART (0) never
 * (WakeupBaseWorker or wakeup_worker() start it again).  An ERROR or FATAL
 * ends the worker and counts as a failure: it restarts with exponential
 * backoff.  SIGTERM (DROP EXTENSION, deregister_worker, database DDL,
 * shutdown) sets TerminationRequested and ends the worker at its next
 * CHECK_FOR_INTERRUPTS() -- LightSleep() has one -- so a worker never holds
 * up DROP DATABASE.  SIGHUP sets ReloadRequested; LightSleep() reloads the
 * configuration files and leaves the flag set for the worker to see.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_EXTENSION_BASE_BASE_WORKERS_H
#define PG_EXTENSION_BASE_BASE_WORKERS_H

#include <signal.h>

#include "access/xact.h"
#include "utils/elog.h"
#include "utils/snapmgr.h"

/* what an entry point returns; N > 0 means "restart after N ms" */
#define BASE_WORKER_NO_RESTART			((Datum) 0)
#define BASE_WORKER_RESTART_IMMEDIATELY ((Datum) -1)

/*
 * Every function and variable here is PGDLLEXPORT: our libraries are built
 * with hidden symbol visibility (PostgreSQL 16 and later do that for every
 * extension), so only what is marked is visible to other extensions.
 */

/* the worker id of this process (0 outside a base worker) */
extern PGDLLEXPORT int32 MyBaseWorkerId;

/* set by SIGHUP and SIGTERM in a base worker */
extern PGDLLEXPORT volatile sig_atomic_t ReloadRequested;
extern PGDLLEXPORT volatile sig_atomic_t TerminationRequested;

/* Wait up to timeoutMs on the latch; handles SIGHUP and interrupts. */
extern PGDLLEXPORT void LightSleep(long timeoutMs);

/*
 * Whether this server runs base workers: the setting
 * pg_extension_base.enable_base_worker_launcher, and not a server that
 * pg_upgrade started in binary-upgrade mode.  Set when our library is
 * loaded at server start; false before.
 */
extern PGDLLEXPORT bool EnableBaseWorkerLauncher;

/*
 * The settings of base workers, as the variables behind them (read them;
 * change them in the configuration files), with their defaults:
 * pg_extension_base.worker_starter_sleep_time (seconds),
 * .worker_restart_backoff_initial, .worker_restart_backoff_max and
 * .worker_restart_healthy_time (milliseconds).
 */
#define DEFAULT_WORKER_STARTER_SLEEP_TIME			10
#define DEFAULT_WORKER_RESTART_BACKOFF_INITIAL_MS	5000
#define DEFAULT_WORKER_RESTART_BACKOFF_MAX_MS		60000
#define DEFAULT_WORKER_RESTART_HEALTHY_MS			60000

extern PGDLLEXPORT int WorkerStarterSleepTimeSec;
extern PGDLLEXPORT int WorkerRestartBackoffInitialMs;
extern PGDLLEXPORT int WorkerRestartBackoffMaxMs;
extern PGDLLEXPORT int WorkerRestartHealthyMs;

/*
 * The shared memory of base workers.  Our library requests and creates it
 * itself; these exist for code written against the original, which called
 * them from its own hooks.  BaseWorkerSharedMemorySize() is the region's
 * size; BaseWorkerSharedMemoryInit() attaches to it (it may be called any
 * number of times, from a shmem_startup_hook or later).
 */
extern PGDLLEXPORT void BaseWorkerSharedMemoryInit(void);
extern PGDLLEXPORT size_t BaseWorkerSharedMemorySize(void);

/*
 * Registrations from C.  RegisterBaseWorker records a worker of the given
 * extension in the current database and returns its id; like
 * extension_base.register_worker() it requires a superuser, and the worker
 * starts when the transaction commits.  DeregisterBaseWorker[ById] remove
 * a registration, stop the worker and wait for it before they return the
 * id they removed; one that does not exist is an ERROR, or with missingOk
 * nothing, and they return 0.  When the transaction
 * rolls back it runs again at once.  WakeupBaseWorker starts a waiting or
 * finished worker now, as extension_base.wakeup_worker() does.
 * DeregisterBaseWorkerSelf() is for a worker that is done for good: it
 * removes its own registration (commit it with END_TRANSACTION) and should
 * then return BASE_WORKER_NO_RESTART.
 */
extern PGDLLEXPORT int32 RegisterBaseWorker(char *workerName,
											Oid entryPointFunctionId,
											Oid extensionId);
extern PGDLLEXPORT int32 DeregisterBaseWorker(char *workerName, bool missingOk);
extern PGDLLEXPORT int32 DeregisterBaseWorkerById(int32 workerId, bool missingOk);
extern PGDLLEXPORT void WakeupBaseWorker(int32 workerId);
extern PGDLLEXPORT void DeregisterBaseWorkerSelf(void);

/* pid of a base worker of the current database, 0 when it does not run */
extern PGDLLEXPORT int GetBaseWorkerPid(int32 workerId);

/*
 * Transactions in a base worker.  START_TRANSACTION() sets the statement
 * start time (so that now() and statement_timestamp() are those of this
 * transaction, not of the worker's start), starts a transaction with a
 * snapshot and opens a PG_TRY block.  END_TRANSACTION() commits it; on
 * error it aborts the transaction and re-raises the error, which ends the
 * worker (a failure, restarted with backoff) unless the worker catches it
 * itself, and then finds no transaction open.  END_TRANSACTION_NO_THROW(level)
 * instead aborts the transaction on error and reports the error at the
 * given level: with WARNING or LOG the worker goes on after the block.
 * After either, the memory context is the one START_TRANSACTION() found.
 * As with any PG_TRY block, a local variable assigned inside and read after
 * it must be declared volatile.
 */
#define START_TRANSACTION() \
	do { \
		MemoryContext pgeb_xact_caller_context = CurrentMemoryContext; \
		SetCurrentStatementStartTimestamp(); \
		StartTransactionCommand(); \
		PushActiveSnapshot(GetTransactionSnapshot()); \
		PG_TRY(); \
		{

/* the commit both END_ macros share */
#define PGEB_COMMIT_TRANSACTION() \
	do { \
		if (ActiveSnapshotSet()) \
			PopActiveSnapshot(); \
		CommitTransactionCommand(); \
	} while (0)

#define END_TRANSACTION() \
			PGEB_COMMIT_TRANSACTION(); \
		} \
		PG_CATCH(); \
		{ \
			AbortCurrentTransaction(); \
			MemoryContextSwitchTo(pgeb_xact_caller_context); \
			PG_RE_THROW(); \
		} \
		PG_END_TRY(); \
		MemoryContextSwitchTo(pgeb_xact_caller_context); \
	} while (0)

#define END_TRANSACTION_NO_THROW(level) \
			PGEB_COMMIT_TRANSACTION(); \
		} \
		PG_CATCH(); \
		{ \
			ErrorData  *pgeb_xact_error; \
			MemoryContextSwitchTo(pgeb_xact_caller_context); \
			pgeb_xact_error = CopyErrorData(); \
			FlushErrorState(); \
			AbortCurrentTransaction(); \
			pgeb_xact_error->elevel = (level); \
			ThrowErrorData(pgeb_xact_error); \
			FreeErrorData(pgeb_xact_error); \
		} \
		PG_END_TRY(); \
		MemoryContextSwitchTo(pgeb_xact_caller_context); \
	} while (0)

#endif							/* PG_EXTENSION_BASE_BASE_WORKERS_H */
