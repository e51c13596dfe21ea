/*-------------------------------------------------------------------------
 *
 * ddl.c
 *	  Database DDL drains the pool of warm attached workers first.
 *
 * DROP DATABASE, CREATE DATABASE from a template, ALTER DATABASE RENAME
 * and SET TABLESPACE need their database free of other connections
 * (pg_extension_base/database_ddl.h).  A warm worker waiting for a call
 * there would make them fail after core's 5 s wait; so, before core runs
 * the statement, the pool is told to let no worker of that database stay,
 * join or take a call, and we wait until its idle workers have exited
 * (pool.c, pgeb_pool_drain).  A worker busy with a call finishes it and
 * exits; core waits for it as for any session.  The database is open to
 * the pool again when the statement ends, however it ends.
 *
 * Locks: none of its own (pool.c's).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "tcop/utility.h"

#include "pg_extension_base/database_ddl.h"
#include "attached.h"

/* how long DDL waits for idle workers to exit; then core decides */
#define DRAIN_TIMEOUT_MS	10000

static ProcessUtility_hook_type prev_ProcessUtility = NULL;

static void attached_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
									bool readOnlyTree, ProcessUtilityContext context,
									ParamListInfo params, QueryEnvironment *queryEnv,
									DestReceiver *dest, QueryCompletion *qc);

/* The hook installed before ours, or core's. */
static void
next_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
					bool readOnlyTree, ProcessUtilityContext context,
					ParamListInfo params, QueryEnvironment *queryEnv,
					DestReceiver *dest, QueryCompletion *qc)
{
	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
							queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

void
pgeb_attached_install_ddl_hook(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = attached_ProcessUtility;
}

static void
attached_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
						bool readOnlyTree, ProcessUtilityContext context,
						ParamListInfo params, QueryEnvironment *queryEnv,
						DestReceiver *dest, QueryCompletion *qc)
{
	Oid			database_id;
	volatile Oid drained;

	if (pgeb_database_needing_no_connections(pstmt->utilityStmt, &database_id) ==
		PGEB_DATABASE_DDL_NONE || !OidIsValid(database_id))
	{
		next_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
							queryEnv, dest, qc);
		return;
	}

	/* registering the drain cannot fail; waiting for it can (a cancel) */
	drained = database_id;
	PG_TRY();
	{
		pgeb_pool_drain(drained, DRAIN_TIMEOUT_MS);
		next_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
							queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		pgeb_pool_end_drain(drained);
	}
	PG_END_TRY();
}
