/*-------------------------------------------------------------------------
 *
 * reset.c
 *	  Between two calls of a warm attached worker: make it what a new
 *	  worker would be, or say that it cannot be.
 *
 * A worker connected as user U to database D is, after a call, reset by
 * the steps below, in this order, and then checked.  Each step names what
 * would leak into the next call without it; t/033_attached_pool_leaks.pl
 * shows each leak with the step skipped (a variant built with
 * -DPGEB_INJECT_RESET_FAULTS, where pg_extension_base.attached_pool_skip_
 * reset_step names the step to leave out).
 *
 *	identity	current user and security context (SET ROLE, SECURITY
 *				DEFINER): back to U, first, since the session-user setters
 *				refuse to run in a restricted context
 *	discard		what DISCARD ALL resets: cursors, SET ROLE and SESSION
 *				AUTHORIZATION, every setting (SET, SET LOCAL left over,
 *				set_config, search_path, read-only) back to the server's,
 *				database's and role's defaults, prepared statements,
 *				LISTEN, session advisory locks, cached plans, temporary
 *				tables, currval and lastval (SET ROLE too: resetting the
 *				session authorization makes the role none)
 *	random		the seed of random() (setseed): reseeded unpredictably
 *	slots		temporary replication slots
 *	statistics	pending statistics are flushed
 *
 * Then the worker is discarded (it exits instead of waiting for a call)
 * when one of these holds, since no step could undo it:
 *	- an error in a step, or the checks below failing: no transaction,
 *	  current = session = authenticated user;
 *	- temporary tables were used: their buffers (temp_buffers) are sized
 *	  for the session and cannot change afterwards;
 *	- a shared library was loaded during the call (LOAD, or a function of
 *	  a library not loaded before): its static state, dblink's named
 *	  connections for example, belongs to the session;
 *	- a plpgsql.* setting was changed during the call: functions compiled
 *	  meanwhile keep what it said;
 *	- memory grew by more than ATTACHED_POOL_MEMORY_GROWTH since joining.
 * A call that ended in an error is never reset: the worker exits after
 * it, as a worker always did (worker.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__)
#define PGEB_HAVE_DL_ITERATE_PHDR 1
#include <link.h>
#endif

#include "access/xact.h"
#include "commands/discard.h"
#include "common/pg_prng.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "pgstat.h"
#include "replication/slot.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/memutils.h"

#include "pg_extension_base/compat.h"
#include "attached.h"

/* how much the worker's memory may grow over its life in the pool */
#define ATTACHED_POOL_MEMORY_GROWTH	(32 * 1024 * 1024)

typedef struct ResetStep
{
	const char *name;
	void		(*run) (void);
} ResetStep;

static void reset_identity(void);
static void reset_discard(void);
static void reset_random(void);
static void reset_slots(void);
static void reset_statistics(void);

static const ResetStep reset_steps[] = {
	{"identity", reset_identity},
	{"discard", reset_discard},
	{"random", reset_random},
	{"slots", reset_slots},
	{"statistics", reset_statistics},
};

#ifdef PGEB_INJECT_RESET_FAULTS
static char *skip_reset_step = NULL;
#endif

/* what the call started from */
static int	objects_before_call = -1;
static Size memory_at_join = 0;

static bool leave_pool(const char *reason);
static int	loaded_object_count(void);

void
pgeb_attached_reset_define_settings(void)
{
#ifdef PGEB_INJECT_RESET_FAULTS
	DefineCustomStringVariable("pg_extension_base.attached_pool_skip_reset_step",
							   "Test builds only: the reset step to leave out.",
							   NULL, &skip_reset_step, "",
							   PGC_SIGHUP, 0, NULL, NULL, NULL);
#endif
}

/* Just before the command runs: what a call must not change. */
void
pgeb_attached_note_before_call(void)
{
	objects_before_call = loaded_object_count();
}

/*
 * After a call that ended well (its ReadyForQuery sent, its segment
 * detached): reset, check.  pool_key: the fingerprint of the
 * placeholders the pool knows us by (settings.c).  False when the worker
 * must exit instead of serving another call.
 */
bool
pgeb_attached_reset_session(uint64 pool_key)
{
	AttachedWorkerSettings settings;
	Size		memory;
	int			i;

	/* what no step can undo */
	if (NLocBuffer != 0)
		return leave_pool("the call used temporary tables");
	if (objects_before_call < 0 || loaded_object_count() != objects_before_call)
		return leave_pool("the call loaded a library");
	pgeb_attached_settings_scan(&settings);
	if (settings.placeholders != pool_key)
		return leave_pool("the call made a custom setting: the pool knows the worker by its placeholders");
	if (settings.plpgsql_changed)
		return leave_pool("a plpgsql setting was changed during the call");

	for (i = 0; i < (int) lengthof(reset_steps); i++)
	{
#ifdef PGEB_INJECT_RESET_FAULTS
		if (skip_reset_step != NULL && strcmp(skip_reset_step, reset_steps[i].name) == 0)
			continue;
#endif
		reset_steps[i].run();
	}

	if (IsTransactionOrTransactionBlock() ||
		GetUserId() != GetAuthenticatedUserId() ||
		GetSessionUserId() != GetAuthenticatedUserId() ||
		InSecurityRestrictedOperation() || InLocalUserIdChange())
		return leave_pool("its reset left it in another identity or in a transaction");

	memory = MemoryContextMemAllocated(TopMemoryContext, true);
	if (memory_at_join == 0)
		memory_at_join = memory;
	else if (memory > memory_at_join + ATTACHED_POOL_MEMORY_GROWTH)
		return leave_pool("its memory grew too much");
	pgeb_pool_note_call(memory);
	return true;
}

/*
 * Say why the worker exits instead of serving another call: at DEBUG1,
 * since it is no fault, and a busy server would log it often.
 */
static bool
leave_pool(const char *reason)
{
	ereport(DEBUG1,
			(errmsg_internal("attached worker leaves the pool: %s", reason)));
	return false;
}

static void
reset_identity(void)
{
	SetUserIdAndSecContext(GetSessionUserId(), 0);
}


static void
reset_discard(void)
{
	DiscardStmt stmt = {.type = T_DiscardStmt,.target = DISCARD_ALL};

	StartTransactionCommand();
	DiscardCommand(&stmt, true);
	CommitTransactionCommand();
}

static void
reset_random(void)
{
	double		seed = pg_prng_double(&pg_global_prng_state) * 2.0 - 1.0;

	(void) DirectFunctionCall1(setseed, Float8GetDatum(seed));
}

static void
reset_slots(void)
{
	if (MyReplicationSlot != NULL)
		ReplicationSlotRelease();
#if PG_VERSION_NUM >= 170000
	ReplicationSlotCleanup(false);
#else
	ReplicationSlotCleanup();
#endif
}

static void
reset_statistics(void)
{
	pgstat_report_stat(true);
}

#ifdef PGEB_HAVE_DL_ITERATE_PHDR
static int
count_object(struct dl_phdr_info *info, size_t size, void *data)
{
	const char *name = info->dlpi_name;
	const char *base = strrchr(name, '/');

	/*
	 * plpgsql is loaded by the first DO block or plpgsql function of most
	 * workers; its state is its compiled functions, which check their
	 * source rows before use, and its settings, checked above.
	 */
	base = base ? base + 1 : name;
	if (strncmp(base, "plpgsql.", 8) != 0)
		(*(int *) data)++;
	return 0;
}
#endif

/*
 * The number of shared objects in the process; -1 where it cannot be
 * known, and then a worker that ran a call is never reused.
 */
static int
loaded_object_count(void)
{
#ifdef PGEB_HAVE_DL_ITERATE_PHDR
	int			count = 0;

	dl_iterate_phdr(count_object, &count);
	return count;
#else
	return -1;
#endif
}
