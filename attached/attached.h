/*-------------------------------------------------------------------------
 *
 * attached.h
 *	  What the caller and the worker of pg_extension_base_attached share.
 *
 * The caller creates a dynamic shared memory segment laid out by a shm_toc
 * (keys below) and starts the worker with the segment's handle as its
 * argument.  See attached/README.md for the message protocol.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_EXTENSION_BASE_ATTACHED_H
#define PG_EXTENSION_BASE_ATTACHED_H

#include "nodes/pg_list.h"
#include "storage/dsm.h"
#include "pg_extension_base/compat.h"

#define ATTACHED_MODULE_NAME	"pg_extension_base_attached"
#define ATTACHED_SQL_VERSION	"1.1"	/* our SQL objects' newest version */
#define ATTACHED_WORKER_TYPE	"pg_extension_base attached worker"

/* "PGEA": the magic number of the table of contents */
#define ATTACHED_TOC_MAGIC		0x50474541

#define ATTACHED_KEY_FIXED		1	/* AttachedWorkerFixed */
#define ATTACHED_KEY_COMMAND	2	/* the command, NUL-terminated */
#define ATTACHED_KEY_SETTINGS	3	/* see settings.c */
#define ATTACHED_KEY_QUEUE		4	/* shm_mq, worker to caller */

/* Room for a few rows in flight; the queue streams larger results. */
#define ATTACHED_QUEUE_SIZE		(64 * 1024)

/*
 * Who the worker is and what it does; written by the caller before the
 * worker starts, read-only afterwards.  Lives in the shared segment.
 */
typedef struct AttachedWorkerFixed
{
	Oid			database_id;
	Oid			caller_database_id;
	int			caller_encoding;	/* what the caller's side speaks */
	Oid			authenticated_user_id;	/* the worker connects as this user */
	Oid			session_user_id;	/* then takes the caller's identity: */
	Oid			outer_user_id;	/* SET ROLE, or InvalidOid */
	Oid			current_user_id;
	int			security_context;
	bool		read_only;		/* the caller's transaction is read-only */
	bool		send_rows;		/* send the rows of the last statement */
} AttachedWorkerFixed;

/* attached.c */
extern bool pgeb_attached_module_loaded(void);

/* ddl.c */
extern void pgeb_attached_install_ddl_hook(void);

/* fitness.c */
extern void pgeb_attached_fitness_init(void);
extern bool pgeb_attached_still_fits(void);

/* pool.c */
extern int	pgeb_attached_pool_size;
extern int	pgeb_attached_pool_max_workers;
extern int	pgeb_attached_pool_idle_timeout;
extern void pgeb_attached_pool_define_settings(void);
extern pid_t pgeb_pool_hand_over(Oid database_id, Oid user_id, uint64 fingerprint,
								 dsm_handle segment, uint64 *call_id);
extern bool pgeb_pool_call_held(pid_t pid, uint64 call_id);
extern void pgeb_pool_abandon_call(pid_t pid, uint64 call_id);
extern bool pgeb_pool_join(uint64 fingerprint);
extern dsm_handle pgeb_pool_wait_for_call(void);
extern void pgeb_pool_give_back_call(void);
extern void pgeb_pool_note_call(Size memory);
extern bool pgeb_pool_evict_idle(void);
extern void pgeb_pool_drain(Oid database_id, int timeout_ms);
extern void pgeb_pool_end_drain(Oid database_id);

/* reset.c */
extern void pgeb_attached_reset_define_settings(void);
extern void pgeb_attached_note_before_call(void);
extern bool pgeb_attached_reset_session(uint64 pool_key);

/* segment_space.c */
extern void pgeb_attached_reserve_segment_space(void);

/* settings.c */
typedef struct AttachedCallerSettings
{
	char	   *data;			/* serialized; settings.c's, until the next call */
	Size		size;
	uint64		fingerprint;	/* of the placeholders among them */
} AttachedCallerSettings;

typedef struct AttachedWorkerSettings
{
	uint64		placeholders;	/* the fingerprint of the worker's own */
	bool		plpgsql_changed;	/* a plpgsql.* setting is not at its default */
} AttachedWorkerSettings;

extern void pgeb_attached_settings_collect(AttachedCallerSettings *out);
extern void pgeb_attached_settings_restore(const char *start);
extern void pgeb_attached_settings_scan(AttachedWorkerSettings *out);

/* statements.c */
extern void pgeb_attached_check_statements(List *parsetrees, bool same_database);

/* worker.c */
extern PGDLLEXPORT void pgeb_attached_worker_main(Datum main_arg);

#endif							/* PG_EXTENSION_BASE_ATTACHED_H */
