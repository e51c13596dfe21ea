/*-------------------------------------------------------------------------
 *
 * pgeb_test_utility_log.c
 *	  A ProcessUtility hook that records every utility command it sees.
 *
 * Preloaded through a control-file marker, it is loaded after
 * pg_extension_base_deps, so its hook wraps the deps hook: the commands the
 * deps hook runs for requirements pass through it as well, which is what
 * the tests check.  The record is per backend.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

PG_MODULE_MAGIC;

static ProcessUtility_hook_type prev_ProcessUtility = NULL;
static List *seen = NIL;		/* char *, in TopMemoryContext */

void		_PG_init(void);

static void
record_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
					  bool readOnlyTree, ProcessUtilityContext context,
					  ParamListInfo params, QueryEnvironment *queryEnv,
					  DestReceiver *dest, QueryCompletion *qc)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
	const char *text = queryString;

	if (pstmt->stmt_len > 0)
		text = pnstrdup(queryString + pstmt->stmt_location, pstmt->stmt_len);
	seen = lappend(seen, psprintf("%s: %s",
								  context == PROCESS_UTILITY_TOPLEVEL ? "top" : "nested",
								  text));
	MemoryContextSwitchTo(old);

	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
							params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

void
_PG_init(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = record_ProcessUtility;
}

PG_FUNCTION_INFO_V1(pgeb_test_utility_log);

/* The commands seen so far in this backend; then forget them. */
Datum
pgeb_test_utility_log(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	foreach(lc, seen)
	{
		Datum		value = CStringGetTextDatum((char *) lfirst(lc));
		bool		isnull = false;

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
	}
	seen = NIL;
	return (Datum) 0;
}
