/*-------------------------------------------------------------------------
 *
 * sql.c
 *	  extension_base.run_attached() and run_attached_returning().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "pg_extension_base/attached_worker.h"
#include "attached.h"

static AttachedWorker *start_from_sql(FunctionCallInfo fcinfo, bool returning);

PG_FUNCTION_INFO_V1(pgeb_run_attached);

/*
 * run_attached(command text, dbname text, out command_id int, out
 * command_tag text): one row per statement, numbered from 0.
 */
Datum
pgeb_run_attached(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AttachedWorker *worker;
	char	   *tag;
	int			command_id = 0;

	InitMaterializedSRF(fcinfo, 0);
	worker = start_from_sql(fcinfo, false);
	while ((tag = ReadFromAttachedWorker(worker, true)) != NULL)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = Int32GetDatum(command_id++);
		values[1] = CStringGetTextDatum(tag);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	EndAttachedWorker(worker);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(pgeb_run_attached_returning);

/*
 * run_attached_returning(command text, dbname text) returns setof record:
 * the rows of the last statement, checked against the caller's column list.
 */
Datum
pgeb_run_attached_returning(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AttachedWorker *worker;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	worker = start_from_sql(fcinfo, true);
	ReadResultsFromAttachedWorker(worker, rsinfo->setResult, &rsinfo->setDesc);
	EndAttachedWorker(worker);
	return (Datum) 0;
}

/* Check the arguments of a SQL call and start its worker. */
static AttachedWorker *
start_from_sql(FunctionCallInfo fcinfo, bool returning)
{
	char	   *command;
	char	   *dbname;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("command must not be null")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("database name must not be null")));
	if (InSecurityRestrictedOperation())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot start an attached worker during a security-restricted operation")));

	command = text_to_cstring(PG_GETARG_TEXT_PP(0));
	dbname = text_to_cstring(PG_GETARG_TEXT_PP(1));

	return returning ?
		StartAttachedWorkerInDatabaseReturning(command, dbname, NULL) :
		StartAttachedWorkerInDatabase(command, dbname, NULL);
}
