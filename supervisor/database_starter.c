/*-------------------------------------------------------------------------
 *
 * database_starter.c
 *	  The database starter: a short-lived background worker connected to
 *	  one database.  It reads the committed registrations there and publishes
 *	  the set of base workers that should run into the registry; the server
 *	  starter does the rest.
 *
 * It takes SHARE lock on extension_base.workers before it takes its
 * snapshot.  Every transaction that registers or deregisters workers holds
 * ROW EXCLUSIVE on that table until it ends, so the starter waits for them
 * and then sees only committed registrations: a worker never starts before
 * the COMMIT of its CREATE EXTENSION, and a rolled-back one never starts.
 * It publishes while still holding the lock, so a DELETE of a registration
 * (deregister, DROP EXTENSION) cannot slip in between its read and its
 * publication.
 *
 * It never queues for that lock: a queued SHARE request would make every
 * later registration change wait behind it, and so behind the open or
 * prepared transaction it waits for.  It tries the lock (ConditionalLock)
 * and, while that fails, sleeps a little longer each time, up to
 * STARTER_LOCK_POLL_MAX_MS, in wait event PgExtensionBaseRegistrations
 * ("Extension" before 17).  Polling, rather than waiting for the holders'
 * transactions to end, also sees a lock given up by ROLLBACK TO SAVEPOINT.
 * Registration changes that keep coming go first; the starter gives up
 * after STARTER_LOCK_TIMEOUT_MS and the server starter retries it after a
 * backoff (each of those changes asks for a scan anyway).
 *
 * In a database paused with pg_extension_base.base_workers_enabled = off
 * (ALTER DATABASE ... SET), the wanted set is empty.
 *
 * Locks: the SHARE lock on extension_base.workers above, then, inside it,
 * SupervisorState->lock exclusively once, to publish: claim slots for new
 * workers, stop or free those no longer registered, confirm the others,
 * mark its starter entry published.  Never the reverse order.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "tcop/tcopprot.h"
#include "utils/snapmgr.h"

#include "pg_extension_base/compat.h"
#include "supervisor.h"

#define STARTER_LOCK_TIMEOUT_MS	10000
#define STARTER_LOCK_POLL_MAX_MS	20

typedef struct WantedWorker
{
	int32		worker_id;
	char		worker_name[NAMEDATALEN];
	Oid			function_id;
	Oid			extension_id;
} WantedWorker;

/* waiting for the registrations table (named on PostgreSQL 17+, see compat.h) */
static uint32 registrations_wait_event = 0;

static void lock_registrations(Oid table);
static int	read_registrations(WantedWorker **wanted);
static void publish(Oid database_id, WantedWorker *wanted, int count);

void
pgeb_database_starter_main(Datum arg)
{
	Oid			database_id = DatumGetObjectId(arg);
	WantedWorker *wanted = NULL;
	int			count = 0;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(database_id, InvalidOid, 0);
	pgeb_name_process(DATABASE_STARTER_TYPE);

	StartTransactionCommand();
	if (pgeb_base_workers_enabled)
		count = read_registrations(&wanted);
	publish(database_id, wanted, count);
	CommitTransactionCommand();

	pgeb_wake_server_starter();
	proc_exit(0);
}

/*
 * SHARE lock on the registrations table, once no transaction changing
 * registrations is left, without ever queueing for it (see the top of the
 * file).  Not for ever: a prepared or idle transaction must not pin a
 * starter.
 */
static void
lock_registrations(Oid table)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   STARTER_LOCK_TIMEOUT_MS);
	long		sleep_ms = 1;

	while (!ConditionalLockRelationOid(table, ShareLock))
	{
		if (GetCurrentTimestamp() >= deadline)
			ereport(ERROR,
					(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
					 errmsg("could not read the registrations of base workers: transactions changing them did not end within %d ms",
							STARTER_LOCK_TIMEOUT_MS)));
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 sleep_ms,
						 pgeb_wait_event(&registrations_wait_event,
										 "PgExtensionBaseRegistrations"));
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		sleep_ms = Min(sleep_ms * 2, STARTER_LOCK_POLL_MAX_MS);
	}
}

/*
 * The committed registrations whose extension and entry point exist.  The
 * entry point is looked up by name now (registrations.c says how, for the
 * installed version of our SQL), so that one an update script moved, or
 * dropped and created again, is found where it is.
 */
static int
read_registrations(WantedWorker **wanted)
{
	Oid			table = pgeb_registrations_table();
	RegistrationColumns columns;
	int			count;
	int			level;

	if (!OidIsValid(table))
		return 0;

	/* the columns only once the lock shows an update of them committed */
	lock_registrations(table);
	columns = pgeb_registration_columns(table);
	PushActiveSnapshot(GetTransactionSnapshot());

	level = pgeb_begin_catalog_search_path();
	SPI_connect();
	if (SPI_execute(psprintf("SELECT w.%s, w.worker_name, %s, e.oid "
							 "FROM %s.%s w "
							 "JOIN pg_catalog.pg_extension e ON e.extname = w.extension_name "
							 "ORDER BY w.%s",
							 columns.worker_id, columns.entry_point,
							 SUPERVISOR_SCHEMA, REGISTRATIONS_TABLE,
							 columns.worker_id), true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the registrations of base workers");

	count = 0;
	*wanted = SPI_palloc(sizeof(WantedWorker) * Max(SPI_processed, 1));
	for (uint64 row = 0; row < SPI_processed; row++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[row];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		WantedWorker *w = &(*wanted)[count];
		bool		isnull;
		Datum		function;

		w->worker_id = DatumGetInt32(SPI_getbinval(tuple, desc, 1, &isnull));
		strlcpy(w->worker_name, SPI_getvalue(tuple, desc, 2), NAMEDATALEN);
		function = SPI_getbinval(tuple, desc, 3, &isnull);
		if (isnull)
		{
			ereport(LOG,
					(errmsg("entry point of base worker \"%s\" (id %d) does not exist; it does not start",
							w->worker_name, w->worker_id)));
			continue;
		}
		w->function_id = DatumGetObjectId(function);
		w->extension_id = DatumGetObjectId(SPI_getbinval(tuple, desc, 4, &isnull));
		count++;
	}
	SPI_finish();
	pgeb_end_catalog_search_path(level);
	PopActiveSnapshot();
	return count;
}

static void
publish(Oid database_id, WantedWorker *wanted, int count)
{
	int			num_slots = SupervisorState->num_slots;
	bool	   *seen = palloc0(sizeof(bool) * num_slots);
	int			missing = 0;

	pgeb_lock_registry(LW_EXCLUSIVE);

	/* DDL is waiting for this database: leave everything to it */
	if (pgeb_database_blocked(database_id))
	{
		pgeb_unlock_registry();
		return;
	}

	for (int w = 0; w < count; w++)
	{
		WorkerSlot *slot = pgeb_find_slot(database_id, wanted[w].worker_id);

		if (slot == NULL)
			slot = pgeb_claim_free_slot(database_id, wanted[w].worker_id);
		if (slot == NULL)
		{
			missing++;
			continue;
		}
		seen[slot - SupervisorState->slots] = true;
		pgeb_confirm_slot(slot);
		if (slot->state != SLOT_STOPPING)
		{
			strlcpy(slot->worker_name, wanted[w].worker_name, NAMEDATALEN);
			slot->function_id = wanted[w].function_id;
			slot->extension_id = wanted[w].extension_id;
		}
	}

	/* registered no more (or paused): stop them */
	for (int i = 0; i < num_slots; i++)
	{
		WorkerSlot *slot = &SupervisorState->slots[i];

		if (slot->state == SLOT_FREE || slot->state == SLOT_STOPPING ||
			slot->database_id != database_id || seen[i])
			continue;
		if (slot->has_process)
			pgeb_mark_stopping(slot, 0, InvalidSubTransactionId, false,
							   pgeb_base_workers_enabled ? "no longer registered" :
							   "paused by pg_extension_base.base_workers_enabled");
		else
			pgeb_free_slot(slot);
	}

	if (missing > 0 && !SupervisorState->registry_full)
		ereport(LOG,
				(errmsg("pg_extension_base.max_base_workers (%d) is reached; %d base workers of database %u wait for a free slot",
						num_slots, missing, database_id),
				 errhint("Raise pg_extension_base.max_base_workers.")));
	/* set by any database that did not fit; cleared by the next full scan */
	SupervisorState->registry_full |= (missing > 0);

	for (int i = 0; i < MAX_DATABASE_STARTERS; i++)
		if (SupervisorState->starters[i].database_id == database_id)
			SupervisorState->starters[i].published = true;

	pgeb_unlock_registry();
}
