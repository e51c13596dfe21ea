/*-------------------------------------------------------------------------
 *
 * supervisor.h
 *	  Internal declarations of pg_extension_base_supervisor: the shared
 *	  registry (registry.c), the three kinds of process (server_starter.c,
 *	  database_starter.c, base_worker.c), the registrations table
 *	  (registrations.c) and the hooks that stop workers before DDL returns
 *	  (stop.c) and the DDL hooks that use it (ddl_hooks.c).  The lock
 *	  protocol is at the top of registry.c.
 *
 * Calls go one way: ddl_hooks.c -> registrations.c -> stop.c -> registry.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGEB_SUPERVISOR_H
#define PGEB_SUPERVISOR_H

#include "c.h"
#include "pg_extension_base/compat.h"
#include "datatype/timestamp.h"
#include "storage/condition_variable.h"
#include "storage/lwlock.h"
#include "storage/proc.h"

#define SUPERVISOR_MODULE_NAME		"pg_extension_base_supervisor"
#define SUPERVISOR_SCHEMA			"extension_base"
#define REGISTRATIONS_TABLE			"workers"

/*
 * The version of our SQL objects this library goes with (the control
 * file's default_version), which extension_base.modules() compares with
 * the installed one.  The library also works with a database still at 1.0
 * until ALTER EXTENSION ... UPDATE: see RegistrationColumns.
 */
#define SUPERVISOR_SQL_VERSION		"1.1"

#define SERVER_STARTER_TYPE			"pg_extension_base server starter"
#define DATABASE_STARTER_TYPE		"pg_extension_base database starter"
#define BASE_WORKER_TYPE			"pg_extension_base base worker"

/* fixed sizes of the small shared arrays */
#define MAX_DATABASE_STARTERS		64
#define MAX_DATABASE_BLOCKS			64
#define MAX_DIRTY_DATABASES			64
#define EXIT_REASON_LEN				128

/*
 * GUCs (supervisor.c).  Whether the server starter runs is
 * EnableBaseWorkerLauncher (base_workers.h).
 */
extern bool pgeb_enable_base_worker_launcher;
extern int	pgeb_max_base_workers;
extern int	pgeb_max_database_starters;
extern bool pgeb_base_workers_enabled;

/*
 * States of a worker slot; the transitions are drawn in supervisor/README.md.
 */
typedef enum WorkerSlotState
{
	SLOT_FREE = 0,
	SLOT_WANTED,				/* should run; starts when next_start is reached */
	SLOT_STARTING,				/* registered with the postmaster */
	SLOT_RUNNING,				/* its process called in */
	SLOT_WAITING,				/* exited; restarts at next_start */
	SLOT_DONE,					/* returned 0: never restarted */
	SLOT_STOPPING,				/* must not run; kept until its stopper ends */
	SLOT_RESUMING				/* a stop was withdrawn; runs again once a scan
								 * finds it still registered (unconfirmed) */
} WorkerSlotState;

/* One base worker of one database. */
typedef struct WorkerSlot
{
	/*
	 * Written only by pgeb_set_slot_state(), pgeb_free_slot() and
	 * pgeb_claim_free_slot() (registry.c), which also copy it into
	 * state_written, written nowhere else: pgeb_check_registry()
	 * (assert-enabled builds, whenever the lock is released after an
	 * exclusive hold) finds a slot whose two fields differ, i.e. whose state
	 * was written directly.
	 */
	WorkerSlotState state;
	WorkerSlotState state_written;
	uint32		generation;		/* bumped at every launch */
	Oid			database_id;
	int32		worker_id;
	Oid			extension_id;
	Oid			function_id;
	char		worker_name[NAMEDATALEN];

	/* process */
	bool		has_process;	/* the server starter holds a handle */
	bool		connected;		/* the process is in the proc array */
	bool		terminate_sent; /* and asked the postmaster to stop it */
	pid_t		pid;

	/* who asked it to stop: a backend (pid, subtransaction) or 0 */
	int			stopper_pid;
	SubTransactionId stopper_subxid;
	bool		resume_on_commit;	/* database DDL: it runs again after */
	WorkerSlotState state_before_stop;	/* given back on rollback */
	bool		unconfirmed;	/* a removal reached it while another backend
								 * held it stopped: its registration may be
								 * gone */
	TimestampTz next_start_before_stop;
	char		stop_reason[EXIT_REASON_LEN];

	/* how its last run ended, written by the worker as it exits */
	bool		returned;
	int64		return_value;
	char		exit_message[EXIT_REASON_LEN];

	/* restart policy */
	int			failure_count;
	TimestampTz last_start;
	TimestampTz last_exit_time;
	TimestampTz next_start;
	char		last_exit_reason[EXIT_REASON_LEN];
} WorkerSlot;

/* A database starter the server starter runs. */
typedef struct DatabaseStarterSlot
{
	Oid			database_id;	/* InvalidOid: free */
	pid_t		pid;
	bool		published;		/* it published the wanted set */
	bool		needs_restart;	/* scan again when it exits */
} DatabaseStarterSlot;

/* A database that DDL needs free of our processes. */
typedef struct DatabaseBlock
{
	Oid			database_id;	/* InvalidOid: free */
	int			backend_pid;
	bool		dropping;		/* DROP DATABASE: its slots go when it commits */
} DatabaseBlock;

typedef struct SupervisorShared
{
	LWLock	   *lock;
	ConditionVariable stopped_cv;	/* broadcast when processes exit */

	PGPROC	   *server_starter;

	/* events for the server starter */
	int			num_dirty;
	Oid			dirty[MAX_DIRTY_DATABASES];
	bool		scan_all;		/* every database; also when dirty overflowed */
	bool		refresh_databases;	/* re-read pg_database */
	bool		registry_full;	/* a starter found no free slot */

	DatabaseStarterSlot starters[MAX_DATABASE_STARTERS];
	DatabaseBlock blocks[MAX_DATABASE_BLOCKS];

	int			num_slots;
	WorkerSlot	slots[FLEXIBLE_ARRAY_MEMBER];
} SupervisorShared;

/* registry.c */
extern SupervisorShared *SupervisorState;
extern Size pgeb_registry_size(void);
extern void pgeb_registry_init(void);
extern void pgeb_require_registry(void);
extern void pgeb_lock_registry(LWLockMode mode);
extern void pgeb_unlock_registry(void);
extern void pgeb_check_registry(void);
extern void pgeb_set_slot_state(WorkerSlot *slot, WorkerSlotState next);
extern bool pgeb_slot_transition_allowed(WorkerSlotState from, WorkerSlotState to);
extern WorkerSlot *pgeb_claim_free_slot(Oid database_id, int32 worker_id);
extern void pgeb_free_slot(WorkerSlot *slot);
extern void pgeb_wake_server_starter(void);
extern void pgeb_mark_database_dirty(Oid database_id, bool refresh);
extern bool pgeb_database_blocked(Oid database_id);
extern WorkerSlot *pgeb_find_slot(Oid database_id, int32 worker_id);
extern void pgeb_mark_stopping(WorkerSlot *slot, int stopper_pid,
							   SubTransactionId subxid, bool resume_on_commit,
							   const char *reason);
extern void pgeb_give_back_slot(WorkerSlot *slot);
extern void pgeb_note_removal_behind_stop(WorkerSlot *slot);
extern void pgeb_resume_unsettled_slot(WorkerSlot *slot);
extern void pgeb_confirm_slot(WorkerSlot *slot);
extern const char *pgeb_slot_state_name(WorkerSlotState state);

/* server_starter.c, database_starter.c, base_worker.c: process entry points */
extern PGDLLEXPORT void pgeb_server_starter_main(Datum arg);
extern PGDLLEXPORT void pgeb_database_starter_main(Datum arg);
extern PGDLLEXPORT void pgeb_base_worker_main(Datum arg);
extern void pgeb_register_server_starter(void);

/* supervisor.c: the application_name of each of our processes */
extern void pgeb_name_process(const char *name);

/*
 * How to read extension_base.workers of a database, whose columns depend on
 * the installed version of our SQL: 1.1 has the original's worker_id and
 * entry_point_schema, entry_point_function; 1.0 has id and entry_point (a
 * regprocedure as text).  Both are SQL fragments over the alias w.
 */
typedef struct RegistrationColumns
{
	bool		entry_point_by_name;	/* 1.1: entry_point_schema and
										 * entry_point_function */
	const char *worker_id;		/* the id column */
	const char *entry_point;	/* the entry point's oid, NULL when there is
								 * no such function */
} RegistrationColumns;

/* registrations.c */
extern Oid	pgeb_registrations_table(void);
extern RegistrationColumns pgeb_registration_columns(Oid table);
extern void pgeb_extension_dropped(Oid extension_id);
extern void pgeb_require_superuser(const char *action);
extern int	pgeb_begin_catalog_search_path(void);
extern void pgeb_end_catalog_search_path(int level);
extern int32 pgeb_find_registration(const char *name, int32 worker_id);
extern int32 pgeb_deregister_worker(const char *name, int32 worker_id,
									bool missing_ok);
extern void pgeb_wakeup_worker(const char *name, int32 worker_id);
pg_noreturn extern void pgeb_report_unknown_worker(const char *name, int32 worker_id);

/* stop.c: the stop mechanism (calls only registry.c) */
extern void pgeb_install_stop_callbacks(void);
extern void pgeb_stop_workers_and_wait(Oid database_id, Oid extension_id,
									   int32 worker_id, const char *reason);
extern void pgeb_block_database_and_wait(Oid database_id, bool dropping,
										 bool may_be_current);
extern void pgeb_note_registrations_changed(void);
extern void pgeb_note_database_ddl(Oid database_id);
extern void pgeb_note_ddl_of_every_database(void);

/* ddl_hooks.c: the DDL hooks (call registrations.c and stop.c) */
extern void pgeb_install_ddl_hooks(void);

#endif							/* PGEB_SUPERVISOR_H */
