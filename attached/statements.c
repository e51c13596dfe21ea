/*-------------------------------------------------------------------------
 *
 * statements.c
 *	  What an attached worker refuses to run.
 *
 * The check runs twice: in the caller, so that nothing starts for a
 * command that would be refused, and in the worker on its own parse of the
 * command, because the two parses may differ (settings such as
 * standard_conforming_strings may differ between the caller's session and
 * the worker's database or role).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/parsenodes.h"

#include "attached.h"

static bool waits_for_older_snapshots(Node *stmt);

/*
 * Refuse transaction control (the worker's transaction is its own), COPY
 * to or from the client (there is none), and, in the caller's own
 * database, statements that wait for every older snapshot, the caller's
 * included, while the caller waits for them: a deadlock no lock manager
 * sees.
 */
void
pgeb_attached_check_statements(List *parsetrees, bool same_database)
{
	ListCell   *lc;

	if (parsetrees == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the command of an attached worker must not be empty")));

	foreach(lc, parsetrees)
	{
		Node	   *stmt = lfirst_node(RawStmt, lc)->stmt;

		if (IsA(stmt, TransactionStmt))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("transaction control statements are not allowed in attached workers"),
					 errdetail("The command runs in a transaction of its own, which commits when it ends."),
					 errhint("Run the statements without BEGIN, COMMIT, ROLLBACK, SAVEPOINT or PREPARE TRANSACTION.")));
		if (IsA(stmt, CopyStmt) && ((CopyStmt *) stmt)->filename == NULL &&
			!((CopyStmt *) stmt)->is_program)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("COPY FROM STDIN and COPY TO STDOUT are not allowed in attached workers"),
					 errdetail("An attached worker has no client to copy from or to.")));
		if (same_database && waits_for_older_snapshots(stmt))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("CONCURRENTLY is not allowed in an attached worker in the caller's database"),
					 errdetail("The statement would wait for the caller's own snapshot while the caller waits for it."),
					 errhint("Run it in its own session, or without CONCURRENTLY.")));
	}
}

/* Statements that wait until every transaction older than theirs ended. */
static bool
waits_for_older_snapshots(Node *stmt)
{
	ListCell   *lc;

	switch (nodeTag(stmt))
	{
		case T_IndexStmt:
			return ((IndexStmt *) stmt)->concurrent;
		case T_DropStmt:
			return ((DropStmt *) stmt)->concurrent;
		case T_ReindexStmt:
			foreach(lc, ((ReindexStmt *) stmt)->params)
			{
				if (strcmp(((DefElem *) lfirst(lc))->defname, "concurrently") == 0)
					return true;
			}
			return false;
		case T_AlterTableStmt:
			foreach(lc, ((AlterTableStmt *) stmt)->cmds)
			{
				AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);

				if (cmd->subtype == AT_DetachPartition &&
					((PartitionCmd *) cmd->def)->concurrent)
					return true;
			}
			return false;
		default:
			return false;
	}
}
