/*-------------------------------------------------------------------------
 *
 * stop.c
 *	  Backends stopping base workers before their command returns, and
 *	  giving them back when the transaction rolls back.
 *
 * Three ways a backend stops workers:
 *	- deregister_worker (registrations.c) stops one worker;
 *	- DROP EXTENSION, also through DROP SCHEMA ... CASCADE and DROP OWNED:
 *	  the object-access hook sees the extension being dropped, removes its
 *	  registrations and stops its workers;
 *	- database DDL that needs the database free of other connections
 *	  (DROP DATABASE, CREATE DATABASE ... TEMPLATE, ALTER DATABASE RENAME /
 *	  SET TABLESPACE): the ProcessUtility hook blocks the database, so that
 *	  no worker or database starter runs there, and waits.
 * In each case the backend marks the slots SLOT_STOPPING with itself as
 * stopper, wakes the server starter (which terminates the processes) and
 * sleeps on stopped_cv until they are gone.  The wait checks for interrupts,
 * so it can be cancelled like any command.
 *
 * At the end of the transaction (or of a subtransaction that rolls back)
 * the callbacks settle what the backend stopped: a commit frees the slots,
 * except database DDL other than DROP DATABASE, after which they run again;
 * a rollback puts them back to SLOT_WANTED with no backoff, and the server
 * starter starts them at once.  Any change of registrations, committed or
 * not, also asks for a scan of the database.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_database.h"
#include "catalog/pg_extension.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/procarray.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/wait_event.h"

#include "pg_extension_base/base_workers.h"
#include "pg_extension_base/compat.h"
#include "supervisor.h"

/*
 * How often a waiting backend looks again: every 50 us for the first 20 ms
 * or so, then every millisecond or at a broadcast.
 */
#define STOP_WAIT_FAST_POLL_US	50
#define STOP_WAIT_FAST_POLLS	400
#define STOP_WAIT_POLL_MS	1
#define STOP_WAIT_REMIND_POLLS	100

/* What this transaction did; reset at its end. */
static bool stopped_workers = false;
static bool registrations_changed = false;
static bool database_ddl = false;
static Oid	database_ddl_target = InvalidOid;
static bool scan_all_at_end = false;

static object_access_hook_type prev_object_access_hook = NULL;
static ProcessUtility_hook_type prev_ProcessUtility = NULL;

/* waiting for stopped processes (named on PostgreSQL 17+, see compat.h) */
static uint32 stop_wait_event = 0;

static void supervisor_object_access(ObjectAccessType access, Oid classId,
									 Oid objectId, int subId, void *arg);
static void supervisor_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
									  bool readOnlyTree, ProcessUtilityContext context,
									  ParamListInfo params, QueryEnvironment *queryEnv,
									  DestReceiver *dest, QueryCompletion *qc);
static void note_database_ddl(Oid database_id);
static void block_database_and_wait(Oid database_id, bool dropping,
									bool may_be_current);
static void wait_for_processes(Oid database_id, Oid extension_id, int32 worker_id,
							   bool starters_too);
static bool processes_remain(Oid database_id, Oid extension_id, int32 worker_id,
							 bool starters_too);
static List *terminate_later(WorkerSlot *slot, List *pids);
static void terminate_now(List *pids);
static bool still_there(pid_t pid, bool connected);
static void end_of_xact(XactEvent event, void *arg);
static void end_of_subxact(SubXactEvent event, SubTransactionId mySubid,
						   SubTransactionId parentSubid, void *arg);

/* Called by _PG_init in the postmaster; every backend inherits them. */
void
pgeb_install_stop_hooks(void)
{
	prev_object_access_hook = object_access_hook;
	object_access_hook = supervisor_object_access;
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = supervisor_ProcessUtility;
	RegisterXactCallback(end_of_xact, NULL);
	RegisterSubXactCallback(end_of_subxact, NULL);
}

void
pgeb_note_registrations_changed(void)
{
	registrations_changed = true;
}

/*
 * Stop the workers of a database that match (an extension, a worker id, or
 * all) and wait until their processes are gone.
 */
void
pgeb_stop_workers_and_wait(Oid database_id, Oid extension_id, int32 worker_id,
						   const char *reason)
{
	bool		running = false;
	List	   *pids = NIL;

	LWLockAcquire(SupervisorState->lock, LW_EXCLUSIVE);
	for (int i = 0; i < SupervisorState->num_slots; i++)
	{
		WorkerSlot *slot = &SupervisorState->slots[i];

		if (slot->state == SLOT_FREE || slot->database_id != database_id ||
			(OidIsValid(extension_id) && slot->extension_id != extension_id) ||
			(worker_id != 0 && slot->worker_id != worker_id))
			continue;
		if (slot->state != SLOT_STOPPING)
		{
			pgeb_mark_stopping(slot, MyProcPid, GetCurrentSubTransactionId(),
							   false, reason);
			stopped_workers = true;
		}
		else if (slot->stopper_pid != MyProcPid)
			pgeb_note_removal_behind_stop(slot);
		running |= slot->has_process;
		pids = terminate_later(slot, pids);
	}
	LWLockRelease(SupervisorState->lock);

	if (running)
	{
		terminate_now(pids);
		wait_for_processes(database_id, extension_id, worker_id, false);
	}
}

/*
 * A process that must stop and whose pid we know is sent SIGTERM by the
 * stopping backend itself: two hops (the server starter, the postmaster)
 * shorter than TerminateBackgroundWorker.  Marked terminate_sent, so that
 * its exit is never taken for a failure, even if a rollback gives the slot
 * back meanwhile.  Lock held.
 */
static List *
terminate_later(WorkerSlot *slot, List *pids)
{
	if (slot->has_process && slot->pid != 0 && !slot->terminate_sent)
	{
		slot->terminate_sent = true;
		pids = lappend_int(pids, slot->pid);
	}
	return pids;
}

/* Lock released; the server starter handles what has no pid yet. */
static void
terminate_now(List *pids)
{
	ListCell   *lc;

	foreach(lc, pids)
		(void) kill(lfirst_int(lc), SIGTERM);
	list_free(pids);
	pgeb_wake_server_starter();
}

static void
supervisor_object_access(ObjectAccessType access, Oid classId, Oid objectId,
						 int subId, void *arg)
{
	char	   *name;

	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);

	if (access != OAT_DROP || classId != ExtensionRelationId ||
		SupervisorState == NULL)
		return;

	name = get_extension_name(objectId);
	if (name == NULL)
		return;
	if (strcmp(name, SUPERVISOR_MODULE_NAME) == 0)
	{
		/* the registrations go with the table: stop every worker here */
		registrations_changed = true;
		pgeb_stop_workers_and_wait(MyDatabaseId, InvalidOid, 0,
								   "pg_extension_base_supervisor was dropped");
		return;
	}
	if (pgeb_delete_registrations_of_extension(name) != NIL)
		registrations_changed = true;
	pgeb_stop_workers_and_wait(MyDatabaseId, objectId, 0, "extension was dropped");
}

static void
supervisor_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
						  bool readOnlyTree, ProcessUtilityContext context,
						  ParamListInfo params, QueryEnvironment *queryEnv,
						  DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;

	if (SupervisorState != NULL)
	{
		switch (nodeTag(parsetree))
		{
			case T_DropdbStmt:
				{
					DropdbStmt *stmt = (DropdbStmt *) parsetree;
					Oid			database_id = get_database_oid(stmt->dbname, true);

					/* in a transaction block core refuses it: leave it be */
					if (!IsTransactionBlock())
						block_database_and_wait(database_id, true, false);
					break;
				}
			case T_CreatedbStmt:
				{
					CreatedbStmt *stmt = (CreatedbStmt *) parsetree;
					const char *template = "template1";
					ListCell   *lc;

					foreach(lc, stmt->options)
					{
						DefElem    *option = lfirst(lc);

						if (strcmp(option->defname, "template") == 0 &&
							option->arg != NULL)
							template = defGetString(option);
					}
					if (!IsTransactionBlock())
						block_database_and_wait(get_database_oid(template, true), false,
												true);
					break;
				}
			case T_RenameStmt:
				{
					RenameStmt *stmt = (RenameStmt *) parsetree;

					if (stmt->renameType == OBJECT_DATABASE)
						block_database_and_wait(get_database_oid(stmt->subname, true),
												false, false);
					break;
				}
			case T_AlterDatabaseStmt:
				{
					AlterDatabaseStmt *stmt = (AlterDatabaseStmt *) parsetree;
					Oid			database_id = get_database_oid(stmt->dbname, true);
					ListCell   *lc;

					foreach(lc, stmt->options)
					{
						DefElem    *option = lfirst(lc);

						if (strcmp(option->defname, "tablespace") == 0)
							block_database_and_wait(database_id, false, false);
					}
					note_database_ddl(database_id);
					break;
				}
			case T_TransactionStmt:
				{
					TransactionStmt *stmt = (TransactionStmt *) parsetree;

					/* it may change registrations of any database */
					if (stmt->kind == TRANS_STMT_COMMIT_PREPARED ||
						stmt->kind == TRANS_STMT_ROLLBACK_PREPARED)
					{
						database_ddl = true;
						database_ddl_target = InvalidOid;
						scan_all_at_end = true;
					}
					break;
				}
			case T_AlterDatabaseSetStmt:
				note_database_ddl(get_database_oid(((AlterDatabaseSetStmt *) parsetree)->dbname,
												   true));
				break;
			default:
				break;
		}
	}

	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
							queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

/* At the end of the transaction, look at this database again. */
static void
note_database_ddl(Oid database_id)
{
	if (!OidIsValid(database_id))
		return;
	if (database_ddl && database_ddl_target != database_id)
		database_ddl_target = InvalidOid;	/* several: look at all */
	else
		database_ddl_target = database_id;
	database_ddl = true;
}

/*
 * Keep our processes out of a database until the end of this transaction,
 * and wait until none is connected to it.  Only for a user who may run the
 * command on that database (its owner), so that nobody else can make the
 * workers restart by issuing DDL that core then refuses.
 */
static void
block_database_and_wait(Oid database_id, bool dropping, bool may_be_current)
{
	DatabaseBlock *block = NULL;
	List	   *pids = NIL;

	/*
	 * Our own database: core refuses to drop, rename or move it, but copies
	 * it when no other session is connected -- then our workers must go.
	 * A base worker never waits for itself.
	 */
	if (!OidIsValid(database_id) ||
		(database_id == MyDatabaseId && (!may_be_current || MyBaseWorkerId != 0)) ||
		!PGEB_DATABASE_OWNERCHECK(database_id, GetUserId()))
		return;
	note_database_ddl(database_id);

	LWLockAcquire(SupervisorState->lock, LW_EXCLUSIVE);
	for (int b = 0; b < MAX_DATABASE_BLOCKS && block == NULL; b++)
		if (SupervisorState->blocks[b].database_id == database_id &&
			SupervisorState->blocks[b].backend_pid == MyProcPid)
			block = &SupervisorState->blocks[b];
	for (int b = 0; b < MAX_DATABASE_BLOCKS && block == NULL; b++)
		if (!OidIsValid(SupervisorState->blocks[b].database_id))
			block = &SupervisorState->blocks[b];
	if (block == NULL)
	{
		LWLockRelease(SupervisorState->lock);
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("too many concurrent database commands waiting for base workers to stop"),
				 errhint("Retry the command.")));
	}
	block->database_id = database_id;
	block->backend_pid = MyProcPid;
	block->dropping |= dropping;

	for (int i = 0; i < SupervisorState->num_slots; i++)
	{
		WorkerSlot *slot = &SupervisorState->slots[i];

		if (slot->state == SLOT_FREE || slot->state == SLOT_STOPPING ||
			slot->database_id != database_id)
			continue;
		pgeb_mark_stopping(slot, MyProcPid, InvalidSubTransactionId, !dropping,
						   "database DDL");
		pids = terminate_later(slot, pids);
	}
	LWLockRelease(SupervisorState->lock);
	stopped_workers = true;

	terminate_now(pids);
	wait_for_processes(database_id, InvalidOid, 0, true);
}

static void
wait_for_processes(Oid database_id, Oid extension_id, int32 worker_id,
				   bool starters_too)
{
	int			polls = 0;
	uint32		wait_event;

	/*
	 * A terminated process is usually gone within a few milliseconds, and
	 * its leaving the proc array wakes nobody: look often at first, then
	 * settle for the condition variable and a slower poll.
	 */
	for (int i = 0; i < STOP_WAIT_FAST_POLLS; i++)
	{
		if (!processes_remain(database_id, extension_id, worker_id, starters_too))
			return;
		pg_usleep(STOP_WAIT_FAST_POLL_US);
		CHECK_FOR_INTERRUPTS();
	}

	/* looked up before sleeping: the first lookup takes a lock */
	wait_event = pgeb_wait_event(&stop_wait_event, "PgExtensionBaseWorkerStop");
	ConditionVariablePrepareToSleep(&SupervisorState->stopped_cv);
	while (processes_remain(database_id, extension_id, worker_id, starters_too))
	{
		/* now and then remind the server starter (it may have restarted) */
		if (ConditionVariableTimedSleep(&SupervisorState->stopped_cv,
										STOP_WAIT_POLL_MS, wait_event) &&
			++polls % STOP_WAIT_REMIND_POLLS == 0)
			pgeb_wake_server_starter();
	}
	ConditionVariableCancelSleep();
}

static bool
processes_remain(Oid database_id, Oid extension_id, int32 worker_id,
				 bool starters_too)
{
	bool		remain = false;

	LWLockAcquire(SupervisorState->lock, LW_SHARED);
	for (int i = 0; i < SupervisorState->num_slots && !remain; i++)
	{
		WorkerSlot *slot = &SupervisorState->slots[i];

		remain = slot->state != SLOT_FREE && slot->has_process &&
			slot->database_id == database_id &&
			(!OidIsValid(extension_id) || slot->extension_id == extension_id) &&
			(worker_id == 0 || slot->worker_id == worker_id) &&
			still_there(slot->pid, slot->connected);
	}
	for (int i = 0; i < MAX_DATABASE_STARTERS && starters_too && !remain; i++)
		remain = SupervisorState->starters[i].database_id == database_id &&
			still_there(SupervisorState->starters[i].pid, false);
	LWLockRelease(SupervisorState->lock);
	return remain;
}

/*
 * Whether a process of ours still counts.  One that was connected counts
 * until it has left the proc array, which is what DROP DATABASE and
 * friends check, and what pg_stat_activity shows (its entry goes before
 * that); the server starter notices the exit a little later, when the
 * postmaster tells it.  One not known to be connected counts while the
 * process exists at all (it may be about to connect), and one whose pid is
 * not known yet counts.
 */
static bool
still_there(pid_t pid, bool connected)
{
	if (pid == 0)
		return true;
	if (connected)
		return BackendPidGetProc(pid) != NULL;
	return kill(pid, 0) == 0;
}

/* A stop committed: the slot goes (the server starter frees it on exit). */
static void
release_slot(WorkerSlot *slot)
{
	slot->stopper_pid = 0;
	if (!slot->has_process)
		slot->state = SLOT_FREE;
}

static void
end_of_xact(XactEvent event, void *arg)
{
	bool		committed;
	bool		wake = false;

	/*
	 * A PREPARE settles like a commit: what it removed is gone for now.  If
	 * it is rolled back later, ROLLBACK PREPARED asks for a scan of every
	 * database (see the utility hook), which brings the workers back.
	 */
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PREPARE)
		committed = true;
	else if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		committed = false;
	else
		return;
	if (SupervisorState == NULL)
		return;

	if (stopped_workers)
	{
		/*
		 * Database DDL runs alone in its transaction: a transaction either
		 * blocked databases or stopped workers of its own database.  A slot
		 * that a removal reached while our block held it comes back
		 * unconfirmed (pgeb_note_removal_behind_stop); the others simply
		 * come back.
		 */
		LWLockAcquire(SupervisorState->lock, LW_EXCLUSIVE);
		for (int b = 0; b < MAX_DATABASE_BLOCKS; b++)
			if (SupervisorState->blocks[b].backend_pid == MyProcPid)
				memset(&SupervisorState->blocks[b], 0, sizeof(DatabaseBlock));
		for (int i = 0; i < SupervisorState->num_slots; i++)
		{
			WorkerSlot *slot = &SupervisorState->slots[i];

			if (slot->state != SLOT_STOPPING || slot->stopper_pid != MyProcPid)
				continue;
			if (committed && !slot->resume_on_commit)
				release_slot(slot);
			else
				pgeb_give_back_slot(slot);
		}
		if (SupervisorState->registry_full)
			SupervisorState->scan_all = true;
		LWLockRelease(SupervisorState->lock);
		wake = true;
	}
	if (registrations_changed)
	{
		pgeb_mark_database_dirty(MyDatabaseId, false);
		wake = true;
	}
	if (database_ddl)
	{
		pgeb_mark_database_dirty(scan_all_at_end ? InvalidOid : database_ddl_target,
								 true);
		wake = true;
	}
	if (wake)
		pgeb_wake_server_starter();

	stopped_workers = false;
	registrations_changed = false;
	database_ddl = false;
	database_ddl_target = InvalidOid;
	scan_all_at_end = false;
}

static void
end_of_subxact(SubXactEvent event, SubTransactionId mySubid,
			   SubTransactionId parentSubid, void *arg)
{
	bool		gave_back = false;

	if (!stopped_workers || SupervisorState == NULL ||
		(event != SUBXACT_EVENT_ABORT_SUB && event != SUBXACT_EVENT_COMMIT_SUB))
		return;

	LWLockAcquire(SupervisorState->lock, LW_EXCLUSIVE);
	for (int i = 0; i < SupervisorState->num_slots; i++)
	{
		WorkerSlot *slot = &SupervisorState->slots[i];

		if (slot->state != SLOT_STOPPING || slot->stopper_pid != MyProcPid ||
			slot->stopper_subxid == InvalidSubTransactionId ||
			slot->stopper_subxid < mySubid)
			continue;
		if (event == SUBXACT_EVENT_COMMIT_SUB)
			slot->stopper_subxid = parentSubid;
		else
		{
			pgeb_give_back_slot(slot);
			gave_back = true;
		}
	}
	LWLockRelease(SupervisorState->lock);
	if (gave_back)
		pgeb_wake_server_starter();
}
