/*-------------------------------------------------------------------------
 *
 * server_starter.c
 *	  The server starter: a static background worker, connected to no
 *	  database, and the only process that starts and stops base workers and
 *	  database starters.  It registers every one of them with itself as
 *	  bgw_notify_pid, so it holds every BackgroundWorkerHandle and its latch
 *	  is set whenever one of them starts or stops.
 *
 * One pass of the loop:
 *	1. take the events (databases whose registrations may have changed,
 *	   "re-read pg_database") and re-read pg_database when asked or when
 *	   worker_starter_sleep_time has passed: new databases are scanned,
 *	   dropped ones and those that became templates or stopped allowing
 *	   connections lose their workers;
 *	2. reap database starters and base workers that exited, applying the
 *	   restart policy (DESIGN.md section 5);
 *	3. terminate what must not run: slots in SLOT_STOPPING, starters of
 *	   databases that DDL blocks;
 *	4. start database starters (at most max_database_starters at once) and
 *	   the base workers that are due;
 *	5. wake backends waiting for processes to stop, and sleep until the
 *	   next event or the next due time.
 *
 * The databases it knows live in a local hash table: whether they may run
 * workers, whether a scan is due.  Everything other processes must see is
 * in the registry (registry.c, whose header states the lock protocol).
 *
 * Locks: SupervisorState->lock, exclusive for every change it makes (the
 * events it consumes, starter entries, the process fields and state of
 * slots, blocks of dead backends), shared to look at events and blocks.
 * It holds it while it registers or terminates processes through the
 * postmaster and while it writes its rare LOG lines, never while it
 * sleeps, reads pg_database or waits for a process.  Its worker handles are
 * local and match the slots' has_process (check_handles).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "pg_extension_base/base_workers.h"
#include "supervisor.h"

/* restart the server starter itself this long after it failed */
#define SERVER_STARTER_RESTART_SECONDS	1
/* first retry when the postmaster has no free background worker slot */
#define OUT_OF_SLOTS_FIRST_RETRY_MS		100
/* how often, and how long, to wait for orphans of an earlier server starter */
#define ORPHAN_POLL_MS					10
#define ORPHAN_WAIT_MS					10000

#ifdef DATCONNLIMIT_INVALID_DB
#define DATABASE_IS_INVALID(db) ((db)->datconnlimit == DATCONNLIMIT_INVALID_DB)
#else
#define DATABASE_IS_INVALID(db) false
#endif

typedef struct KnownDatabase
{
	Oid			database_id;	/* hash key */
	bool		eligible;		/* connectable, not a template, valid */
	bool		scan_wanted;
	bool		seen;			/* found by the current pg_database read */
	TimestampTz next_scan;		/* not before (after a failed scan) */
} KnownDatabase;

static HTAB *databases = NULL;
static BackgroundWorkerHandle **worker_handles = NULL;
static BackgroundWorkerHandle *starter_handles[MAX_DATABASE_STARTERS];
static bool starter_terminated[MAX_DATABASE_STARTERS];

/* the postmaster ran out of background worker slots */
static bool out_of_slots = false;
static long out_of_slots_retry_ms = OUT_OF_SLOTS_FIRST_RETRY_MS;
static TimestampTz out_of_slots_until = 0;

/* this process's wait events (named on PostgreSQL 17+, see compat.h) */
static uint32 idle_wait_event = 0;
static uint32 orphan_wait_event = 0;

static void describe_process(BackgroundWorker *bgw, const char *function,
							 const char *type, const char *name);
static void forget_server_starter(int code, Datum arg);
static void adopt_orphans(void);
static void take_events(bool *refresh, bool *scan_all, List **dirty);
static void refresh_databases(void);
static void release_database_slots(Oid database_id, const char *reason);
static void want_scan(KnownDatabase *db);
static bool reap_starters(TimestampTz now);
static bool reap_workers(TimestampTz now);
static void worker_exited(WorkerSlot *slot, TimestampTz now);
static void enforce_stops(void);
static void release_dead_blockers(void);
static void launch_starters(TimestampTz now, long *timeout);
static void launch_workers(TimestampTz now, long *timeout);
static bool register_process(const char *function, const char *type,
							 const char *name, Datum main_arg, uint32 generation,
							 BackgroundWorkerHandle **handle);
static bool own_starter_running(void);
static void check_handles(void);
static void note_out_of_slots(TimestampTz now, int waiting);
static long ms_until(TimestampTz now, TimestampTz then);

/*
 * Every process of ours: a function of this library, with shared memory and
 * a database connection, started only once recovery has finished (a hot
 * standby runs nothing), never restarted by the postmaster (the server
 * starter applies the restart policy; only it sets a restart time).
 */
static void
describe_process(BackgroundWorker *bgw, const char *function, const char *type,
				 const char *name)
{
	memset(bgw, 0, sizeof(*bgw));
	bgw->bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw->bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw->bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(bgw->bgw_library_name, SUPERVISOR_MODULE_NAME, BGW_MAXLEN);
	strlcpy(bgw->bgw_function_name, function, BGW_MAXLEN);
	strlcpy(bgw->bgw_name, name, BGW_MAXLEN);
	strlcpy(bgw->bgw_type, type, BGW_MAXLEN);
}

/* Called by _PG_init in the postmaster. */
void
pgeb_register_server_starter(void)
{
	BackgroundWorker bgw;

	describe_process(&bgw, "pgeb_server_starter_main", SERVER_STARTER_TYPE,
					 SERVER_STARTER_TYPE);
	bgw.bgw_restart_time = SERVER_STARTER_RESTART_SECONDS;
	RegisterBackgroundWorker(&bgw);
}

void
pgeb_server_starter_main(Datum arg)
{
	HASHCTL		ctl;
	TimestampTz next_refresh = 0;

	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);

	pgeb_name_process(SERVER_STARTER_TYPE);

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(KnownDatabase);
	databases = hash_create("pg_extension_base known databases", 256, &ctl,
							HASH_ELEM | HASH_BLOBS);
	worker_handles = MemoryContextAllocZero(TopMemoryContext,
											sizeof(BackgroundWorkerHandle *) *
											SupervisorState->num_slots);

	adopt_orphans();

	pgeb_lock_registry(LW_EXCLUSIVE);
	SupervisorState->server_starter = MyProc;
	SupervisorState->scan_all = true;
	SupervisorState->refresh_databases = true;
	pgeb_unlock_registry();
	before_shmem_exit(forget_server_starter, (Datum) 0);

	for (;;)
	{
		bool		refresh;
		bool		scan_all;
		List	   *dirty = NIL;
		ListCell   *lc;
		TimestampTz now;
		long		timeout = WorkerStarterSleepTimeSec * 1000L;
		bool		exited;

		CHECK_FOR_INTERRUPTS();
		if (ShutdownRequestPending)
			proc_exit(1);
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		take_events(&refresh, &scan_all, &dirty);
		now = GetCurrentTimestamp();
		if (refresh || now >= next_refresh)
		{
			refresh_databases();
			next_refresh = TimestampTzPlusMilliseconds(now,
													   WorkerStarterSleepTimeSec * 1000L);
		}
		if (scan_all)
		{
			HASH_SEQ_STATUS status;
			KnownDatabase *db;

			hash_seq_init(&status, databases);
			while ((db = hash_seq_search(&status)) != NULL)
				want_scan(db);
		}
		foreach(lc, dirty)
		{
			Oid			database_id = lfirst_oid(lc);
			KnownDatabase *db = hash_search(databases, &database_id, HASH_FIND, NULL);

			if (db != NULL)
				want_scan(db);
		}
		list_free(dirty);

		now = GetCurrentTimestamp();
		release_dead_blockers();
		exited = reap_starters(now);
		exited |= reap_workers(now);
		enforce_stops();
		launch_starters(now, &timeout);
		launch_workers(now, &timeout);

		if (exited)
			ConditionVariableBroadcast(&SupervisorState->stopped_cv);
		timeout = Min(timeout, ms_until(now, next_refresh));

		/* events raised during this pass (also by this pass) are due now */
		pgeb_lock_registry(LW_SHARED);
		if (SupervisorState->scan_all || SupervisorState->num_dirty > 0 ||
			SupervisorState->refresh_databases)
			timeout = 0;
		pgeb_unlock_registry();

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Max(timeout, 1),
						 pgeb_wait_event(&idle_wait_event, "PgExtensionBaseServerStarter"));
		ResetLatch(MyLatch);
	}
}

static void
forget_server_starter(int code, Datum arg)
{
	pgeb_lock_registry(LW_EXCLUSIVE);
	SupervisorState->server_starter = NULL;
	pgeb_unlock_registry();
}

/*
 * An earlier server starter of this server exited (it failed, or was
 * terminated) and its handles went with it.  Stop the processes it left,
 * wait until they are gone, then start from the slots as they are: nothing
 * is lost but the processes.  After a crash restart the registry is new and
 * there is nothing to do.
 */
static void
adopt_orphans(void)
{
	List	   *pids = NIL;
	ListCell   *lc;
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz give_up = TimestampTzPlusMilliseconds(now, ORPHAN_WAIT_MS);

	/* a process that starts late sees a new generation and exits */
	pgeb_lock_registry(LW_EXCLUSIVE);
	for (int i = 0; i < SupervisorState->num_slots; i++)
	{
		WorkerSlot *slot = &SupervisorState->slots[i];

		if (slot->state == SLOT_FREE)
			continue;
		slot->generation++;
		if (slot->pid != 0)
			pids = lappend_int(pids, slot->pid);
	}
	for (int i = 0; i < MAX_DATABASE_STARTERS; i++)
		if (SupervisorState->starters[i].pid != 0)
			pids = lappend_int(pids, SupervisorState->starters[i].pid);
	pgeb_unlock_registry();

	/* stop them; backends waiting for them keep waiting meanwhile */
	foreach(lc, pids)
		(void) kill(lfirst_int(lc), SIGTERM);
	foreach(lc, pids)
	{
		while (kill(lfirst_int(lc), 0) == 0 && GetCurrentTimestamp() < give_up &&
			   !ShutdownRequestPending)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 ORPHAN_POLL_MS,
							 pgeb_wait_event(&orphan_wait_event, "PgExtensionBaseOrphanExit"));
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
	}

	pgeb_lock_registry(LW_EXCLUSIVE);
	for (int i = 0; i < SupervisorState->num_slots; i++)
	{
		WorkerSlot *slot = &SupervisorState->slots[i];

		if (slot->state == SLOT_FREE)
			continue;
		slot->has_process = false;
		slot->connected = false;
		slot->terminate_sent = false;
		slot->pid = 0;
		if (slot->state == SLOT_STARTING || slot->state == SLOT_RUNNING)
		{
			pgeb_set_slot_state(slot, SLOT_WANTED);
			slot->next_start = now;
		}
		else if (slot->state == SLOT_STOPPING && slot->stopper_pid == 0)
			pgeb_free_slot(slot);
	}
	memset(SupervisorState->starters, 0, sizeof(SupervisorState->starters));
	pgeb_unlock_registry();

	if (pids != NIL)
		ereport(LOG,
				(errmsg("pg_extension_base server starter stopped %d processes left by its previous run",
						list_length(pids))));
	ConditionVariableBroadcast(&SupervisorState->stopped_cv);
}

static void
take_events(bool *refresh, bool *scan_all, List **dirty)
{
	pgeb_lock_registry(LW_EXCLUSIVE);
	*refresh = SupervisorState->refresh_databases;
	*scan_all = SupervisorState->scan_all;
	for (int i = 0; i < SupervisorState->num_dirty; i++)
		*dirty = lappend_oid(*dirty, SupervisorState->dirty[i]);
	SupervisorState->num_dirty = 0;
	/* a full scan finds every database that did not fit again */
	if (SupervisorState->scan_all)
		SupervisorState->registry_full = false;
	SupervisorState->scan_all = false;
	SupervisorState->refresh_databases = false;
	pgeb_unlock_registry();
}

/* A scan of this database is due; a running starter scans again after. */
static void
want_scan(KnownDatabase *db)
{
	if (!db->eligible)
		return;
	db->scan_wanted = true;
	pgeb_lock_registry(LW_EXCLUSIVE);
	for (int i = 0; i < MAX_DATABASE_STARTERS; i++)
		if (SupervisorState->starters[i].database_id == db->database_id)
		{
			SupervisorState->starters[i].needs_restart = true;
			db->scan_wanted = false;
		}
	pgeb_unlock_registry();
}

/* Re-read pg_database (a shared catalog: no database connection needed). */
static void
refresh_databases(void)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tuple;
	HASH_SEQ_STATUS status;
	KnownDatabase *db;

	hash_seq_init(&status, databases);
	while ((db = hash_seq_search(&status)) != NULL)
		db->seen = false;

	StartTransactionCommand();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database form = (Form_pg_database) GETSTRUCT(tuple);
		bool		eligible = form->datallowconn && !form->datistemplate &&
			!DATABASE_IS_INVALID(form);
		bool		found;

		db = hash_search(databases, &form->oid, HASH_ENTER, &found);
		if (!found)
		{
			db->eligible = false;
			db->scan_wanted = false;
			db->next_scan = 0;
		}
		db->seen = true;
		if (eligible && !db->eligible)
		{
			db->eligible = true;
			want_scan(db);
		}
		else if (!eligible && db->eligible)
		{
			db->eligible = false;
			db->scan_wanted = false;
			release_database_slots(form->oid,
								   form->datistemplate ? "database is a template" :
								   "database does not allow connections");
		}
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();

	hash_seq_init(&status, databases);
	while ((db = hash_seq_search(&status)) != NULL)
	{
		if (!db->seen)
		{
			release_database_slots(db->database_id, "database was dropped");
			(void) hash_search(databases, &db->database_id, HASH_REMOVE, NULL);
		}
	}
}

/*
 * The database may not run workers any more: stop them and forget their
 * slots, except those a backend is stopping (it decides at its end).
 */
static void
release_database_slots(Oid database_id, const char *reason)
{
	pgeb_lock_registry(LW_EXCLUSIVE);
	for (int i = 0; i < SupervisorState->num_slots; i++)
	{
		WorkerSlot *slot = &SupervisorState->slots[i];

		if (slot->state == SLOT_FREE || slot->database_id != database_id)
			continue;
		if (slot->state == SLOT_STOPPING && slot->stopper_pid != 0)
			continue;
		if (slot->has_process)
			pgeb_mark_stopping(slot, 0, InvalidSubTransactionId, false, reason);
		else
			pgeb_free_slot(slot);
	}
	if (SupervisorState->registry_full)
		SupervisorState->scan_all = true;
	pgeb_unlock_registry();
}

/* Returns whether any starter exited. */
static bool
reap_starters(TimestampTz now)
{
	bool		exited = false;

	for (int i = 0; i < MAX_DATABASE_STARTERS; i++)
	{
		DatabaseStarterSlot *starter = &SupervisorState->starters[i];
		pid_t		pid;
		BgwHandleStatus status;
		Oid			database_id;
		bool		published;
		bool		needs_restart;
		KnownDatabase *db;

		if (starter_handles[i] == NULL)
			continue;
		status = GetBackgroundWorkerPid(starter_handles[i], &pid);
		if (status == BGWH_STARTED)
		{
			pgeb_lock_registry(LW_EXCLUSIVE);
			starter->pid = pid;
			pgeb_unlock_registry();
			continue;
		}
		if (status == BGWH_NOT_YET_STARTED)
			continue;

		pgeb_lock_registry(LW_EXCLUSIVE);
		database_id = starter->database_id;
		published = starter->published;
		needs_restart = starter->needs_restart;
		memset(starter, 0, sizeof(DatabaseStarterSlot));
		pgeb_unlock_registry();
		pfree(starter_handles[i]);
		starter_handles[i] = NULL;
		starter_terminated[i] = false;
		exited = true;

		db = hash_search(databases, &database_id, HASH_FIND, NULL);
		if (db == NULL || !db->eligible)
		{
			/* it may have published after the database became ineligible */
			release_database_slots(database_id, "database may not run workers");
			continue;
		}
		if (!published)
		{
			/* it failed, or DDL stopped it: try again, a little later */
			db->scan_wanted = true;
			if (!pgeb_database_blocked(database_id))
				db->next_scan = TimestampTzPlusMilliseconds(now,
															WorkerRestartBackoffInitialMs);
		}
		else if (needs_restart)
			db->scan_wanted = true;
	}
	return exited;
}

/* Returns whether any process exited. */
static bool
reap_workers(TimestampTz now)
{
	bool		exited = false;

	for (int i = 0; i < SupervisorState->num_slots; i++)
	{
		WorkerSlot *slot = &SupervisorState->slots[i];
		pid_t		pid;
		BgwHandleStatus status;

		if (worker_handles[i] == NULL)
			continue;
		status = GetBackgroundWorkerPid(worker_handles[i], &pid);
		if (status == BGWH_NOT_YET_STARTED)
			continue;
		pgeb_lock_registry(LW_EXCLUSIVE);
		if (status == BGWH_STARTED)
			slot->pid = pid;
		else
		{
			worker_exited(slot, now);
			exited = true;
		}
		pgeb_unlock_registry();
		if (status != BGWH_STARTED)
		{
			pfree(worker_handles[i]);
			worker_handles[i] = NULL;
		}
	}
	return exited;
}

/*
 * The restart policy.  Caller holds the lock.  A stop we asked for is never
 * a failure; a worker that returned says when it wants to run again; any
 * other end is a failure, restarted after a backoff that doubles with each
 * failure, unless it ran long enough to count as healthy.
 */
static void
worker_exited(WorkerSlot *slot, TimestampTz now)
{
	bool		asked_to_stop = slot->terminate_sent;

	slot->has_process = false;
	slot->connected = false;
	slot->terminate_sent = false;
	slot->pid = 0;
	slot->last_exit_time = now;

	if (slot->state == SLOT_STOPPING)
	{
		snprintf(slot->last_exit_reason, EXIT_REASON_LEN, "stopped: %s",
				 slot->stop_reason);
		if (slot->stopper_pid == 0)
		{
			pgeb_free_slot(slot);
			if (SupervisorState->registry_full)
				SupervisorState->scan_all = true;
		}
	}
	else if (slot->state == SLOT_RESUMING)
		snprintf(slot->last_exit_reason, EXIT_REASON_LEN,
				 "stopped: %s; resumes once its registration is confirmed",
				 slot->stop_reason);
	else if (asked_to_stop)
	{
		/* a rollback gave it back while it was being stopped */
		pgeb_set_slot_state(slot, SLOT_WANTED);
		slot->next_start = now;
		strlcpy(slot->last_exit_reason, "stopped, then resumed by a rollback",
				EXIT_REASON_LEN);
	}
	else if (slot->returned)
	{
		int64		value = slot->return_value;

		slot->failure_count = 0;
		snprintf(slot->last_exit_reason, EXIT_REASON_LEN, "returned " INT64_FORMAT,
				 value);
		if (value == -1)
		{
			pgeb_set_slot_state(slot, SLOT_WANTED);
			slot->next_start = now;
		}
		else if (value > 0)
		{
			pgeb_set_slot_state(slot, SLOT_WAITING);
			slot->next_start = TimestampTzPlusMilliseconds(now, Min(value, (int64) INT_MAX));
		}
		else
			pgeb_set_slot_state(slot, SLOT_DONE);
	}
	else
	{
		int64		delay = WorkerRestartBackoffInitialMs;

		if (now - slot->last_start >= (int64) WorkerRestartHealthyMs * 1000)
			slot->failure_count = 0;
		slot->failure_count++;
		for (int i = 1; i < slot->failure_count && delay < WorkerRestartBackoffMaxMs; i++)
			delay *= 2;
		delay = Min(delay, WorkerRestartBackoffMaxMs);

		pgeb_set_slot_state(slot, SLOT_WAITING);
		slot->next_start = TimestampTzPlusMilliseconds(now, delay);
		snprintf(slot->last_exit_reason, EXIT_REASON_LEN, "failed: %s",
				 slot->exit_message[0] ? slot->exit_message :
				 "exited without returning or reporting an error");
		ereport(LOG,
				(errmsg("base worker \"%s\" (id %d) in database %u failed %d time(s) in a row; restarting in " INT64_FORMAT " ms",
						slot->worker_name, slot->worker_id, slot->database_id,
						slot->failure_count, delay),
				 errdetail("%s", slot->last_exit_reason)));
	}
}

/* Terminate what must not run. */
static void
enforce_stops(void)
{
	pgeb_lock_registry(LW_EXCLUSIVE);
	for (int b = 0; b < MAX_DATABASE_BLOCKS; b++)
	{
		DatabaseBlock *block = &SupervisorState->blocks[b];

		if (!OidIsValid(block->database_id))
			continue;
		for (int i = 0; i < MAX_DATABASE_STARTERS; i++)
			if (SupervisorState->starters[i].database_id == block->database_id &&
				starter_handles[i] != NULL && !starter_terminated[i])
			{
				TerminateBackgroundWorker(starter_handles[i]);
				starter_terminated[i] = true;
			}
		/* slots that came back (a rollback elsewhere) while it is blocked */
		for (int i = 0; i < SupervisorState->num_slots; i++)
		{
			WorkerSlot *slot = &SupervisorState->slots[i];

			if (slot->state != SLOT_FREE && slot->state != SLOT_STOPPING &&
				slot->database_id == block->database_id)
				pgeb_mark_stopping(slot, block->backend_pid, InvalidSubTransactionId,
								   !block->dropping, "database DDL");
		}
	}

	/*
	 * A slot given back while its process lives is RUNNING unless that
	 * process was asked to stop (pgeb_give_back_slot): a WANTED slot's
	 * process is always on its way out (pgeb_check_registry asserts it).
	 */
	for (int i = 0; i < SupervisorState->num_slots; i++)
	{
		WorkerSlot *slot = &SupervisorState->slots[i];

		if (!slot->has_process || slot->terminate_sent)
			continue;
		if (slot->state == SLOT_STOPPING)
		{
			TerminateBackgroundWorker(worker_handles[i]);
			slot->terminate_sent = true;
		}
	}
	pgeb_unlock_registry();
}

/*
 * A backend that blocked a database or stopped workers died without running
 * its end-of-transaction callback (it cannot, short of a crash, which
 * resets everything; this is a safety net).  What it stopped comes back
 * unconfirmed, to be confirmed by the scan of every database asked for here.
 */
static void
release_dead_blockers(void)
{
	List	   *dead = NIL;
	ListCell   *lc;

	pgeb_lock_registry(LW_SHARED);
	for (int b = 0; b < MAX_DATABASE_BLOCKS; b++)
	{
		DatabaseBlock *block = &SupervisorState->blocks[b];

		if (OidIsValid(block->database_id) &&
			kill(block->backend_pid, 0) != 0 && errno == ESRCH)
			dead = lappend_int(dead, block->backend_pid);
	}
	pgeb_unlock_registry();

	foreach(lc, dead)
	{
		int			pid = lfirst_int(lc);

		pgeb_lock_registry(LW_EXCLUSIVE);
		for (int b = 0; b < MAX_DATABASE_BLOCKS; b++)
			if (SupervisorState->blocks[b].backend_pid == pid)
				memset(&SupervisorState->blocks[b], 0, sizeof(DatabaseBlock));
		for (int i = 0; i < SupervisorState->num_slots; i++)
		{
			WorkerSlot *slot = &SupervisorState->slots[i];

			if (slot->state == SLOT_STOPPING && slot->stopper_pid == pid)
				pgeb_resume_unsettled_slot(slot);
		}
		SupervisorState->scan_all = true;
		pgeb_unlock_registry();
	}
}

static void
launch_starters(TimestampTz now, long *timeout)
{
	HASH_SEQ_STATUS status;
	KnownDatabase *db;
	int			running = 0;

	for (int i = 0; i < MAX_DATABASE_STARTERS; i++)
		if (starter_handles[i] != NULL)
			running++;

	hash_seq_init(&status, databases);
	while ((db = hash_seq_search(&status)) != NULL)
	{
		int			free_index = -1;
		bool		blocked;

		if (!db->scan_wanted || !db->eligible)
			continue;
		if (db->next_scan > now)
		{
			*timeout = Min(*timeout, ms_until(now, db->next_scan));
			continue;
		}
		if (running >= pgeb_max_database_starters ||
			(out_of_slots && now < out_of_slots_until))
			continue;			/* the next exit or retry wakes us */

		pgeb_lock_registry(LW_SHARED);
		blocked = pgeb_database_blocked(db->database_id);
		pgeb_unlock_registry();
		if (blocked)
			continue;

		for (int i = 0; i < MAX_DATABASE_STARTERS; i++)
			if (starter_handles[i] == NULL)
			{
				free_index = i;
				break;
			}
		if (free_index < 0)
			break;

		/*
		 * Fill the starter's entry first: it may run, publish and look for
		 * its entry before we would get to it.
		 */
		pgeb_lock_registry(LW_EXCLUSIVE);
		memset(&SupervisorState->starters[free_index], 0, sizeof(DatabaseStarterSlot));
		SupervisorState->starters[free_index].database_id = db->database_id;
		pgeb_unlock_registry();

		if (!register_process("pgeb_database_starter_main", DATABASE_STARTER_TYPE,
							  DATABASE_STARTER_TYPE, ObjectIdGetDatum(db->database_id),
							  0, &starter_handles[free_index]))
		{
			pgeb_lock_registry(LW_EXCLUSIVE);
			memset(&SupervisorState->starters[free_index], 0, sizeof(DatabaseStarterSlot));
			pgeb_unlock_registry();
			if (own_starter_running())
				continue;		/* its exit frees a slot and wakes us */
			note_out_of_slots(now, 1);
			*timeout = Min(*timeout, ms_until(now, out_of_slots_until));
			continue;
		}
		db->scan_wanted = false;
		running++;
	}
}

static void
launch_workers(TimestampTz now, long *timeout)
{
	int			waiting = 0;

	pgeb_lock_registry(LW_EXCLUSIVE);
	for (int i = 0; i < SupervisorState->num_slots; i++)
	{
		WorkerSlot *slot = &SupervisorState->slots[i];
		char		name[BGW_MAXLEN];
		KnownDatabase *db;

		if (slot->state == SLOT_WAITING && slot->next_start <= now)
			pgeb_set_slot_state(slot, SLOT_WANTED);
		if (slot->state != SLOT_WANTED || slot->has_process)
		{
			if (slot->state == SLOT_WAITING)
				*timeout = Min(*timeout, ms_until(now, slot->next_start));
			continue;
		}
		if (slot->next_start > now)
		{
			*timeout = Min(*timeout, ms_until(now, slot->next_start));
			continue;
		}
		db = hash_search(databases, &slot->database_id, HASH_FIND, NULL);
		if (db == NULL || !db->eligible || pgeb_database_blocked(slot->database_id))
			continue;
		if (out_of_slots && now < out_of_slots_until)
		{
			waiting++;
			continue;
		}

		slot->generation++;
		slot->returned = false;
		slot->return_value = 0;
		slot->exit_message[0] = '\0';
		snprintf(name, sizeof(name), "%s %s", BASE_WORKER_TYPE, slot->worker_name);
		if (!register_process("pgeb_base_worker_main", BASE_WORKER_TYPE, name,
							  Int32GetDatum(i), slot->generation,
							  &worker_handles[i]))
		{
			waiting++;
			if (!own_starter_running())
				note_out_of_slots(now, waiting);
			continue;
		}
		pgeb_set_slot_state(slot, SLOT_STARTING);
		slot->has_process = true;
		slot->connected = false;
		slot->terminate_sent = false;
		slot->pid = 0;
		slot->last_start = now;
	}
	check_handles();
	pgeb_unlock_registry();

	if (out_of_slots)
	{
		if (waiting == 0 && now >= out_of_slots_until)
		{
			ereport(LOG,
					(errmsg("pg_extension_base: background worker slots are available again")));
			out_of_slots = false;
			out_of_slots_retry_ms = OUT_OF_SLOTS_FIRST_RETRY_MS;
		}
		else
			*timeout = Min(*timeout, ms_until(now, out_of_slots_until));
	}
}

static bool
register_process(const char *function, const char *type, const char *name,
				 Datum main_arg, uint32 generation, BackgroundWorkerHandle **handle)
{
	BackgroundWorker bgw;
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
	bool		ok;

	describe_process(&bgw, function, type, name);
	bgw.bgw_main_arg = main_arg;
	memcpy(bgw.bgw_extra, &generation, sizeof(generation));
	bgw.bgw_notify_pid = MyProcPid;

	ok = RegisterDynamicBackgroundWorker(&bgw, handle);
	MemoryContextSwitchTo(old);
	return ok;
}

/*
 * A slot has a process exactly when this process holds a handle for it:
 * has_process is set only with a handle here, and cleared only when the
 * postmaster reported the exit (or by adopt_orphans, before any handle
 * exists).  Lock held.
 */
static void
check_handles(void)
{
#ifdef USE_ASSERT_CHECKING
	Assert(LWLockHeldByMe(SupervisorState->lock));
	for (int i = 0; i < SupervisorState->num_slots; i++)
		Assert(SupervisorState->slots[i].has_process == (worker_handles[i] != NULL));
#endif
}

/*
 * A database starter of ours still holds a slot.  It is short-lived: it
 * has usually just published the workers we failed to start, and its exit
 * (which the postmaster reports to us) frees the slot they need.  That is
 * no shortage to log or to back off from; a real one shows once no starter
 * is left.
 */
static bool
own_starter_running(void)
{
	for (int i = 0; i < MAX_DATABASE_STARTERS; i++)
		if (starter_handles[i] != NULL)
			return true;
	return false;
}

/*
 * Log once per condition, not per attempt, and retry with a backoff that
 * doubles up to worker_restart_backoff_initial.
 */
static void
note_out_of_slots(TimestampTz now, int waiting)
{
	if (!out_of_slots)
		ereport(LOG,
				(errmsg("pg_extension_base: out of background worker slots; base workers and database starters wait"),
				 errhint("Raise max_worker_processes.  They are retried with backoff and start once slots are free.")));
	else
		out_of_slots_retry_ms = Min(out_of_slots_retry_ms * 2,
									(long) WorkerRestartBackoffInitialMs);
	out_of_slots = true;
	out_of_slots_until = TimestampTzPlusMilliseconds(now, out_of_slots_retry_ms);
}

static long
ms_until(TimestampTz now, TimestampTz then)
{
	if (then <= now)
		return 0;
	return (long) Min((then - now + 999) / 1000, (int64) LONG_MAX);
}
