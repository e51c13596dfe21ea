/*-------------------------------------------------------------------------
 *
 * launch.c
 *	  The caller's side of an attached worker: the C API of
 *	  pg_extension_base/attached_worker.h.
 *
 * Starting: the command is parsed here first, so that a syntax error, an
 * empty command, transaction control or COPY to or from the client is
 * refused before any worker exists.  The shared segment carries who the
 * worker is (AttachedWorkerFixed), the caller's changed settings, the
 * command, and one queue from the worker to us.  We do not wait for the
 * worker to start: the queue knows the worker's handle, so reading from it
 * notices a worker that died before attaching.
 *
 * Reading: each message is one frontend/backend protocol message the
 * worker would have sent a client.  CommandComplete gives a command tag;
 * RowDescription and DataRow give the rows of the last statement;
 * ErrorResponse is raised here as our own error (a FATAL one as an ERROR:
 * it ended the worker, not us); NoticeResponse is passed on to our client;
 * ReadyForQuery means the worker committed and is done.
 *
 * Ending: EndAttachedWorker detaches the segment, and detaching terminates
 * the worker if it still runs (an on_dsm_detach callback), so every way out
 * cleans up: an explicit end, an error or cancel in the caller (the
 * transaction's resource owner detaches the segment), the reset or deletion
 * of the memory context the worker was started in (a reset callback), and
 * the caller's exit (every segment is detached).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "libpq/pqformat.h"
#include "libpq/pqmq.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "storage/latch.h"
#include "storage/shm_toc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "mb/pg_wchar.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/wait_event.h"

#include "pg_extension_base/abi.h"
#include "pg_extension_base/attached_worker.h"
#include "pg_extension_base/compat.h"
#include "attached.h"

/* How long to wait for a worker slot that is about to be freed. */
#define REGISTER_RETRY_MS		1000
#define REGISTER_RETRY_STEP_MS	5

/* How often a caller looks at the pool while a warm worker takes its call. */
#define HAND_OVER_RECHECK_MS	1000

/* waiting for a free slot, for a warm worker (named on 17+, see compat.h) */
static uint32 slot_wait_event = 0;
static uint32 hand_over_wait_event = 0;

/*
 * What only this file sees of an attached worker: the state of the
 * conversation.  Allocated with the AttachedWorker, in the same context.
 */
typedef struct AttachedWorkerState
{
	char	   *command;		/* what the worker runs */
	bool		returning;		/* it sends the rows of its last statement */
	bool		otherDatabase;	/* it runs in another database than ours */

	bool		finished;		/* the worker said it is done, or is gone */
	bool		detachedEarly;	/* the segment went away before it finished */
	bool		ended;			/* EndAttachedWorker ran */
	bool		pidAsked;		/* workerPid was looked up on a message */

	/* a warm worker from the pool serves the call: its pid and call id */
	pid_t		pooledPid;
	uint64		callId;

	/*
	 * Where ReadResultsFromAttachedWorker puts rows.  With describe,
	 * resultDesc is made from the worker's row description, in
	 * resultContext.
	 */
	Tuplestorestate *resultStore;
	TupleDesc	resultDesc;
	bool		describe;
	MemoryContext resultContext;
	bool		resultChecked;	/* resultDesc matches the row description */
	FmgrInfo   *inputFunctions; /* per column of resultDesc */
	Oid		   *inputParams;
	MemoryContext rowContext;	/* reset after each row */

	MemoryContextCallback endCallback;
} AttachedWorkerState;

/* One column of a row description. */
typedef struct DescribedColumn
{
	char	   *name;
	Oid			type;
	int32		typmod;
} DescribedColumn;

static AttachedWorker *start_worker(char *command, char *databaseName,
									char *userName, bool sendRows);
static bool caller_read_only(void);
static bool hand_to_pooled_worker(AttachedWorker *worker, shm_mq *queue,
								  Oid databaseId, Oid userId,
								  uint64 fingerprint);
static void register_worker(BackgroundWorker *bgw, BackgroundWorkerHandle **handle);
static void refuse_unsupported(const char *command, bool same_database);
static void command_syntax_error_callback(void *arg);
static dsm_segment *create_segment(const char *command, Oid databaseId,
								   Oid userId, bool sendRows,
								   const AttachedCallerSettings *settings,
								   shm_mq **queue);
static void fill_identity(AttachedWorkerFixed *fixed, Oid userId);
static void terminate_on_detach(dsm_segment *segment, Datum arg);
static void end_on_context_reset(void *arg);
static void handle_error_message(AttachedWorker *worker, StringInfo message);
static void handle_row_description(AttachedWorker *worker, StringInfo message);
static DescribedColumn *read_columns(StringInfo message, int natts);
static void check_columns(TupleDesc expected, DescribedColumn *columns, int natts);
static TupleDesc describe_columns(AttachedWorkerState *state,
								  DescribedColumn *columns, int natts);
static void prepare_input(AttachedWorkerState *state);
static void handle_data_row(AttachedWorker *worker, StringInfo message);

AttachedWorker *
StartAttachedWorker(char *command)
{
	return start_worker(command, NULL, NULL, false);
}

AttachedWorker *
StartAttachedWorkerReturning(char *command)
{
	return start_worker(command, NULL, NULL, true);
}

AttachedWorker *
StartAttachedWorkerInDatabase(char *command, char *databaseName, char *userName)
{
	return start_worker(command, databaseName, userName, false);
}

AttachedWorker *
StartAttachedWorkerInDatabaseReturning(char *command, char *databaseName,
									   char *userName)
{
	return start_worker(command, databaseName, userName, true);
}

static AttachedWorker *
start_worker(char *command, char *databaseName, char *userName, bool sendRows)
{
	Oid			databaseId = MyDatabaseId;
	Oid			userId = InvalidOid;
	AttachedWorker *worker;
	AttachedWorkerState *state;
	BackgroundWorker bgw = {0};
	shm_mq	   *queue;
	AttachedCallerSettings settings = {0};

	if (!pgeb_attached_module_loaded())
		pgeb_require_loaded(NULL, ATTACHED_MODULE_NAME);
	if (command == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the command of an attached worker must not be null")));

	if (databaseName != NULL)
	{
		databaseId = get_database_oid(databaseName, false);
		if (userName == NULL && databaseId != MyDatabaseId &&
			PGEB_DATABASE_ACLCHECK(databaseId, GetUserId(), ACL_CONNECT) != ACLCHECK_OK)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for database %s", databaseName),
					 errdetail("An attached worker in another database needs the CONNECT privilege there.")));
	}
	if (userName != NULL)
		userId = get_role_oid(userName, false);
	refuse_unsupported(command, databaseId == MyDatabaseId);

	worker = palloc0(sizeof(AttachedWorker));
	state = palloc0(sizeof(AttachedWorkerState));
	worker->state = state;
	state->command = pstrdup(command);
	state->returning = sendRows;
	state->otherDatabase = (databaseId != MyDatabaseId);
	if (!OidIsValid(userId))
		pgeb_attached_settings_collect(&settings);
	worker->sharedMemorySegment = create_segment(command, databaseId, userId,
												 sendRows, &settings, &queue);

	/*
	 * The worker ends with the memory context it belongs to; and detaching
	 * the segment (at the end, at abort, at exit) terminates it if it still
	 * runs.  Both callbacks before anything else can fail.
	 */
	state->endCallback.func = end_on_context_reset;
	state->endCallback.arg = worker;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &state->endCallback);
	on_dsm_detach(worker->sharedMemorySegment, terminate_on_detach,
				  PointerGetDatum(worker));

	/* a warm worker when the pool has one for us, else a new one */
	if (hand_to_pooled_worker(worker, queue, databaseId, userId,
							  settings.fingerprint))
	{
		worker->outputQueue = shm_mq_attach(queue, worker->sharedMemorySegment, NULL);
		if (sendRows)
			worker->tupleQueue = worker->outputQueue;
		return worker;
	}

	snprintf(bgw.bgw_name, BGW_MAXLEN, "%s for PID %d", ATTACHED_WORKER_TYPE, MyProcPid);
	snprintf(bgw.bgw_type, BGW_MAXLEN, ATTACHED_WORKER_TYPE);
	snprintf(bgw.bgw_library_name, BGW_MAXLEN, ATTACHED_MODULE_NAME);
	snprintf(bgw.bgw_function_name, BGW_MAXLEN, "pgeb_attached_worker_main");
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_ConsistentState;
	bgw.bgw_restart_time = BGW_NEVER_RESTART;
	bgw.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(worker->sharedMemorySegment));
	bgw.bgw_notify_pid = MyProcPid;

	register_worker(&bgw, &worker->workerHandle);

	worker->outputQueue = shm_mq_attach(queue, worker->sharedMemorySegment,
										worker->workerHandle);

	/* one queue carries everything, the rows of a Returning worker too */
	if (sendRows)
		worker->tupleQueue = worker->outputQueue;
	return worker;
}

/*
 * Hand the call to an idle worker of the pool with our key (pool.c), and
 * wait until it has taken it: it attaches to the queue as its sender, or
 * gives the call back untouched (it no longer fits, or exited first), and
 * then we start a new worker for it.  The worker's handle belongs to the
 * process that started it, so the queue cannot watch the worker for us:
 * after this wait, the worker's exit detaches the queue, which we see.
 * userId is the user given, or InvalidOid for the caller's identity; the
 * settings' fingerprint is of what we send then (none for another user).
 */
static bool
hand_to_pooled_worker(AttachedWorker *worker, shm_mq *queue, Oid databaseId,
					  Oid userId, uint64 fingerprint)
{
	AttachedWorkerState *state = worker->state;
	uint64		call_id;
	pid_t		pid;

	if (pgeb_attached_pool_size <= 0)
		return false;
	if (!OidIsValid(userId))
		userId = GetAuthenticatedUserId();
	pid = pgeb_pool_hand_over(databaseId, userId, fingerprint,
							  dsm_segment_handle(worker->sharedMemorySegment),
							  &call_id);
	if (pid == 0)
		return false;

	/* from here on, ending early tells that worker to go (terminate_on_detach) */
	state->pooledPid = pid;
	state->callId = call_id;
	for (;;)
	{
		if (shm_mq_get_sender(queue) != NULL)
			break;
		if (!pgeb_pool_call_held(pid, call_id))
		{
			/* taken, then released: it attached before it let go */
			if (shm_mq_get_sender(queue) != NULL)
				break;
			state->pooledPid = 0;
			return false;
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 HAND_OVER_RECHECK_MS,
						 pgeb_wait_event(&hand_over_wait_event,
										 "PgExtensionBaseAttachedPoolHandOver"));
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	worker->workerPid = pid;
	state->pidAsked = true;
	return true;
}

/*
 * Whether the worker is to be read-only: exactly when the caller's current
 * transaction is, whatever made it so (SET TRANSACTION, BEGIN READ ONLY or
 * READ WRITE, default_transaction_read_only from any source).  The
 * worker's own defaults (server, database, role) must not decide: a caller
 * that made its transaction writable in a server whose default is
 * read-only expects its worker to write.  Outside a transaction (a C
 * caller between transactions), as its next transaction would be.  On a
 * hot standby every transaction, the worker's too, is read-only anyway.
 */
static bool
caller_read_only(void)
{
	if (IsTransactionState())
		return XactReadOnly;
	return DefaultXactReadOnly || RecoveryInProgress();
}

/*
 * Register the worker.  The slot of an attached worker that has finished is
 * free only once the postmaster has noticed its exit, so a caller that
 * starts workers in quick succession (or several callers) can find every
 * slot taken by workers that are already done: wait a little for those,
 * up to REGISTER_RETRY_MS, before giving core's error.  Warm workers idle
 * in the pool hold slots too: the first failure tells the longest idle
 * one to go (one per call, so that a wait cannot empty the pool).
 */
static void
register_worker(BackgroundWorker *bgw, BackgroundWorkerHandle **handle)
{
	int			waited = 0;
	bool		evicted = false;

	while (!RegisterDynamicBackgroundWorker(bgw, handle))
	{
		/* an idle warm worker gives its slot up for a call that needs it */
		if (!evicted && (evicted = pgeb_pool_evict_idle()))
			ereport(DEBUG1,
					(errmsg("no free worker slot for an attached worker: the longest idle warm worker is told to go")));
		if (waited >= REGISTER_RETRY_MS)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
					 errmsg("could not register background process"),
					 errhint("You may need to increase max_worker_processes.")));
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 REGISTER_RETRY_STEP_MS,
						 pgeb_wait_event(&slot_wait_event, "PgExtensionBaseWorkerSlot"));
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		waited += REGISTER_RETRY_STEP_MS;
	}
}

/*
 * Refuse, before starting anything, what an attached worker cannot do (see
 * statements.c); the worker checks its own parse again.
 */
static void
refuse_unsupported(const char *command, bool same_database)
{
	ErrorContextCallback errcallback;
	List	   *parsetrees;

	/* a syntax error's position is one in the command, not in our query */
	errcallback.callback = command_syntax_error_callback;
	errcallback.arg = (void *) command;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;
	parsetrees = raw_parser(command, RAW_PARSE_DEFAULT);
	error_context_stack = errcallback.previous;

	pgeb_attached_check_statements(parsetrees, same_database);
}

/* Report a syntax error's position as one in the command. */
static void
command_syntax_error_callback(void *arg)
{
	int			position = geterrposition();

	if (position > 0)
	{
		errposition(0);
		internalerrposition(position);
		internalerrquery((const char *) arg);
	}
}

/* The shared segment, filled in; *queue is its queue, not yet attached. */
static dsm_segment *
create_segment(const char *command, Oid databaseId, Oid userId, bool sendRows,
			   const AttachedCallerSettings *settings, shm_mq **queue)
{
	shm_toc_estimator estimator;
	Size		settings_size = OidIsValid(userId) ? 1 : settings->size;
	Size		size;
	dsm_segment *segment;
	shm_toc    *toc;
	AttachedWorkerFixed *fixed;
	char	   *shared_command;
	char	   *shared_settings;

	shm_toc_initialize_estimator(&estimator);
	shm_toc_estimate_chunk(&estimator, sizeof(AttachedWorkerFixed));
	shm_toc_estimate_chunk(&estimator, strlen(command) + 1);
	shm_toc_estimate_chunk(&estimator, settings_size);
	shm_toc_estimate_chunk(&estimator, ATTACHED_QUEUE_SIZE);
	shm_toc_estimate_keys(&estimator, 4);
	size = shm_toc_estimate(&estimator);

	segment = dsm_create(size, 0);
	toc = shm_toc_create(ATTACHED_TOC_MAGIC, dsm_segment_address(segment), size);

	fixed = shm_toc_allocate(toc, sizeof(AttachedWorkerFixed));
	fixed->database_id = databaseId;
	fixed->caller_database_id = MyDatabaseId;
	fixed->caller_encoding = GetDatabaseEncoding();
	fixed->send_rows = sendRows;
	fill_identity(fixed, userId);
	shm_toc_insert(toc, ATTACHED_KEY_FIXED, fixed);

	shared_command = shm_toc_allocate(toc, strlen(command) + 1);
	strcpy(shared_command, command);
	shm_toc_insert(toc, ATTACHED_KEY_COMMAND, shared_command);

	shared_settings = shm_toc_allocate(toc, settings_size);
	if (OidIsValid(userId))
		shared_settings[0] = '\0';
	else
		memcpy(shared_settings, settings->data, settings_size);
	shm_toc_insert(toc, ATTACHED_KEY_SETTINGS, shared_settings);

	*queue = shm_mq_create(shm_toc_allocate(toc, ATTACHED_QUEUE_SIZE),
						   ATTACHED_QUEUE_SIZE);
	shm_toc_insert(toc, ATTACHED_KEY_QUEUE, *queue);
	shm_mq_set_receiver(*queue, MyProc);

	return segment;
}

/*
 * Who the worker will be: the caller (session user, SET ROLE, current user
 * and security context, as a parallel worker), or the given user; and
 * whether it is read-only, in either case as the caller's transaction.
 */
static void
fill_identity(AttachedWorkerFixed *fixed, Oid userId)
{
	if (userId != InvalidOid)
	{
		fixed->authenticated_user_id = userId;
		fixed->session_user_id = userId;
		fixed->outer_user_id = InvalidOid;
		fixed->current_user_id = userId;
		fixed->security_context = 0;
	}
	else
	{
		fixed->authenticated_user_id = GetAuthenticatedUserId();
		fixed->session_user_id = GetSessionUserId();
		fixed->outer_user_id = GetCurrentRoleId();
		GetUserIdAndSecContext(&fixed->current_user_id, &fixed->security_context);
	}
	fixed->read_only = caller_read_only();
}

/* on_dsm_detach: a worker that still runs has nobody to talk to. */
static void
terminate_on_detach(dsm_segment *segment, Datum arg)
{
	AttachedWorker *worker = (AttachedWorker *) DatumGetPointer(arg);
	AttachedWorkerState *state = worker->state;

	if (!state->finished)
	{
		if (worker->workerHandle != NULL)
			TerminateBackgroundWorker(worker->workerHandle);
		else if (state->pooledPid != 0)
			pgeb_pool_abandon_call(state->pooledPid, state->callId);
		state->detachedEarly = true;
	}
	state->finished = true;
	worker->sharedMemorySegment = NULL;
	worker->outputQueue = NULL;
	worker->tupleQueue = NULL;
}

/* Memory context reset callback: the worker ends with its context. */
static void
end_on_context_reset(void *arg)
{
	EndAttachedWorker((AttachedWorker *) arg);
}

char *
ReadFromAttachedWorker(AttachedWorker *worker, bool wait)
{
	AttachedWorkerState *state = worker->state;

	if (state->detachedEarly && !state->ended)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("attached worker was ended before it finished its command"),
				 errdetail("Its shared memory was released when the transaction that started it ended.")));

	while (!state->finished)
	{
		Size		nbytes;
		void	   *data;
		shm_mq_result result;
		StringInfoData message;
		char		type;

		result = shm_mq_receive(worker->outputQueue, &nbytes, &data, !wait);
		if (result == SHM_MQ_WOULD_BLOCK)
			return NULL;
		if (result == SHM_MQ_DETACHED)
		{
			state->finished = true;
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("attached worker exited without finishing its command"),
					 errdetail("The worker's changes are rolled back, unless it committed before it exited.")));
		}

		/*
		 * The worker has started, so its pid is known: fill in the field
		 * that callers of the original API read (which waited for the
		 * worker to start).  Once: a worker that has exited already stays
		 * without one.
		 */
		if (!state->pidAsked && worker->workerHandle != NULL)
		{
			state->pidAsked = true;
			(void) GetBackgroundWorkerPid(worker->workerHandle, &worker->workerPid);
		}

		/* a copy, NUL-terminated, as the pq_getmsg functions expect */
		initStringInfo(&message);
		appendBinaryStringInfo(&message, data, nbytes);
		type = pq_getmsgbyte(&message);
		switch (type)
		{
			case 'C':			/* CommandComplete */
				{
					char	   *tag = pstrdup(pq_getmsgstring(&message));

					pfree(message.data);
					return tag;
				}
			case 'E':			/* ErrorResponse: the worker exits after it */
				state->finished = true;
				handle_error_message(worker, &message);
				break;
			case 'N':			/* NoticeResponse */
				handle_error_message(worker, &message);
				break;
			case 'T':			/* RowDescription */
				handle_row_description(worker, &message);
				break;
			case 'D':			/* DataRow */
				handle_data_row(worker, &message);
				break;
			case 'Z':			/* ReadyForQuery: committed and done */
				state->finished = true;
				if (state->resultDesc != NULL && !state->resultChecked)
					ereport(ERROR,
							(errcode(ERRCODE_DATATYPE_MISMATCH),
							 errmsg("the result of the attached worker does not match the column list"),
							 errdetail("The last statement returns no result set.")));
				break;
			default:
				/* nothing else concerns us (ParameterStatus, ...) */
				break;
		}
		pfree(message.data);
	}
	return NULL;
}

/*
 * Raise the worker's error or notice here.  A FATAL ended the worker, not
 * us, so it becomes an ERROR.
 */
static void
handle_error_message(AttachedWorker *worker, StringInfo message)
{
	ErrorData	edata = {0};

	pq_parse_errornotice(message, &edata);
	if (edata.elevel > ERROR)
		edata.elevel = ERROR;

	/*
	 * A position in the worker's command is not one in the caller's query:
	 * report it as a position in an internal query, the command.
	 */
	if (edata.cursorpos > 0)
	{
		edata.internalpos = edata.cursorpos;
		edata.internalquery = worker->state->command;
		edata.cursorpos = 0;
	}

	/* say where it comes from, as parallel workers do */
	edata.context = edata.context ?
		psprintf("%s\nattached worker", edata.context) : pstrdup("attached worker");
	ThrowErrorData(&edata);
}

/*
 * The row description of the last statement: check it against the
 * expected descriptor, or make the descriptor from it; then prepare what
 * reading the rows needs.  Ignored when nobody reads the rows.
 */
static void
handle_row_description(AttachedWorker *worker, StringInfo message)
{
	AttachedWorkerState *state = worker->state;
	int			natts = pq_getmsgint(message, 2);
	DescribedColumn *columns;

	if (state->resultDesc == NULL && !state->describe)
		return;

	columns = read_columns(message, natts);
	if (state->resultDesc != NULL)
		check_columns(state->resultDesc, columns, natts);
	else
		state->resultDesc = describe_columns(state, columns, natts);
	prepare_input(state);
}

/* The columns of a row description, after its column count. */
static DescribedColumn *
read_columns(StringInfo message, int natts)
{
	DescribedColumn *columns = palloc(sizeof(DescribedColumn) * Max(natts, 1));
	int			i;

	for (i = 0; i < natts; i++)
	{
		/*
		 * The worker already speaks our database's encoding (it sets its
		 * client_encoding to it): take the name as it is, without the
		 * conversion from our own client's encoding that pq_getmsgstring
		 * would do.
		 */
		columns[i].name = pstrdup(pq_getmsgrawstring(message));
		(void) pq_getmsgint(message, 4);	/* table oid */
		(void) pq_getmsgint(message, 2);	/* column number */
		columns[i].type = pq_getmsgint(message, 4);
		(void) pq_getmsgint(message, 2);	/* type length */
		columns[i].typmod = pq_getmsgint(message, 4);
		(void) pq_getmsgint(message, 2);	/* format */
	}
	return columns;
}

/* Raise an error when the columns do not match the expected descriptor. */
static void
check_columns(TupleDesc expected, DescribedColumn *columns, int natts)
{
	int			i;

	if (natts != expected->natts)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the result of the attached worker does not match the column list"),
				 errdetail("The last statement returns %d columns, the column list has %d.",
						   natts, expected->natts)));

	for (i = 0; i < natts; i++)
	{
		Oid			want = TupleDescAttr(expected, i)->atttypid;

		/* a row description names base types, not domains */
		if (columns[i].type != getBaseType(want))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("the result of the attached worker does not match the column list"),
					 errdetail("Column %d of the last statement is of type %s, the column list says %s.",
							   i + 1, format_type_be(columns[i].type),
							   format_type_be(want))));
	}
}

/*
 * A descriptor made from the worker's columns, in the caller's context.
 * A type must mean here what it means in the worker: a type OID of
 * another database names another type here, or none, unless it is
 * built-in; and a type that the command itself created is not visible to
 * us before the worker commits.
 */
static TupleDesc
describe_columns(AttachedWorkerState *state, DescribedColumn *columns, int natts)
{
	MemoryContext caller_context = MemoryContextSwitchTo(state->resultContext);
	TupleDesc	desc = CreateTemplateTupleDesc(natts);
	int			i;

	for (i = 0; i < natts; i++)
	{
		int32		typmod = columns[i].typmod;

		if (state->otherDatabase && columns[i].type >= FirstNormalObjectId)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("column \"%s\" of the attached worker's result is of a type of its own database",
							columns[i].name),
					 errdetail("Type OID %u may name another type, or none, in this database.",
							   columns[i].type),
					 errhint("Cast the column to text in the command, or pass a descriptor of the expected rows.")));
		if (!SearchSysCacheExists1(TYPEOID, ObjectIdGetDatum(columns[i].type)))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("column \"%s\" of the attached worker's result is of a type that does not exist here",
							columns[i].name),
					 errdetail("Type OID %u is not visible to the caller, for example because the worker's command created it.",
							   columns[i].type),
					 errhint("Cast the column to text in the command, or pass a descriptor of the expected rows.")));

		/*
		 * The type modifier of an anonymous record numbers a row type that
		 * only the worker's process has registered.
		 */
		if (columns[i].type == RECORDOID || columns[i].type == RECORDARRAYOID)
			typmod = -1;
		TupleDescInitEntry(desc, (AttrNumber) (i + 1), columns[i].name,
						   columns[i].type, typmod, 0);
	}
	MemoryContextSwitchTo(caller_context);
	return desc;
}

/* Input functions and scratch memory for the rows, once. */
static void
prepare_input(AttachedWorkerState *state)
{
	int			natts = state->resultDesc->natts;
	int			i;

	state->inputFunctions = palloc(sizeof(FmgrInfo) * Max(natts, 1));
	state->inputParams = palloc(sizeof(Oid) * Max(natts, 1));
	for (i = 0; i < natts; i++)
	{
		Oid			input;

		getTypeInputInfo(TupleDescAttr(state->resultDesc, i)->atttypid,
						 &input, &state->inputParams[i]);
		fmgr_info(input, &state->inputFunctions[i]);
	}
	state->rowContext = AllocSetContextCreate(CurrentMemoryContext,
											  "pg_extension_base attached worker row",
											  ALLOCSET_SMALL_SIZES);
	state->resultChecked = true;
}

/* Convert one row from text, and store it. */
static void
handle_data_row(AttachedWorker *worker, StringInfo message)
{
	AttachedWorkerState *state = worker->state;
	TupleDesc	desc = state->resultDesc;
	int			natts = pq_getmsgint(message, 2);
	MemoryContext caller_context;
	Datum	   *values;
	bool	   *nulls;
	int			i;

	if (state->resultStore == NULL)
		return;
	if (!state->resultChecked || natts != desc->natts)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("attached worker sent a row without a matching row description")));

	caller_context = MemoryContextSwitchTo(state->rowContext);
	values = palloc(sizeof(Datum) * Max(natts, 1));
	nulls = palloc(sizeof(bool) * Max(natts, 1));
	for (i = 0; i < natts; i++)
	{
		int			length = pq_getmsgint(message, 4);
		char	   *text = NULL;

		nulls[i] = (length == -1);
		if (!nulls[i])
			text = pnstrdup(pq_getmsgbytes(message, length), length);
		values[i] = InputFunctionCall(&state->inputFunctions[i], text,
									  state->inputParams[i],
									  TupleDescAttr(desc, i)->atttypmod);
	}
	MemoryContextSwitchTo(caller_context);
	tuplestore_putvalues(state->resultStore, desc, values, nulls);
	MemoryContextReset(state->rowContext);
}

void
ReadResultsFromAttachedWorker(AttachedWorker *worker, Tuplestorestate *store,
							  TupleDesc *resultDesc)
{
	AttachedWorkerState *state = worker->state;

	/*
	 * Refuse the two misuses that would otherwise lose the rows silently or
	 * fail later with a less helpful message.
	 */
	if (resultDesc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the result descriptor argument of ReadResultsFromAttachedWorker must not be a null pointer"),
				 errhint("Pass the address of a TupleDesc: one that describes the expected rows, or one set to NULL to receive the worker's own description.")));
	if (!state->returning)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the attached worker was not started to return rows"),
				 errhint("Start it with StartAttachedWorkerReturning or StartAttachedWorkerInDatabaseReturning.")));

	state->resultStore = store;
	state->resultDesc = *resultDesc;
	state->describe = (*resultDesc == NULL);
	state->resultContext = CurrentMemoryContext;
	while (ReadFromAttachedWorker(worker, true) != NULL)
		;
	*resultDesc = state->resultDesc;
}

bool
IsAttachedWorkerRunning(AttachedWorker *worker)
{
	if (!worker->state->finished && worker->workerHandle != NULL)
		(void) GetBackgroundWorkerPid(worker->workerHandle, &worker->workerPid);
	return !worker->state->finished;
}

void
EndAttachedWorker(AttachedWorker *worker)
{
	if (worker->state->ended)
		return;
	worker->state->ended = true;
	if (worker->sharedMemorySegment != NULL)
		dsm_detach(worker->sharedMemorySegment);	/* terminates it if running */
}
