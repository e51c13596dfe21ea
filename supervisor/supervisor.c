/*-------------------------------------------------------------------------
 *
 * supervisor.c
 *	  pg_extension_base_supervisor: base workers.
 *
 * Loaded by the meta library (pg_extension_base) in the postmaster, after
 * deps.  Here: the settings, the shared-memory request, the static server
 * starter and the hooks every backend inherits.  The processes, their
 * states and the lock protocol are described in supervisor/README.md and at
 * the top of registry.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/guc.h"

#include "pg_extension_base/abi.h"
#include "pg_extension_base/base_workers.h"
#include "pg_extension_base/compat.h"
#include "supervisor.h"

PGEB_MODULE_MAGIC(SUPERVISOR_MODULE_NAME);

bool		pgeb_enable_base_worker_launcher = true;
int			pgeb_max_base_workers = 1024;
int			pgeb_max_database_starters = 4;
/* base_workers.h: the four below have the original's names */
int			WorkerStarterSleepTimeSec = DEFAULT_WORKER_STARTER_SLEEP_TIME;
int			WorkerRestartBackoffInitialMs = DEFAULT_WORKER_RESTART_BACKOFF_INITIAL_MS;
int			WorkerRestartBackoffMaxMs = DEFAULT_WORKER_RESTART_BACKOFF_MAX_MS;
int			WorkerRestartHealthyMs = DEFAULT_WORKER_RESTART_HEALTHY_MS;
bool		pgeb_base_workers_enabled = true;

/* base_workers.h: whether this server runs the server starter */
bool		EnableBaseWorkerLauncher = false;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

void		_PG_init(void);
static void define_settings(void);
static void supervisor_shmem_request(void);
static void supervisor_shmem_startup(void);

/* Runs in the postmaster, called by the meta library's _PG_init. */
void
_PG_init(void)
{
	const PgExtensionBaseApi *api = pgeb_attach_component(SUPERVISOR_MODULE_NAME);
	int			module_id;

	/*
	 * Registered with the version of our SQL objects rather than the
	 * release's (pgeb_register_component), since our SQL moved on to 1.1
	 * alone: modules() then says "ok" for a database at 1.1 and asks a
	 * database at 1.0 for ALTER EXTENSION ... UPDATE.
	 */
	module_id = api->register_module(SUPERVISOR_MODULE_NAME, SUPERVISOR_SQL_VERSION,
									 PGEB_ABI_MAJOR, PGEB_ABI_MINOR);

	define_settings();

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = supervisor_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = supervisor_shmem_startup;

	pgeb_install_stop_callbacks();
	pgeb_install_ddl_hooks();

	/*
	 * No server starter in binary-upgrade mode (postgres -b, set before
	 * shared_preload_libraries are loaded): pg_upgrade starts the old
	 * cluster to dump it and the new one to restore the schema and, after
	 * copying the data files, to look at it.  Base workers would change
	 * data meanwhile, and database starters would connect to databases
	 * being restored.  Without the server starter nothing of ours runs, and
	 * the stop hooks have no process to wait for (t/021_pg_upgrade.pl).
	 */
	EnableBaseWorkerLauncher = pgeb_enable_base_worker_launcher && !IsBinaryUpgrade;
	if (EnableBaseWorkerLauncher)
		pgeb_register_server_starter();

	api->module_initialized(module_id);
}

static void
define_settings(void)
{
	DefineCustomBoolVariable("pg_extension_base.enable_base_worker_launcher",
							 "Starts the server starter, which runs base workers.",
							 NULL,
							 &pgeb_enable_base_worker_launcher,
							 true,
							 PGC_POSTMASTER, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("pg_extension_base.max_base_workers",
							"Most base workers, over all databases, the registry holds.",
							"Each also needs a slot of max_worker_processes while it runs.",
							&pgeb_max_base_workers,
							1024, 1, 65535,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_extension_base.max_database_starters",
							"Most database starters that run at the same time.",
							NULL,
							&pgeb_max_database_starters,
							4, 1, MAX_DATABASE_STARTERS,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_extension_base.worker_starter_sleep_time",
							"Longest time the idle server starter sleeps before it looks at the databases again.",
							"Commits, rollbacks and worker exits wake it earlier.",
							&WorkerStarterSleepTimeSec,
							DEFAULT_WORKER_STARTER_SLEEP_TIME, 1, 3600,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_extension_base.worker_restart_backoff_initial",
							"Delay before a failed base worker first restarts; it doubles with each failure.",
							NULL,
							&WorkerRestartBackoffInitialMs,
							DEFAULT_WORKER_RESTART_BACKOFF_INITIAL_MS, 1, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_extension_base.worker_restart_backoff_max",
							"Longest delay before a failed base worker restarts.",
							NULL,
							&WorkerRestartBackoffMaxMs,
							DEFAULT_WORKER_RESTART_BACKOFF_MAX_MS, 1, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_extension_base.worker_restart_healthy_time",
							"A base worker that ran this long before it failed starts again from the initial backoff.",
							NULL,
							&WorkerRestartHealthyMs,
							DEFAULT_WORKER_RESTART_HEALTHY_MS, 1, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("pg_extension_base.base_workers_enabled",
							 "Runs base workers in a database; set it off with ALTER DATABASE ... SET to pause them there.",
							 NULL,
							 &pgeb_base_workers_enabled,
							 true,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
}

static void
supervisor_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(pgeb_registry_size());
	RequestNamedLWLockTranche(SUPERVISOR_MODULE_NAME, 1);
}

static void
supervisor_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	pgeb_registry_init();
}

/*
 * Show name as the application_name of this process, in pg_stat_activity
 * and the log's %a: the process name of a starter, the worker name of a base
 * worker.  Core leaves it empty for background workers.
 */
void
pgeb_name_process(const char *name)
{
	SetConfigOption("application_name", name, PGC_USERSET, PGC_S_SESSION);
	pgstat_report_appname(name);
}
