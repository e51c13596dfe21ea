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
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/shm_mq.h"
#include "utils/tuplestore.h"

/* what only the library sees of an attached worker */
struct AttachedWorkerState;

/*
 * An attached worker, as the caller sees it.  Made by the StartAttachedWorker
 * functions only, in the caller's memory context; treat the fields as
 * read-only.  The first five fields are those of the original
 * pg_extension_base's struct, with its names and types; here they mean:
 *
 * sharedMemorySegment: the segment the caller and the worker share (the
 *		command, the caller's identity and settings, the queue).  NULL once it
 *		is detached: by EndAttachedWorker, or by the end of the transaction
 *		that started the worker.
 * outputQueue: the caller's end of the one queue from the worker.  Every
 *		message the worker sends comes through it as a frontend/backend
 *		protocol message: command tags, errors, notices, and for a Returning
 *		worker its row description and rows (as text).  NULL with the segment.
 * tupleQueue: for a worker started by a Returning function, the queue that
 *		carries its rows, which is outputQueue (the rows are DataRow messages
 *		there, not the minimal tuples of a tuple queue reader); NULL for a
 *		worker that returns no rows, and once the segment is detached.
 * workerPid: the worker's process id, or 0 while not known: the caller does
 *		not wait for the worker to start.  Set when the first message from the
 *		worker is read, and by IsAttachedWorkerRunning.
 * workerHandle: the background worker's handle (for GetBackgroundWorkerPid
 *		and the like).  NULL when a warm worker from the pool serves the
 *		call: another process started it, and its handle is not ours; its
 *		workerPid is then set at once.
 */
typedef struct AttachedWorker
{
	dsm_segment *sharedMemorySegment;
	shm_mq_handle *outputQueue;
	shm_mq_handle *tupleQueue;
	pid_t		workerPid;
	BackgroundWorkerHandle *workerHandle;

	/* the state of the conversation, private to the library */
	struct AttachedWorkerState *state;
} AttachedWorker;

/*
 * Start a worker that runs command in the current database as the current
 * user, with the caller's session settings.  The worker is read-only
 * exactly when the caller's current transaction is (outside a transaction,
 * when its next one would be): SET TRANSACTION READ WRITE in a server whose
 * default_transaction_read_only is on gives a writable worker, BEGIN READ
 * ONLY a read-only one; on a hot standby it is read-only.  This holds for
 * every Start function.  The Returning variants also send the rows of the
 * last statement.
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
 * Read until the worker (started by a Returning function) is done, putting
 * the rows of its last statement into store.
 *
 * With *resultDesc a descriptor, the rows are stored as tuples of it, and an
 * error is raised when they do not match it (number of columns, or a type
 * other than a column's type or, for a domain, its base type), or when the
 * last statement returns no rows at all.
 *
 * With *resultDesc NULL, the descriptor is made from the worker's row
 * description (column names, types and type modifiers), in the memory
 * context current at this call, which must outlive the store's use, and
 * returned in *resultDesc; it stays NULL when the last statement returns no
 * rows at all.  In another database, only built-in types carry over (type
 * OIDs of others differ between databases): cast other columns to text, or
 * pass a descriptor.
 *
 * resultDesc itself must not be NULL.
 */
extern PGDLLEXPORT void ReadResultsFromAttachedWorker(AttachedWorker *worker,
													  Tuplestorestate *store,
													  TupleDesc *resultDesc);

/* Whether the worker has not finished yet. */
extern PGDLLEXPORT bool IsAttachedWorkerRunning(AttachedWorker *worker);

/* End the worker: terminate it if it still runs, and free its resources. */
extern PGDLLEXPORT void EndAttachedWorker(AttachedWorker *worker);

#endif							/* PG_EXTENSION_BASE_ATTACHED_WORKER_H */
