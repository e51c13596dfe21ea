/*-------------------------------------------------------------------------
 *
 * pgeb_test_attached.c
 *	  Attached workers from C, through the installed attached_worker.h.
 *
 * pgeb_test_attached_parallel(commands text[]) starts one attached worker
 * per command, all before reading any, then polls them in turn with
 * ReadFromAttachedWorker(worker, false), waiting on the latch between
 * rounds, and returns "index: tag" in the order the tags arrived.  A quick
 * command listed after slow ones comes back first only if the reads do not
 * block and the workers run at the same time.
 *
 * The other functions use the API as code written against the original
 * pg_extension_base (pg_lake's) does, and must compile unchanged:
 *
 * pgeb_test_attached_described(command, dbname, null_pointer) reads the
 * rows of a Returning worker without knowing their shape (a NULL TupleDesc
 * whose address it passes), and prints the descriptor it gets back and the
 * rows, read from its own tuplestore through that descriptor.
 *
 * pgeb_test_attached_fields(command, returns_rows, lock_key) shows the public
 * fields of the AttachedWorker at each step.
 *
 * pgeb_test_attached_as(command, dbname, username) runs a command through
 * StartAttachedWorkerInDatabase with a user name, and returns its tags.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "storage/procarray.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
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

/* Add one text row to the result of a materialized SRF. */
static void
put_text(ReturnSetInfo *rsinfo, const char *text)
{
	Datum		value = CStringGetTextDatum(text);
	bool		isnull = false;

	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
}

/* "name type, ..." with each type's modifier, as format_type shows it */
static char *
describe(TupleDesc desc)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		appendStringInfo(&buf, "%s%s %s", i > 0 ? ", " : "", NameStr(att->attname),
						 format_type_with_typemod(att->atttypid, att->atttypmod));
	}
	return buf.data;
}

/* The values of a slot through their output functions, " | " between. */
static char *
show_row(TupleTableSlot *slot)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	slot_getallattrs(slot);
	for (i = 0; i < slot->tts_tupleDescriptor->natts; i++)
	{
		Oid			output;
		bool		varlena;

		if (i > 0)
			appendStringInfoString(&buf, " | ");
		if (slot->tts_isnull[i])
		{
			appendStringInfoString(&buf, "NULL");
			continue;
		}
		getTypeOutputInfo(TupleDescAttr(slot->tts_tupleDescriptor, i)->atttypid,
						  &output, &varlena);
		appendStringInfoString(&buf, OidOutputFunctionCall(output, slot->tts_values[i]));
	}
	return buf.data;
}

PG_FUNCTION_INFO_V1(pgeb_test_attached_described);

/*
 * The worker is started in a memory context of its own, which is deleted
 * (ending the worker) before the rows are read back: the descriptor must
 * live in the context that was current when ReadResultsFromAttachedWorker
 * was called, not in the worker's.
 */
Datum
pgeb_test_attached_described(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *command;
	bool		null_pointer = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
	MemoryContext worker_context;
	MemoryContext caller_context;
	AttachedWorker *worker;
	Tuplestorestate *store;
	TupleDesc	resultDesc = NULL;
	TupleTableSlot *slot;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("command must not be null")));
	command = text_to_cstring(PG_GETARG_TEXT_PP(0));

	worker_context = AllocSetContextCreate(CurrentMemoryContext,
										   "pgeb_test_attached worker",
										   ALLOCSET_SMALL_SIZES);
	caller_context = MemoryContextSwitchTo(worker_context);
	if (PG_ARGISNULL(1))
		worker = StartAttachedWorkerReturning(command);
	else
		worker = StartAttachedWorkerInDatabaseReturning(command,
														text_to_cstring(PG_GETARG_TEXT_PP(1)),
														NULL);
	MemoryContextSwitchTo(caller_context);

	store = tuplestore_begin_heap(true, false, work_mem);
	ReadResultsFromAttachedWorker(worker, store, null_pointer ? NULL : &resultDesc);
	EndAttachedWorker(worker);
	MemoryContextDelete(worker_context);

	if (resultDesc == NULL)
	{
		put_text(rsinfo, "no result set");
		return (Datum) 0;
	}
	put_text(rsinfo, describe(resultDesc));
	slot = MakeSingleTupleTableSlot(resultDesc, &TTSOpsMinimalTuple);
	while (tuplestore_gettupleslot(store, true, false, slot))
		put_text(rsinfo, show_row(slot));
	ExecDropSingleTupleTableSlot(slot);
	tuplestore_end(store);
	return (Datum) 0;
}

/*
 * The public fields of an attached worker, in a line; with alive, whether
 * workerPid is a live backend (only while the worker is sure to run).
 */
static char *
show_fields(const char *step, AttachedWorker *worker, bool alive)
{
	const char *tuple_queue;

	if (worker->tupleQueue == NULL)
		tuple_queue = "null";
	else if (worker->tupleQueue == worker->outputQueue)
		tuple_queue = "outputQueue";
	else
		tuple_queue = "other";

	return psprintf("%s: segment %s, outputQueue %s, tupleQueue %s, workerPid %s, workerHandle %s",
					step,
					worker->sharedMemorySegment != NULL ? "set" : "null",
					worker->outputQueue != NULL ? "set" : "null",
					tuple_queue,
					worker->workerPid == 0 ? "0" :
					!alive ? "set" :
					BackendPidGetProc(worker->workerPid) != NULL ?
					"a live backend" : "not a live backend",
					worker->workerHandle != NULL ? "set" : "null");
}

PG_FUNCTION_INFO_V1(pgeb_test_attached_fields);

/*
 * The fields after the start, after the first command tag (the caller
 * holds the advisory lock lock_key, which the command's second statement
 * is to wait for, so the worker still runs), after reading to the end
 * (the lock released), and after EndAttachedWorker.
 */
Datum
pgeb_test_attached_fields(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *command = text_to_cstring(PG_GETARG_TEXT_PP(0));
	bool		returning = PG_GETARG_BOOL(1);
	Datum		lock_key = Int64GetDatum(PG_GETARG_INT64(2));
	AttachedWorker *worker;
	char	   *tag;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	(void) DirectFunctionCall1(pg_advisory_lock_int8, lock_key);

	worker = returning ? StartAttachedWorkerReturning(command) :
		StartAttachedWorker(command);
	put_text(rsinfo, show_fields("started", worker, false));

	tag = ReadFromAttachedWorker(worker, true);
	put_text(rsinfo, show_fields(psprintf("first tag %s", tag), worker, true));

	(void) DirectFunctionCall1(pg_advisory_unlock_int8, lock_key);
	if (returning)
	{
		TupleDesc	resultDesc = NULL;
		Tuplestorestate *store = tuplestore_begin_heap(true, false, work_mem);

		ReadResultsFromAttachedWorker(worker, store, &resultDesc);
		put_text(rsinfo, psprintf("rows of %s: %lld", describe(resultDesc),
								  (long long) tuplestore_tuple_count(store)));
	}
	else
	{
		while (ReadFromAttachedWorker(worker, true) != NULL)
			;
	}
	put_text(rsinfo, psprintf("read to the end: running %s",
							  IsAttachedWorkerRunning(worker) ? "true" : "false"));

	EndAttachedWorker(worker);
	put_text(rsinfo, show_fields("ended", worker, false));
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(pgeb_test_attached_as);

/* The command tags of a worker started with a database and a user name. */
Datum
pgeb_test_attached_as(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AttachedWorker *worker;
	char	   *tag;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	worker = StartAttachedWorkerInDatabase(text_to_cstring(PG_GETARG_TEXT_PP(0)),
										   text_to_cstring(PG_GETARG_TEXT_PP(1)),
										   text_to_cstring(PG_GETARG_TEXT_PP(2)));
	while ((tag = ReadFromAttachedWorker(worker, true)) != NULL)
		put_text(rsinfo, tag);
	EndAttachedWorker(worker);
	return (Datum) 0;
}
