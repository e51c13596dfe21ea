/*-------------------------------------------------------------------------
 *
 * attached_worker.h
 *	  Run SQL in a separate background worker, attached to the caller.
 *
 * An attached worker runs a command (one or more SQL statements) in a
 * dynamic background worker that commits on its own, independently of the
 * caller's transaction, and sends back a command tag per statement, the
 * rows of the last statement (the Returning variants), and its errors and
 * notices, which are raised in the caller as if they were its own.
 *
 *	AttachedWorker *worker = StartAttachedWorker("INSERT INTO log VALUES (1)");
 *	char	   *tag;
 *
 *	while ((tag = ReadFromAttachedWorker(worker, true)) != NULL)
 *		elog(LOG, "done: %s", tag);
 *	EndAttachedWorker(worker);
 *
 * The worker belongs to the memory context that was current when it was
 * started: it is ended (terminated if still running) when that context is
 * reset or deleted, when the transaction that started it aborts, and when
 * the caller's process exits.  EndAttachedWorker ends it earlier.
 *
 * Functions are reached through the library pg_extension_base_attached,
 * which pg_extension_base preloads.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_EXTENSION_BASE_ATTACHED_WORKER_H
#define PG_EXTENSION_BASE_ATTACHED_WORKER_H

#include "access/tupdesc.h"
#include "fmgr.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/shm_mq.h"
#include "utils/tuplestore.h"

/*
 * An attached worker, as the caller sees it.  Allocated in the caller's
 * memory context; treat the fields as read-only.
 */
typedef struct AttachedWorker
{
	/* the shared memory the caller and the worker share */
	dsm_segment *sharedMemorySegment;
	shm_mq_handle *outputQueue;

	/* the background worker; workerPid is set by IsAttachedWorkerRunning */
	pid_t		workerPid;
	BackgroundWorkerHandle *workerHandle;

	char	   *command;		/* what the worker runs */

	/* state of the conversation */
	bool		finished;		/* the worker said it is done, or is gone */
	bool		detachedEarly;	/* the segment went away before it finished */
	bool		ended;			/* EndAttachedWorker ran */

	/* where ReadFromAttachedWorker puts rows, when set */
	Tuplestorestate *resultStore;
	TupleDesc	resultDesc;
	bool		resultChecked;	/* the row description matched resultDesc */
	FmgrInfo   *inputFunctions; /* per column of resultDesc */
	Oid		   *inputParams;
	MemoryContext rowContext;	/* reset after each row */

	MemoryContextCallback endCallback;
} AttachedWorker;

/*
 * Start a worker that runs command in the current database as the current
 * user, with the caller's session settings, read-only when the caller is.
 * The Returning variants also send the rows of the last statement.
 */
extern PGDLLEXPORT AttachedWorker *StartAttachedWorker(char *command);
extern PGDLLEXPORT AttachedWorker *StartAttachedWorkerReturning(char *command);

/*
 * Start a worker in another database.  With userName NULL it runs as the
 * current user with the caller's settings, and the current user needs the
 * CONNECT privilege on that database; with a user name it runs as that
 * user with that user's own settings (for trusted C callers such as
 * schedulers).
 */
extern PGDLLEXPORT AttachedWorker *StartAttachedWorkerInDatabase(char *command,
																 char *databaseName,
																 char *userName);
extern PGDLLEXPORT AttachedWorker *StartAttachedWorkerInDatabaseReturning(char *command,
																		  char *databaseName,
																		  char *userName);

/*
 * The command tag of the next statement the worker finished (for example
 * "INSERT 0 1"), or NULL: the worker is done (or, with wait false, has
 * nothing new yet; IsAttachedWorkerRunning tells which).  A worker's error
 * is raised here, in the caller; its notices are passed on.
 */
extern PGDLLEXPORT char *ReadFromAttachedWorker(AttachedWorker *worker, bool wait);

/*
 * Read until the worker is done, putting the rows of its last statement
 * into store as tuples of desc; raises an error when the rows do not match
 * desc (number of columns or types).
 */
extern PGDLLEXPORT void ReadResultsFromAttachedWorker(AttachedWorker *worker,
													  Tuplestorestate *store,
													  TupleDesc desc);

/* Whether the worker has not finished yet. */
extern PGDLLEXPORT bool IsAttachedWorkerRunning(AttachedWorker *worker);

/* End the worker: terminate it if it still runs, and free its resources. */
extern PGDLLEXPORT void EndAttachedWorker(AttachedWorker *worker);

#endif							/* PG_EXTENSION_BASE_ATTACHED_WORKER_H */
