/*-------------------------------------------------------------------------
 *
 * pg_extension_base_example.c
 *	  An extension built on pg_extension_base.
 *
 * The library keeps a counter in shared memory, which only a library loaded
 * in the postmaster at server start can reserve.  Its control file asks for
 * that with a #!shared_preload_libraries line, so the administrator only
 * ever sets shared_preload_libraries = 'pg_extension_base'.
 *
 * It also has a base worker, heartbeat_main, which its install script
 * registers: pg_extension_base runs it in every database where the
 * extension exists, and it counts beats in a table once a second.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "pg_extension_base/base_workers.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(example_heartbeat_main);

/* In shared memory; the counter is atomic, so no lock protects it. */
typedef struct ExampleSharedState
{
	pg_atomic_uint64 tickets;
} ExampleSharedState;

static bool loaded_at_server_start = false;
static ExampleSharedState *shared_state = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

void		_PG_init(void);
static void example_shmem_request(void);
static void example_shmem_startup(void);

void
_PG_init(void)
{
	/* loaded late (CREATE EXTENSION without preloading): no shared memory */
	if (!process_shared_preload_libraries_in_progress)
		return;

	loaded_at_server_start = true;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = example_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = example_shmem_startup;

	ereport(LOG, (errmsg("pg_extension_base_example: loaded at server start")));
}

static void
example_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(ExampleSharedState)));
}

static void
example_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared_state = ShmemInitStruct("pg_extension_base_example",
								   sizeof(ExampleSharedState), &found);
	if (!found)
		pg_atomic_init_u64(&shared_state->tickets, 0);
	LWLockRelease(AddinShmemInitLock);
}

PG_FUNCTION_INFO_V1(example_loaded_at_server_start);

Datum
example_loaded_at_server_start(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(loaded_at_server_start);
}

PG_FUNCTION_INFO_V1(example_next_ticket);

Datum
example_next_ticket(PG_FUNCTION_ARGS)
{
	if (shared_state == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_extension_base_example was not loaded at server start"),
				 errhint("Set shared_preload_libraries = 'pg_extension_base' and restart the server.")));

	PG_RETURN_INT64((int64) pg_atomic_add_fetch_u64(&shared_state->tickets, 1));
}

/*
 * The base worker: runs outside any transaction with its worker id as
 * argument.  LightSleep() returns early on SIGHUP and ends the process on
 * SIGTERM (DROP EXTENSION, DROP DATABASE, shutdown), so the loop needs no
 * exit of its own; returning asks for an immediate restart.
 */
Datum
example_heartbeat_main(PG_FUNCTION_ARGS)
{
	for (;;)
	{
		START_TRANSACTION();
		{
			SPI_connect();
			/*
			 * Qualified throughout: a base worker runs as the bootstrap
			 * superuser with its database's search_path, which the
			 * database's owner controls.
			 */
			SPI_execute("UPDATE extension_base_example.heartbeat "
						"SET beats = beats OPERATOR(pg_catalog.+) 1, "
						"last_beat = pg_catalog.now(), "
						"pid = pg_catalog.pg_backend_pid()", false, 0);
			SPI_finish();
		}
		END_TRANSACTION();
		LightSleep(1000);
		if (TerminationRequested)
			break;
	}
	return BASE_WORKER_RESTART_IMMEDIATELY;
}
