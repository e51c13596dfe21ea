/*-------------------------------------------------------------------------
 *
 * pgeb_test_worker.c
 *	  A base worker whose behaviour the supervisor's tests choose, written
 *	  against the installed pg_extension_base/base_workers.h only.
 *
 * Each start inserts a row (worker id, pid, time) into
 * pgeb_test_worker.runs, then does what pgeb_test_worker.behaviour says for
 * its name (found through list_base_workers(), whose worker names are
 * exact where application_name keeps only ASCII): loop until
 * terminated (the default), return a value, raise an ERROR or FATAL, sleep
 * and then fail, survive a failing transaction through
 * END_TRANSACTION_NO_THROW and loop, or record what the transaction macros
 * do in pgeb_test_worker.transactions and loop.
 *
 * It does not read extension_base.workers, so that it runs the same with
 * every version of the supervisor's SQL objects.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "pg_extension_base/base_workers.h"

PG_MODULE_MAGIC;

static void record_transaction(int32 worker_id, const char *step,
							   bool fail, int open_after_error);
static void record_transactions(int32 worker_id);

PG_FUNCTION_INFO_V1(pgeb_test_worker_main);

Datum
pgeb_test_worker_main(PG_FUNCTION_ARGS)
{
	int32		worker_id = PG_GETARG_INT32(0);
	/* set inside START_TRANSACTION's PG_TRY, read after it */
	char	   *volatile action = "loop";
	volatile int arg = 0;

	if (worker_id != MyBaseWorkerId)
		elog(ERROR, "worker id %d passed, MyBaseWorkerId is %d",
			 worker_id, MyBaseWorkerId);

	START_TRANSACTION();
	{
		Oid			types[2] = {INT4OID, INT4OID};
		Datum		values[2] = {Int32GetDatum(worker_id), Int32GetDatum(MyProcPid)};

		SPI_connect();
		SPI_execute_with_args("INSERT INTO pgeb_test_worker.runs (worker_id, pid) "
							  "VALUES ($1, $2)", 2, types, values, NULL, false, 0);
		/*
		 * Operators qualified: the worker runs as the bootstrap superuser
		 * with its database's search_path, which t/018 points at a schema
		 * of traps.
		 */
		types[1] = OIDOID;
		values[1] = ObjectIdGetDatum(MyDatabaseId);
		SPI_execute_with_args("SELECT b.action, b.arg "
							  "FROM pgeb_test_worker.behaviour b "
							  "JOIN extension_base.list_base_workers() l "
							  "ON l.worker_name OPERATOR(pg_catalog.=) b.worker_name "
							  "WHERE l.worker_id OPERATOR(pg_catalog.=) $1 "
							  "AND l.database_id OPERATOR(pg_catalog.=) $2",
							  2, types, values, NULL, true, 0);
		if (SPI_processed > 0)
		{
			bool		isnull;

			action = MemoryContextStrdup(TopMemoryContext,
										 SPI_getvalue(SPI_tuptable->vals[0],
													  SPI_tuptable->tupdesc, 1));
			arg = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
											  SPI_tuptable->tupdesc, 2, &isnull));
		}
		SPI_finish();
	}
	END_TRANSACTION();

	if (strcmp(action, "return") == 0)
		PG_RETURN_INT64((int64) arg);
	if (strcmp(action, "error") == 0)
		ereport(ERROR, (errmsg("test worker %d fails on purpose", worker_id)));
	if (strcmp(action, "fatal") == 0)
		ereport(FATAL, (errmsg("test worker %d ends on purpose", worker_id)));
	if (strcmp(action, "sleep_then_error") == 0)
	{
		LightSleep(arg);
		ereport(ERROR, (errmsg("test worker %d fails after %d ms", worker_id, arg)));
	}
	if (strcmp(action, "no_throw") == 0)
	{
		START_TRANSACTION();
		{
			SPI_connect();
			SPI_execute("SELECT 1/0", false, 0);
			SPI_finish();
		}
		END_TRANSACTION_NO_THROW(WARNING);
	}
	if (strcmp(action, "transactions") == 0)
		record_transactions(worker_id);

	while (!TerminationRequested)
		LightSleep(1000);
	PG_RETURN_INT64(0);
}

/*
 * The "transactions" behaviour: two transactions one after the other, so
 * that their statement and transaction times can be compared, then one
 * that fails in END_TRANSACTION and is caught here, then one more that
 * says whether the failed transaction was still open when the error
 * reached the worker's own handler.
 */
static void
record_transactions(int32 worker_id)
{
	MemoryContext context = CurrentMemoryContext;
	volatile int open_after_error = -1;

	record_transaction(worker_id, "first", false, -1);
	record_transaction(worker_id, "second", false, -1);

	PG_TRY();
	{
		record_transaction(worker_id, "failed", true, -1);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(context);
		FlushErrorState();
		open_after_error = IsTransactionOrTransactionBlock() ? 1 : 0;
		/* what a worker had to do itself when END_TRANSACTION did not */
		if (open_after_error)
			AbortCurrentTransaction();
	}
	PG_END_TRY();

	record_transaction(worker_id, "after_error", false, open_after_error);
}

/*
 * One START_TRANSACTION ... END_TRANSACTION block that inserts a row into
 * pgeb_test_worker.transactions (whose defaults take the statement,
 * transaction and clock times) and, with fail, then divides by zero.
 * open_after_error is stored when it is 0 or 1.
 */
static void
record_transaction(int32 worker_id, const char *step, bool fail,
				   int open_after_error)
{
	START_TRANSACTION();
	{
		Oid			types[4] = {INT4OID, INT4OID, TEXTOID, BOOLOID};
		Datum		values[4];
		char		nulls[4] = {' ', ' ', ' ', ' '};

		values[0] = Int32GetDatum(worker_id);
		values[1] = Int32GetDatum(MyProcPid);
		values[2] = CStringGetTextDatum(step);
		values[3] = BoolGetDatum(open_after_error == 1);
		if (open_after_error < 0)
			nulls[3] = 'n';
		SPI_connect();
		SPI_execute_with_args("INSERT INTO pgeb_test_worker.transactions "
							  "(worker_id, pid, step, open_after_error) "
							  "VALUES ($1, $2, $3, $4)",
							  4, types, values, nulls, false, 0);
		if (fail)
			SPI_execute("SELECT 1/0", true, 0);
		SPI_finish();
	}
	END_TRANSACTION();
}
