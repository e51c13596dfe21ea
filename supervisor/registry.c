/*-------------------------------------------------------------------------
 *
 * registry.c
 *	  The supervisor's shared memory: one worker slot per (database, base
 *	  worker), the running database starters, the databases blocked by DDL
 *	  and the events that wake the server starter.
 *
 * Lock protocol.  One LWLock, SupervisorState->lock, protects every field
 * of SupervisorShared.  Nobody sleeps, waits for another lock of ours or
 * raises an error while holding it: writers change a few fields and release
 * it; readers (the SQL functions) take it in shared mode and copy out.  The
 * server starter registers and terminates processes (which signals the
 * postmaster) and writes its rare LOG lines with it held; waiting backends
 * take ProcArrayLock inside it (BackendPidGetProc), never the reverse.
 * Who writes what:
 *
 *	- worker slots: a database starter allocates slots and turns slots its
 *	  database no longer registers to SLOT_STOPPING; the server starter owns
 *	  process fields (has_process, terminate_sent, pid), the restart policy
 *	  and every transition of a running slot; a backend that stops a worker
 *	  (DROP EXTENSION, deregister_worker, database DDL) sets SLOT_STOPPING
 *	  with itself as stopper, and at the end of its (sub)transaction frees
 *	  those slots (commit) or puts them back to SLOT_WANTED (rollback); a
 *	  base worker writes how it ended (returned, return_value, exit_message)
 *	  as it exits.
 *	- starters[]: the server starter; a database starter sets `published`.
 *	- blocks[]: the backend running the DDL adds and removes its entry; the
 *	  server starter removes entries of backends that died.
 *	- events (dirty, scan_all, refresh_databases): anyone sets them and then
 *	  sets the server starter's latch (after releasing the lock); the server
 *	  starter consumes them.
 *
 * Who waits for whom: a backend that stopped workers sleeps on stopped_cv
 * until the processes are gone; the server starter terminates them and
 * broadcasts stopped_cv after every pass in which a process exited.  The
 * server starter never waits for a backend.  A database starter waits, on
 * the heavyweight SHARE lock of extension_base.workers, for every
 * transaction that is changing registrations in its database: that is why
 * nothing starts before COMMIT (see supervisor/README.md).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/shmem.h"

#include "pg_extension_base/abi.h"
#include "supervisor.h"

SupervisorShared *SupervisorState = NULL;

Size
pgeb_registry_size(void)
{
	return add_size(offsetof(SupervisorShared, slots),
					mul_size(sizeof(WorkerSlot), pgeb_max_base_workers));
}

/* shmem_startup_hook: create (or, in a child, attach to) the region */
void
pgeb_registry_init(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	SupervisorState = ShmemInitStruct(SUPERVISOR_MODULE_NAME,
									  pgeb_registry_size(), &found);
	if (!found)
	{
		memset(SupervisorState, 0, pgeb_registry_size());
		SupervisorState->lock =
			&(GetNamedLWLockTranche(SUPERVISOR_MODULE_NAME))->lock;
		ConditionVariableInit(&SupervisorState->stopped_cv);
		SupervisorState->num_slots = pgeb_max_base_workers;
		SupervisorState->scan_all = true;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* An ERROR, not a crash, when SQL runs on a server without our memory. */
void
pgeb_require_registry(void)
{
	pgeb_require_loaded(SupervisorState, SUPERVISOR_MODULE_NAME);
}

/* Set the server starter's latch; call without holding the lock. */
void
pgeb_wake_server_starter(void)
{
	PGPROC	   *proc;

	LWLockAcquire(SupervisorState->lock, LW_SHARED);
	proc = SupervisorState->server_starter;
	if (proc != NULL)
		SetLatch(&proc->procLatch);
	LWLockRelease(SupervisorState->lock);
}

/*
 * Ask for a scan of one database (InvalidOid: of every database), and with
 * refresh for a new look at pg_database first (after database DDL).  The
 * caller wakes the server starter.
 */
void
pgeb_mark_database_dirty(Oid database_id, bool refresh)
{
	int			i;

	LWLockAcquire(SupervisorState->lock, LW_EXCLUSIVE);
	SupervisorState->refresh_databases |= refresh;
	if (!OidIsValid(database_id))
		SupervisorState->scan_all = true;
	else if (!SupervisorState->scan_all)
	{
		for (i = 0; i < SupervisorState->num_dirty; i++)
			if (SupervisorState->dirty[i] == database_id)
				break;
		if (i == SupervisorState->num_dirty)
		{
			if (i < MAX_DIRTY_DATABASES)
				SupervisorState->dirty[SupervisorState->num_dirty++] = database_id;
			else
				SupervisorState->scan_all = true;
		}
	}
	LWLockRelease(SupervisorState->lock);
}

/* Is DDL waiting for this database to be free?  Caller holds the lock. */
bool
pgeb_database_blocked(Oid database_id)
{
	for (int i = 0; i < MAX_DATABASE_BLOCKS; i++)
		if (SupervisorState->blocks[i].database_id == database_id)
			return true;
	return false;
}

/* The slot of a worker, or NULL.  Caller holds the lock. */
WorkerSlot *
pgeb_find_slot(Oid database_id, int32 worker_id)
{
	for (int i = 0; i < SupervisorState->num_slots; i++)
	{
		WorkerSlot *slot = &SupervisorState->slots[i];

		if (slot->state != SLOT_FREE && slot->database_id == database_id &&
			slot->worker_id == worker_id)
			return slot;
	}
	return NULL;
}

/*
 * A slot must not run: remember who asked (stopper_pid 0: the server
 * starter, which frees the slot once its process exited) and what the slot
 * was doing, so that a rollback can give back exactly that.  Lock held.
 */
void
pgeb_mark_stopping(WorkerSlot *slot, int stopper_pid, SubTransactionId subxid,
				   bool resume_on_commit, const char *reason)
{
	if (slot->state != SLOT_STOPPING && slot->state != SLOT_RESUMING)
	{
		slot->state_before_stop = slot->state;
		slot->next_start_before_stop = slot->next_start;
	}
	slot->state = SLOT_STOPPING;
	slot->stopper_pid = stopper_pid;
	slot->stopper_subxid = subxid;
	slot->resume_on_commit = resume_on_commit;
	strlcpy(slot->stop_reason, reason, EXIT_REASON_LEN);
}

/*
 * The stop is withdrawn (rolled back, or database DDL ended): the slot goes
 * back to what it was, without backoff for a worker that was running or
 * about to.  A worker that had finished or was waiting out its delay stays
 * so.  An unconfirmed slot waits in SLOT_RESUMING for the scan that
 * confirms it (see pgeb_note_removal_behind_stop).  Lock held.
 */
void
pgeb_give_back_slot(WorkerSlot *slot)
{
	WorkerSlotState before = slot->state_before_stop;

	slot->stopper_pid = 0;
	slot->stopper_subxid = InvalidSubTransactionId;
	if (slot->has_process && !slot->terminate_sent)
		slot->state = SLOT_RUNNING;
	else if (slot->unconfirmed)
		slot->state = SLOT_RESUMING;
	else if ((before == SLOT_DONE || before == SLOT_WAITING) && !slot->has_process)
	{
		slot->state = before;
		slot->next_start = slot->next_start_before_stop;
	}
	else
	{
		slot->state = SLOT_WANTED;
		slot->next_start = 0;
	}
}

/*
 * A removal (DROP EXTENSION, deregister_worker) reached a slot that another
 * backend holds stopped: database DDL blocking its database, or a
 * concurrent removal.  The removal's stop finds the slot already stopping,
 * so its commit, which may come while the slot is still held, cannot free
 * it.  The slot is marked unconfirmed: when the other backend gives it
 * back, it waits in SLOT_RESUMING until the next scan of its database,
 * which waits for transactions changing registrations and which the end of
 * either transaction asks for, finds it still registered (publish() in
 * database_starter.c); otherwise the scan frees it.  Only slots a removal
 * reached wait so; the others of the database run again at once.  Lock
 * held.
 */
void
pgeb_note_removal_behind_stop(WorkerSlot *slot)
{
	slot->unconfirmed = true;
}

/*
 * A backend that held slots stopped died without settling them (see
 * release_dead_blockers in server_starter.c): nothing tells whether a
 * removal reached them meanwhile, so every one comes back unconfirmed.
 * Lock held.
 */
void
pgeb_resume_unsettled_slot(WorkerSlot *slot)
{
	slot->unconfirmed = true;
	pgeb_give_back_slot(slot);
}

/*
 * The scan of its database found the slot registered: an unconfirmed slot
 * goes back to what it was before its stop.  Lock held.
 */
void
pgeb_confirm_slot(WorkerSlot *slot)
{
	if (!slot->unconfirmed)
		return;
	slot->unconfirmed = false;
	if (slot->state == SLOT_RESUMING)
		pgeb_give_back_slot(slot);
}

const char *
pgeb_slot_state_name(WorkerSlotState state)
{
	switch (state)
	{
		case SLOT_FREE:
			return "free";
		case SLOT_WANTED:
			return "wanted";
		case SLOT_STARTING:
			return "starting";
		case SLOT_RUNNING:
			return "running";
		case SLOT_WAITING:
			return "waiting";
		case SLOT_DONE:
			return "done";
		case SLOT_STOPPING:
			return "stopping";
		case SLOT_RESUMING:
			return "resuming";
	}
	return "unknown";
}
