/*-------------------------------------------------------------------------
 *
 * pgeb_test_attached.c
 *	  Several attached workers at once, from C.
 *
 * pgeb_test_attached_parallel(commands text[]) starts one attached worker
 * per command, all before reading any, then polls them in turn with
 * ReadFromAttachedWorker(worker, false), waiting on the latch between
 * rounds, and returns "index: tag" in the order the tags arrived.  A quick
 * command listed after slow ones comes back first only if the reads do not
 * block and the workers run at the same time.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/wait_event.h"

#include "pg_extension_base/attached_worker.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(pgeb_test_attached_parallel);

Datum
pgeb_test_attached_parallel(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum	   *commands;
	bool	   *nulls;
	int			count;
	AttachedWorker **workers;
	int			running;
	int			i;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(0), TEXTOID, -1, false, TYPALIGN_INT,
					  &commands, &nulls, &count);

	for (i = 0; i < count; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("commands must not be null")));
	}

	workers = palloc(sizeof(AttachedWorker *) * count);
	for (i = 0; i < count; i++)
		workers[i] = StartAttachedWorker(TextDatumGetCString(commands[i]));

	running = count;
	while (running > 0)
	{
		for (i = 0; i < count; i++)
		{
			char	   *tag;

			if (workers[i] == NULL)
				continue;
			while ((tag = ReadFromAttachedWorker(workers[i], false)) != NULL)
			{
				Datum		value = CStringGetTextDatum(psprintf("%d: %s", i, tag));
				bool		isnull = false;

				tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
			}
			if (!IsAttachedWorkerRunning(workers[i]))
			{
				EndAttachedWorker(workers[i]);
				workers[i] = NULL;
				running--;
			}
		}
		if (running > 0)
		{
			/* a worker that sends a message sets our latch */
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 1000, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
	}
	return (Datum) 0;
}
