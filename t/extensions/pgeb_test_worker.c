/*-------------------------------------------------------------------------
 *
 * pgeb_test_worker.c
 *	  A base worker whose behaviour the supervisor's tests choose, written
 *	  against the installed pg_extension_base/base_workers.h only.
 *
 * Each start inserts a row (worker id, pid, time) into
 * pgeb_test_worker.runs, then does what pgeb_test_worker.behaviour says for
 * its name: loop until terminated (the default), return a value, raise an
 * ERROR or FATAL, sleep and then fail, or survive a failing transaction
 * through END_TRANSACTION_NO_THROW and loop.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "pg_extension_base/base_workers.h"

PG_MODULE_MAGIC;

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
		SPI_execute_with_args("SELECT b.action, b.arg "
							  "FROM pgeb_test_worker.behaviour b "
							  "JOIN extension_base.workers w USING (worker_name) "
							  "WHERE w.id = $1", 1, types, values, NULL, true, 0);
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

	while (!TerminationRequested)
		LightSleep(1000);
	PG_RETURN_INT64(0);
}
