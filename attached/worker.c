/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  The attached worker: runs the caller's command and reports back.
 *
 * The worker attaches to the caller's shared segment and redirects its
 * frontend/backend protocol output into the segment's queue, so that
 * everything a client would receive (row descriptions, rows, command
 * completions, errors, notices) reaches the caller instead.  It connects
 * to the database, takes on the caller's identity and settings, runs the
 * statements as the simple query protocol would (one implicit transaction
 * for several statements; a statement such as VACUUM that must run outside
 * a transaction block works when it is alone), commits, sends
 * ReadyForQuery and detaches.  Then, if the pool keeps it (pool.c), it is
 * reset (reset.c) and waits for the next call of a caller with the same
 * database, user and settings' fingerprint; a warm call first checks that
 * the worker is still what a new one would be (fitness.c).  Otherwise it
 * exits.  An ERROR or FATAL is sent to the caller by the error machinery
 * itself, then the worker exits: a call that failed is never followed by
 * another in the same process.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#ifndef WIN32
#include <sys/resource.h>
#endif

#include "access/printtup.h"
#include "access/xact.h"
#include "parser/analyze.h"
#include "libpq/pqformat.h"
#include "libpq/pqmq.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "commands/dbcommands.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/ps_status.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"

#include "pg_extension_base/compat.h"
#include "attached.h"

/*
 * The scheduling priority (nice value) of a worker that is tearing itself
 * down: the lowest, so that any other process runs first.
 */
#define EXITING_WORKER_NICE		19

typedef enum CallOutcome
{
	CALL_SERVED,				/* the command ran and committed; pooled */
	CALL_SERVED_LAST,			/* the same, and the pool does not keep us */
	CALL_CALLER_GONE,			/* the caller left before we attached */
	CALL_GIVEN_BACK,			/* we no longer fit: the caller starts another */
} CallOutcome;

static CallOutcome serve_call(dsm_handle handle, bool first);

/* what a call allocates outside its transactions; reset after each */
static MemoryContext call_context = NULL;

/* the fingerprint of our placeholders that the pool knows us by */
static uint64 pool_key_placeholders = 0;
static void yield_cpu_when_exiting(void);
static void take_identity(const AttachedWorkerFixed *fixed);
static void run_command(const char *command, bool send_rows, bool same_database);
static void run_statement(RawStmt *parsetree, const char *command, bool send_rows,
						  bool last, bool implicit_block);

void
pgeb_attached_worker_main(Datum main_arg)
{
	dsm_handle	segment = DatumGetUInt32(main_arg);
	bool		first = true;

	atexit(yield_cpu_when_exiting);
	pqsignal(SIGTERM, die);
	pqsignal(SIGINT, StatementCancelHandler);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	CurrentResourceOwner = ResourceOwnerCreate(NULL, ATTACHED_WORKER_TYPE);

	/*
	 * Serve the call we were started for, then, while the pool keeps us,
	 * the calls handed to us (pool.c).  Any error ends the process, as it
	 * always did: the error machinery sends it to the caller first.
	 */
	for (;;)
	{
		CallOutcome outcome = serve_call(segment, first);

		if (outcome == CALL_GIVEN_BACK || outcome == CALL_SERVED_LAST ||
			(first && outcome == CALL_CALLER_GONE))
			break;
		first = false;

		/*
		 * A caller that left before we attached: nothing ran, we stay as we
		 * were.  A reset that fails gives a call handed to us meanwhile
		 * back (our exit does, pool.c).
		 */
		if (outcome == CALL_CALLER_GONE &&
			!pgeb_pool_join(pool_key_placeholders))
			break;
		if (outcome == CALL_SERVED &&
			!pgeb_attached_reset_session(pool_key_placeholders))
			break;
		segment = pgeb_pool_wait_for_call();
		if (segment == DSM_HANDLE_INVALID)
			break;
	}
}

/*
 * One call: attach to the caller's segment, connect (the first time) or
 * check that we still fit (later), take the caller's identity and
 * settings, run the command, send ReadyForQuery, detach.
 */
static CallOutcome
serve_call(dsm_handle handle, bool first)
{
	dsm_segment *segment;
	shm_toc    *toc;
	AttachedWorkerFixed *fixed;
	shm_mq	   *queue;
	char	   *command;
	char	   *settings;
	char	   *converted;
	MemoryContext old_context;
	StringInfoData ready;
	bool		joined;

	/* the caller may be gone already: then there is nobody to tell */
	segment = dsm_attach(handle);
	if (segment == NULL)
		return CALL_CALLER_GONE;
	toc = shm_toc_attach(ATTACHED_TOC_MAGIC, dsm_segment_address(segment));
	if (toc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("invalid magic number in dynamic shared memory segment")));
	fixed = shm_toc_lookup(toc, ATTACHED_KEY_FIXED, false);
	command = shm_toc_lookup(toc, ATTACHED_KEY_COMMAND, false);
	settings = shm_toc_lookup(toc, ATTACHED_KEY_SETTINGS, false);
	queue = shm_toc_lookup(toc, ATTACHED_KEY_QUEUE, false);

	/*
	 * A warm worker checks, before it answers, that it is what a new one
	 * would be; if not, it gives the call back untouched (the caller starts
	 * a new worker on the same segment) and exits.
	 */
	if (!first)
	{
		bool		fits;

		StartTransactionCommand();
		fits = fixed->database_id == MyDatabaseId &&
			fixed->authenticated_user_id == GetAuthenticatedUserId() &&
			pgeb_attached_still_fits();
		CommitTransactionCommand();
		if (!fits)
		{
			ereport(DEBUG1,
					(errmsg_internal("attached worker gives its call back: its role, database or their settings changed since it connected")));
			pgeb_pool_give_back_call();
			dsm_detach(segment);
			return CALL_GIVEN_BACK;
		}
	}

	/*
	 * From here on, whatever a client would receive goes to the caller.
	 * The queue's handle lives as long as the call: a warm worker would
	 * otherwise keep one per call in TopMemoryContext.
	 */
	if (call_context == NULL)
		call_context = AllocSetContextCreate(TopMemoryContext,
											 "pg_extension_base attached call",
											 ALLOCSET_SMALL_SIZES);
	old_context = MemoryContextSwitchTo(call_context);
	shm_mq_set_sender(queue, MyProc);
	pq_redirect_to_shm_mq(segment, shm_mq_attach(queue, segment, NULL));
	MemoryContextSwitchTo(old_context);

	if (first)
	{
		BackgroundWorkerInitializeConnectionByOid(fixed->database_id,
												  fixed->authenticated_user_id,
												  PGEB_ATTACHED_CONNECTION_FLAGS);
		StartTransactionCommand();
		pgeb_attached_fitness_init();
		CommitTransactionCommand();
	}

	StartTransactionCommand();
	take_identity(fixed);
	pgeb_attached_settings_restore(settings);

	/*
	 * Read-only exactly when the caller's transaction is, both ways: the
	 * defaults of our server, database and role must not make a worker of
	 * a writable caller read-only.  (On a hot standby every transaction is
	 * read-only whatever this says.)
	 */
	SetConfigOption("default_transaction_read_only",
					fixed->read_only ? "on" : "off",
					PGC_USERSET, PGC_S_SESSION);

	/*
	 * Speak the caller's encoding: what we send is converted to it, and the
	 * command, written in it, is converted to ours (another database may
	 * have another encoding).
	 */
	if (PrepareClientEncoding(fixed->caller_encoding) < 0 ||
		SetClientEncoding(fixed->caller_encoding) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot convert between the encodings of database \"%s\" and of the caller's database",
						get_database_name(MyDatabaseId))));
	/* outside the transaction's memory, which its commit frees */
	old_context = MemoryContextSwitchTo(TopMemoryContext);
	converted = pg_any_to_server(command, strlen(command), fixed->caller_encoding);
	MemoryContextSwitchTo(old_context);
	CommitTransactionCommand();

	pgeb_attached_note_before_call();
	run_command(converted, fixed->send_rows,
				fixed->caller_database_id == MyDatabaseId);
	if (converted != command)
		pfree(converted);

	/*
	 * Done.  Join the pool (or stay in it) first, so that a caller making
	 * calls back to back finds this worker for its next call, which it
	 * takes once reset; then ReadyForQuery, and the caller stops reading.
	 * After the first call the pool knows us by the placeholders we had
	 * before it, and the reset checks, after ReadyForQuery, that the call
	 * made none: listing the settings sorts all of them since PostgreSQL
	 * 16, which a caller should not wait for.
	 */
	if (first)
	{
		AttachedWorkerSettings settings;

		pgeb_attached_settings_scan(&settings);
		pool_key_placeholders = settings.placeholders;
	}
	joined = pgeb_pool_join(pool_key_placeholders);
	pq_beginmessage(&ready, 'Z');
	pq_sendbyte(&ready, 'I');
	pq_endmessage(&ready);

	/* from here on, what we would say goes to the server log */
	dsm_detach(segment);
	MemoryContextReset(call_context);
	return joined ? CALL_SERVED : CALL_SERVED_LAST;
}

/*
 * atexit, after proc_exit has done its work: the worker has released
 * everything it shared (its locks, its PGPROC, the segment) and run every
 * exit callback, and its caller has its answer or has gone.  (An exit()
 * from elsewhere runs us before core's own atexit cleanup, which may still
 * take locks: then we change nothing.)  What is left is the kernel
 * tearing down the address space: about a millisecond of CPU on a small
 * machine, measured.  At normal priority that competes for the CPU with the
 * caller, which has its answer and goes on, and with the next worker the
 * caller starts, so a caller making calls back to back pays for each exit.
 * At the lowest priority the teardown yields to them; only the postmaster,
 * which frees the worker's slot once it has reaped the process, waits for
 * it.  How much this gives depends on the kernel's scheduler (with
 * autogroup, each PostgreSQL process is its own session and a nice value
 * counts for less); bench/attached_latency.pl measures it (see
 * bench/README.md).
 */
static void
yield_cpu_when_exiting(void)
{
#ifndef WIN32
	if (proc_exit_inprogress)
		(void) setpriority(PRIO_PROCESS, 0, EXITING_WORKER_NICE);
#endif
}

/*
 * Become who the caller is: its session user and SET ROLE, through the
 * session_authorization and role settings so that SHOW and a later RESET
 * behave as in the caller, then its current user with its security context
 * (inside a SECURITY DEFINER function, the function's owner), as a parallel
 * worker does.  Needs a transaction: the settings look the roles up.
 */
static void
take_identity(const AttachedWorkerFixed *fixed)
{
	if (fixed->session_user_id != fixed->authenticated_user_id)
		SetConfigOption("session_authorization",
						GetUserNameFromId(fixed->session_user_id, false),
						PGC_SUSET, PGC_S_SESSION);
	if (OidIsValid(fixed->outer_user_id))
		SetConfigOption("role", GetUserNameFromId(fixed->outer_user_id, false),
						PGC_SUSET, PGC_S_SESSION);
	SetUserIdAndSecContext(fixed->current_user_id, fixed->security_context);
}

/*
 * Run every statement of the command, as exec_simple_query does: several
 * statements share one implicit transaction block, which commits at the
 * end.  The caller refused transaction control and COPY to or from the
 * client before starting us.
 */
static void
run_command(const char *command, bool send_rows, bool same_database)
{
	MemoryContext command_context;
	List	   *parsetrees;
	ListCell   *lc;
	bool		implicit_block;

	/*
	 * Parse trees and plans must outlive the transaction: a statement such
	 * as VACUUM commits it and starts new ones (exec_simple_query keeps them
	 * in MessageContext for the same reason).
	 */
	command_context = AllocSetContextCreate(TopMemoryContext,
											"pg_extension_base attached command",
											ALLOCSET_DEFAULT_SIZES);

	pgstat_report_activity(STATE_RUNNING, command);
	StartTransactionCommand();
	if (StatementTimeout > 0)
		enable_timeout_after(STATEMENT_TIMEOUT, StatementTimeout);

	MemoryContextSwitchTo(command_context);
	parsetrees = pg_parse_query(command);

	/* our parse may differ from the caller's: check it again */
	pgeb_attached_check_statements(parsetrees, same_database);

	implicit_block = list_length(parsetrees) > 1;
	if (implicit_block)
		BeginImplicitTransactionBlock();

	foreach(lc, parsetrees)
	{
		RawStmt    *parsetree = lfirst_node(RawStmt, lc);
		bool		last = (lnext(parsetrees, lc) == NULL);

		run_statement(parsetree, command, send_rows && last, last, implicit_block);
		MemoryContextSwitchTo(command_context);
		if (!last)
			CommandCounterIncrement();
	}

	disable_timeout(STATEMENT_TIMEOUT, false);
	MemoryContextSwitchTo(TopMemoryContext);
	MemoryContextDelete(command_context);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * Run one statement through a portal, sending its rows when asked and its
 * command tag (CommandComplete) always.
 */
static void
run_statement(RawStmt *parsetree, const char *command, bool send_rows,
			  bool last, bool implicit_block)
{
	CommandTag	tag = CreateCommandTag(parsetree->stmt);
	bool		snapshot_set = false;
	List	   *querytrees;
	List	   *plantrees;
	Portal		portal;
	DestReceiver *receiver;
	QueryCompletion qc;
	int16		format = 0;		/* text */

	set_ps_display(GetCommandTagName(tag));

	if (analyze_requires_snapshot(parsetree))
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		snapshot_set = true;
	}
	querytrees = pg_analyze_and_rewrite_fixedparams(parsetree, command, NULL, 0, NULL);
	plantrees = pg_plan_queries(querytrees, command, CURSOR_OPT_PARALLEL_OK, NULL);
	if (snapshot_set)
		PopActiveSnapshot();

	portal = CreatePortal("", true, true);
	portal->visible = false;
	PortalDefineQuery(portal, NULL, command, tag, plantrees, NULL);
	PortalStart(portal, NULL, 0, InvalidSnapshot);
	PortalSetResultFormat(portal, 1, &format);

	receiver = CreateDestReceiver(send_rows ? DestRemote : DestNone);
	if (send_rows)
		SetRemoteDestReceiverParams(receiver, portal);

	(void) PGEB_PORTAL_RUN(portal, FETCH_ALL, true, receiver, receiver, &qc);
	receiver->rDestroy(receiver);
	PortalDrop(portal, false);

	/*
	 * As exec_simple_query: the last statement's tag is sent after the
	 * commit, so that a tag means committed (a deferred constraint can still
	 * fail at commit).
	 */
	if (last)
	{
		if (implicit_block)
			EndImplicitTransactionBlock();
		if (IsTransactionBlock())
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("transaction control statements are not allowed in attached workers")));
		CommitTransactionCommand();
	}
	EndCommand(&qc, DestRemote, false);
}
