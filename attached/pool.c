/*-------------------------------------------------------------------------
 *
 * pool.c
 *	  The pool of warm attached workers: who is idle, who serves whom.
 *
 * An attached worker that finished a call cleanly (see reset.c) may stay
 * alive, connected to its database as its user, and wait here for the next
 * call of a caller with the same key: database, authenticated user, and the
 * fingerprint of the custom settings that only a SET made exist
 * (settings.c).  Those three are what a connected worker cannot shed; all
 * else is set per call and reset after it.  A call that finds no idle
 * worker of its key starts one exactly as before (launch.c), which may
 * then join the pool.
 *
 * Shared state: one slot per possible background worker, a list of
 * databases that DDL is draining, and counters.  A slot is FREE, RESETTING
 * (its worker has answered a call and cleans up), IDLE (the worker waits on
 * its latch), BUSY (it serves a call), or EXITING (it is on its way out and
 * takes no call).  A worker owns a slot from joining the pool, right after
 * its first call, until its exit, whatever the state:
 *
 *	  FREE -> RESETTING -> IDLE -> BUSY -> RESETTING -> ...
 *	  RESETTING, IDLE -> EXITING -> FREE;  any -> FREE at the worker's exit
 *
 * A call may be handed to an IDLE worker or to a RESETTING one (which then
 * takes it once clean, so that a caller's calls back to back find their
 * worker even while it still cleans up after the previous one).
 *
 * Lock protocol (PoolLock, one LWLock):
 *	- Every field of a slot and of the header is read and written with the
 *	  lock held, exclusively to write, except "calls" and "memory", which
 *	  only the slot's worker writes and which the listing reads without
 *	  the lock (a torn read of a counter is harmless there).
 *	- A call is handed over under the exclusive lock: the caller turns an
 *	  IDLE slot BUSY and writes its segment and call id, then, after the
 *	  lock is released, sets the worker's latch.  The worker takes the call
 *	  under the lock.  A caller that ends early (cancel, error, exit) tells
 *	  the worker to go, under the lock, only if the slot still holds its
 *	  call: the signal is sent with the lock held, so it cannot reach a
 *	  worker that has since taken another caller's call (taking one needs
 *	  the lock, and sees "retire" first).
 *	- Nobody sleeps or waits for another process while holding the lock;
 *	  latches are set and the condition variable broadcast after releasing
 *	  it (the signal above is a kill(), which does not wait).
 *	- A caller that finds no free worker slot marks the longest idle slot
 *	  "retire" under the lock and sets its latch after releasing it; the
 *	  worker sees "retire" when it next looks for a call, and leaves.
 *	- Database DDL (ddl.c) adds its database to "draining" under the lock;
 *	  from then on no worker of that database joins, takes a call or
 *	  stays idle, and the DDL waits on the condition variable until no
 *	  idle or exiting slot of that database is left.  A worker broadcasts
 *	  when its slot becomes FREE (before_shmem_exit, so before it leaves
 *	  the process array that core's own check looks at).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/postmaster.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/sinval.h"
#include "postmaster/interrupt.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "pg_extension_base/compat.h"
#include "attached.h"

#define POOL_SHMEM_NAME		"pg_extension_base attached pool"

/* databases drained at once by DDL; more, and the whole pool drains */
#define MAX_DRAINING		16

typedef enum PoolSlotState
{
	POOL_FREE = 0,
	POOL_RESETTING,				/* after a call, cleaning up (reset.c) */
	POOL_IDLE,
	POOL_BUSY,
	POOL_EXITING,
} PoolSlotState;

static const char *const slot_state_names[] = {
	"free", "resetting", "idle", "busy", "exiting"
};

typedef struct PoolSlot
{
	PoolSlotState state;
	pid_t		pid;
	PGPROC	   *proc;			/* the worker's, for its latch */
	Oid			database_id;
	Oid			user_id;		/* authenticated user */
	uint64		fingerprint;	/* settings.c */
	bool		retire;			/* exit instead of taking another call */

	/* the call handed over, while BUSY; call_id 0 when none waits */
	uint64		call_id;
	dsm_handle	segment;
	PGPROC	   *caller;
	pid_t		caller_pid;
	bool		taken;			/* the worker took the call */

	TimestampTz joined_at;
	TimestampTz idle_since;
	uint64		calls;			/* written by the worker alone */
	Size		memory;			/* written by the worker alone */
} PoolSlot;

typedef struct PoolShared
{
	LWLock	   *lock;
	ConditionVariable changed;	/* a slot became FREE */
	uint64		next_call_id;
	Oid			draining[MAX_DRAINING];
	int			draining_count[MAX_DRAINING];
	int			draining_all;	/* DDL of more databases than fit above */
	int			nslots;
	PoolSlot	slots[FLEXIBLE_ARRAY_MEMBER];
} PoolShared;

/* settings */
int			pgeb_attached_pool_size = 2;
int			pgeb_attached_pool_max_workers = 4;
int			pgeb_attached_pool_idle_timeout = 60000;	/* ms */

static PoolShared *Pool = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* in a pooled worker: its slot, or -1; whether leave_pool is registered */
static int	my_slot = -1;
static bool leave_pool_registered = false;

static uint32 idle_wait_event = 0;
static uint32 drain_wait_event = 0;

static void pool_shmem_request(void);
static void pool_shmem_startup(void);
static Size pool_size(void);
static bool draining(Oid database_id);
static int	count_members(Oid database_id, const PoolSlot *except);
static void leave_pool(int code, Datum arg);
static void idle_work(void);

void
pgeb_attached_pool_define_settings(void)
{
	DefineCustomIntVariable("pg_extension_base.attached_pool_size",
							"Warm attached workers kept per database.",
							"An attached worker that finished its call waits for the next "
							"call of the same user in the same database, up to this many per "
							"database; 0 turns the pool off.",
							&pgeb_attached_pool_size,
							2, 0, MAX_BACKENDS,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_extension_base.attached_pool_max_workers",
							"Warm attached workers kept in all.",
							"Each holds a background worker slot (max_worker_processes) "
							"and a connection's memory while it waits.",
							&pgeb_attached_pool_max_workers,
							4, 0, MAX_BACKENDS,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_extension_base.attached_pool_idle_timeout",
							"How long a warm attached worker waits for a call before it exits.",
							NULL,
							&pgeb_attached_pool_idle_timeout,
							60000, 1, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = pool_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = pool_shmem_startup;
}

static Size
pool_size(void)
{
	return add_size(offsetof(PoolShared, slots),
					mul_size(sizeof(PoolSlot), max_worker_processes));
}

static void
pool_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(pool_size());
	RequestNamedLWLockTranche(POOL_SHMEM_NAME, 1);
}

static void
pool_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	Pool = ShmemInitStruct(POOL_SHMEM_NAME, pool_size(), &found);
	if (!found)
	{
		memset(Pool, 0, pool_size());
		Pool->lock = &(GetNamedLWLockTranche(POOL_SHMEM_NAME))->lock;
		ConditionVariableInit(&Pool->changed);
		Pool->next_call_id = 1;
		Pool->nslots = max_worker_processes;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Whether DDL drains the database; lock held. */
static bool
draining(Oid database_id)
{
	int			i;

	if (Pool->draining_all > 0)
		return true;
	for (i = 0; i < MAX_DRAINING; i++)
	{
		if (Pool->draining_count[i] > 0 && Pool->draining[i] == database_id)
			return true;
	}
	return false;
}

/*
 * Pooled workers of a database (any, with InvalidOid) but except (none,
 * with NULL); lock held.
 */
static int
count_members(Oid database_id, const PoolSlot *except)
{
	int			n = 0;
	int			i;

	for (i = 0; i < Pool->nslots; i++)
	{
		PoolSlot   *slot = &Pool->slots[i];

		if (slot == except || slot->state == POOL_FREE)
			continue;
		if (!OidIsValid(database_id) || slot->database_id == database_id)
			n++;
	}
	return n;
}

/*
 * The caller's side: hand the call in segment to an idle worker of the
 * key.  Returns its pid and fills *call_id, or returns 0 when there is
 * none (then the caller starts a worker).
 */
pid_t
pgeb_pool_hand_over(Oid database_id, Oid user_id, uint64 fingerprint,
					dsm_handle segment, uint64 *call_id)
{
	PoolSlot   *chosen = NULL;
	PGPROC	   *worker_proc;
	pid_t		pid;
	int			i;

	if (Pool == NULL || pgeb_attached_pool_size <= 0)
		return 0;

	LWLockAcquire(Pool->lock, LW_EXCLUSIVE);
	if (draining(database_id))
	{
		LWLockRelease(Pool->lock);
		return 0;
	}

	/* the one idle the shortest time: few workers stay hot */
	for (i = 0; i < Pool->nslots; i++)
	{
		PoolSlot   *slot = &Pool->slots[i];

		if ((slot->state != POOL_IDLE && slot->state != POOL_RESETTING) ||
			slot->call_id != 0 || slot->retire ||
			slot->database_id != database_id || slot->user_id != user_id ||
			slot->fingerprint != fingerprint)
			continue;
		/* resetting beats idle: it is the one used last */
		if (chosen == NULL ||
			(slot->state == POOL_RESETTING && chosen->state == POOL_IDLE) ||
			(slot->state == chosen->state && slot->idle_since > chosen->idle_since))
			chosen = slot;
	}
	if (chosen == NULL)
	{
		LWLockRelease(Pool->lock);
		return 0;
	}

	if (chosen->state == POOL_IDLE)
		chosen->state = POOL_BUSY;
	chosen->call_id = Pool->next_call_id++;
	chosen->segment = segment;
	chosen->caller = MyProc;
	chosen->caller_pid = MyProcPid;
	chosen->taken = false;
	*call_id = chosen->call_id;
	pid = chosen->pid;
	worker_proc = chosen->proc;
	LWLockRelease(Pool->lock);

	SetLatch(&worker_proc->procLatch);
	return pid;
}

/*
 * Whether the worker still holds our call, not taken yet or taken: false
 * when it gave the call back without running anything (it found it could
 * not serve it, or exited first).
 */
bool
pgeb_pool_call_held(pid_t pid, uint64 call_id)
{
	bool		held = false;
	int			i;

	LWLockAcquire(Pool->lock, LW_SHARED);
	for (i = 0; i < Pool->nslots; i++)
	{
		PoolSlot   *slot = &Pool->slots[i];

		if (slot->pid == pid && slot->call_id == call_id)
		{
			held = true;
			break;
		}
	}
	LWLockRelease(Pool->lock);
	return held;
}

/*
 * The caller ends a call that the worker has not finished: if the worker
 * still serves it, it must not serve anybody else (what it was doing
 * cannot be known to be clean), and it stops now.
 */
void
pgeb_pool_abandon_call(pid_t pid, uint64 call_id)
{
	int			i;

	if (Pool == NULL)
		return;
	LWLockAcquire(Pool->lock, LW_EXCLUSIVE);
	for (i = 0; i < Pool->nslots; i++)
	{
		PoolSlot   *slot = &Pool->slots[i];

		if (slot->pid == pid && slot->call_id == call_id)
		{
			slot->retire = true;
			/* with the lock held: see the protocol above */
			(void) kill(pid, SIGTERM);
			break;
		}
	}
	LWLockRelease(Pool->lock);
}

/*
 * The worker's side, right after it answered a call: join the pool (after
 * a first call) or stay in it, as RESETTING, if the limits, the settings
 * and DDL allow.  fingerprint: of the placeholders the worker has, which
 * its reset will not change.
 */
bool
pgeb_pool_join(uint64 fingerprint)
{
	bool		joined = false;

	if (Pool == NULL || pgeb_attached_pool_size <= 0)
		return false;

	LWLockAcquire(Pool->lock, LW_EXCLUSIVE);
	if (my_slot >= 0)
	{
		PoolSlot   *slot = &Pool->slots[my_slot];

		Assert(slot->state == POOL_BUSY && slot->taken);
		slot->call_id = 0;
		slot->taken = false;
		slot->caller = NULL;
		if (!slot->retire && !draining(MyDatabaseId) &&
			count_members(MyDatabaseId, slot) < pgeb_attached_pool_size &&
			count_members(InvalidOid, slot) < pgeb_attached_pool_max_workers)
		{
			slot->state = POOL_RESETTING;
			slot->fingerprint = fingerprint;
			slot->idle_since = GetCurrentTimestamp();
			joined = true;
		}
		else
			slot->state = POOL_EXITING;
	}
	else if (!draining(MyDatabaseId) &&
			 count_members(MyDatabaseId, NULL) < pgeb_attached_pool_size &&
			 count_members(InvalidOid, NULL) < pgeb_attached_pool_max_workers)
	{
		int			i;

		for (i = 0; i < Pool->nslots; i++)
		{
			PoolSlot   *slot = &Pool->slots[i];

			if (slot->state != POOL_FREE)
				continue;
			memset(slot, 0, sizeof(PoolSlot));
			slot->state = POOL_RESETTING;
			slot->pid = MyProcPid;
			slot->proc = MyProc;
			slot->database_id = MyDatabaseId;
			slot->user_id = GetAuthenticatedUserId();
			slot->fingerprint = fingerprint;
			slot->joined_at = GetCurrentTimestamp();
			slot->idle_since = slot->joined_at;
			slot->calls = 0;
			my_slot = i;
			joined = true;
			break;
		}
	}
	LWLockRelease(Pool->lock);

	if (joined && !leave_pool_registered)
	{
		before_shmem_exit(leave_pool, (Datum) 0);
		leave_pool_registered = true;
	}
	return joined;
}

/*
 * The worker's side: wait in the pool for a call.  Returns the call's
 * segment, or DSM_HANDLE_INVALID when the worker is to exit (idle timeout,
 * retired, its database drained, the pool's settings reloaded).
 */
dsm_handle
pgeb_pool_wait_for_call(void)
{
	TimestampTz idle_since = GetCurrentTimestamp();

	Assert(my_slot >= 0);
	pgstat_report_activity(STATE_IDLE, NULL);

	for (;;)
	{
		PoolSlot   *slot = &Pool->slots[my_slot];
		long		waited;
		int			timeout;
		dsm_handle	segment = DSM_HANDLE_INVALID;
		bool		leave = false;
		PGPROC	   *caller = NULL;

		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		idle_work();

		waited = TimestampDifferenceMilliseconds(idle_since, GetCurrentTimestamp());

		LWLockAcquire(Pool->lock, LW_EXCLUSIVE);
		if (slot->retire || draining(MyDatabaseId) ||
			pgeb_attached_pool_size <= 0 ||
			(slot->call_id == 0 && waited >= pgeb_attached_pool_idle_timeout))
		{
			/* a call handed over meanwhile goes back, untouched */
			if (slot->call_id != 0)
				caller = slot->caller;
			slot->state = POOL_EXITING;
			slot->call_id = 0;
			leave = true;
		}
		else if (slot->call_id != 0)
		{
			slot->state = POOL_BUSY;
			slot->taken = true;
			segment = slot->segment;
		}
		else if (slot->state != POOL_IDLE)
		{
			slot->state = POOL_IDLE;
			slot->idle_since = GetCurrentTimestamp();
		}
		LWLockRelease(Pool->lock);

		if (caller != NULL)
			SetLatch(&caller->procLatch);
		if (segment != DSM_HANDLE_INVALID)
			return segment;
		if (leave)
			return DSM_HANDLE_INVALID;

		timeout = pgeb_attached_pool_idle_timeout - (int) waited;
		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Max(timeout, 1),
						 pgeb_wait_event(&idle_wait_event, "PgExtensionBaseAttachedPoolIdle"));
	}
}

/*
 * What an idle worker does when woken for something other than a call: a
 * reload of the configuration (a change of the pool's settings empties
 * the pool: its workers were kept by the old ones), and the catch-up of
 * the shared invalidation queue that other processes ask for, which a
 * client backend does while it waits for its client.
 */
static void
idle_work(void)
{
	if (ConfigReloadPending)
	{
		int			size = pgeb_attached_pool_size;
		int			max_workers = pgeb_attached_pool_max_workers;
		int			idle_timeout = pgeb_attached_pool_idle_timeout;

		ConfigReloadPending = false;
		ProcessConfigFile(PGC_SIGHUP);
		if (size != pgeb_attached_pool_size ||
			max_workers != pgeb_attached_pool_max_workers ||
			idle_timeout != pgeb_attached_pool_idle_timeout)
		{
			LWLockAcquire(Pool->lock, LW_EXCLUSIVE);
			Pool->slots[my_slot].retire = true;
			LWLockRelease(Pool->lock);
		}
	}
	if (catchupInterruptPending)
		ProcessCatchupInterrupt();
}

/*
 * The worker's side: the call it took needs a worker it is not (its
 * identity or its database changed since it connected).  Give the call
 * back untouched, so that the caller starts a worker for it, and leave.
 */
void
pgeb_pool_give_back_call(void)
{
	PGPROC	   *caller = NULL;

	Assert(my_slot >= 0);
	LWLockAcquire(Pool->lock, LW_EXCLUSIVE);
	caller = Pool->slots[my_slot].caller;
	Pool->slots[my_slot].state = POOL_EXITING;
	Pool->slots[my_slot].call_id = 0;
	LWLockRelease(Pool->lock);
	if (caller != NULL)
		SetLatch(&caller->procLatch);
}

/* The worker's side: its counters, for the listing. */
void
pgeb_pool_note_call(Size memory)
{
	if (my_slot >= 0)
	{
		Pool->slots[my_slot].calls++;
		Pool->slots[my_slot].memory = memory;
	}
}

/* before_shmem_exit of a pooled worker: free its slot, wake who waits. */
static void
leave_pool(int code, Datum arg)
{
	PGPROC	   *caller = NULL;

	if (my_slot < 0 || Pool == NULL)
		return;
	LWLockAcquire(Pool->lock, LW_EXCLUSIVE);
	if (Pool->slots[my_slot].call_id != 0)
		caller = Pool->slots[my_slot].caller;
	memset(&Pool->slots[my_slot], 0, sizeof(PoolSlot));
	LWLockRelease(Pool->lock);
	my_slot = -1;

	ConditionVariableBroadcast(&Pool->changed);
	if (caller != NULL)
		SetLatch(&caller->procLatch);
}

/*
 * A caller found no free worker slot (launch.c): tell the idle worker that
 * has waited longest, of any key, to go, so that its slot serves a call
 * now rather than a call that may never come.  Returns whether one was
 * told; its slot is free once the postmaster has reaped it.
 */
bool
pgeb_pool_evict_idle(void)
{
	PoolSlot   *oldest = NULL;
	PGPROC	   *proc = NULL;
	int			i;

	if (Pool == NULL)
		return false;

	LWLockAcquire(Pool->lock, LW_EXCLUSIVE);
	for (i = 0; i < Pool->nslots; i++)
	{
		PoolSlot   *slot = &Pool->slots[i];

		if (slot->state == POOL_IDLE && slot->call_id == 0 && !slot->retire &&
			(oldest == NULL || slot->idle_since < oldest->idle_since))
			oldest = slot;
	}
	if (oldest != NULL)
	{
		oldest->retire = true;
		proc = oldest->proc;
	}
	LWLockRelease(Pool->lock);

	if (proc == NULL)
		return false;
	SetLatch(&proc->procLatch);
	return true;
}

/*
 * DDL's side (ddl.c): stop pooled workers of a database and keep new ones
 * out until pgeb_pool_end_drain; wait (up to timeout_ms) until no idle or
 * exiting worker of it is left.  Workers busy with a call finish it and
 * exit; core's own check waits for them as for any connection.
 */
void
pgeb_pool_drain(Oid database_id, int timeout_ms)
{
	TimestampTz deadline;
	int			i;
	bool		added = false;

	if (Pool == NULL)
		return;

	LWLockAcquire(Pool->lock, LW_EXCLUSIVE);
	for (i = 0; i < MAX_DRAINING && !added; i++)
	{
		if (Pool->draining_count[i] > 0 && Pool->draining[i] == database_id)
		{
			Pool->draining_count[i]++;
			added = true;
		}
	}
	for (i = 0; i < MAX_DRAINING && !added; i++)
	{
		if (Pool->draining_count[i] == 0)
		{
			Pool->draining[i] = database_id;
			Pool->draining_count[i] = 1;
			added = true;
		}
	}
	if (!added)
		Pool->draining_all++;
	for (i = 0; i < Pool->nslots; i++)
	{
		PoolSlot   *slot = &Pool->slots[i];

		if (slot->state != POOL_FREE && slot->database_id == database_id)
		{
			slot->retire = true;
			SetLatch(&slot->proc->procLatch);
		}
	}
	LWLockRelease(Pool->lock);

	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
	ConditionVariablePrepareToSleep(&Pool->changed);
	for (;;)
	{
		bool		left = false;
		long		remaining;

		LWLockAcquire(Pool->lock, LW_SHARED);
		for (i = 0; i < Pool->nslots; i++)
		{
			PoolSlot   *slot = &Pool->slots[i];

			if (slot->state != POOL_FREE && slot->state != POOL_BUSY &&
				slot->database_id == database_id)
				left = true;
		}
		LWLockRelease(Pool->lock);

		remaining = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
		if (!left || remaining <= 0)
			break;
		(void) ConditionVariableTimedSleep(&Pool->changed, remaining,
										   pgeb_wait_event(&drain_wait_event,
														   "PgExtensionBaseAttachedPoolDrain"));
	}
	ConditionVariableCancelSleep();
}

void
pgeb_pool_end_drain(Oid database_id)
{
	int			i;

	if (Pool == NULL)
		return;
	LWLockAcquire(Pool->lock, LW_EXCLUSIVE);
	for (i = 0; i < MAX_DRAINING; i++)
	{
		if (Pool->draining_count[i] > 0 && Pool->draining[i] == database_id)
		{
			Pool->draining_count[i]--;
			LWLockRelease(Pool->lock);
			return;
		}
	}
	if (Pool->draining_all > 0)
		Pool->draining_all--;
	LWLockRelease(Pool->lock);
}

/*
 * extension_base.attached_pool(): the pooled workers, for the view of the
 * same name.
 */
PG_FUNCTION_INFO_V1(pgeb_attached_pool);

Datum
pgeb_attached_pool(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PoolSlot   *copy;
	int			nslots;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	if (Pool == NULL)
		return (Datum) 0;

	nslots = Pool->nslots;
	copy = palloc(sizeof(PoolSlot) * nslots);
	LWLockAcquire(Pool->lock, LW_SHARED);
	memcpy(copy, Pool->slots, sizeof(PoolSlot) * nslots);
	LWLockRelease(Pool->lock);

	for (i = 0; i < nslots; i++)
	{
		PoolSlot   *slot = &copy[i];
		Datum		values[8];
		bool		nulls[8] = {0};

		if (slot->state == POOL_FREE)
			continue;
		values[0] = Int32GetDatum(slot->pid);
		values[1] = ObjectIdGetDatum(slot->database_id);
		values[2] = ObjectIdGetDatum(slot->user_id);
		values[3] = CStringGetTextDatum(slot_state_names[slot->state]);
		values[4] = Int64GetDatum((int64) slot->calls);
		values[5] = TimestampTzGetDatum(slot->joined_at);
		if (slot->state == POOL_IDLE)
			values[6] = TimestampTzGetDatum(slot->idle_since);
		else
			nulls[6] = true;
		values[7] = Int64GetDatum((int64) slot->memory);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
