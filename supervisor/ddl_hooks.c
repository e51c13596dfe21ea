/*-------------------------------------------------------------------------
 *
 * ddl_hooks.c
 *	  The hooks through which DDL stops base workers before it returns:
 *	- the object-access hook sees an extension being dropped (DROP
 *	  EXTENSION, also through DROP SCHEMA ... CASCADE and DROP OWNED) and
 *	  hands it to registrations.c, which removes its registrations and stops
 *	  its workers;
 *	- the ProcessUtility hook sees database DDL that needs the database free
 *	  of other connections (DROP DATABASE, CREATE DATABASE ... TEMPLATE,
 *	  ALTER DATABASE RENAME / SET TABLESPACE) and blocks the database
 *	  (stop.c) before core runs the command; other database DDL and COMMIT /
 *	  ROLLBACK PREPARED only ask for a new look at the databases when the
 *	  transaction ends, and ALTER EXTENSION ... UPDATE for a new look at
 *	  the registrations of the current database.
 *
 * Calls go one way: these hooks call registrations.c and stop.c, which
 * never call back here.
 *
 * Locks: none of its own.  It touches no shared state directly; the
 * functions it calls take SupervisorState->lock (see stop.c and
 * registry.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_extension.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"

#include "pg_extension_base/database_ddl.h"

#include "supervisor.h"

static object_access_hook_type prev_object_access_hook = NULL;
static ProcessUtility_hook_type prev_ProcessUtility = NULL;

static void supervisor_object_access(ObjectAccessType access, Oid classId,
									 Oid objectId, int subId, void *arg);
static void supervisor_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
									  bool readOnlyTree, ProcessUtilityContext context,
									  ParamListInfo params, QueryEnvironment *queryEnv,
									  DestReceiver *dest, QueryCompletion *qc);

/* Called by _PG_init in the postmaster; every backend inherits them. */
void
pgeb_install_ddl_hooks(void)
{
	prev_object_access_hook = object_access_hook;
	object_access_hook = supervisor_object_access;
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = supervisor_ProcessUtility;
}

static void
supervisor_object_access(ObjectAccessType access, Oid classId, Oid objectId,
						 int subId, void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);

	if (access != OAT_DROP || classId != ExtensionRelationId ||
		SupervisorState == NULL)
		return;

	pgeb_extension_dropped(objectId);
}

static void
supervisor_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
						  bool readOnlyTree, ProcessUtilityContext context,
						  ParamListInfo params, QueryEnvironment *queryEnv,
						  DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;

	if (SupervisorState != NULL)
	{
		Oid			database_id;

		switch (pgeb_database_needing_no_connections(parsetree, &database_id))
		{
			case PGEB_DATABASE_DDL_DROP:
				pgeb_block_database_and_wait(database_id, true, false);
				break;
			case PGEB_DATABASE_DDL_TEMPLATE:
				pgeb_block_database_and_wait(database_id, false, true);
				break;
			case PGEB_DATABASE_DDL_RENAME:
			case PGEB_DATABASE_DDL_TABLESPACE:
				pgeb_block_database_and_wait(database_id, false, false);
				break;
			case PGEB_DATABASE_DDL_NONE:
				break;
		}

		switch (nodeTag(parsetree))
		{
			case T_AlterDatabaseStmt:
				pgeb_note_database_ddl(get_database_oid(((AlterDatabaseStmt *) parsetree)->dbname,
														true));
				break;
			case T_TransactionStmt:
				{
					TransactionStmt *stmt = (TransactionStmt *) parsetree;

					/* it may change registrations of any database */
					if (stmt->kind == TRANS_STMT_COMMIT_PREPARED ||
						stmt->kind == TRANS_STMT_ROLLBACK_PREPARED)
						pgeb_note_ddl_of_every_database();
					break;
				}
			case T_AlterExtensionStmt:

				/*
				 * An update script may change registrations with plain SQL:
				 * the original's scripts move an entry point with UPDATE
				 * extension_base.workers SET entry_point_schema = ...
				 */
				pgeb_note_registrations_changed();
				break;
			case T_AlterDatabaseSetStmt:
				pgeb_note_database_ddl(get_database_oid(((AlterDatabaseSetStmt *) parsetree)->dbname,
														true));
				break;
			default:
				break;
		}
	}

	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
							queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}
