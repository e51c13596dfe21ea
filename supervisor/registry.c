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
 * Every exclusive hold goes through pgeb_lock_registry() and
 * pgeb_unlock_registry(): in an assert-enabled build (USE_ASSERT_CHECKING,
 * see PGEB_ASSERT in supervisor/README.md) the release first checks the
 * registry's invariants (pgeb_check_registry), so every change of shared
 * state is checked before another process can see it.  A slot's state
 * changes only in pgeb_set_slot_state() (and pgeb_claim_free_slot() for a
 * free slot), with the lock held exclusively, along the transitions drawn
 * in supervisor/README.md (slot_transitions below).
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
#include "pg_extension_base/base_workers.h"
#include "supervisor.h"

SupervisorShared *SupervisorState = NULL;

/*
 * The transitions of a worker slot, exactly those drawn in
 * supervisor/README.md ("Worker slot states"): slot_transitions[from][to].
 * Setting a slot to the state it is in is no transition and always allowed.
 */
#define SLOT_STATES (SLOT_RESUMING + 1)
static const bool slot_transitions[SLOT_STATES][SLOT_STATES] = {
	[SLOT_FREE] = {
		[SLOT_WANTED] = true,	/* a scan found it registered */
	},
	[SLOT_WANTED] = {
		[SLOT_STARTING] = true, /* registered with the postmaster */
		[SLOT_STOPPING] = true,
		[SLOT_FREE] = true,		/* no process, no longer registered */
	},
	[SLOT_STARTING] = {
		[SLOT_RUNNING] = true,	/* its process called in */
		[SLOT_WANTED] = true,	/* exited (returned -1, asked to stop) or
								 * orphaned by a server starter that exited */
		[SLOT_WAITING] = true,	/* exited: returned N > 0, or failed */
		[SLOT_DONE] = true,		/* exited: returned 0 */
		[SLOT_STOPPING] = true,
	},
	[SLOT_RUNNING] = {
		[SLOT_WANTED] = true,
		[SLOT_WAITING] = true,
		[SLOT_DONE] = true,
		[SLOT_STOPPING] = true,
	},
	[SLOT_WAITING] = {
		[SLOT_WANTED] = true,	/* next start reached, or wakeup_worker() */
		[SLOT_STOPPING] = true,
		[SLOT_FREE] = true,
	},
	[SLOT_DONE] = {
		[SLOT_WANTED] = true,	/* wakeup_worker() */
		[SLOT_STOPPING] = true,
		[SLOT_FREE] = true,
	},
	[SLOT_STOPPING] = {
		[SLOT_FREE] = true,		/* the stop committed and the process is gone */
		[SLOT_WANTED] = true,	/* given back */
		[SLOT_RUNNING] = true,	/* given back while its process still runs */
		[SLOT_WAITING] = true,	/* given back to what it was */
		[SLOT_DONE] = true,
		[SLOT_RESUMING] = true, /* given back, unconfirmed */
	},
	[SLOT_RESUMING] = {
		[SLOT_WANTED] = true,	/* confirmed: back to what it was */
		[SLOT_WAITING] = true,
		[SLOT_DONE] = true,
		[SLOT_STOPPING] = true,
		[SLOT_FREE] = true,		/* a scan did not find it */
	},
};

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

/*
 * base_workers.h: the original's names for the two functions above.  The
 * original's library called them from its own shared-memory hooks; ours
 * does that itself (supervisor.c), so these are only for code that still
 * calls them: the size of the region, and attaching to it, which the
 * region's found flag makes harmless at any time after our hook ran.
 */
size_t
BaseWorkerSharedMemorySize(void)
{
	return pgeb_registry_size();
}

void
BaseWorkerSharedMemoryInit(void)
{
	if (SupervisorState == NULL)
		pgeb_registry_init();
}

/* An ERROR, not a crash, when SQL runs on a server without our memory. */
void
pgeb_require_registry(void)
{
	pgeb_require_loaded(SupervisorState, SUPERVISOR_MODULE_NAME);
}

/* Take the registry's lock. */
void
pgeb_lock_registry(LWLockMode mode)
{
	LWLockAcquire(SupervisorState->lock, mode);
}

/*
 * Release the registry's lock; after an exclusive hold, in an
 * assert-enabled build, check first that the changes kept the invariants.
 */
void
pgeb_unlock_registry(void)
{
#ifdef USE_ASSERT_CHECKING
	if (LWLockHeldByMeInMode(SupervisorState->lock, LW_EXCLUSIVE))
		pgeb_check_registry();
#endif
	LWLockRelease(SupervisorState->lock);
}

/* Whether a slot's state was last written by the functions below. */
static inline bool
slot_state_written_by_setter(const WorkerSlot *slot)
{
	return slot->state == slot->state_written;
}

/*
 * The invariants of the registry, asserted; the lock is held.  Only
 * assert-enabled builds call it (pgeb_unlock_registry).
 */
void
pgeb_check_registry(void)
{
#ifdef USE_ASSERT_CHECKING
	SupervisorShared *shared = SupervisorState;

	Assert(LWLockHeldByMe(shared->lock));
	Assert(shared->num_slots == pgeb_max_base_workers);
	Assert(shared->num_dirty >= 0 && shared->num_dirty <= MAX_DIRTY_DATABASES);

	for (int i = 0; i < shared->num_slots; i++)
	{
		WorkerSlot *slot = &shared->slots[i];

		/*
		 * Written only by pgeb_set_slot_state, pgeb_free_slot and
		 * pgeb_claim_free_slot, which keep state_written equal: a slot
		 * whose state was written anywhere else fails here.
		 */
		Assert(slot_state_written_by_setter(slot));
		Assert(slot->state >= SLOT_FREE && slot->state < SLOT_STATES);

		/* the process fields describe a process only while there is one */
		if (!slot->has_process)
			Assert(slot->pid == 0 && !slot->connected && !slot->terminate_sent);
		/* a process was launched with a generation it can check */
		if (slot->has_process)
			Assert(slot->generation != 0);

		switch (slot->state)
		{
			case SLOT_FREE:
				Assert(!slot->has_process && slot->stopper_pid == 0);
				break;
			case SLOT_STARTING:
			case SLOT_RUNNING:
				Assert(slot->has_process);
				break;
			case SLOT_WAITING:
			case SLOT_DONE:
				Assert(!slot->has_process);
				break;
			case SLOT_WANTED:
				/* a process given back by a rollback is being stopped */
				Assert(!slot->has_process || slot->terminate_sent);
				break;
			case SLOT_STOPPING:
				/* a backend settles it, or the server starter frees it on exit */
				Assert(slot->stopper_pid != 0 || slot->has_process);
				Assert(slot->state_before_stop != SLOT_FREE &&
					   slot->state_before_stop != SLOT_STOPPING &&
					   slot->state_before_stop != SLOT_RESUMING);
				break;
			case SLOT_RESUMING:
				/* only a removal that reached it makes a slot wait */
				Assert(slot->unconfirmed);
				Assert(!slot->has_process || slot->terminate_sent);
				break;
		}
		if (slot->state != SLOT_STOPPING)
			Assert(slot->stopper_pid == 0);

		/* one slot per (database, worker) */
		if (slot->state != SLOT_FREE)
			for (int j = i + 1; j < shared->num_slots; j++)
				Assert(shared->slots[j].state == SLOT_FREE ||
					   shared->slots[j].database_id != slot->database_id ||
					   shared->slots[j].worker_id != slot->worker_id);
	}

	for (int b = 0; b < MAX_DATABASE_BLOCKS; b++)
	{
		DatabaseBlock *block = &shared->blocks[b];

		if (!OidIsValid(block->database_id))
			Assert(block->backend_pid == 0 && !block->dropping);
		else
			Assert(block->backend_pid != 0);
	}
	for (int i = 0; i < MAX_DATABASE_STARTERS; i++)
	{
		DatabaseStarterSlot *starter = &shared->starters[i];

		if (!OidIsValid(starter->database_id))
			Assert(starter->pid == 0 && !starter->published &&
				   !starter->needs_restart);
	}
#endif
}

/* Whether a slot may go from one state to another (supervisor/README.md). */
bool
pgeb_slot_transition_allowed(WorkerSlotState from, WorkerSlotState to)
{
	if (from < SLOT_FREE || from >= SLOT_STATES ||
		to < SLOT_FREE || to >= SLOT_STATES)
		return false;
	return from == to || slot_transitions[from][to];
}

/*
 * The only place a slot's state changes (besides pgeb_claim_free_slot):
 * along a transition drawn in supervisor/README.md, with the lock held
 * exclusively.  The other fields are the caller's, and the invariants of
 * pgeb_check_registry must hold again when it releases the lock.
 */
void
pgeb_set_slot_state(WorkerSlot *slot, WorkerSlotState next)
{
	Assert(LWLockHeldByMeInMode(SupervisorState->lock, LW_EXCLUSIVE));
	Assert(slot >= SupervisorState->slots &&
		   slot < SupervisorState->slots + SupervisorState->num_slots);
	Assert(slot->state == slot->state_written);
	Assert(pgeb_slot_transition_allowed(slot->state, next));
	Assert(next != SLOT_FREE);	/* slots are freed by pgeb_free_slot */

	slot->state = next;
	slot->state_written = next;
}

/*
 * Forget a slot's worker: the slot goes back to SLOT_FREE.  Its generation
 * stays, so that a late process of an earlier launch never takes it for
 * its own.  Lock held exclusively; the slot has no process.
 */
void
pgeb_free_slot(WorkerSlot *slot)
{
	Assert(LWLockHeldByMeInMode(SupervisorState->lock, LW_EXCLUSIVE));
	Assert(slot->state == slot->state_written);
	Assert(pgeb_slot_transition_allowed(slot->state, SLOT_FREE));
	Assert(!slot->has_process);

	Assert(slot->stopper_pid == 0);

	slot->state = SLOT_FREE;
	slot->state_written = SLOT_FREE;
}

/*
 * Take a free slot for a worker a scan found registered (SLOT_FREE ->
 * SLOT_WANTED): every field starts from zero but the generation (see
 * pgeb_free_slot).  NULL when the registry is full.  Lock held
 * exclusively.
 */
WorkerSlot *
pgeb_claim_free_slot(Oid database_id, int32 worker_id)
{
	Assert(LWLockHeldByMeInMode(SupervisorState->lock, LW_EXCLUSIVE));
	Assert(pgeb_find_slot(database_id, worker_id) == NULL);

	for (int i = 0; i < SupervisorState->num_slots; i++)
	{
		WorkerSlot *slot = &SupervisorState->slots[i];
		uint32		generation = slot->generation;

		if (slot->state != SLOT_FREE)
			continue;
		Assert(slot->state_written == SLOT_FREE && !slot->has_process);
		memset(slot, 0, sizeof(WorkerSlot));
		slot->generation = generation;
		slot->database_id = database_id;
		slot->worker_id = worker_id;
		pgeb_set_slot_state(slot, SLOT_WANTED);
		return slot;
	}
	return NULL;
}

/* Set the server starter's latch; call without holding the lock. */
void
pgeb_wake_server_starter(void)
{
	PGPROC	   *proc;

	pgeb_lock_registry(LW_SHARED);
	proc = SupervisorState->server_starter;
	if (proc != NULL)
		SetLatch(&proc->procLatch);
	pgeb_unlock_registry();
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

	pgeb_lock_registry(LW_EXCLUSIVE);
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
	pgeb_unlock_registry();
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
	Assert(slot->state != SLOT_FREE);
	/* nobody but the server starter would ever free it */
	Assert(stopper_pid != 0 || slot->has_process);

	if (slot->state != SLOT_STOPPING && slot->state != SLOT_RESUMING)
	{
		slot->state_before_stop = slot->state;
		slot->next_start_before_stop = slot->next_start;
	}
	pgeb_set_slot_state(slot, SLOT_STOPPING);
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

	/* a stopped slot, or (pgeb_confirm_slot) a confirmed resuming one */
	Assert(slot->state == SLOT_STOPPING ||
		   (slot->state == SLOT_RESUMING && !slot->unconfirmed));

	slot->stopper_pid = 0;
	slot->stopper_subxid = InvalidSubTransactionId;
	if (slot->has_process && !slot->terminate_sent)
		pgeb_set_slot_state(slot, SLOT_RUNNING);
	else if (slot->unconfirmed)
		pgeb_set_slot_state(slot, SLOT_RESUMING);
	else if ((before == SLOT_DONE || before == SLOT_WAITING) && !slot->has_process)
	{
		pgeb_set_slot_state(slot, before);
		slot->next_start = slot->next_start_before_stop;
	}
	else
	{
		pgeb_set_slot_state(slot, SLOT_WANTED);
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
	Assert(LWLockHeldByMeInMode(SupervisorState->lock, LW_EXCLUSIVE));
	Assert(slot->state == SLOT_STOPPING);
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
	Assert(slot->state == SLOT_STOPPING && slot->stopper_pid != 0);
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
	Assert(LWLockHeldByMeInMode(SupervisorState->lock, LW_EXCLUSIVE));
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
