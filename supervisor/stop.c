/*-------------------------------------------------------------------------
 *
 * stop.c
 *	  The stop mechanism: a backend stops base workers before its command
 *	  returns, and the end of its (sub)transaction settles what it stopped.
 *
 * Two ways to stop, both called from above (registrations.c for
 * deregister_worker and DROP EXTENSION, ddl_hooks.c for database DDL):
 *	- pgeb_stop_workers_and_wait: the workers of this database that match
 *	  (an extension, a worker id, or all);
 *	- pgeb_block_database_and_wait: database DDL that needs the database
 *	  free of other connections blocks it, so that no worker or database
 *	  starter runs there until the transaction ends.
 * In each case the backend marks the slots SLOT_STOPPING with itself as
 * stopper, wakes the server starter (which terminates the processes) and
 * sleeps on stopped_cv until they are gone.  The wait checks for interrupts,
 * so it can be cancelled like any command.
 *
 * At the end of the transaction (or of a subtransaction that rolls back)
 * the callbacks settle what the backend stopped: a commit frees the slots,
 * except database DDL other than DROP DATABASE, after which they run again;
 * a rollback puts them back to what they were with no backoff, and the
 * server starter starts them at once.  Any change of registrations,
 * committed or not, and any database DDL also asks for a scan.
 *
 * Calls go one way: this file calls only registry.c, never registrations.c
 * or ddl_hooks.c.
 *
 * Locks: SupervisorState->lock (registry.c has the whole protocol).
 * Exclusive to mark slots stopping and add a block (the stop), and to free
 * or give back this backend's slots and remove its blocks (the settlement):
 * each is a short loop over the registry with no error, sleep or other
 * lock of ours inside; the SIGTERMs are sent after the release.  Shared to
 * look whether the stopped processes are still there, with ProcArrayLock
 * taken inside it (BackendPidGetProc), never the reverse.  It sleeps on
 * stopped_cv with no lock held.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "storage/procarray.h"
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

/* waiting for stopped processes (named on PostgreSQL 17+, see compat.h) */
static uint32 stop_wait_event = 0;

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
pgeb_install_stop_callbacks(void)
{
	RegisterXactCallback(end_of_xact, NULL);
	RegisterSubXactCallback(end_of_subxact, NULL);
}

/* This transaction changed registrations: scan its database at the end. */
void
pgeb_note_registrations_changed(void)
{
	registrations_changed = true;
}

/*
 * COMMIT / ROLLBACK PREPARED may change registrations of any database:
 * scan every database at the end of this transaction.
 */
void
pgeb_note_ddl_of_every_database(void)
{
	database_ddl = true;
	database_ddl_target = InvalidOid;
	scan_all_at_end = true;
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

	pgeb_lock_registry(LW_EXCLUSIVE);
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
	pgeb_unlock_registry();

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

/* At the end of the transaction, look at this database again. */
void
pgeb_note_database_ddl(Oid database_id)
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
void
pgeb_block_database_and_wait(Oid database_id, bool dropping, bool may_be_current)
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
	pgeb_note_database_ddl(database_id);

	pgeb_lock_registry(LW_EXCLUSIVE);
	for (int b = 0; b < MAX_DATABASE_BLOCKS && block == NULL; b++)
		if (SupervisorState->blocks[b].database_id == database_id &&
			SupervisorState->blocks[b].backend_pid == MyProcPid)
			block = &SupervisorState->blocks[b];
	for (int b = 0; b < MAX_DATABASE_BLOCKS && block == NULL; b++)
		if (!OidIsValid(SupervisorState->blocks[b].database_id))
			block = &SupervisorState->blocks[b];
	if (block == NULL)
	{
		pgeb_unlock_registry();
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
	pgeb_unlock_registry();
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

	pgeb_lock_registry(LW_SHARED);
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
	pgeb_unlock_registry();
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
	Assert(slot->state == SLOT_STOPPING && slot->stopper_pid == MyProcPid);
	slot->stopper_pid = 0;
	if (!slot->has_process)
		pgeb_free_slot(slot);
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
		pgeb_lock_registry(LW_EXCLUSIVE);
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
		pgeb_unlock_registry();
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

	pgeb_lock_registry(LW_EXCLUSIVE);
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
	pgeb_unlock_registry();
	if (gave_back)
		pgeb_wake_server_starter();
}
